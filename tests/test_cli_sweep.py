"""The real command line, in a subprocess: ``loyalty-sim sweep`` (formats, existing results,
dry run, an unreachable scheduler) and ``loyalty-sim run FILE``; stopping a sweep (Ctrl-C,
kill) is in ``test_cli_sweep_stops.py``.

Every call starts a Python interpreter that imports the simulator (a few seconds), so most of
these tests are marked slow.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
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
    for output_format in ("json", "csv", "markdown"):  # the first runs; the others re-print it
        result = cli(small, "sweep", "small.toml", "--workers", "1", "--format", output_format, "--out", "o")
        assert result.returncode == 0, result.stderr
        outputs[output_format] = result.stdout
    summary = pl.read_parquet(small / "o" / "summary.parquet")
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
def test_unreachable_scheduler_is_a_clean_error(small):
    (small / "curve.csv").write_text("year,share\n0,1\n1,0.8\n2,0.7\n")
    commands = {
        "sweep": ("sweep", "small.toml"),
        "calibrate": (
            "calibrate", "--curve", "curve.csv", "--scenario", "small.toml", "--fit", "market.offers.discount"
        ),
    }
    # Each gives up after its 10 s connection timeout, so they wait side by side; the limit only
    # catches a hang (no tighter bound: start-up alone can take half a minute on a loaded machine).
    waiting = {
        name: start(small, *command, "--scheduler", "tcp://127.0.0.1:1", "--out", name)
        for name, command in commands.items()
    }
    for name, process in waiting.items():
        stdout, stderr = process.communicate(timeout=120)
        assert_clean_error(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
                           "--scheduler", "tcp://127.0.0.1:1")
        assert not (small / name).exists(), name


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


def test_phases_prints_the_declared_step():
    import json as _json

    from typer.testing import CliRunner

    from sim.cli import app
    from sim.model import PHASES

    table = CliRunner().invoke(app, ["phases"])
    assert table.exit_code == 0 and all(p.name in table.stdout for p in PHASES)
    listed = _json.loads(CliRunner().invoke(app, ["phases", "--format", "json"]).stdout)
    assert [row["name"] for row in listed] == [p.name for p in PHASES]
