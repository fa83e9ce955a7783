"""Benchmarks of the decision analyses (issue 15): an optimisation and a robustness run, each on
one worker, on a pool of two, and on a Dask LocalCluster of two.

* ``optimise``: 6 decision variables, 200 candidates x 5 replications of 10,000 customers x 60
  months (1,000 runs), then 4 finalists x 10 fresh replications with the baseline (80 runs);
* ``robustness``: 10 strategies x 100 markets x 5 replications of 10,000 customers x 60 months
  (5,000 runs).

``--quick`` runs the same code at small sizes (a check that it runs, not a measurement). Every
executor must give the same answer (the search is seeded per round, not per worker), which the
benchmark checks before it reports a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sim.analysis.optimise import optimise
from sim.analysis.robustness import robustness
from sim.executors import DaskExecutor, Executor, LocalPoolExecutor, SerialExecutor
from sim.scenario import load

OPTIMISE = """\
name = "bench-optimise"
customers = {customers}
months = {months}
seed = 1

[strategies]
rare_contact = ["rare_contact"]
mix = [
    {{ program = "personal_appreciation" }},
    {{ program = "point_card" }},
    {{ program = "service_excellence" }},
]

[optimise]
strategy = "mix"
objectives = ["clv"]
budget = {budget}
evaluations = {evaluations}
replications = {replications}
batch = 10
finalists = 4
final_replications = 10

[optimise.variables]
"strategies.mix.programs[0].params.contacts_per_year" = [0.0, 12.0]
"strategies.mix.programs[0].start_month" = [1, 24]
"strategies.mix.programs[1].enabled" = [false, true]
"strategies.mix.programs[1].params.reward_share_of_spend" = [0.005, 0.05]
"strategies.mix.programs[2].enabled" = [false, true]
"strategies.mix.programs[2].params.cost_per_customer_month" = [0.5, 3.0]
"""

ROBUSTNESS = """\
name = "bench-robustness"
customers = {customers}
months = {months}
seed = 1

[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]
personal_appreciation = ["personal_appreciation"]
frequent_appreciation = [{{ program = "personal_appreciation", params = {{ contacts_per_year = 8.0 }} }}]
mass_contact = ["mass_contact"]
lock_in_contract = ["lock_in_contract"]
new_customer_deals = ["new_customer_deals"]
service_excellence = ["service_excellence"]
status_tiers = ["status_tiers"]
appreciation_and_service = ["personal_appreciation", "service_excellence"]

[robustness]
objective = "clv"
markets = {markets}
replications = {replications}
[robustness.thresholds]
clv = 450.0
[robustness.ranges]
"market.offers.offer_rate_per_month" = [0.02, 0.15]
"market.offers.discount" = [0.05, 0.30]
"service.failure_per_month" = [0.01, 0.06]
"""

SIZES = {
    # quick: a check that the benchmark runs; medium: the runs (10,000 customers x 60
    # months) but fewer of them, for a 2-core machine that others share; full: the sizes
    "optimise": {
        "quick": {"customers": 1_000, "months": 24, "evaluations": 12, "replications": 2, "budget": 60_000},
        "medium": {
            "customers": 10_000, "months": 60, "evaluations": 20, "replications": 3, "budget": 1_500_000
        },
        "full": {
            "customers": 10_000, "months": 60, "evaluations": 200, "replications": 5, "budget": 1_500_000
        },
    },
    "robustness": {
        "quick": {"customers": 1_000, "months": 24, "markets": 6, "replications": 2},
        "medium": {"customers": 10_000, "months": 60, "markets": 30, "replications": 5},
        "full": {"customers": 10_000, "months": 60, "markets": 100, "replications": 5},
    },
}


def _executors() -> list[tuple[str, Callable[[], Executor]]]:
    return [
        ("1_worker", SerialExecutor),
        ("2_workers", lambda: LocalPoolExecutor(2)),
        ("dask_2_workers", lambda: DaskExecutor("local", 2)),
    ]


def _cpu_seconds() -> float:
    """CPU seconds (user and system) so far of this process and every live process under it:
    the workers of a pool (under its fork server), a LocalCluster's workers."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for process in (me, *me.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _measure(work: Callable[[Executor, Path], Any], tmp: Path, rounds: int = 1) -> dict[str, Any]:
    """Seconds of ``work`` on each executor, started before the clock (worker start-up apart),
    warmed by a one-task run; every executor's answer must be the serial one. Beside the wall
    time, the CPU seconds of every process involved (this one, the workers, a fork server, a
    Dask scheduler and nannies): on a machine that others share, the wall time measures their
    load as much as ours, the CPU time what the executor itself costs.

    ``rounds`` > 1 runs the pool and the cluster alternately that many times each (after the
    single worker): their ratios are of the totals, and every time is kept (``*_all``), with
    the load average before each."""
    out: dict[str, Any] = {}
    answers = {}
    executors = _executors()
    order = executors[:1] + executors[1:] * rounds
    for name, make in order:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        with make() as executor:
            list(executor.run(abs, range(2 * executor.workers)))  # workers up and importing done
            start = time.perf_counter() - started
            started, cpu = time.perf_counter(), _cpu_seconds()
            answers[name] = work(executor, tmp / f"{name}-{len(out)}")
            seconds = time.perf_counter() - started
            cpu = _cpu_seconds() - cpu
        measured = {"start_seconds": start, "seconds": seconds, "cpu_seconds": cpu, "load": load}
        for key, value in measured.items():
            out.setdefault(f"{name}_{key}_all", []).append(value)
    for name, _ in executors:
        for key in ("start_seconds", "seconds", "cpu_seconds"):
            out[f"{name}_{key}"] = sum(out[f"{name}_{key}_all"]) / len(out[f"{name}_{key}_all"])
        if rounds == 1:
            for key in ("start_seconds", "seconds", "cpu_seconds", "load"):
                del out[f"{name}_{key}_all"]
    first = next(iter(answers.values()))
    if any(answer != first for answer in answers.values()):
        raise AssertionError("executors disagree: the result depends on where it ran")
    out["speedup_2_vs_1"] = out["1_worker_seconds"] / out["2_workers_seconds"]
    out["dask_over_pool"] = out["dask_2_workers_seconds"] / out["2_workers_seconds"]
    out["dask_over_pool_cpu"] = out["dask_2_workers_cpu_seconds"] / out["2_workers_cpu_seconds"]
    return out


