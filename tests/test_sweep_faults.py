"""Fault injection on result folders: damaged parts, foreign parts, two writers, an interrupted
combine and a full disk. After each fault, resuming must end with results identical to a clean
sweep's (issue 14, item 1).

Sweeps are tiny (300 customers, 6 months, 2 strategies x 2 grid points x 2 replications =
4 batches, serial), so the whole file takes seconds.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sweep import CountingExecutor, assert_same_results, read_manifest, write_scenario

import sim.sweep
from sim.analysis.statistics import sweep_and_summarise as sweep  # the orchestrator plus summary.parquet
from sim.executors import SerialExecutor
from sim.sweep import LOCK_FILE, SweepError, SweepInterrupted

KINDS = ("runs", "monthly", "customers", "horizon_plane")


def small(directory: Path, seed: int = 7):
    return write_scenario(directory, customers=300, months=6, seed=seed)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """One scenario file for the whole module: the manifest records its path."""
    return small(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, scenario) -> Path:
    """A clean sweep with per-customer records, the yardstick of every healed one."""
    out = tmp_path_factory.mktemp("reference") / "out"
    sweep(scenario, out, SerialExecutor(), record_customers=True)
    return out


@pytest.fixture
def finished(tmp_path, reference) -> Path:
    """A copy of the reference folder, to be damaged."""
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    return out


def _part(out: Path, kind: str) -> Path:
    return sorted((out / "parts").glob(f"{kind}-*.parquet"))[1]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garble(path: Path) -> None:
    """Flip 16 bytes of the first data page (just after the 4-byte 'PAR1' magic)."""
    data = bytearray(path.read_bytes())
    data[8:24] = bytes(255 - b for b in data[8:24])
    path.write_bytes(bytes(data))


def _resume(scenario, out: Path) -> tuple[sim.sweep.SweepReport, CountingExecutor]:
    executor = CountingExecutor()
    report = sweep(scenario, out, executor, resume=True, record_customers=True)
    return report, executor


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("damage", [_truncate, _garble, Path.unlink], ids=["truncated", "garbled", "deleted"])
def test_a_damaged_part_is_set_aside_and_its_batch_runs_again(scenario, finished, reference, kind, damage):
    victim = _part(finished, kind)
    batch = victim.name.split("-")[-1].removesuffix(".parquet")
    damage(victim)
    report, executor = _resume(scenario, finished)
    if kind == "runs" and damage is Path.unlink:
        assert report.set_aside == ()  # a batch without its commit mark simply never finished
    else:
        assert len(report.set_aside) == 1 and "runs again" in report.set_aside[0]
        aside = list((finished / "set-aside").rglob("*.parquet"))
        assert batch in aside[0].name  # kept for inspection, never deleted
        assert read_manifest(finished)["set_aside"] == list(report.set_aside)
    assert executor.ran == [batch]
    assert_same_results(finished, reference)


def test_parts_of_another_scenario_version_are_not_reused(tmp_path):
    """Issue 14: with manifest.json missing, a seed-2 sweep took 2 of its runs from seed-1 parts."""
    out = tmp_path / "out"
    sweep(small(tmp_path, seed=1), out, SerialExecutor())
    (out / "manifest.json").unlink()
    executor = CountingExecutor()
    report = sweep(small(tmp_path, seed=2), out, executor, resume=True)
    assert len(executor.ran) == 4 and len(report.set_aside) == 4
    assert all("another scenario version" in line for line in report.set_aside)
    sweep(small(tmp_path, seed=2), tmp_path / "reference", SerialExecutor())
    assert_same_results(out, tmp_path / "reference")


def test_resume_refuses_a_different_customers_setting(scenario, finished):
    """Issue 14: a resume without --customer-records wrote customers.parquet covering some runs only."""
    _part(finished, "runs").unlink()
    with pytest.raises(SweepError, match=r"--customer-records: .* was swept with --customer-records"):
        sweep(scenario, finished, SerialExecutor(), resume=True, record_customers=False)


def test_a_garbage_manifest_is_not_trusted_but_the_sealed_parts_are(scenario, finished, reference):
    (finished / "manifest.json").write_text("[1, 2")
    report, executor = _resume(scenario, finished)
    assert executor.ran == [] and report.set_aside == ()
    assert_same_results(finished, reference)


# --- interruptions after the last batch, full disk --------------------------------------------


def test_ctrl_c_during_the_final_combine_is_recorded(tmp_path, scenario, reference, monkeypatch):
    out = tmp_path / "out"
    combine = sim.sweep._combine

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.sweep, "_combine", interrupted)
    with pytest.raises(SweepInterrupted, match="interrupted after 8 of 8 runs"):
        sweep(scenario, out, SerialExecutor(), record_customers=True)
    assert read_manifest(out)["status"] == "interrupted"
    assert not (out / LOCK_FILE).exists()
    monkeypatch.setattr(sim.sweep, "_combine", combine)
    report, executor = _resume(scenario, out)
    assert executor.ran == [] and report.skipped == 8
    assert_same_results(out, reference)


def test_a_failure_during_the_combine_is_recorded(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("polars fell over")

    monkeypatch.setattr(sim.sweep, "_combine", broken)
    with pytest.raises(RuntimeError):
        sweep(small(tmp_path), tmp_path / "out", SerialExecutor())
    assert read_manifest(tmp_path / "out")["status"] == "failed: RuntimeError: polars fell over"


@pytest.mark.parametrize("writes_before_full", [0, 3, 13])  # first part, mid-sweep, the combine
def test_a_full_disk_is_recorded_and_resume_completes(
    tmp_path, scenario, reference, monkeypatch, writes_before_full
):
    """A writer that fails with ENOSPC after some writes, as a full disk does."""
    out = tmp_path / "out"
    write = sim.sweep.write_atomic
    calls = []

    def filling(path, writer):
        calls.append(path)
        if len(calls) > writes_before_full + 1:  # +1: the manifest written at the start
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write(path, writer)

    monkeypatch.setattr(sim.sweep, "write_atomic", filling)
    with pytest.raises(SweepInterrupted, match="disk full") as stopped:
        sweep(scenario, out, SerialExecutor(), record_customers=True)
    assert stopped.value.done < 8 or writes_before_full == 13
    assert read_manifest(out)["status"] == "disk full"  # written in place: no room for a copy
    monkeypatch.setattr(sim.sweep, "write_atomic", write)
    _resume(scenario, out)
    assert_same_results(out, reference)


# --- one writer at a time ---------------------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _lock(out: Path, pid: int, host: str | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    holder = {"pid": pid, "host": host or socket.gethostname(), "since": "2026-01-01T00:00:00+00:00"}
    (out / LOCK_FILE).write_text(json.dumps(holder))


def test_a_second_writer_is_refused_and_deletes_nothing(scenario, finished):
    """Issue 14: a second sweep --force on a folder being written deleted the first one's parts."""
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        try:
            _lock(finished, alive.pid)
            before = sorted(p.name for p in (finished / "parts").iterdir())
            for options in ({"force": True}, {"resume": True}):
                with pytest.raises(SweepError, match=f"being written by process {alive.pid} on"):
                    sweep(scenario, finished, SerialExecutor(), record_customers=True, **options)
            assert sorted(p.name for p in (finished / "parts").iterdir()) == before
        finally:
            alive.kill()


