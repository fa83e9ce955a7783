"""Where sweep batches run: in-process, a local process pool, or a Dask distributed cluster.

All executors offer one operation, :meth:`Executor.run`, which yields results in completion
order while keeping at most ``in_flight`` tasks submitted, so a long sweep never queues all
of its work (or its results) at once. The sweep itself is one code path over this interface.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

# What stops a sweep, handled once, by the parent: Ctrl-C, a plain `kill` (also a batch
# system's time limit, `docker stop`) and a closed terminal.
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
# The stops a terminal sends to the whole process group, which workers must leave to the parent.
# Not SIGTERM: a pool ends its workers with it when one of them dies.
_GROUP_SIGNALS = tuple(s for s in STOP_SIGNALS if s != getattr(signal, "SIGTERM", None))


def _init_worker() -> None:
    # The parent handles a stop: it stops submitting and cancels what is queued.
    for group_signal in _GROUP_SIGNALS:
        signal.signal(group_signal, signal.SIG_IGN)
    # A parent killed without cleanup (kill -9, the OOM killer) would otherwise leave its
    # workers waiting for work forever; the parent's sentinel becomes ready when it dies.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel,), daemon=True).start()


def _exit_with_parent(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (a process that cleans up the pool's semaphores)
    so that a closed terminal cannot kill it: it ignores SIGINT and SIGTERM itself, not SIGHUP,
    and its death ended a sweep with tracebacks about leaked semaphores. It inherits SIGHUP
    blocked; starting it unblocks SIGINT and SIGTERM in this thread, so it comes before a hold.
    (Windows has neither signal masks nor SIGHUP; the tracker starts when first needed.)"""
    if not hasattr(signal, "pthread_sigmask"):
        return
    from multiprocessing import resource_tracker

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _GROUP_SIGNALS)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _stops_held() -> Iterator[None]:
    """A stop (Ctrl-C, SIGTERM, SIGHUP) waits for the end of this block.

    Ctrl-C in a terminal signals the whole process group; workers still importing, or Dask
    workers, would each die with a KeyboardInterrupt traceback. Only the parent should handle
    it, so processes started in here (and by threads started in here) inherit the group's stop
    signals blocked. The parent itself must not be interrupted halfway either: blocking a signal
    in this thread does not stop the kernel from delivering it to another (polars' threads), and
    Python then raises KeyboardInterrupt here wherever it is, e.g. between the pool starting a
    worker and recording it, which left a worker that nobody told to stop and a sweep that never
    exited. A stop that arrives meanwhile is noted and raised again on leaving the block.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: Ctrl-C is delivered differently there
        yield
        return
    _start_resource_tracker()
    noted: list[int] = []
    # Only the main thread may set (and runs) handlers; None: one set outside Python, left alone.
    in_main_thread = threading.current_thread() is threading.main_thread()
    handlers = {s: signal.getsignal(s) for s in STOP_SIGNALS if in_main_thread}
    handlers = {s: handler for s, handler in handlers.items() if handler is not None}
    for stop_signal in handlers:
        signal.signal(stop_signal, lambda signum, frame: noted.append(signum))
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _GROUP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        for stop_signal, handler in handlers.items():
            signal.signal(stop_signal, handler)
        if noted:
            signal.raise_signal(noted[0])


class Executor:
    """Runs ``fn`` over tasks; subclasses supply ``submit`` and ``wait_first``."""

    name = "executor"
    workers = 1
    # Errors that mean a worker process died (killed, out of memory) rather than a run failing.
    lost_worker_errors: tuple[type[BaseException], ...] = ()
    closed = False

    def run(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        pending = iter(tasks)
        running: set[Any] = set()
        in_flight = 2 * self.workers
        try:
            for task in pending:
                running.add(self.submit(fn, task))
                if len(running) >= in_flight:
                    break
            while running:
                done, running = self.wait_first(running)
                for future in done:
                    for task in pending:
                        running.add(self.submit(fn, task))
                        if len(running) >= in_flight:
                            break
                    yield future.result()
        finally:
            # A run abandoned by Ctrl-C may be finalised only after close(), which has already
            # dropped every future; cancelling one on a closed Dask client would raise here.
            if not self.closed:
                for future in running:
                    future.cancel()

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Any:
        raise NotImplementedError

    def wait_first(self, futures: set[Any]) -> tuple[set[Any], set[Any]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers; idempotent."""
        if not self.closed:
            self.closed = True
            self._release()

    def _release(self) -> None:
        """Stop the workers and drop their pending work (called once, by close)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Done:
    """A finished 'future' for the in-process executor."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def result(self) -> Any:
        return self._value

    def cancel(self) -> None:
        pass


