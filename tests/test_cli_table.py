"""``loyalty-sim table`` and the comparison every command prints: tables that fit the terminal,
another baseline or some strategies without touching the results, one return-on-spend
convention, a finished sweep re-printed without rewriting anything, progress off a terminal."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.analysis.statistics import sweep_and_summarise, sweep_summary
from sim.cli import app
from sim.executors import SerialExecutor
from sim.progress import Progress
from sim.scenario import load
from sim.tables import comparison

SCENARIO = """\
name = "table-small"
customers = 300
months = 12
replications = 3
seed = 4

[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]
lock_in_contract = ["lock_in_contract"]
appreciation_and_service = ["personal_appreciation", "service_excellence"]

[grid]
"market.offers.discount" = [0.1, 0.2]
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("table")
    (folder / "s.toml").write_text(SCENARIO)
    sweep_and_summarise(load(folder / "s.toml"), folder / "out", SerialExecutor())
    return folder / "out"


def invoke(*args: str, columns: int = 80):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.rglob("*"))}


def test_the_table_fits_the_terminal_and_touches_nothing(results):
    before = snapshot(results)
    for columns in (80, 120):
        shown = invoke("table", str(results), columns=columns)
        assert shown.exit_code == 0, shown.output
        lines = shown.stdout.splitlines()
        assert max(map(len, lines)) <= columns, shown.stdout
        header = "\n".join(lines[:4])
        assert "cohort loss" in header and "CLV" in header and "annual" not in header  # compact
    wide = invoke("table", str(results), "--wide", columns=400)
    assert "annual" in wide.stdout and "return on spend" in wide.stdout and "margin" in wide.stdout
    assert snapshot(results) == before  # nothing written, not even a report


def test_rows_are_in_result_order(results):
    summary = pl.read_parquet(results / "summary.parquet")
    first = summary.filter(pl.col("point") == summary["point"][0]).sort("cohort_loss_mean")
    assert comparison.result_order(summary) == first["strategy"].to_list()
    shown = [row["strategy"] for row in comparison.rows(summary)][: first.height]
    assert shown == first["strategy"].to_list()


def test_another_baseline_some_strategies_one_point(results):
    shown = invoke("table", str(results), "--baseline", "point_card", "--strategies", "lock_in_contract",
                   "--point", "discount=0.2", "--format", "json")
    assert shown.exit_code == 0, shown.output
    records = json.loads(shown.stdout)
    assert {r["strategy"] for r in records} == {"point_card", "lock_in_contract"}  # the baseline stays
    assert {r["baseline"] for r in records} == {"point_card"}
    assert {json.loads(r["point"])["market.offers.discount"] for r in records} == {0.2}
    expected = sweep_summary(pl.read_parquet(results / "runs.parquet"), "point_card", [])
    lock = expected.filter((pl.col("strategy") == "lock_in_contract") & pl.col("point").str.contains("0.2"))
    (record,) = [r for r in records if r["strategy"] == "lock_in_contract"]
    assert record["cohort_loss_vs_baseline"] == pytest.approx(lock["cohort_loss_diff_mean"].item())


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--baseline", "pointcard"), "--baseline: unknown strategy 'pointcard'"),
        (("--strategies", "nope"), "--strategies: unknown strategy 'nope'"),
        (("--point", "discount=0.9"), "--point: no grid point matches 'discount=0.9'"),
        (("--format", "xlsx"), "--format xlsx: name the file to write with --out"),
    ],
)
def test_bad_selections_are_one_line_errors(results, args, fragment):
    shown = invoke("table", str(results), *args)
    assert shown.exit_code == 2 and fragment in shown.output and "Traceback" not in shown.output