def _size(quick: bool | str) -> str:
    return quick if isinstance(quick, str) else ("quick" if quick else "full")


def _bench(
    kind: str,
    text: str,
    quick: bool | str,
    answer: Callable[[Any, Executor, Path], str],
    rounds: int = 1,
) -> dict[str, Any]:
    """``answer(scenario, executor, out)`` at a size of ``kind`` (``quick``: True, False or a
    name of ``SIZES``), on each executor (pool and cluster ``rounds`` times, alternately)."""
    sizes = SIZES[kind][_size(quick)]
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.toml"
        path.write_text(text.format(**sizes))
        scenario = load(path)
        return {
            **sizes,
            **_measure(lambda executor, out: answer(scenario, executor, out), Path(tmp), rounds),
        }


def bench_optimise(quick: bool | str, rounds: int = 1) -> dict[str, Any]:
    """The optimisation of the issue's performance section, on each executor."""

    def answer(scenario: Any, executor: Executor, out: Path) -> str:
        return json.dumps(optimise(scenario, out, executor).summary, sort_keys=True, default=str)

    found = _bench("optimise", OPTIMISE, quick, answer, rounds)
    runs = found["evaluations"] * found["replications"] + 4 * 10 * 2
    return {**found, "size": _size(quick), "variables": 6, "runs": runs}


def bench_robustness(quick: bool | str, rounds: int = 1) -> dict[str, Any]:
    """The robustness run of the issue's performance section, on each executor."""

    def answer(scenario: Any, executor: Executor, out: Path) -> str:
        # the table: the summary names the output folder (its discover commands)
        return json.dumps(robustness(scenario, out, executor).table.to_dicts(), default=str)

    found = _bench("robustness", ROBUSTNESS, quick, answer, rounds)
    runs = 10 * found["markets"] * found["replications"]
    return {**found, "size": _size(quick), "strategies": 10, "runs": runs}


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """The README's performance rows of the two benchmarks that ran."""
    out = []
    for name, figure in (
        (
            "optimise",
            "optimisation: 6 variables, {evaluations} candidates x {replications} replications of "
            "{customers:,} customers x {months} months",
        ),
        (
            "robustness",
            "robustness: 10 strategies x {markets} markets x {replications} replications of "
            "{customers:,} customers x {months} months",
        ),
    ):
        found = results.get(name)
        if not found:
            continue
        out.append(
            (
                name,
                figure.format(**found),
                "minutes on 2 cores; 2 vs 1 worker >= 1.8x; Dask within 10% of the pool",
                f"{found['2_workers_seconds']:.0f} s on 2 workers ({found['1_worker_seconds']:.0f} s on 1: "
                f"{found['speedup_2_vs_1']:.2f}x); Dask takes {found['dask_over_pool']:.2f}x the pool's time",
            )
        )
    return out


def main() -> None:
    """``python -m benchmarks.decisions [optimise] [robustness] --size medium``: these two at
    one of their sizes, printed as JSON (``python -m benchmarks`` runs them at quick or full)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.decisions", description=main.__doc__)
    parser.add_argument("names", nargs="*", help="optimise, robustness (default: both)")
    parser.add_argument("--size", choices=["quick", "medium", "full"], default="medium")
    parser.add_argument(
        "--rounds", type=int, default=1, help="pool and Dask this many times each, alternately"
    )
    args = parser.parse_args()
    benches = {"optimise": bench_optimise, "robustness": bench_robustness}
    for name in args.names or list(benches):
        if name not in benches:
            parser.error(f"expected optimise or robustness, got '{name}'")
        load = os.getloadavg()[0]
        found = {**benches[name](args.size, args.rounds), "load_average_before": load}
        found["load_average_after"] = os.getloadavg()[0]
        print(json.dumps({name: found}, indent=1), flush=True)


if __name__ == "__main__":
    main()