class SerialExecutor(Executor):
    """Runs batches one after another in this process (``--workers 1``)."""

    name = "serial"

    def submit(self, fn: Callable[[Any], Any], task: Any) -> _Done:
        return _Done(fn(task))

    def wait_first(self, futures: set[Any]) -> tuple[set[Any], set[Any]]:
        first = next(iter(futures))
        return {first}, futures - {first}


def _worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: forked from a fresh server that imported the model once.

    Importing the model (Mesa with pandas, SciPy and networkx) takes seconds; with ``spawn``
    every worker pays it, with ``forkserver`` one server process pays it once and forks the
    workers, ready to run (and it serves every later pool of this process). The server is a
    fresh interpreter, not a fork of this process, so threads here (polars') cannot deadlock
    it. Where there is no ``forkserver`` (Windows), workers are spawned. Results do not
    depend on how workers start.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sim.batch"])
    return context


class LocalPoolExecutor(Executor):
    """A pool of worker processes on this machine (the default).

    Workers start from a fresh interpreter (``forkserver``, or ``spawn`` on Windows), never as
    forks of this process; the worker entry point is a module-level function.
    """

    name = "local-pool"
    lost_worker_errors = (BrokenProcessPool,)

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        _start_resource_tracker()  # else the pool's queues start it, where SIGHUP can kill it
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_worker_context(),
            initializer=_init_worker,
        )

    def submit(self, fn: Callable[[Any], Any], task: Any) -> cf.Future:
        with _stops_held():  # the pool starts its worker processes on demand, in submit
            return self._pool.submit(fn, task)

    def wait_first(self, futures: set[Any]) -> tuple[set[Any], set[Any]]:
        done, running = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return set(done), set(running)

    def _release(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# Dask's housekeeping, made rare in a LocalCluster that a sweep starts (the workers get this
# config from their nannies). By default every worker samples its task's stack every 10 ms
# (the dashboard's profile, which nobody sees here), and every server wakes every 20 ms to
# check its event loop, measures itself every 500 ms and its memory every 100 ms. Each wake-up
# takes the GIL from the running task; on 2 cores this cost the decision analyses 10-15%
# of their time against the process pool (measured as CPU time per task, README "Performance").
QUIET = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing": False,  # tasks are queued on the scheduler anyway
}


class DaskExecutor(Executor):
    """Batches on a Dask distributed cluster: an existing scheduler, or a LocalCluster.

    ``address`` is ``tcp://host:port`` of a running scheduler, or ``"local"`` to start a
    ``LocalCluster`` of ``workers`` single-threaded worker processes on loopback.
    """

    name = "dask"

    def __init__(self, address: str, workers: int | None = None) -> None:
        from distributed import (
            Client,
            KilledWorker,
            LocalCluster,
        )  # imported only when a cluster is asked for

        self.lost_worker_errors = (KilledWorker,)

        self._cluster = None
        if address == "local":
            import dask

            try:
                # a Ctrl-C meanwhile arrives when the cluster is up; the workers take QUIET along
                with _stops_held(), dask.config.set(QUIET):
                    self._cluster = LocalCluster(
                        n_workers=workers or os.cpu_count() or 1,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        preload=["sim.dask_worker"],  # imports the model, quiets worker logs
                    )
                    self._client = Client(self._cluster)
            except BaseException:
                if self._cluster is not None:
                    self._cluster.close()
                raise
        else:
            self._client = Client(address, timeout="10s")
        self.workers = max(1, sum(self._client.nthreads().values()))
        self.name = f"dask {self._client.scheduler.address}"

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Any:
        return self._client.submit(fn, task, pure=False)

    def wait_first(self, futures: set[Any]) -> tuple[set[Any], set[Any]]:
        from distributed import wait

        done, running = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done), set(running)

    def _release(self) -> None:
        self._client.close()
        if self._cluster is not None:
            # Shutting the cluster down (after Ctrl-C, say) makes Dask log lost connections;
            # the sweep has already said what happened.
            logging.getLogger("distributed").setLevel(logging.CRITICAL)
            self._cluster.close()


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor a sweep asked for: Dask if a scheduler is named, else serial or a pool."""
    if scheduler:
        return DaskExecutor(scheduler, workers)
    if workers == 1:
        return SerialExecutor()
    return LocalPoolExecutor(workers)
