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

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import shutil
import socket
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
from sim.io import PathError, check_output, write_atomic
from sim.market import Market
from sim.mechanisms.acquisition import capacity
from sim.runs import run_strategies
from sim.scenario import MAX_RUNS, Scenario
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
    set_aside: tuple[str, ...] = ()  # damaged or foreign parts moved aside (their batches ran again)


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
    """Run every batch of ``scenario`` on ``executor`` and write the results to ``out``.

    ``out`` is locked while the sweep writes (a second writer is refused); on resume every
    finished part is checked against the batch plan and the checksums sealed into its runs
    part, and a damaged or foreign one is moved to ``set-aside/`` and its batch runs again.
    The manifest's status is written on every way out: complete, interrupted, worker lost,
    disk full or failed.
    """
    try:
        check_output(out, "--out")
    except PathError as error:
        raise SweepError(f"{error}; use --out to name a result directory") from None
    check_fits(scenario)
    runs = len(scenario.strategies) * len(scenario.grid) * (replications or scenario.replications)
    if runs > MAX_RUNS:
        raise SweepError(
            f"--replications: expected at most {MAX_RUNS:,} runs (strategies x grid points x replications), "
            f"found {runs:,}"
        )
    batches = plan(scenario, replications, record_customers)
    parts = out / "parts"
    manifest_path = out / "manifest.json"
    if (
        not (resume or force)
        and provenance.is_complete(
            provenance.read_manifest(out), scenario.hash(), replications or scenario.replications
        )
        and _tables_whole(out, record_customers)
    ):
        # nothing to run and nothing to rewrite (not even the manifest): the finished comparison
        total_runs = len(batches) * len(scenario.strategies)
        runs = pl.read_parquet(out / "runs.parquet")
        failed = runs.filter(pl.col("status") == "failed").height
        summary_path = out / "summary.parquet"
        summary = pl.read_parquet(summary_path) if summary_path.exists() else None
        return SweepReport(out, total_runs, runs.height - failed, failed, total_runs, runs, summary)
    out.mkdir(parents=True, exist_ok=True)
    with WriterLock(out):
        _prepare(out, scenario, resume, force, record_customers)
        parts.mkdir(parents=True, exist_ok=True)
        for stale in parts.glob(".*.tmp"):  # left by a sweep that was killed while writing a part
            stale.unlink(missing_ok=True)
        seal = _fingerprint(scenario, record_customers)
        set_aside = _heal(out, batches, scenario, seal)
        finished = {b.batch_id for b in batches if (parts / f"runs-{b.batch_id}.parquet").exists()}
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
            "record_customers": record_customers,
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
        if set_aside:
            manifest["set_aside"] = list(set_aside)
        _write_json(manifest_path, manifest)
        return _run(scenario, out, executor, batches, todo, skipped, seal, manifest, set_aside, on_progress)


def _run(
    scenario: Scenario,
    out: Path,
    executor: Executor,
    batches: list[Batch],
    todo: list[Batch],
    skipped: int,
    seal: str,
    manifest: dict[str, Any],
    set_aside: tuple[str, ...],
    on_progress: Callable[[int, int], None] | None,
) -> SweepReport:
    """Run ``todo``, combine the parts and record the outcome in the manifest, whatever happens."""
    parts, manifest_path = out / "parts", out / "manifest.json"
    total_runs = len(batches) * len(scenario.strategies)
    done_runs = skipped
    last_manifest_write = time.monotonic()

    def stop(status: str, reason: str | None = None) -> SweepInterrupted:
        # One Ctrl-C can raise twice: polars raises its own KeyboardInterrupt when it is
        # interrupted, and Python's handler still runs at the next opportunity. Record anyway.
        while True:
            try:
                results.close()
                manifest.update(status=status, runs=_run_statuses(parts, batches, scenario))
                _record(manifest_path, manifest)
                break
            except KeyboardInterrupt:
                pass
        done = sum(s != "pending" for s in manifest["runs"].values())
        return SweepInterrupted(done, total_runs, reason or status)

    if on_progress:
        on_progress(done_runs, total_runs)
    results = executor.run(run_batch, todo)  # held, so it is closed below and not while unwinding
    try:
        for result in results:
            _write_parts(parts, result, seal)
            done_runs += len(result.runs)
            if on_progress:
                on_progress(done_runs, total_runs)
            if time.monotonic() - last_manifest_write > 2.0:
                manifest["runs"] = _run_statuses(parts, batches, scenario)
                _write_json(manifest_path, manifest)
                last_manifest_write = time.monotonic()
        runs = _combine(parts, out, batches, scenario)
        failed = runs.filter(pl.col("status") == "failed").height
        manifest.update(
            status="complete" if not failed else "complete with failed runs",
            finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            runs=_run_statuses(parts, batches, scenario),
        )
        _write_json(manifest_path, manifest)
    except KeyboardInterrupt:
        raise stop("interrupted") from None
    except executor.lost_worker_errors as error:
        reason = f"a worker process died ({type(error).__name__}; out of memory?)"
        raise stop("worker lost", reason) from None
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            stop(f"failed: {type(error).__name__}: {error}")
            raise
        raise stop("disk full", f"disk full ({error.strerror or error})") from None
    except BaseException as error:
        stop(f"failed: {type(error).__name__}: {error}")
        raise
    return SweepReport(out, total_runs, runs.height - failed, failed, skipped, runs, set_aside=set_aside)