def test_a_lock_on_another_host_is_respected(tmp_path):
    _lock(tmp_path / "out", 1, host="elsewhere.example")
    with pytest.raises(SweepError, match=r"on elsewhere\.example .* delete .*\.lock if that process is gone"):
        sweep(small(tmp_path), tmp_path / "out", SerialExecutor())


@pytest.mark.parametrize("content", ["pid", "empty"])
def test_a_stale_lock_is_taken_over(tmp_path, content):
    out = tmp_path / "out"
    _lock(out, _dead_pid())
    if content == "empty":  # killed between creating the lock and writing it
        (out / LOCK_FILE).write_text("")
        os.utime(out / LOCK_FILE, (0, 0))
    report = sweep(small(tmp_path), out, SerialExecutor())
    assert report.done == 8
    assert not (out / LOCK_FILE).exists()


# --- real processes: a kill during the combine, two writers ----------------------------------------

KILL_DURING_COMBINE = """
import os, signal, sys
import sim.sweep
from sim import scenario as scenarios
from sim.executors import SerialExecutor

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

sim.sweep._combine = killed
scenario, out = scenarios.load(sys.argv[1]), sim.sweep.Path(sys.argv[2])
sim.sweep.sweep(scenario, out, SerialExecutor(), record_customers=True)
"""


@pytest.mark.slow
def test_kill_9_during_the_combine_leaves_a_folder_that_resume_completes(tmp_path, scenario, reference):
    out = tmp_path / "out"
    child = subprocess.run(
        [sys.executable, "-c", KILL_DURING_COMBINE, scenario.file, str(out)], capture_output=True, timeout=300
    )
    assert child.returncode == -9
    assert read_manifest(out)["status"] == "running" and (out / LOCK_FILE).exists()  # no chance to say more
    report, executor = _resume(scenario, out)  # the stale lock is taken over
    assert executor.ran == [] and report.skipped == 8
    assert_same_results(out, reference)


HELD_SWEEP = """
import sys, time
from pathlib import Path
import sim.sweep
from sim.cli import main

run_batch = sim.sweep.run_batch

def held(batch):  # the first batch runs at once, the others once the test says so
    while list(Path("out/parts").glob("runs-*")) and not Path("release").exists():
        time.sleep(0.05)
    return run_batch(batch)

sim.sweep.run_batch = held
sys.argv = ["loyalty-sim", "sweep", "small.toml", "--out", "out", "--workers", "1", "--no-report"]
main()
"""


@pytest.mark.slow
def test_a_second_sweep_on_a_folder_being_written_is_refused(tmp_path, scenario):
    """Two real command lines: the second (--force) is refused and deletes nothing; the first
    completes."""
    (tmp_path / "small.toml").write_text(Path(scenario.file).read_text())
    first = subprocess.Popen([sys.executable, "-c", HELD_SWEEP], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "out" / "parts").glob("runs-*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.05)
        command = [str(Path(sys.executable).parent / "loyalty-sim"), "sweep", "small.toml", "--out", "out"]
        second = subprocess.run(
            [*command, "--force", "--workers", "1", "--no-report"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        (tmp_path / "release").touch()
        _, err = first.communicate(timeout=300)
    finally:
        first.kill()
    assert second.returncode == 2, second.stderr
    assert f"being written by process {first.pid}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert first.returncode == 0, err
    assert read_manifest(tmp_path / "out")["status"] == "complete"


def test_the_command_line_reports_what_it_set_aside(tmp_path, scenario, finished):
    from test_hostile_inputs import run_cli

    _truncate(_part(finished, "monthly"))
    options = ["--resume", "--customer-records", "--workers", "1", "--no-report"]
    rc, _, err = run_cli("sweep", scenario.file, "--out", finished, *options)
    assert rc == 0, err
    warning = next(line for line in err.splitlines() if line.startswith("warning:"))
    assert "does not match its checksum" in warning and "set-aside/" in warning and "runs again" in warning
