"""One timed run of the vectorised model in a fresh process, reported as one line of JSON.

``python -m benchmarks.child CUSTOMERS MONTHS`` runs ``rare_contact`` and prints: seconds of the
run (imports excluded), seconds spent recording the monthly row, the memory-streaming floor,
and the peak resident memory of this process (imports included). A fresh process per size
makes the peak memory that of this run alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

from sim.model import LoyaltyModel
from sim.strategy import BASELINE, builtin_strategies


def streaming_floor_seconds(model: LoyaltyModel, rows_per_month: list[int]) -> float:
    """Time for NumPy to read and write every population column once per month.

    Any month of any model must at least read its state and write the new state, so this is
    the floor: one copy of each column, at the month's population size, per month.
    """
    data = model.population._data
    scratch = {name: np.empty_like(column) for name, column in data.items()}
    started = time.perf_counter()
    for rows in rows_per_month:
        for name, column in data.items():
            np.copyto(scratch[name][:rows], column[:rows])
    return time.perf_counter() - started


def measure(customers: int, months: int) -> dict[str, float]:
    model = LoyaltyModel(builtin_strategies()[BASELINE], customers=customers, months=months, rng=1)
    recording = 0.0
    rows_per_month = []
    record = model._record

    def timed_record() -> None:  # wraps the recorder to time it; 60 calls, negligible
        nonlocal recording
        started = time.perf_counter()
        record()
        recording += time.perf_counter() - started
        rows_per_month.append(len(model.population))

    model._record = timed_record
    started = time.perf_counter()
    model.run()
    seconds = time.perf_counter() - started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the floor's copies
    return {
        "customers": customers,
        "months": months,
        "seconds": seconds,
        "customer_months_per_second": customers * months / seconds,
        "record_seconds": recording,
        "record_share_of_step": recording / (seconds - recording),
        "floor_seconds": streaming_floor_seconds(model, rows_per_month),
        "peak_rss_mb": peak_rss_mb,
        "final_rows": len(model.population),
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