def _record(manifest_path: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest's final state even on a full disk: atomically if there is room, else in
    place (a manifest is rewritten at about its own size, so the blocks it frees suffice)."""
    text = json.dumps(manifest, indent=2, default=str) + "\n"
    try:
        write_atomic(manifest_path, lambda tmp: tmp.write_text(text))
    except OSError:
        with contextlib.suppress(OSError), open(manifest_path, "r+" if manifest_path.exists() else "w") as f:
            f.write(text)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())


RESULT_FILES: tuple[str, ...] = (
    "manifest.json",
    "runs.parquet",
    "monthly.parquet",
    "customers.parquet",
    "horizon_plane.parquet",
    "summary.parquet",
)


def _prepare(
    out: Path, scenario: Scenario, resume: bool, force: bool, record_customers: bool
) -> None:
    if not any(p.name != LOCK_FILE for p in out.iterdir()):
        return
    if force:
        # Only what a sweep writes: --out may name a directory that holds other files too.
        shutil.rmtree(out / "parts", ignore_errors=True)
        for name in RESULT_FILES:
            (out / name).unlink(missing_ok=True)
            for tmp in out.glob(f".{name}.*.tmp"):
                tmp.unlink()
        return
    if not resume:
        raise SweepError(
            f"{out} already holds results; use --resume to complete them or --force to start over"
        )
    previous = provenance.read_manifest(out)
    if previous is None:
        return  # nothing to compare with: every part is checked against its seal instead
    recorded = previous.get("scenario")
    if not isinstance(recorded, dict) or recorded.get("sha256") != scenario.hash():
        raise SweepError(
            f"{out} holds results of a different version of {scenario.file}; "
            "use --force to start over or --out to write elsewhere"
        )
    before = previous.get("record_customers")
    if before is None:  # manifests written before the setting was recorded
        before = any((out / "parts").glob("customers-*.parquet"))
    if bool(before) != record_customers:
        was = "with" if before else "without"
        raise SweepError(
            f"--customer-records: {out} was swept {was} --customer-records; resume {was} it (a mix "
            "would leave customers.parquet covering only some runs), or use --force to start over"
        )


# --- parts: sealed, checked on resume, set aside when damaged ---------------------------------

SEAL_KEY = "loyalty_sim_seal"
SET_ASIDE = "set-aside"
PART_KINDS = ("monthly", "customers", "horizon_plane")


def _fingerprint(scenario: Scenario, record_customers: bool) -> str:
    """What a part's content depends on besides its batch: the scenario text and the settings."""
    settings = json.dumps({"scenario": scenario.hash(), "customers": record_customers}, sort_keys=True)
    return hashlib.sha256(settings.encode()).hexdigest()[:32]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rows_hash(runs: pl.DataFrame) -> str:
    return hashlib.sha256(json.dumps(runs.to_dicts(), sort_keys=True, default=str).encode()).hexdigest()


def _write_parts(parts: Path, result: BatchResult, fingerprint: str) -> None:
    """Write a batch's parts, then its runs part (the commit mark) sealed with the checksum and
    row count of every part, so that a resume can tell a damaged or foreign part.

    The seal is Parquet metadata of the runs part, and it holds the scenario's hash: the runs
    part's bytes change with any edit of the scenario text (a comment too) or of the settings,
    while its table does not. To compare results, compare the tables, not the files."""
    sealed = {}
    for kind in PART_KINDS:
        frame = getattr(result, kind)
        if frame is not None:
            path = parts / f"{kind}-{result.batch_id}.parquet"
            write_atomic(path, frame.write_parquet)
            sealed[kind] = {"rows": frame.height, "sha256": _sha256(path)}
    runs = pl.DataFrame(result.runs)
    seal = json.dumps({"plan": fingerprint, "runs_sha256": _rows_hash(runs), "parts": sealed})
    write_atomic(
        parts / f"runs-{result.batch_id}.parquet",
        lambda tmp: runs.write_parquet(tmp, metadata={SEAL_KEY: seal}),
    )


def _damage(parts: Path, batch: Batch, scenario: Scenario, fingerprint: str) -> str | None:
    """Why a finished batch's parts cannot be used, or None when they are whole and ours."""
    runs_file = parts / f"runs-{batch.batch_id}.parquet"
    try:
        seal = json.loads(pl.read_parquet_metadata(runs_file).get(SEAL_KEY, "null"))
        runs = pl.read_parquet(runs_file)
    except Exception as error:  # any failure to read means a damaged file
        return f"{runs_file.name} cannot be read ({type(error).__name__})"
    if not isinstance(seal, dict):
        return f"{runs_file.name} has no seal (written by another program or an older version)"
    if seal.get("plan") != fingerprint:
        return f"{runs_file.name} belongs to another scenario version or other settings"
    expected = {f"{name}|{point_id(batch.point)}|{batch.replication}" for name in scenario.strategies}
    if (
        "run_id" not in runs.columns
        or set(runs["run_id"]) != expected
        or runs.height != len(expected)
        or _rows_hash(runs) != seal.get("runs_sha256")
    ):
        return f"{runs_file.name} does not match its checksum or its batch"
    listed = seal.get("parts")
    if not isinstance(listed, dict) or not set(listed) <= set(PART_KINDS):
        return f"{runs_file.name} has a damaged seal"
    for kind, entry in listed.items():
        path = parts / f"{kind}-{batch.batch_id}.parquet"
        if not path.is_file():
            return f"{path.name} is missing"
        if not isinstance(entry, dict) or _sha256(path) != entry.get("sha256"):
            return f"{path.name} does not match its checksum (truncated or overwritten)"
    return None


def intact(scenario: Scenario, out: Path, replications: int | None, record_customers: bool) -> bool:
    """Whether every batch of the sweep in ``out`` has whole parts of its own and the tables
    combined from them read whole: what ``--resume`` checks before it re-prints a finished sweep
    (reading only; :func:`sweep` heals the parts and combines the tables again)."""
    parts, fingerprint = out / "parts", _fingerprint(scenario, record_customers)
    return all(
        (parts / f"runs-{b.batch_id}.parquet").exists() and _damage(parts, b, scenario, fingerprint) is None
        for b in plan(scenario, replications, record_customers)
    ) and _tables_whole(out, record_customers)


def _tables_whole(out: Path, record_customers: bool) -> bool:
    """Whether the tables a sweep combines are there and every page of each result table that is
    there decodes (a file cut short by a copy or a full disk, or with damaged bytes, does not),
    in constant memory. The summary is the analysis layer's: written after, when missing."""
    needed = {"runs", "monthly", *(("customers",) if record_customers else ())}
    for file in (out / name for name in RESULT_FILES if name.endswith(".parquet")):
        if not file.exists() and file.stem not in needed:
            continue  # not written by this sweep (the customer panel, a summary still to come)
        try:
            pl.scan_parquet(file).select(pl.all().null_count()).collect(engine="streaming")
        except (OSError, pl.exceptions.PolarsError):
            return False
    return True


def _heal(out: Path, batches: list[Batch], scenario: Scenario, fingerprint: str) -> tuple[str, ...]:
    """Check every finished batch; move the parts of a damaged or foreign one aside (never
    deleted) so that it runs again. Returns one line per batch set aside."""
    parts = out / "parts"
    reports = []
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    for batch in batches:
        if not (parts / f"runs-{batch.batch_id}.parquet").exists():
            continue
        reason = _damage(parts, batch, scenario, fingerprint)
        if reason is None:
            continue
        aside = out / SET_ASIDE / stamp
        aside.mkdir(parents=True, exist_ok=True)
        for kind in ("runs", *PART_KINDS):  # the runs part first: the batch is no longer finished
            path = parts / f"{kind}-{batch.batch_id}.parquet"
            if path.exists():
                os.replace(path, aside / path.name)
        where = f"grid point {point_id(batch.point)}, replication {batch.replication}"
        reports.append(f"{reason}: moved to {aside.relative_to(out)}/; {where} runs again")
    return tuple(reports)


# --- one writer at a time --------------------------------------------------------------------

LOCK_FILE = ".lock"


class WriterLock:
    """``out/.lock`` holds the writer's pid and host while a sweep (or an optimisation, a
    robustness run) writes; a second writer on the same folder is refused. A lock whose process
    is gone (kill -9, a crash, a reboot) is taken over; one held on another host is left for
    the user to judge."""

    def __init__(self, out: Path) -> None:
        self.path = out / LOCK_FILE
        self.holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now()}

    def __enter__(self) -> WriterLock:
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._current()
                if holder is not None and not self._stale(holder):
                    raise SweepError(
                        f"{self.path.parent} is being written by process {holder.get('pid')} on "
                        f"{holder.get('host')} (since {holder.get('since')}); wait for it to finish, or "
                        f"delete {self.path} if that process is gone"
                    ) from None
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps(self.holder))
                handle.flush()
                os.fsync(handle.fileno())
            return self
        raise SweepError(f"{self.path}: cannot take the lock (another sweep keeps taking it)")

    def __exit__(self, *exc: object) -> None:
        if self._current() == self.holder:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def _current(self) -> dict[str, Any] | None:
        """The holder recorded in the lock file; None when it is unreadable and old (a crash
        between creating and writing it), so that it counts as stale."""
        try:
            text = self.path.read_text()
            holder = json.loads(text)
            if isinstance(holder, dict):
                return holder
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            pass
        try:
            young = time.time() - self.path.stat().st_mtime < 10
        except OSError:
            return None
        return {"pid": "?", "host": "?", "since": "just now"} if young else None

    def _stale(self, holder: dict[str, Any]) -> bool:
        if holder.get("host") != self.holder["host"] or not isinstance(holder.get("pid"), int):
            return False  # another machine's process cannot be checked from here
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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
    "WriterLock",
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
    # two probes of every strategy, a small and a larger one: a fixed cost per run plus a cost per
    # customer-month, so that scaling a short run up does not also scale its fixed cost
    small = (min(scenario.customers, 500), min(scenario.months, 12))
    large = (min(scenario.customers, 5_000), min(scenario.months, 24))
    timed = {small: 0.0, large: 0.0}
    # untimed: the compiled kernels load on a process's first month (about half a second, a
    # worker's start-up, measured below), which the first probe would otherwise count as model time
    run_strategies(list(scenario.strategies.values()), scenario.market, 100, 2, [scenario.seed])
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
    memory = memory_per_run(customers, months, scenario.market)
    warnings = []
    free_disk = shutil.disk_usage(out if out.exists() else Path.cwd()).free
    if disk > free_disk:
        warnings.append(f"results need about {disk / 1e9:.1f} GB but only {free_disk / 1e9:.1f} GB are free")
    available = _memory("SC_AVPHYS_PAGES")
    if available and memory * workers > available:
        warnings.append(
            f"{workers} workers need about {memory * workers / 1e9:.1f} GB of memory but "
            f"{available / 1e9:.1f} GB are available; use fewer --workers"
        )
    return Estimate(runs, seconds, disk, memory, workers, tuple(warnings), basis)


