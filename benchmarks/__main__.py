"""Run the benchmarks, print a table of every figure and write benchmarks/results.json.

    uv run python -m benchmarks                  # everything (about 10 minutes on 2 cores)
    uv run python -m benchmarks --quick          # the same figures at small sizes (about 1 minute)
    uv run python -m benchmarks reference cli    # any of: reference, million, huge, scaling, sweep,
                                                 # dask, shards, cli, run, optimise, robustness
                                                 # (the last two: benchmarks/decisions.py)
    uv run python -m benchmarks validation       # the validation table (benchmarks/validation.py)

Every figure is a ratio of times taken in the same run, because shared machines are noisy.
Model runs whose memory is reported run in a fresh process (``benchmarks.child``). A partial
run updates its sections of results.json and keeps the others.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from benchmarks.child import timed_shard
from benchmarks.decisions import bench_optimise, bench_robustness
from benchmarks.decisions import rows as decision_rows
from benchmarks.reference import ReferenceModel
from sim.analysis.statistics import sweep_and_summarise
from sim.executors import DaskExecutor, Executor, LocalPoolExecutor, SerialExecutor
from sim.io import write_atomic
from sim.market import Market
from sim.model import LoyaltyModel
from sim.runs import model_seed
from sim.scenario import load
from sim.shards import combine, plan
from sim.strategy import BASELINE, builtin_strategies

HERE = Path(__file__).resolve().parent
SHOWDOWN = HERE.parent / "scenarios" / "five-year-showdown.toml"
MONTHS = 60
REPEATS = 3


def child(customers: int, months: int = MONTHS) -> dict[str, float]:
    """One run of the vectorised model in a fresh process (see ``benchmarks.child``)."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.child", str(customers), str(months)],
        capture_output=True, text=True, check=True, cwd=HERE.parent,
    )
    return json.loads(out.stdout)


def bench_reference(quick: bool) -> dict[str, float]:
    """Vectorised model at 100,000 customers against the per-customer Mesa reference.

    The reference runs the full 60 months on fewer customers and is scaled linearly to 100,000
    (its cost is one ``step()`` per active customer and month); ``scaling`` shows the vectorised
    model's cost is linear too. The two are timed alternately, ``REPEATS`` times, and the
    fastest of each counts, so a burst of load from elsewhere does not decide the ratio.
    """
    customers, reference_customers = (10_000, 1_000) if quick else (100_000, 5_000)
    strategy = builtin_strategies()[BASELINE]
    LoyaltyModel(strategy, customers=1_000, months=2, rng=0).run()  # warm caches
    vectorised, reference = [], []
    for repeat in range(REPEATS):
        started = time.perf_counter()
        LoyaltyModel(strategy, customers=customers, months=MONTHS, rng=repeat).run()
        vectorised.append(time.perf_counter() - started)
        started = time.perf_counter()
        ReferenceModel(strategy, customers=reference_customers, months=MONTHS, rng=repeat).run()
        reference.append((time.perf_counter() - started) * customers / reference_customers)
    return {
        "customers": customers,
        "vectorised_seconds": min(vectorised),
        "reference_customers_measured": reference_customers,
        "reference_seconds_scaled": min(reference),
        "speedup": min(reference) / min(vectorised),
    }


def bench_million(quick: bool) -> dict[str, float]:
    """1,000,000 customers x 60 months in one process: time, peak memory, recording, floor.

    Two fresh processes; the faster run's figures count (peak memory is the larger).
    """
    runs = [child(100_000 if quick else 1_000_000) for _ in range(2)]
    fastest = min(runs, key=lambda run: run["seconds"])
    return {
        **fastest,
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "slowest_seconds": max(run["seconds"] for run in runs),
    }


def bench_huge(quick: bool) -> dict[str, float]:
    """10,000,000 customers x 60 months: does it run, how long, how much memory."""
    return child(1_000_000 if quick else 10_000_000)


def bench_scaling(quick: bool) -> dict[str, float]:
    """Cost against customers, 10k -> 1M: the slope of log(seconds) on log(customers)."""
    sizes = (10_000, 30_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    seconds = [min(child(n)["seconds"] for _ in range(2)) for n in sizes]  # fastest of two processes
    exponent = float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])
    return {**{f"seconds_{n}": s for n, s in zip(sizes, seconds, strict=True)}, "exponent": exponent}


def _time_sweep(executor: Executor, replications: int, out: Path) -> float:
    started = time.perf_counter()
    sweep_and_summarise(load(SHOWDOWN), out, executor, replications=replications)
    return time.perf_counter() - started


def _pool_start_seconds(executor: Executor) -> float:
    """Time until every worker of a fresh pool has answered: worker start-up."""
    started = time.perf_counter()
    list(executor.run(abs, range(2 * executor.workers)))
    return time.perf_counter() - started


