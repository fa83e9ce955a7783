"""The executors' handling of Ctrl-C while they start processes (sim/executors.py)."""

import os
import signal
import threading
import time

import pytest

from sim.executors import STOP_SIGNALS, _stops_held

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signals")


@pytest.fixture
def python_ctrl_c():
    """Every stop signal raises KeyboardInterrupt, as in a sweep."""
    previous = {stop: signal.signal(stop, signal.default_int_handler) for stop in STOP_SIGNALS}
    yield
    for stop, handler in previous.items():
        signal.signal(stop, handler)


@pytest.mark.parametrize("stop", STOP_SIGNALS, ids=lambda stop: stop.name)
def test_a_stop_delivered_to_another_thread_waits_for_the_end_of_the_block(python_ctrl_c, stop):
    """The kernel gives a process-wide signal to any thread that does not block it (polars'
    threads in a sweep); Python then interrupts the main thread wherever it is. Inside the block
    that would cut a pool's start of a worker in half, so the interruption must wait for the end."""
    release = threading.Event()
    other = threading.Thread(target=release.wait)  # started before the block: SIGINT unblocked
    other.start()
    steps = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with _stops_held():
                os.kill(os.getpid(), stop)
                time.sleep(0.2)  # the main thread checks for signals many times meanwhile
                steps.append("block finished")
            steps.append("after the block")
    finally:
        release.set()
        other.join()
    assert steps == ["block finished"]


def test_without_a_stop_nothing_is_raised_and_the_handlers_are_restored(python_ctrl_c):
    with _stops_held():
        assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) >= {signal.SIGINT, signal.SIGHUP}
    assert all(signal.getsignal(stop) is signal.default_int_handler for stop in STOP_SIGNALS)
    assert not signal.pthread_sigmask(signal.SIG_BLOCK, set()) & set(STOP_SIGNALS)


def test_a_ctrl_c_that_is_ignored_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _stops_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
