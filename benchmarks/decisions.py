"""Benchmarks of the decision analyses (issue 15): an optimisation and a robustness run, each on
one worker, on a pool of two, and on a Dask LocalCluster of two.

* ``optimise``: 6 decision variables, 200 candidates x 5 replications of 10,000 customers x 60
  months (1,000 runs), then 4 finalists x 10 fresh replications with the baseline (80 runs);
* ``robustness``: 10 strategies x 100 markets x 5 replications of 10,000 customers x 60 months
  (5,000 runs).

* ``paired``: the robustness run on a 1-worker pool and a 1-worker LocalCluster at the same
  time, every task's CPU measured in its worker (:func:`bench_paired`): Dask's overhead without
  the machine's drift.

``--quick`` runs the same code at small sizes (a check that it runs, not a measurement). Every
executor must give the same answer (the search is seeded per round, not per worker), which the
benchmark checks before it reports a time.
"""

from __future__ import annotations

import contextlib
import functools
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
        "small": {
            "customers": 10_000, "months": 60, "evaluations": 10, "replications": 2, "budget": 1_500_000
        },
        "medium": {
            "customers": 10_000, "months": 60, "evaluations": 20, "replications": 3, "budget": 1_500_000
        },
        "full": {
            "customers": 10_000, "months": 60, "evaluations": 200, "replications": 5, "budget": 1_500_000
        },
    },
    "robustness": {
        "quick": {"customers": 1_000, "months": 24, "markets": 6, "replications": 2},
        # small: 500 runs, about 40 s on 2 idle cores, for several alternated pairs in minutes
        "small": {"customers": 10_000, "months": 60, "markets": 10, "replications": 5},
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
    for index, (name, make) in enumerate(order):
        load = os.getloadavg()[0]
        started = time.perf_counter()
        with make() as executor:
            list(executor.run(abs, range(2 * executor.workers)))  # workers up and importing done
            start = time.perf_counter() - started
            started, cpu = time.perf_counter(), _cpu_seconds()
            answers[name] = work(executor, tmp / f"{name}-{index}")
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


def _timed(fn: Callable[[Any], Any], task: Any) -> tuple[Any, tuple[float, float]]:
    """In the worker: ``fn(task)`` and the CPU seconds it took, of its thread and of the whole
    worker process (the difference: the worker's other threads meanwhile, Dask's event loop)."""
    process, thread = time.process_time(), time.thread_time()
    result = fn(task)
    return result, (time.process_time() - process, time.thread_time() - thread)


class _Timing(Executor):
    """An executor's runs with the CPU seconds of every task measured where it ran; tasks are
    cut as for ``workers`` workers, whatever the executor has."""

    def __init__(self, inner: Executor, workers: int) -> None:
        self.inner, self.workers, self.name = inner, workers, inner.name
        self.seconds: list[tuple[float, float]] = []

    def run(self, fn: Callable[[Any], Any], tasks: Any) -> Any:
        for result, seconds in self.inner.run(functools.partial(_timed, fn), tasks):
            self.seconds.append(seconds)
            yield result


def bench_paired(quick: bool | str, rounds: int = 3) -> dict[str, Any]:
    """The robustness run on a pool of one worker and a LocalCluster of one worker at the same
    time, each on one core, with the tasks a two-worker run sends: the machine's speed, which
    drifts, is the same for both, so their ratio is measured to about 1% (two pools measured
    this way agree to 1%). Per round: each one's wall time and the CPU seconds of its tasks,
    measured in the worker (the task's thread, and the whole worker process)."""
    import threading

    sizes = SIZES["robustness"][_size(quick)]
    out: dict[str, Any] = {**sizes, "size": _size(quick), "rounds": rounds}
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "robustness.toml"
        path.write_text(ROBUSTNESS.format(**sizes))
        scenario = load(path)
        with LocalPoolExecutor(1) as pool, DaskExecutor("local", 1) as dask:
            executors = {"pool": pool, "dask": dask}
            for executor in executors.values():
                list(executor.run(abs, range(2)))  # the workers up
            for round_ in range(rounds):
                found: dict[str, Any] = {}

                def work(name: str, round_: int = round_, found: dict[str, Any] = found) -> None:
                    timing = _Timing(executors[name], workers=2)
                    started = time.perf_counter()
                    result = robustness(scenario, Path(tmp) / f"{name}-{round_}", timing)
                    found[name] = (time.perf_counter() - started, timing.seconds, result.table.to_dicts())

                load_average = os.getloadavg()[0]
                threads = [threading.Thread(target=work, args=(name,)) for name in executors]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                if found["pool"][2] != found["dask"][2]:
                    raise AssertionError("executors disagree: the result depends on where it ran")
                for name, (wall, seconds, _) in found.items():
                    process, thread = (sum(column) for column in zip(*seconds, strict=True))
                    out.setdefault(f"{name}_seconds_all", []).append(wall)
                    out.setdefault(f"{name}_task_cpu_seconds_all", []).append(process)
                    out.setdefault(f"{name}_task_thread_cpu_seconds_all", []).append(thread)
                out.setdefault("load_all", []).append(load_average)
    for key in ("seconds", "task_cpu_seconds", "task_thread_cpu_seconds"):
        ratios = [d / p for p, d in zip(out[f"pool_{key}_all"], out[f"dask_{key}_all"], strict=True)]
        out[f"dask_over_pool_{key}_all"] = ratios
    return out


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
    parser.add_argument(
        "names", nargs="*", help="optimise, robustness (default: both), paired (robustness, see bench_paired)"
    )
    parser.add_argument("--size", choices=["quick", "small", "medium", "full"], default="medium")
    parser.add_argument(
        "--rounds", type=int, default=1, help="pool and Dask this many times each, alternately"
    )
    args = parser.parse_args()
    benches = {"optimise": bench_optimise, "robustness": bench_robustness, "paired": bench_paired}
    for name in args.names or ["optimise", "robustness"]:
        if name not in benches:
            parser.error(f"expected optimise, robustness or paired, got '{name}'")
        load = os.getloadavg()[0]
        found = {**benches[name](args.size, args.rounds), "load_average_before": load}
        found["load_average_after"] = os.getloadavg()[0]
        print(json.dumps({name: found}, indent=1), flush=True)


if __name__ == "__main__":
    main()
