"""The real command line, in a subprocess: ``loyalty-sim sweep`` (formats, existing results,
Ctrl-C and kill -9 with resume, dry run, an unreachable scheduler) and ``loyalty-sim run FILE``.

Every call starts a Python interpreter that imports the simulator (a few seconds), so most of
these tests are marked slow.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psutil
import pytest

from sim.analysis.statistics import sweep_and_summarise
from sim.executors import SerialExecutor
from sim.scenario import load
from sim.tables.comparison import in_result_order

_SCRIPT = Path(sys.executable).with_name("loyalty-sim")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from sim.cli import main; main()"]

SMALL = """\
name = "cli-small"
customers = 400
months = 12
replications = 2
seed = 5

[strategies]
rare_contact = { programs = ["rare_contact"] }
point_card = { programs = ["point_card"] }
personal_appreciation = { programs = ["personal_appreciation"] }

[grid]
"market.offers.discount" = [0.1, 0.2]
"""
SMALL_STRATEGIES = ("rare_contact", "point_card", "personal_appreciation")

# Long enough (72 batches on two workers) to be stopped in the middle.
LONG = """\
name = "cli-long"
customers = 5000
months = 60
replications = 24
seed = 9

[strategies]
rare_contact = { programs = ["rare_contact"] }
point_card = { programs = ["point_card"] }
service_excellence = { programs = ["service_excellence"] }
"""
LONG_RUNS = 3 * 24


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LOYALTY_SIM_DEBUG"}
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "120"  # wide enough for whole names, whatever terminal (or xdist) runs the tests
    return env


def cli(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    if args[:1] == ("sweep",):
        args = (*args, "--no-report")  # the report has its own tests (tests/report/); it takes seconds
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_env()
    )


def start(cwd: Path, *args: str, new_session: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=new_session,  # its own process group, as a terminal gives a command
    )


def assert_clean_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit code 2, one line on stderr that starts with 'error:', no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def part_times(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / "parts").iterdir()}


@pytest.fixture
def small(tmp_path) -> Path:
    (tmp_path / "small.toml").write_text(SMALL)
    return tmp_path


# --- sweep: output, existing results --------------------------------------------------------


@pytest.mark.slow
def test_sweep_prints_the_comparison(small):
    result = cli(small, "sweep", "small.toml", "--workers", "2", "--out", "out")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name in SMALL_STRATEGIES:
        assert name in result.stdout
    assert "cohort loss" in result.stdout and "CLV" in result.stdout  # headers wrap to fit the terminal
    assert "vs rare_contact" in result.stdout and "baseline" in result.stdout
    assert "discount" in result.stdout and " 0.1 " in result.stdout and " 0.2 " in result.stdout
    assert "12 runs done, 0 failed" in result.stderr
    for name in ("runs.parquet", "monthly.parquet", "summary.parquet", "manifest.json"):
        assert (small / "out" / name).exists()
    assert manifest(small / "out")["status"] == "complete"
    assert manifest(small / "out")["workers"] == 2

    # The same sweep in-process gives the same numbers.
    sweep_and_summarise(load(small / "small.toml"), small / "reference", SerialExecutor())
    for name in ("runs", "monthly", "summary"):
        frame = pl.read_parquet(small / "out" / f"{name}.parquet")
        assert frame.equals(pl.read_parquet(small / "reference" / f"{name}.parquet")), name


@pytest.mark.slow
def test_sweep_output_formats_parse(small):
    outputs = {}
    for output_format in ("json", "csv", "markdown"):
        result = cli(
            small, "sweep", "small.toml", "--workers", "1", "--out", output_format, "--format", output_format
        )
        assert result.returncode == 0, result.stderr
        outputs[output_format] = result.stdout
    summary = pl.read_parquet(small / "json" / "summary.parquet")
    order = in_result_order(summary)  # grid points as in the file, then fewest customers lost first

    records = json.loads(outputs["json"])
    assert [r["strategy"] for r in records] == order["strategy"].to_list()
    assert len(records) == len(SMALL_STRATEGIES) * 2
    for record, expected in zip(records, order.iter_rows(named=True), strict=True):
        assert record["cohort_loss"] == pytest.approx(expected["cohort_loss_mean"])
        assert record["cohort_loss_ci_low"] == pytest.approx(expected["cohort_loss_ci_low"])
        if record["strategy"] == "rare_contact":
            assert record["cohort_loss_vs_baseline"] == 0.0

    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    assert [r["strategy"] for r in rows] == order["strategy"].to_list()
    assert {"cohort_loss", "program_cost_eur", "clv_eur", "return_on_spend_note"} <= set(rows[0])
    assert float(rows[0]["cohort_loss"]) == pytest.approx(order["cohort_loss_mean"][0])

    lines = outputs["markdown"].strip().splitlines()
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines[:1] + lines[2:])
    assert lines[1].startswith("|") and set(lines[1]) <= set("|- ")
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:3] == ["strategy", "discount", "runs"]  # the one swept parameter, by name
    body = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert [row[0] for row in body] == order["strategy"].to_list()
    assert all(len(row) == len(header) for row in body)
    assert {row[header.index("vs rare_contact (pp)")] for row in body if row[0] == "rare_contact"} == {
        "baseline"
    }


@pytest.mark.slow
def test_existing_results_need_resume_or_force(small):
    assert cli(small, "sweep", "small.toml", "--workers", "2", "--out", "out").returncode == 0
    parts = part_times(small / "out")
    runs = pl.read_parquet(small / "out" / "runs.parquet")

    again = cli(small, "sweep", "small.toml", "--workers", "2", "--out", "out")  # complete: shown again
    assert again.returncode == 0, again.stderr
    assert "nothing ran" in again.stderr and "point_card" in again.stdout
    assert part_times(small / "out") == parts
    assert pl.read_parquet(small / "out" / "runs.parquet").equals(runs)

    more = cli(small, "sweep", "small.toml", "--workers", "2", "--out", "out", "--replications", "3")
    assert_clean_error(more, "already holds results", "--resume", "--force")  # a different sweep
    assert part_times(small / "out") == parts

    resumed = cli(small, "sweep", "small.toml", "--workers", "2", "--out", "out", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "nothing ran, nothing was rewritten" in resumed.stderr  # finished: nothing to resume
    assert part_times(small / "out") == parts  # no batch ran again
    assert "point_card" in resumed.stdout
    assert pl.read_parquet(small / "out" / "runs.parquet").equals(runs)
    assert manifest(small / "out")["status"] == "complete"

    forced = cli(small, "sweep", "small.toml", "--workers", "1", "--out", "out", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "12 runs done, 0 failed" in forced.stderr
    assert part_times(small / "out").keys() == parts.keys()
    assert all(part_times(small / "out")[name] > time for name, time in parts.items())
    assert pl.read_parquet(small / "out" / "runs.parquet").equals(runs)


def test_resume_and_force_exclude_each_other(small):
    result = cli(small, "sweep", "small.toml", "--resume", "--force")
    assert_clean_error(result, "--resume", "--force")
    assert sorted(p.name for p in small.iterdir()) == ["small.toml"]


def test_dry_run_estimates_and_writes_nothing(small):
    result = cli(small, "sweep", "small.toml", "--dry-run", "--workers", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("12 runs (3 strategies x 2 grid points x 2 replications) of 400 customers")
    assert lines[1].startswith("time:") and "on 2 workers" in lines[1]
    assert lines[2].startswith("disk:") and "MB in results/cli-small/" in lines[2]
    assert lines[3].startswith("memory:") and "MB per worker" in lines[3]
    assert sorted(p.name for p in small.iterdir()) == ["small.toml"]


def test_dry_run_counts_the_kernels_loading_as_start_up_not_model_time(small):
    """In a fresh process the compiled kernels load on the first month: when the first (small)
    probe paid for it, the large one looked no dearer and the estimate read "model 0.00 s per
    million customer-months". Probes of different sizes need customers >= 5,000, months >= 24."""
    text = SMALL.replace("customers = 400", "customers = 5000").replace("months = 12", "months = 24")
    (small / "larger.toml").write_text(text)
    result = cli(small, "sweep", "larger.toml", "--dry-run", "--workers", "2", "--no-report")
    assert result.returncode == 0, result.stderr
    per_million = re.search(r"model ([\d.]+) s per million customer-months", result.stdout)
    assert per_million and float(per_million.group(1)) > 0, result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ("sweep", "small.toml"),
        ("calibrate", "--curve", "curve.csv", "--scenario", "small.toml", "--fit", "market.offers.discount"),
    ],
    ids=["sweep", "calibrate"],
)
def test_unreachable_scheduler_is_a_clean_error(small, command):
    (small / "curve.csv").write_text("year,share\n0,1\n1,0.8\n2,0.7\n")
    # Gives up after its 10 s connection timeout; the subprocess limit only catches a hang
    # (no tighter bound: start-up alone can take half a minute on a loaded 2-core machine).
    result = cli(small, *command, "--scheduler", "tcp://127.0.0.1:1", "--out", "out", timeout=120)
    assert_clean_error(result, "--scheduler", "tcp://127.0.0.1:1")
    assert not (small / "out").exists()


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


