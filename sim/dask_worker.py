"""Preloaded by every worker of a local Dask cluster that a sweep starts (``--scheduler local``).

Importing :mod:`sim.batch` here makes the workers import the model while the cluster starts,
not in the first task. Raising the workers' Dask log level keeps the user's terminal quiet: a
sweep reports failures itself (each run's error, a lost worker), while a worker's own log lines
are only noise there, for example the traceback of a heartbeat that fails because Ctrl-C has
already stopped the scheduler.
"""

import logging

import sim.batch  # noqa: F401


def dask_setup(worker: object) -> None:
    """Dask's preload hook, called once in each worker process."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
