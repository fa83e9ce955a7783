"""Sweeps: every (strategy, grid point, replication) of a scenario, resumable, on any executor.

Work is split into *batches*, one per (grid point, replication): a batch runs every strategy
with the same seed, so strategies see common random numbers and their paired differences are
tight. A batch's seed is derived from the scenario's root seed and the *identities* of the
scenario, the grid point and the replication (never their positions), so results do not
depend on the executor, the number of workers, the completion order, or on strategies, grid
points or replications added to the file later.

Each finished batch is written at once to ``parts/`` (atomically: temporary name, then
rename; the runs file last, as the commit mark), so an interrupted sweep keeps its finished
batches and ``resume`` runs only the missing ones. At the end the parts are combined into
``runs.parquet``, ``monthly.parquet`` (and ``customers.parquet`` when asked for), and
``manifest.json`` records provenance and the status of every run. The orchestrator runs and
records; it computes no statistics: ``sim.analysis.statistics.sweep_and_summarise`` (what
``loyalty-sim sweep`` calls) adds ``summary.parquet``, the means and paired differences.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sim import provenance
from sim.batch import RUN_DTYPES, RUN_OUTCOMES, Batch, BatchResult, run_batch
from sim.errors import UserError
from sim.executors import Executor
from sim.io import write_atomic
from sim.mechanisms.acquisition import capacity
from sim.runs import run_strategies
from sim.scenario import Scenario
from sim.seeds import point_id, replication_seed


class SweepError(UserError):
    """A sweep that cannot start (existing results, changed scenario); exit code 2."""


class SweepInterrupted(Exception):
    """A sweep stopped early (Ctrl-C, or a worker process died): finished batches are kept,
    the manifest says why, and ``resume`` completes the rest."""

    def __init__(self, done: int, total: int, reason: str = "interrupted") -> None:
        super().__init__(f"{reason} after {done} of {total} runs")
        self.done, self.total, self.reason = done, total, reason


def plan(scenario: Scenario, replications: int | None = None, record_customers: bool = False) -> list[Batch]:
    """All batches of a scenario, in file order."""
    batches = []
    for point in scenario.grid:
        market, strategies, customers, months = scenario.at(point)
        for replication in range(replications or scenario.replications):
            batches.append(
                Batch(
                    point,
                    replication,
                    # paired axes (variants) are left out: their points share the seeds
                    replication_seed(scenario.name, scenario.seed, scenario.seed_point(point), replication),
                    market,
                    tuple(strategies.values()),
                    customers,
                    months,
                    record_customers,
                )
            )
    return batches


# --- files ---------------------------------------------------------------------------------


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n"))


@dataclass
class SweepReport:
    """What a sweep did: where its results are, how many runs finished or failed."""

    out: Path
    total: int
    done: int
    failed: int
    skipped: int  # finished in an earlier, interrupted sweep
    runs: pl.DataFrame  # runs.parquet
    # summary.parquet: written by sim.analysis.statistics.sweep_and_summarise, None before
    summary: pl.DataFrame | None = None


def sweep(
    scenario: Scenario,
    out: Path,
    executor: Executor,
    replications: int | None = None,
    resume: bool = False,
    force: bool = False,
    record_customers: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Run every batch of ``scenario`` on ``executor`` and write the results to ``out``."""
    batches = plan(scenario, replications, record_customers)
    total_runs = len(batches) * len(scenario.strategies)
    parts = out / "parts"
    manifest_path = out / "manifest.json"
    if not (resume or force) and _complete(manifest_path, scenario, replications or scenario.replications):
        # nothing to run and nothing to rewrite (not even the manifest): the finished comparison
        runs = pl.read_parquet(out / "runs.parquet")
        failed = runs.filter(pl.col("status") == "failed").height
        summary_path = out / "summary.parquet"
        summary = pl.read_parquet(summary_path) if summary_path.exists() else None
        return SweepReport(out, total_runs, runs.height - failed, failed, total_runs, runs, summary)
    _prepare(out, manifest_path, scenario, resume, force)
    parts.mkdir(parents=True, exist_ok=True)
    for stale in parts.glob(".*.tmp"):  # left by a sweep that was killed while writing a part
        stale.unlink(missing_ok=True)

    finished = {p.name.removeprefix("runs-").removesuffix(".parquet") for p in parts.glob("runs-*.parquet")}
    todo = [b for b in batches if b.batch_id not in finished]
    skipped = (len(batches) - len(todo)) * len(scenario.strategies)
    manifest = {
        "scenario": {
            "name": scenario.name,
            "file": scenario.file,
            "sha256": scenario.hash(),
            "text": scenario.text,
        },
        "replications": replications or scenario.replications,
        "seeds": {
            "root": scenario.seed,
            "derivation": "SeedSequence([root, *sha256(scenario name, grid point)[:16] as 4 uint32, "
            "replication]); shared by all strategies of a (grid point, replication); the grid point "
            "without its paired axes (variant, [grid] paired), so paired points share seeds too",
            "batches": {point_id(b.point) + f"|{b.replication}": list(b.seed) for b in batches},
        },
        "versions": provenance.versions(),
        "plugins": provenance.plugins_used(scenario),
        "code_version": provenance.code_version(),
        "command": provenance.command_line(),
        "executor": executor.name,
        "workers": executor.workers,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "finished": None,
        "status": "running",
        "runs": {},
    }
    _write_json(manifest_path, manifest)

    done_runs = skipped
    last_manifest_write = time.monotonic()
    if on_progress:
        on_progress(done_runs, total_runs)
    results = executor.run(run_batch, todo)  # held, so it is closed below and not while unwinding
    try:
        for result in results:
            _write_parts(parts, result)
            done_runs += len(result.runs)
            if on_progress:
                on_progress(done_runs, total_runs)
            if time.monotonic() - last_manifest_write > 2.0:
                manifest["runs"] = _run_statuses(parts, batches, scenario)
                _write_json(manifest_path, manifest)
                last_manifest_write = time.monotonic()
    except KeyboardInterrupt:
        # One Ctrl-C can raise twice: polars raises its own KeyboardInterrupt when it is
        # interrupted, and Python's handler still runs at the next opportunity. Record anyway.
        while True:
            try:
                results.close()
                manifest.update(status="interrupted", runs=_run_statuses(parts, batches, scenario))
                _write_json(manifest_path, manifest)
                break
            except KeyboardInterrupt:
                pass
        raise SweepInterrupted(sum(s != "pending" for s in manifest["runs"].values()), total_runs) from None
    except executor.lost_worker_errors as error:
        manifest.update(status="worker lost", runs=_run_statuses(parts, batches, scenario))
        _write_json(manifest_path, manifest)
        done = sum(s != "pending" for s in manifest["runs"].values())
        reason = f"a worker process died ({type(error).__name__}; out of memory?)"
        raise SweepInterrupted(done, total_runs, reason) from None

    runs = _combine(parts, out, batches, scenario)
    failed = runs.filter(pl.col("status") == "failed").height
    manifest.update(
        status="complete" if not failed else "complete with failed runs",
        finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        runs=_run_statuses(parts, batches, scenario),
    )
    _write_json(manifest_path, manifest)
    return SweepReport(out, total_runs, runs.height - failed, failed, skipped, runs)