def bench_sweep(quick: bool) -> dict[str, float]:
    """The headline sweep in one process and on 2 workers; start-up is measured on its own.

    Both run alternately, twice, and the faster of each counts. The first pool of a process
    starts the fork server, which imports the model once (cold start, what one
    ``loyalty-sim sweep`` pays); later pools fork from it at once (warm).
    """
    replication_counts = (2, 4) if quick else (10, 40)
    out: dict[str, float] = {}
    with TemporaryDirectory() as tmp, LocalPoolExecutor(2) as pool:
        out["pool_start_cold_seconds"] = _pool_start_seconds(pool)
        for reps in replication_counts:
            serial, parallel = math.inf, math.inf
            for repeat in range(2):  # alternately, the faster of two each: bursts of load elsewhere
                where = Path(tmp) / f"{reps}-{repeat}"
                serial = min(serial, _time_sweep(SerialExecutor(), reps, where / "serial"))
                parallel = min(parallel, _time_sweep(pool, reps, where / "pool"))
            out[f"r{reps}_runs"] = 8 * reps
            out[f"r{reps}_seconds_1_worker"] = serial
            out[f"r{reps}_seconds_2_workers"] = parallel
            out[f"r{reps}_speedup_2_vs_1"] = serial / parallel
            with_start = parallel + out["pool_start_cold_seconds"]
            out[f"r{reps}_speedup_2_vs_1_with_cold_start"] = serial / with_start
    return out


def bench_dask(quick: bool) -> dict[str, float]:
    """The same sweep on a Dask LocalCluster and on the local pool, both with 2 workers.

    Each executor first runs a two-replication warm-up sweep, so the figure compares running
    the sweep, not starting workers; the cluster's start-up is reported on its own. Both run
    alternately, twice, and the faster of each counts.
    """
    reps = 4 if quick else 40
    out: dict[str, float] = {"runs": 8 * reps}
    with TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with DaskExecutor("local", 2) as dask, LocalPoolExecutor(2) as pool:
            out["dask_start_seconds"] = time.perf_counter() - started
            _time_sweep(dask, 2, Path(tmp) / "dask-warm")
            _time_sweep(pool, 2, Path(tmp) / "pool-warm")
            dask_seconds, pool_seconds = [], []
            for repeat in range(2):  # alternately, the faster of two each: bursts of load elsewhere
                dask_seconds.append(_time_sweep(dask, reps, Path(tmp) / f"dask-{repeat}"))
                pool_seconds.append(_time_sweep(pool, reps, Path(tmp) / f"pool-{repeat}"))
        out["dask_seconds"], out["pool_seconds"] = min(dask_seconds), min(pool_seconds)
    out["dask_over_pool"] = out["dask_seconds"] / out["pool_seconds"]
    return out


def bench_shards(quick: bool) -> dict[str, float]:
    """One market in shards (``run --shards``) on a Dask LocalCluster of 2 workers, 60 months.

    A warm-up of two small shards first (workers import the model and load the compiled
    kernels), so the figure is the market's simulation; the cluster's start-up is reported
    on its own. Each shard's time and each worker's peak memory come from the workers."""
    customers, shards = (1_000_000, 4) if quick else (100_000_000, 40)
    strategy, market = builtin_strategies()[BASELINE], Market()
    started = time.perf_counter()
    with DaskExecutor("local", 2) as dask:
        start_seconds = time.perf_counter() - started
        warm = [(strategy, market, 2, 1, shard) for shard in plan(2_000, 2)]
        list(dask.run(timed_shard, warm))
        tasks = [(strategy, market, MONTHS, model_seed(1), shard) for shard in plan(customers, shards)]
        started, load_before = time.perf_counter(), os.getloadavg()[0]
        done = {index: (result, timing) for index, result, timing in dask.run(timed_shard, tasks)}
        seconds = time.perf_counter() - started
    combined = combine([done[i][0] for i in range(shards)], market.gross_margin_share)
    timings = [timing for _, timing in done.values()]
    cpu = sum(t["cpu_seconds"] for t in timings)
    return {
        "customers": customers,
        "shards": shards,
        "workers": 2,
        "dask_start_seconds": start_seconds,
        "seconds": seconds,
        "shard_cpu_seconds_total": cpu,
        "shard_seconds_max": max(t["seconds"] for t in timings),
        "shard_cpu_seconds_min": min(t["cpu_seconds"] for t in timings),
        "shard_cpu_seconds_max": max(t["cpu_seconds"] for t in timings),
        "worker_peak_rss_mb": max(t["worker_peak_rss_mb"] for t in timings),
        "cpu_share_of_wall_x_workers": cpu / (2 * seconds),
        "load_average_at_start": round(load_before, 2),
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "final_active_total": int(combined.monthly["active_total"][-1]),
    }