def memory_per_run(customers: int, months: int, market: Market) -> int:
    """Bytes one run holds: the population's columns with capacity for joiners, plus the
    temporaries of a phase (about four float arrays per customer) and the interpreter."""
    from sim.population import SCHEMA

    bytes_per_customer = sum(np.dtype(c.dtype).itemsize for c in SCHEMA)
    return capacity(market.acquisition, customers, months) * (bytes_per_customer + 16) + 150_000_000


def _memory(pages: str) -> int | None:
    names = getattr(os, "sysconf_names", {})  # macOS has no SC_AVPHYS_PAGES, Windows no sysconf
    if pages in names and "SC_PAGE_SIZE" in names:
        return os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE")
    return None


def check_fits(scenario: Scenario) -> None:
    """A :class:`SweepError` before any work when one run of the scenario needs more memory than
    this machine has (the dry-run estimate of its largest grid point)."""
    total = _memory("SC_PHYS_PAGES")
    if total is None:
        return
    customers = max(int(dict(p).get("customers", scenario.customers)) for p in scenario.grid)
    months = max(int(dict(p).get("months", scenario.months)) for p in scenario.grid)
    need = memory_per_run(customers, months, scenario.market)
    if need > total:
        raise SweepError(
            f"{scenario.file}: customers: {customers:,} customers x {months} months need about "
            f"{need / 1e9:.1f} GB per run, but this machine has {total / 1e9:.1f} GB; use fewer customers"
        )