def test_formats(results, tmp_path):
    markdown = invoke("table", str(results), "--format", "md").stdout.splitlines()
    assert markdown[0].startswith("| strategy | discount | runs |")  # the one swept parameter
    assert set(markdown[1]) <= set("|- ")
    rows = list(pl.read_csv(io.StringIO(invoke("table", str(results), "--format", "csv").stdout)).iter_rows())
    assert len(rows) == 8
    out = tmp_path / "comparison.xlsx"
    assert invoke("table", str(results), "--format", "xlsx", "--out", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as book:
        assert "xl/worksheets/sheet1.xml" in book.namelist() and "xl/worksheets/sheet2.xml" in book.namelist()


def test_return_on_spend_is_not_shown_over_a_tiny_extra_spend():
    base = {"strategy": "b", "baseline": "b", "margin_mean": 900_000.0, "program_cost_mean": 100_000.0}
    row = {"strategy": "x", "baseline": "b", "replications": 10, "program_cost_diff_mean": 3_000.0,
           "return_on_spend_mean": 346.07, "return_on_spend_ci_low": 300.0, "return_on_spend_ci_high": 390.0}
    assert comparison.return_on_spend(row, base) == ("n/a (spends < 1% more)", False)
    more = {**row, "program_cost_diff_mean": 50_000.0, "return_on_spend_mean": 0.25,
            "return_on_spend_ci_low": 0.2, "return_on_spend_ci_high": 0.3}
    assert comparison.return_on_spend(more, base) == ("25% [20, 30]", True)  # % here as in the report
    assert comparison.return_on_spend(more, base, "de") == ("25 % [20; 30]", True)
    none = {**more, "return_on_spend_mean": None}
    assert comparison.return_on_spend(none, base)[0] == "n/a (no extra spend)"


def test_a_finished_sweep_is_reprinted_without_rewriting_anything(results):
    scenario = results.parent / "s.toml"
    before = snapshot(results)
    again = invoke("sweep", str(scenario), "--out", str(results), columns=200)
    assert again.exit_code == 0, again.output
    assert "nothing ran, nothing was rewritten" in again.stderr and "point_card" in again.stdout
    assert snapshot(results) == before
    assert "code version" not in again.stderr  # the same code made the runs


def test_a_code_change_since_the_runs_is_said_in_one_line(results, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in results.glob("*.*"):
        (copy / path.name).write_bytes(path.read_bytes())
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["code_version"] = "0.0.1+abc1234"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    again = invoke("sweep", str(results.parent / "s.toml"), "--out", str(copy))
    notes = [line for line in again.stderr.splitlines() if "code version" in line]
    assert len(notes) == 1 and "0.0.1+abc1234" in notes[0]


def test_the_manifest_records_plugins_versions_and_the_command(results):
    manifest = json.loads((results / "manifest.json").read_text())
    assert {"dask", "distributed", "salib"} <= set(manifest["versions"])
    assert manifest["plugins"]["program:point_card"]["source"] == "built-in"
    assert manifest["plugins"]["program:point_card"]["version"] != "-"
    assert "command" in manifest


def test_a_size_given_to_sweep_as_to_run_is_one_line_pointing_at_the_file(tmp_path):
    (tmp_path / "s.toml").write_text(SCENARIO)
    done = invoke("sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "--customers", "500")
    assert done.exit_code == 2, done.output
    assert "--customers: a sweep's customers per run are its file's `customers` key" in done.stderr
    assert "found --customers 500" in done.stderr and "--customer-records" in done.stderr
    assert "Traceback" not in done.output and not (tmp_path / "o").exists()


def test_run_compares_with_its_baseline_even_when_left_out(tmp_path):
    shown = invoke("run", "-s", "point_card", "--customers", "300", "--months", "6", "--format", "md")
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.stdout.splitlines()[2:] if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows] == sorted(
        ["point_card", "rare_contact"], key=lambda s: [r.split("|")[1].strip() for r in rows].index(s)
    )
    assert any("baseline" in r for r in rows) and all(" - " not in r for r in rows)


def test_progress_is_logged_off_a_terminal(monkeypatch):
    stream = io.StringIO()
    now = [0.0]
    monkeypatch.setattr("sim.progress.time.monotonic", lambda: now[0])
    with Progress("sweep x", stream=stream, every=10) as progress:
        for moment, done in ((0.0, 0), (11.0, 4), (12.0, 5)):
            now[0] = moment
            progress.update(done, 20)  # t=0: start-up, nothing logged; t=11: a line; t=12: too soon
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("sweep x: 4/20 runs (20%), 0.36 runs/s, elapsed 0:00:11, ETA 0:00:44")
    assert lines[-1].startswith("sweep x: 5/20 runs")  # and one at the end


LOADED = """\
import json, sys
from sim.cli import main
sys.argv = ["loyalty-sim", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("command", "heavy"),
    [
        (["--help"], {"mesa", "scipy", "altair", "polars", "vl_convert"}),
        (["validate", "{scenario}"], {"mesa", "scipy", "altair", "polars", "vl_convert"}),
        (["table", "{results}"], {"mesa", "scipy", "altair", "vl_convert"}),
        (["sweep", "{scenario}", "--out", "{results}"], {"mesa", "scipy", "altair", "vl_convert"}),
    ],
    ids=["help", "validate", "table", "reprint"],
)
def test_quick_commands_do_not_load_the_model_or_the_plotting_stack(results, command, heavy):
    """What makes --help, validate, table and a re-print answer in under a second: Mesa (with
    pandas and networkx), SciPy and Altair load only in the commands that need them."""
    import subprocess
    import sys

    args = [a.format(scenario=results.parent / "s.toml", results=results) for a in command]
    done = subprocess.run([sys.executable, "-c", LOADED, json.dumps(args)], capture_output=True, text=True,
                          timeout=120)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert not loaded & heavy, loaded & heavy


def test_a_finished_sweep_without_its_summary_writes_it_again(tmp_path):
    (tmp_path / "s.toml").write_text(SCENARIO)
    out = tmp_path / "out"
    sweep_and_summarise(load(tmp_path / "s.toml"), out, SerialExecutor())
    (out / "summary.parquet").unlink()
    for args in ([], ["--resume"]):
        command = ["sweep", str(tmp_path / "s.toml"), "--out", str(out), "--workers", "1", "--no-report"]
        shown = invoke(*command, *args)
        assert shown.exit_code == 0, shown.output
        assert (out / "summary.parquet").is_file()
        (out / "summary.parquet").unlink()
