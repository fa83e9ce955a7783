"""The executors' handling of Ctrl-C while they start processes (sim/executors.py)."""

import os
import signal
import threading
import time

import pytest

from sim.executors import _sigint_held

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signals")


@pytest.fixture
def python_ctrl_c():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_delivered_to_another_thread_waits_for_the_end_of_the_block(python_ctrl_c):
    """The kernel gives a process-wide SIGINT to any thread that does not block it (polars' threads
    in a sweep); Python then interrupts the main thread wherever it is. Inside the block that
    would cut a pool's start of a worker in half, so the interruption must wait for the end."""
    release = threading.Event()
    other = threading.Thread(target=release.wait)  # started before the block: SIGINT unblocked
    other.start()
    steps = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with _sigint_held():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # the main thread checks for signals many times meanwhile
                steps.append("block finished")
            steps.append("after the block")
    finally:
        release.set()
        other.join()
    assert steps == ["block finished"]


def test_without_a_ctrl_c_nothing_is_raised_and_the_handler_is_restored(python_ctrl_c):
    with _sigint_held():
        assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) >= {signal.SIGINT}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())


def test_a_ctrl_c_that_is_ignored_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _sigint_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
