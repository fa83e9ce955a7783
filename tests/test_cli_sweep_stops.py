"""The real command line, in a subprocess, stopped: Ctrl-C, SIGTERM, a closed terminal, kill -9
of the sweep or of a worker, each followed by ``--resume``. Apart from ``test_cli_sweep.py`` so
that the two files' slow tests run on different test workers (``--dist loadfile``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import psutil
import pytest
from test_cli_sweep import _SCRIPT, cli, manifest, part_times, start

from sim.analysis.statistics import sweep_and_summarise
from sim.executors import SerialExecutor
from sim.scenario import load

# Long enough (36 batches on two workers) to be stopped in the middle.
LONG = """\
name = "cli-long"
customers = 5000
months = 60
replications = 12
seed = 9

[strategies]
rare_contact = { programs = ["rare_contact"] }
point_card = { programs = ["point_card"] }
service_excellence = { programs = ["service_excellence"] }
"""
LONG_RUNS = 3 * 12

# --- Ctrl-C and kill -9 -------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory) -> Path:
    """The long scenario swept without interruption (in-process, serially)."""
    directory = tmp_path_factory.mktemp("long")
    (directory / "long.toml").write_text(LONG)
    sweep_and_summarise(load(directory / "long.toml"), directory / "out", SerialExecutor())
    return directory / "out"


def _stop_in_the_middle(
    tmp_path: Path, sig: signal.Signals
) -> tuple[subprocess.Popen[str], list[psutil.Process]]:
    """Start the long sweep on two workers, wait for its first finished batch, send ``sig``."""
    (tmp_path / "long.toml").write_text(LONG)
    proc = start(tmp_path, "sweep", "long.toml", "--workers", "2", "--out", "out")
    parts = tmp_path / "out" / "parts"
    deadline = time.monotonic() + 240
    try:
        while not list(parts.glob("runs-*.parquet")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no batch finished"
            time.sleep(0.02)
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, sig)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    return proc, children


def _command_line(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # ended meanwhile
        return ""


def _assert_gone(processes: list[psutil.Process], timeout: float = 30) -> None:
    """The sweep's worker processes end (or are zombies waiting to be reaped)."""
    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.1)
    for process in alive:  # do not leave them behind, then fail
        process.kill()
    assert not alive, f"worker processes still running: {[p.pid for p in alive]}"