CLI_SCENARIO = """\
name = "bench-cli"
customers = 500
months = 12
replications = 2
[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]
personal_appreciation = ["personal_appreciation"]
"""


def _command_seconds(
    args: list[str], cwd: Path, repeats: int, warm_up: list[str] | None = None
) -> tuple[float, float]:
    """Wall-clock time of ``loyalty-sim ARGS`` as a user waits for it, from starting the process
    to its exit (interpreter start-up and imports included), and the CPU time it used (user +
    system, less sensitive to other load on a shared machine); the fastest of ``repeats``.

    As after an installed tool's first run, Python's bytecode cache is warm (one run first, not
    counted), kept under ``cwd`` so that the checkout stays clean even where the environment
    sets PYTHONDONTWRITEBYTECODE; without a cache every command compiles its imports again,
    which takes seconds. ``warm_up``: the command run first (default: ``args``)."""
    script = Path(sys.executable).with_name("loyalty-sim")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from sim.cli import main; main()"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cwd / "pycache")
    first = [*command, *(warm_up or args)]
    subprocess.run(first, cwd=cwd, capture_output=True, check=True, timeout=300, env=env)
    wall, cpu = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([*command, *args], cwd=cwd, capture_output=True, check=True, timeout=300, env=env)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(wall), min(cpu)


def bench_cli(quick: bool) -> dict[str, float]:
    """Seconds until ``--help``, ``validate``, ``table`` and the re-print of a finished sweep
    answer, each in a fresh process (target: under 1 s on an idle 2-core machine)."""
    repeats = 2 if quick else 5
    with TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "s.toml").write_text(CLI_SCENARIO)
        sweep_and_summarise(load(folder / "s.toml"), folder / "out", SerialExecutor())
        commands = {
            "help": ["--help"],
            "validate": ["validate", str(SHOWDOWN)],
            "table": ["table", "out"],
            "reprint": ["sweep", "s.toml", "--out", "out"],
        }
        out = {}
        for name, args in commands.items():
            out[f"{name}_seconds"], out[f"{name}_cpu_seconds"] = _command_seconds(args, folder, repeats)
        return out


def bench_run(quick: bool) -> dict[str, float]:
    """``loyalty-sim run -s rare_contact --customers 1000000`` end to end (a fresh process:
    interpreter, imports, numba's cache, the model, the table) against the model's own run
    (``benchmarks.child``, imports excluded), alternately, in CPU seconds; the fastest of 3 each."""
    customers = 100_000 if quick else 1_000_000
    args = ["run", "-s", BASELINE, "--customers", str(customers)]
    warm_up = ["run", "-s", BASELINE, "--customers", "1000"]  # bytecode and numba caches
    end_to_end, model = math.inf, math.inf
    with TemporaryDirectory() as tmp:
        for _ in range(REPEATS):
            end_to_end = min(end_to_end, _command_seconds(args, Path(tmp), 1, warm_up)[1])
            model = min(model, child(customers)["cpu_seconds"])
    return {
        "customers": customers,
        "end_to_end_cpu_seconds": end_to_end,
        "model_cpu_seconds": model,
        "end_to_end_over_model": end_to_end / model,
    }


BENCHMARKS = {
    "reference": bench_reference,
    "million": bench_million,
    "huge": bench_huge,
    "scaling": bench_scaling,
    "sweep": bench_sweep,
    "dask": bench_dask,
    "shards": bench_shards,
    "cli": bench_cli,
    "run": bench_run,
    "optimise": bench_optimise,
    "robustness": bench_robustness,
}


def machine() -> dict[str, object]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    ) if Path("/proc/cpuinfo").exists() else platform.processor()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "python": platform.python_version(),
    }