RESULT_FILES: tuple[str, ...] = (
    "manifest.json",
    "runs.parquet",
    "monthly.parquet",
    "customers.parquet",
    "horizon_plane.parquet",
    "summary.parquet",
)


def _complete(manifest_path: Path, scenario: Scenario, replications: int) -> bool:
    """Whether ``manifest_path`` records a finished sweep of this very scenario."""
    previous = provenance.read_manifest(manifest_path.parent)
    return provenance.is_complete(previous, scenario.hash(), replications)


def _prepare(out: Path, manifest_path: Path, scenario: Scenario, resume: bool, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise SweepError(f"{out} is not a directory; use --out to name a result directory")
    if out.exists() and any(out.iterdir()):
        if force:
            # Only what a sweep writes: --out may name a directory that holds other files too.
            shutil.rmtree(out / "parts", ignore_errors=True)
            for name in RESULT_FILES:
                (out / name).unlink(missing_ok=True)
                for tmp in out.glob(f".{name}.*.tmp"):
                    tmp.unlink()
        elif not resume:
            raise SweepError(
                f"{out} already holds results; use --resume to complete them or --force to start over"
            )
        elif manifest_path.exists():
            previous = json.loads(manifest_path.read_text())
            if previous.get("scenario", {}).get("sha256") != scenario.hash():
                raise SweepError(
                    f"{out} holds results of a different version of {scenario.file}; "
                    "use --force to start over or --out to write elsewhere"
                )
    elif resume and not out.exists():
        pass  # nothing to resume: a fresh sweep
    out.mkdir(parents=True, exist_ok=True)


def _write_parts(parts: Path, result: BatchResult) -> None:
    if result.monthly is not None:
        write_atomic(parts / f"monthly-{result.batch_id}.parquet", result.monthly.write_parquet)
    if result.customers is not None:
        write_atomic(parts / f"customers-{result.batch_id}.parquet", result.customers.write_parquet)
    if result.horizon_plane is not None:
        write_atomic(parts / f"horizon_plane-{result.batch_id}.parquet", result.horizon_plane.write_parquet)
    write_atomic(parts / f"runs-{result.batch_id}.parquet", pl.DataFrame(result.runs).write_parquet)


def _run_statuses(parts: Path, batches: list[Batch], scenario: Scenario) -> dict[str, str]:
    statuses = {}
    for batch in batches:
        runs_file = parts / f"runs-{batch.batch_id}.parquet"
        if runs_file.exists():
            frame = pl.read_parquet(runs_file, columns=["run_id", "status"])
            statuses.update(zip(frame["run_id"], frame["status"], strict=True))
        else:
            for strategy in scenario.strategies:
                statuses[f"{strategy}|{point_id(batch.point)}|{batch.replication}"] = "pending"
    return statuses


def _combine(parts: Path, out: Path, batches: list[Batch], scenario: Scenario) -> pl.DataFrame:
    """Merge the parts of this scenario's batches, in a fixed order, into the result files."""
    order = {name: i for i, name in enumerate(scenario.strategies)}
    point_order = {point_id(p): i for i, p in enumerate(scenario.grid)}
    ids = [b.batch_id for b in batches]
    runs = pl.concat([pl.read_parquet(parts / f"runs-{i}.parquet") for i in ids], how="diagonal_relaxed")
    runs = _sorted(runs, order, point_order).with_columns(
        pl.col(c).cast(t) if c in runs.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in RUN_DTYPES.items()
    )
    write_atomic(out / "runs.parquet", runs.write_parquet)
    for kind in ("monthly", "customers", "horizon_plane"):
        files = [parts / f"{kind}-{i}.parquet" for i in ids if (parts / f"{kind}-{i}.parquet").exists()]
        if files:
            # diagonal: plugins' monthly reporters are columns only where the plugin ran
            scans = pl.concat([pl.scan_parquet(f) for f in files], how="diagonal_relaxed")
            frame = _sorted(scans, order, point_order).collect(engine="streaming")
            write_atomic(out / f"{kind}.parquet", frame.write_parquet)
    return runs


def _sorted(frame: Any, strategy_order: dict[str, int], point_order: dict[str, int]) -> Any:
    keys = [
        pl.col("strategy").replace_strict(strategy_order, return_dtype=pl.Int32),
        pl.col("point").replace_strict(point_order, return_dtype=pl.Int32),
        pl.col("replication"),
    ]
    names = frame.collect_schema().names()
    extra = [c for c in ("month", "customer_id", "bond_bin", "value_bin") if c in names]
    return frame.sort([*keys, *extra])


__all__ = [
    "RUN_OUTCOMES",
    "Batch",
    "BatchResult",
    "SweepError",
    "SweepInterrupted",
    "SweepReport",
    "plan",
    "run_batch",
    "sweep",
]


@dataclass(frozen=True)
class Estimate:
    """What a sweep will cost, from short timed probes (see :func:`estimate`)."""

    runs: int
    seconds: float
    disk_bytes: int
    memory_per_worker_bytes: int
    workers: int
    warnings: tuple[str, ...]
    basis: str = ""  # what the time was measured from, in words


def _start_up_seconds() -> float:
    """A fresh interpreter importing what a worker imports (the model, polars, SciPy), timed."""
    import subprocess
    import sys

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sim.batch"], check=False, capture_output=True, timeout=120)
    return time.perf_counter() - started


def _report_seconds(charts: int = 12) -> float:
    """Time one chart to PNG and SVG with vl-convert (the report's cost is one such per chart)."""
    started = time.perf_counter()
    import vl_convert as vlc

    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": [{"x": i, "y": i % 7, "s": str(i % 9)} for i in range(600)]},
        "mark": "line",
        "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
                     "color": {"field": "s", "type": "nominal"}},
        "width": 1200, "height": 600,
    }
    loading = time.perf_counter() - started
    started = time.perf_counter()
    vlc.vegalite_to_png(spec, scale=2)
    vlc.vegalite_to_svg(spec)
    return loading + charts * (time.perf_counter() - started)


