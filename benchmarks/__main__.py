"""Run the benchmarks, print a table and write benchmarks/results.json.

uv run python -m benchmarks            # all
uv run python -m benchmarks sweep      # one of: model, sweep
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from tempfile import TemporaryDirectory

from sim.executors import make_executor
from sim.model import LoyaltyModel
from sim.scenario import load
from sim.strategy import builtin_strategies
from sim.sweep import sweep

HERE = Path(__file__).resolve().parent
SHOWDOWN = HERE.parent / "scenarios" / "five-year-showdown.toml"


def bench_model(customers: int = 100_000, months: int = 60) -> dict[str, float]:
    """One rare-contact run: seconds and customer-months per second."""
    strategy = builtin_strategies()["rare_contact"]
    LoyaltyModel(strategy, customers=1_000, months=2, rng=0).run()  # warm up imports and caches
    started = time.perf_counter()
    LoyaltyModel(strategy, customers=customers, months=months, rng=1).run()
    seconds = time.perf_counter() - started
    return {
        "customers": customers,
        "months": months,
        "seconds": seconds,
        "customer_months_per_second": customers * months / seconds,
    }


def bench_sweep(
    workers: tuple[int, ...] = (1, 2), replications: tuple[int, ...] = (10, 40)
) -> dict[str, float]:
    """The headline sweep with 1 and with N workers, in one run: the speed-up is the ratio.

    With its default 10 replications the sweep is short enough for the few seconds each
    worker process needs to import the model to show; 40 replications show the scaling.
    """
    scenario = load(SHOWDOWN)
    out: dict[str, float] = {}
    with TemporaryDirectory() as tmp:
        for reps in replications:
            out[f"r{reps}_runs"] = len(scenario.strategies) * reps
            for count in workers:
                started = time.perf_counter()
                with make_executor(count) as executor:
                    sweep(scenario, Path(tmp) / f"r{reps}w{count}", executor, replications=reps)
                out[f"r{reps}_seconds_{count}_workers"] = time.perf_counter() - started
            for count in workers[1:]:
                out[f"r{reps}_speedup_{count}_vs_1"] = (
                    out[f"r{reps}_seconds_1_workers"] / out[f"r{reps}_seconds_{count}_workers"]
                )
    return out


BENCHMARKS = {"model": bench_model, "sweep": bench_sweep}


def main(names: list[str]) -> None:
    results = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": {p: metadata.version(p) for p in ("loyalty-sim", "numpy", "polars", "mesa")},
    }
    for name in names or list(BENCHMARKS):
        results[name] = BENCHMARKS[name]()
        for key, value in results[name].items():
            print(f"{name:6s} {key:32s} {value:>14,.2f}")
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