def _assert_resumes_to(tmp_path: Path, reference: Path) -> None:
    before = part_times(tmp_path / "out")
    finished = [name for name in before if name.startswith("runs-")]
    resumed = cli(tmp_path, "sweep", "long.toml", "--workers", "2", "--out", "out", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert f"{LONG_RUNS} runs done ({3 * len(finished)} from before), 0 failed" in resumed.stderr
    after = part_times(tmp_path / "out")
    assert {name: after[name] for name in finished} == {name: before[name] for name in finished}
    assert manifest(tmp_path / "out")["status"] == "complete"
    assert set(manifest(tmp_path / "out")["runs"].values()) == {"done"}
    runs = pl.read_parquet(tmp_path / "out" / "runs.parquet")
    assert runs.height == LONG_RUNS
    for name in ("runs", "monthly", "summary"):
        frame = pl.read_parquet(tmp_path / "out" / f"{name}.parquet")
        assert frame.equals(pl.read_parquet(reference / f"{name}.parquet")), name


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_a_stop_is_clean_and_resume_completes(tmp_path, long_reference, stop):
    """Ctrl-C, or a plain ``kill`` (SIGTERM: also what a batch system's time limit sends)."""
    proc, workers = _stop_in_the_middle(tmp_path, stop)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted:" in stderr
    assert "loyalty-sim sweep long.toml --out out --resume" in stderr
    assert stdout == ""
    _assert_gone(workers)

    state = manifest(tmp_path / "out")
    assert state["status"] == "interrupted"
    statuses = list(state["runs"].values())
    assert len(statuses) == LONG_RUNS
    assert 0 < statuses.count("done") < LONG_RUNS
    assert statuses.count("done") + statuses.count("pending") == LONG_RUNS
    finished = list((tmp_path / "out" / "parts").glob("runs-*.parquet"))
    assert statuses.count("done") == 3 * len(finished)
    assert not (tmp_path / "out" / "runs.parquet").exists()

    if stop == signal.SIGINT:  # resuming does not depend on what stopped the sweep
        _assert_resumes_to(tmp_path, long_reference)


@pytest.mark.slow
def test_kill_9_leaves_no_corrupt_files_and_resume_completes(tmp_path, long_reference):
    proc, workers = _stop_in_the_middle(tmp_path, signal.SIGKILL)
    # Not communicate(): workers left behind would hold the output pipes open.
    assert proc.wait(timeout=60) == -signal.SIGKILL
    # Workers notice that their parent is gone and end instead of waiting for work forever.
    _assert_gone(workers)
    proc.communicate(timeout=60)

    out = tmp_path / "out"
    assert manifest(out)["status"] == "running"  # nobody was left to say otherwise
    for path in [*out.glob("*.parquet"), *(out / "parts").glob("*.parquet")]:
        pl.read_parquet(path)  # complete files only: they are written under a temporary name
    assert list((out / "parts").glob("runs-*.parquet"))
    # A kill while a part was being written leaves its temporary file ('.<name>.<pid>.tmp');
    # whether one is left depends on timing, so leave one the way a kill would.
    leftovers = [p.name for p in (out / "parts").iterdir() if p.name.startswith(".")]
    assert all(name.endswith(".tmp") for name in leftovers)
    stale = out / "parts" / f".runs-{'0' * 20}.parquet.{proc.pid}.tmp"
    stale.write_bytes(b"PAR1 truncated")

    _assert_resumes_to(tmp_path, long_reference)
    assert not [p.name for p in (out / "parts").iterdir() if p.name.startswith(".")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "moment", "sig"),
    [
        (("--workers", "2"), "workers starting", signal.SIGINT),
        (("--scheduler", "local", "--workers", "2"), "first batch done", signal.SIGINT),
        (("--workers", "2"), "workers starting", signal.SIGHUP),
    ],
    ids=["pool-while-workers-start", "dask-local-cluster", "terminal-closed-while-workers-start"],
)
def test_ctrl_c_in_a_terminal_reaches_workers_too_and_stays_quiet(tmp_path, options, moment, sig):
    """A terminal sends Ctrl-C (or, when it is closed, SIGHUP) to the whole process group:
    workers must leave it to the parent (no KeyboardInterrupt tracebacks from workers that are
    still importing, or from Dask's, and no worker killed)."""
    (tmp_path / "long.toml").write_text(LONG)
    proc = start(tmp_path, "sweep", "long.toml", *options, "--out", "out", new_session=True)
    parts = tmp_path / "out" / "parts"
    deadline = time.monotonic() + 240
    try:
        while True:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, moment
            children = psutil.Process(proc.pid).children(recursive=True)
            workers = _pool_workers(proc.pid) if "--scheduler" not in options else [
                c for c in children if "spawn_main" in _command_line(c)
            ]
            if moment == "workers starting" and len(workers) == 2:
                assert not list(parts.glob("runs-*.parquet"))
                break
            if moment == "first batch done" and list(parts.glob("runs-*.parquet")):
                break
            time.sleep(0.01)
        os.killpg(proc.pid, sig)
        stdout, stderr = proc.communicate(timeout=120)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 130, stderr
    assert stdout == ""
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "--resume" in stderr
    assert manifest(tmp_path / "out")["status"] == "interrupted"
    _assert_gone(children)


def _pool_workers(parent: int) -> list[psutil.Process]:
    """The process-pool workers of ``parent``: forks of its fork server (or, where workers
    are spawned, its children running spawn_main)."""
    workers = []
    for child in psutil.Process(parent).children():
        command = _command_line(child)
        if "forkserver" in command:
            workers += child.children()
        elif "spawn_main" in command and "resource_tracker" not in command:
            workers.append(child)
    return workers


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_is_reported_and_resume_completes(tmp_path):
    """A worker killed (as the OOM killer would) ends the sweep with exit 1, a clear message and
    no traceback; finished runs are kept and --resume completes the sweep."""
    scenario = tmp_path / "long.toml"
    scenario.write_text(
        'name = "long"\ncustomers = 5000\nmonths = 60\nreplications = 10\nseed = 3\n'
        '[strategies]\nrare_contact = ["rare_contact"]\npoint_card = ["point_card"]\n'
    )
    out = tmp_path / "out"
    process = subprocess.Popen(
        [str(_SCRIPT), "sweep", str(scenario), "--workers", "2", "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list((out / "parts").glob("runs-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _pool_workers(process.pid)
    assert workers, "no pool workers found"
    workers[0].kill()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "worker process died" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "worker lost"
    assert "done" in manifest["runs"].values()
    resumed = subprocess.run(
        [str(_SCRIPT), "sweep", str(scenario), "--workers", "2", "--out", str(out), "--resume"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert pl.read_parquet(out / "runs.parquet").height == 20
