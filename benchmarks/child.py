"""One timed run of the vectorised model in a fresh process, reported as one line of JSON.

``python -m benchmarks.child CUSTOMERS MONTHS`` runs ``rare_contact`` and prints: seconds of the
run (imports and the kernels' loading excluded), seconds spent recording the monthly row, the
memory-streaming floor,
and the peak resident memory of this process (imports included). Each time is given as wall
time and as CPU time of this process (``*_cpu_seconds``): on a shared machine the CPU time is
what an idle core would take, and the wall time mostly measures the other jobs. A fresh process per size
makes the peak memory that of this run alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

from sim.model import LoyaltyModel
from sim.shards import run_shard
from sim.strategy import BASELINE, builtin_strategies


def streaming_floor_seconds(model: LoyaltyModel, rows_per_month: list[int]) -> tuple[float, float]:
    """Time for NumPy to read and write every population column once per month.

    Any month of any model must at least read its state and write the new state, so this is
    the floor: one copy of each column, at the month's population size, per month. Returns
    wall and CPU seconds.
    """
    data = model.population._data
    scratch = {name: np.empty_like(column) for name, column in data.items()}
    started, cpu = time.perf_counter(), time.process_time()
    for rows in rows_per_month:
        for name, column in data.items():
            np.copyto(scratch[name][:rows], column[:rows])
    return time.perf_counter() - started, time.process_time() - cpu


def measure(customers: int, months: int) -> dict[str, float]:
    # Start-up first, not timed: numba and the kernels' cached machine code load on a model's
    # first month (about a second; `loyalty-sim run` pays it, see bench_run), so a tiny run.
    LoyaltyModel(builtin_strategies()[BASELINE], customers=100, months=2, rng=0).run()
    model = LoyaltyModel(builtin_strategies()[BASELINE], customers=customers, months=months, rng=1)
    recording = recording_cpu = 0.0
    rows_per_month = []
    record = model._record

    def timed_record() -> None:  # wraps the recorder to time it; 60 calls, negligible
        nonlocal recording, recording_cpu
        started, cpu = time.perf_counter(), time.process_time()
        record()
        recording += time.perf_counter() - started
        recording_cpu += time.process_time() - cpu
        rows_per_month.append(len(model.population))

    model._record = timed_record
    started, cpu = time.perf_counter(), time.process_time()
    model.run()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the floor's copies
    floor_seconds, floor_cpu_seconds = streaming_floor_seconds(model, rows_per_month)
    return {
        "customers": customers,
        "months": months,
        "seconds": seconds,
        "customer_months_per_second": customers * months / seconds,
        "record_seconds": recording,
        "record_share_of_step": recording / (seconds - recording),
        "floor_seconds": floor_seconds,
        "cpu_seconds": cpu_seconds,
        "record_cpu_share_of_step": recording_cpu / (cpu_seconds - recording_cpu),
        "floor_cpu_seconds": floor_cpu_seconds,
        "cpu_seconds_over_floor": cpu_seconds / floor_cpu_seconds,
        "peak_rss_mb": peak_rss_mb,
        "final_rows": len(model.population),
    }


def timed_shard(task: tuple) -> tuple[int, object, dict[str, float]]:
    """``sim.shards.run_shard`` in a worker, with its wall and CPU seconds and the worker's peak
    resident memory so far (``benchmarks.__main__.bench_shards``)."""
    started, cpu = time.perf_counter(), time.process_time()
    index, result = run_shard(task)
    return index, result, {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