# --- run FILE ------------------------------------------------------------------------------


def test_run_file_runs_the_scenario_strategies_once(small):
    result = cli(small, "run", "small.toml", "--format", "json")
    assert result.returncode == 0, result.stderr
    summaries = json.loads(result.stdout)
    assert [s["strategy"] for s in summaries] == list(SMALL_STRATEGIES)
    assert {(s["customers"], s["months"], s["seed"]) for s in summaries} == {(400, 12, 5)}
    assert sorted(p.name for p in small.iterdir()) == ["small.toml"]  # no results written


@pytest.mark.slow
def test_run_file_picks_strategies_and_prints_a_table(small):
    table = cli(small, "run", "small.toml", "--strategy", "point_card")
    assert table.returncode == 0, table.stderr
    assert "point_card" in table.stdout
    assert "rare_contact" in table.stdout and "baseline" in table.stdout  # the reference is run too
    assert "personal_appreciation" not in table.stdout
    assert "400 customers, 12 months, seed 5" in table.stdout


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
        'name = "long"\ncustomers = 5000\nmonths = 60\nreplications = 20\nseed = 3\n'
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
    assert pl.read_parquet(out / "runs.parquet").height == 40


def test_phases_prints_the_declared_step():
    import json as _json

    from typer.testing import CliRunner

    from sim.cli import app
    from sim.model import PHASES

    table = CliRunner().invoke(app, ["phases"])
    assert table.exit_code == 0 and all(p.name in table.stdout for p in PHASES)
    listed = _json.loads(CliRunner().invoke(app, ["phases", "--format", "json"]).stdout)
    assert [row["name"] for row in listed] == [p.name for p in PHASES]