def estimate(
    scenario: Scenario, workers: int, out: Path, replications: int | None = None, report: bool = True
) -> Estimate:
    """Time the parts of a sweep on this machine and add them up: a fresh worker's start-up (one
    per worker, in parallel), a probe run of every strategy scaled linearly in customers x months
    to each grid point's size (``customers`` and ``months`` may be swept), and, with ``report``,
    the report's charts. Every measured part is included, so the estimate is not low by the
    start-up or the report."""
    from sim.population import SCHEMA

    # two probes of every strategy, a small and a larger one: a fixed cost per run plus a cost per
    # customer-month, so that scaling a short run up does not also scale its fixed cost
    small = (min(scenario.customers, 500), min(scenario.months, 12))
    large = (min(scenario.customers, 5_000), min(scenario.months, 24))
    timed = {small: 0.0, large: 0.0}
    for strategy in scenario.strategies.values():
        for size in (small, large):
            started = time.perf_counter()
            [probe] = run_strategies([strategy], scenario.market, *size, [scenario.seed])
            result = probe.result
            timed[size] += (time.perf_counter() - started) / len(scenario.strategies)
    span = large[0] * large[1] - small[0] * small[1]
    per_run_customer_month = max(timed[large] - timed[small], 0.0) / span if span else timed[large] / (
        large[0] * large[1]
    )
    fixed_per_run = max(timed[large] - per_run_customer_month * large[0] * large[1], 0.0)
    reps = replications or scenario.replications
    runs = len(scenario.strategies) * len(scenario.grid) * reps
    sizes = []
    for point in scenario.grid:
        values = dict(point)
        size = (values.get("customers", scenario.customers), values.get("months", scenario.months))
        sizes.append((int(size[0]), int(size[1])))
    customers, months = max(c for c, _ in sizes), max(m for _, m in sizes)
    per_point = sum(fixed_per_run + per_run_customer_month * c * m for c, m in sizes)
    run_seconds = per_point * len(scenario.strategies) * reps
    start_up = _start_up_seconds()
    report_seconds = _report_seconds() if report else 0.0
    seconds = start_up + run_seconds / max(1, min(workers, runs)) + report_seconds
    basis = (
        f"measured here: worker start-up {start_up:.1f} s, model {per_run_customer_month * 1e6:.2f} s "
        "per million customer-months" + (f", report {report_seconds:.0f} s" if report else "")
    )
    monthly_bytes_per_row = max(1, result.monthly.estimated_size() // max(1, result.monthly.height))
    disk = int(runs * months * monthly_bytes_per_row * 2 + runs * 2_000)  # parts + combined
    bytes_per_customer = sum(np.dtype(c.dtype).itemsize for c in SCHEMA)
    # capacity for joiners, plus the temporaries of a phase (about four float arrays per customer)
    memory = (
        capacity(scenario.market.acquisition, customers, months) * (bytes_per_customer + 16)
        + 150_000_000
    )
    warnings = []
    free_disk = shutil.disk_usage(out if out.exists() else Path.cwd()).free
    if disk > free_disk:
        warnings.append(f"results need about {disk / 1e9:.1f} GB but only {free_disk / 1e9:.1f} GB are free")
    names = getattr(os, "sysconf_names", {})  # macOS has no SC_AVPHYS_PAGES, Windows no sysconf
    available = (
        os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        if "SC_AVPHYS_PAGES" in names and "SC_PAGE_SIZE" in names
        else None
    )
    if available and memory * workers > available:
        warnings.append(
            f"{workers} workers need about {memory * workers / 1e9:.1f} GB of memory but "
            f"{available / 1e9:.1f} GB are available; use fewer --workers"
        )
    return Estimate(runs, seconds, disk, memory, workers, tuple(warnings), basis)