def targets_table(results: dict) -> str:
    """The issue's targets with the measured figures, as a Markdown table (for the README)."""

    def get(section: str, key: str) -> float:
        return results.get(section, {}).get(key, math.nan)

    ref, million, huge = (results.get(k, {}) for k in ("reference", "million", "huge"))
    sweep = results.get("sweep", {})
    reps = max((int(k[1:].split("_")[0]) for k in sweep if k.endswith("_runs")), default=0)  # the largest
    sweep_key = f"r{reps}_speedup_2_vs_1"
    rows = [
        ("reference", "vectorised vs per-customer reference, 100,000 customers x 60 months",
         ">= 100x faster (issue 18)",
         f"{get('reference', 'speedup'):.0f}x ({get('reference', 'vectorised_seconds'):.2f} s against "
         f"{get('reference', 'reference_seconds_scaled'):.0f} s, scaled from "
         f"{ref.get('reference_customers_measured', 0):,} customers)"),
        ("million", f"{million.get('customers', 0):,} customers x 60 months, one process", "<= 10 s, <= 1 GB",
         f"{get('million', 'seconds'):.1f} s (slower run {get('million', 'slowest_seconds'):.1f} s), "
         f"peak {get('million', 'peak_rss_mb'):.0f} MB"),
        ("huge", f"{huge.get('customers', 0):,} customers x 60 months", "runs on 24 GB",
         f"{get('huge', 'seconds'):.0f} s, peak {get('huge', 'peak_rss_mb') / 1024:.1f} GB"),
        ("scaling", "growth of cost with customers (10k -> 1M)", "linear",
         f"exponent {get('scaling', 'exponent'):.2f}"),
        ("sweep", f"sweep speed-up, 2 workers vs 1 ({get('sweep', f'r{reps}_runs'):.0f} runs)", ">= 1.8x",
         f"{get('sweep', sweep_key):.2f}x ({get('sweep', sweep_key + '_with_cold_start'):.2f}x "
         f"counting the pool's cold start of {get('sweep', 'pool_start_cold_seconds'):.1f} s)"),
        (None, "sweep speed-up, 16 cores vs 1", ">= 12x", "not measured: no 16-core machine was at hand"),
        ("dask", f"Dask LocalCluster vs local pool, same sweep ({get('dask', 'runs'):.0f} runs)",
         "within 10%",
         f"Dask takes {get('dask', 'dask_over_pool'):.2f}x the pool's time"),
        ("shards", f"{results.get('shards', {}).get('customers', 0):,} customers x 60 months in "
         f"{results.get('shards', {}).get('shards', 0)} shards, Dask LocalCluster of 2 workers",
         "combines exactly as one run",
         f"{get('shards', 'seconds'):.0f} s ({get('shards', 'shard_cpu_seconds_total'):.0f} CPU-s in the "
         f"shards, {get('shards', 'shard_cpu_seconds_min'):.1f}-{get('shards', 'shard_cpu_seconds_max'):.1f} "
         f"each), peak {get('shards', 'worker_peak_rss_mb'):.0f} MB a worker; counts exact "
         "(tests/test_shards.py)"),
        ("million", "data collection per month", "<= 5% of the step (issue 18)",
         f"{100 * get('million', 'record_share_of_step'):.1f}%"),
        ("cli", "--help, validate, table, re-printing a finished sweep (fresh process each)", "< 1 s each",
         ", ".join(f"{name} {get('cli', f'{name}_seconds'):.2f} s" for name in ("help", "validate", "table",
                                                                                   "reprint"))),
        ("run", f"`loyalty-sim run -s {BASELINE} --customers {get('run', 'customers'):,.0f}`, end to end",
         "<= 1.3x the model (issue 18)",
         f"{get('run', 'end_to_end_over_model'):.2f}x: {get('run', 'end_to_end_cpu_seconds'):.1f} s CPU "
         f"against the model's {get('run', 'model_cpu_seconds'):.1f} s"),
        ("million", "memory-streaming floor (1M x 60)", "within 4x (issue 18)",
         f"{get('million', 'floor_seconds'):.2f} s; the model takes "
         f"{get('million', 'seconds') / get('million', 'floor_seconds'):.1f}x the floor"),
    ]
    rows += decision_rows(results)
    lines = ["| figure | target | measured |", "| --- | --- | --- |"]
    lines += [
        f"| {figure} | {target} | {measured} |"
        for section, figure, target, measured in rows
        if section is None or section in results  # sections not run are left out
    ]
    return "\n".join(lines)


def _row(name: str, key: str, value: object) -> str:
    shown = f"{value:>14,.3f}" if isinstance(value, float) and math.isfinite(value) else f"{value!s:>14}"
    return f"{name:10s} {key:44s} {shown}"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["validation"]:  # the validation table: a command of its own (benchmarks/validation.py)
        from benchmarks import validation

        validation.main(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"some of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that they run")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    path: Path = args.out
    results = json.loads(path.read_text()) if path.exists() else {}
    results["machine"] = machine()
    packages = ("loyalty-sim", "numpy", "polars", "mesa", "distributed")
    results["versions"] = {p: metadata.version(p) for p in packages}
    results["quick"] = args.quick
    for name in args.names or list(BENCHMARKS):
        # Other jobs on the machine slow runs unevenly; the load average says how busy it was.
        load_before = round(os.getloadavg()[0], 2)
        results[name] = {**BENCHMARKS[name](args.quick), "load_average_before": load_before}
        for key, value in results[name].items():
            print(_row(name, key, value), flush=True)
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(results, indent=2) + "\n"))
    print(f"wrote {path}")
    print(targets_table(results))


if __name__ == "__main__":
    main()
