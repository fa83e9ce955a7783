"""``loyalty-sim robustness``: regret and satisficing over sampled markets, the failing markets as
input that ``discover`` reproduces exactly, and one-line errors for bad keys."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from sim import scenario as scenarios
from sim.analysis.discovery import discover
from sim.analysis.robustness import MARKETS_FILE, robustness
from sim.analysis.space import AnalysisError, parse_outputs
from sim.cli import app
from sim.executors import SerialExecutor

ROBUST = """\
name = "robust-small"
customers = 300
months = 12
seed = 2

[strategies]
rare_contact = ["rare_contact"]
personal_appreciation = ["personal_appreciation"]
point_card = ["point_card"]

[robustness]
objective = "{objective}"
markets = 6
replications = 1
[robustness.thresholds]
{thresholds}
[robustness.ranges]
"market.offers.offer_rate_per_month" = [0.02, 0.3]
{extra}
"""

runner = CliRunner()


def _scenario(tmp_path, objective="retained", thresholds="retained = 240", extra=""):
    path = tmp_path / "robust.toml"
    path.write_text(ROBUST.format(objective=objective, thresholds=thresholds, extra=extra))
    return scenarios.load(path)


def test_regret_is_the_shortfall_to_the_best_strategy_of_each_market(tmp_path):
    scenario = _scenario(tmp_path)
    found = robustness(scenario, tmp_path / "out", SerialExecutor())
    table = found.table
    best = table.group_by("market").agg(pl.col("retained").max().alias("top"))
    joined = table.join(best, on="market")
    assert np.allclose(joined["regret"], joined["top"] - joined["retained"])
    assert table.group_by("market").agg(pl.col("best").any())["best"].all()  # some strategy is best
    for row in found.summary["strategies"]:
        rows = table.filter(pl.col("strategy") == row["strategy"])
        assert row["regret_max"] == rows["regret"].max()
        assert row["satisficing"] == pytest.approx((rows["retained"] >= 240).mean())
    shares = [r["satisficing"] for r in found.summary["strategies"]]
    assert shares == sorted(shares, reverse=True)  # most robust first


def test_the_markets_where_a_strategy_misses_are_the_ones_discover_finds(tmp_path):
    scenario = _scenario(tmp_path, thresholds="retained = 250")
    out = tmp_path / "out"
    found = robustness(scenario, out, SerialExecutor())
    row = next(r for r in found.summary["strategies"] if r["strategy"] == "rare_contact")
    assert row["failing"] == {
        "retained": int((~found.table.filter(pl.col("strategy") == "rare_contact")["meets"]).sum())
    }
    assert row["failing"]["retained"] > 0, "the threshold must fail somewhere for this test to mean anything"
    assert str(out / MARKETS_FILE) in row["discover"][0]
    markets = scenarios.load(out / MARKETS_FILE)
    output = parse_outputs("cohort_loss:rare_contact", markets)[0]
    cases = discover(markets, output, 1 - 250 / 300, SerialExecutor()).samples["case"].to_list()
    missed = (~found.table.filter(pl.col("strategy") == "rare_contact")["meets"]).to_list()
    assert cases == missed


@pytest.mark.parametrize(
    ("objective", "thresholds", "extra", "fragment"),
    [
        ("profit", "", "", "robustness.objective: expected a known objective"),
        ("clv", "clvv = 3", "", "did you mean 'clv'"),
        ("clv", "", '"market.offers.dicsount" = [0.1, 0.2]', "dicsount"),
        ("clv", "", '"market.offers.discount" = [0.3, 0.1]', "low < high"),
    ],
)
def test_bad_robustness_keys_are_one_line(tmp_path, objective, thresholds, extra, fragment):
    _scenario(tmp_path, objective=objective, thresholds=thresholds, extra=extra)
    result = runner.invoke(app, ["robustness", str(tmp_path / "robust.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_the_command_prints_the_table_and_writes_json(tmp_path):
    _scenario(tmp_path)
    result = runner.invoke(
        app,
        [
            "robustness",
            str(tmp_path / "robust.toml"),
            "--out",
            str(tmp_path / "o"),
            "--workers",
            "1",
            "--markets",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "regret p90" in result.output and "meets thresholds" in result.output
    # the report's words: display names, and where a strategy falls short in sentences
    assert "One-night brand" in result.stdout and "Personal appreciation" in result.stdout
    assert "│ rare_contact" not in result.stdout
    falls = [line for line in result.stdout.splitlines() if "falls short" in line]
    assert falls and all(line.startswith(("One-night brand:", "Personal appreciation:", "Point card:"))
                         for line in falls), result.stdout
    assert json.loads((tmp_path / "o" / "robustness.json").read_text())["markets"] == 3


class _Counting(SerialExecutor):
    """The serial executor, counting the markets x replications it runs (a task holds several)."""

    tasks = 0

    def submit(self, fn, task):
        batches, _ = task
        self.tasks += len(batches)
        return super().submit(fn, task)


class _Wide(SerialExecutor):
    """The serial executor, claiming many workers: the tasks hold other groups of markets."""

    workers = 5


def test_results_do_not_depend_on_how_markets_are_grouped_into_tasks(tmp_path):
    scenario = _scenario(tmp_path)
    narrow = robustness(scenario, tmp_path / "narrow", SerialExecutor())
    wide = _Wide()
    found = robustness(scenario, tmp_path / "wide", wide)
    assert found.table.equals(narrow.table)
    records = sorted((tmp_path / "wide" / "robustness" / "markets").glob("market-*.json"))
    assert len(records) == 6  # still one record per market and replication


def test_an_interrupted_run_resumes_without_rerunning_and_reaches_the_same_result(tmp_path):
    scenario = _scenario(tmp_path)
    whole = robustness(scenario, tmp_path / "whole", SerialExecutor())
    part = tmp_path / "part"
    robustness(scenario, part, SerialExecutor())
    records = sorted((part / "robustness" / "markets").glob("market-*.json"))
    assert len(records) == 6  # one per market and replication, each written as it finished
    for path in records[4:]:  # interrupted after four markets
        path.unlink()
    counting = _Counting()
    resumed = robustness(scenario, part, counting, resume=True)
    assert counting.tasks == 2
    assert resumed.table.equals(whole.table)
    drop = ("discover",)  # the commands name the folder
    assert [{k: v for k, v in r.items() if k not in drop} for r in resumed.summary["strategies"]] == [
        {k: v for k, v in r.items() if k not in drop} for r in whole.summary["strategies"]
    ]
    with pytest.raises(AnalysisError, match="already holds a robustness run; use --resume"):
        robustness(scenario, part, SerialExecutor())
    with pytest.raises(AnalysisError, match="of another version"):
        robustness(scenario, part, SerialExecutor(), markets=5, resume=True)
    again = _Counting()
    robustness(scenario, part, again, force=True)
    assert again.tasks == 6


@pytest.mark.parametrize("command", ["robustness", "optimise"])
def test_a_second_writer_on_the_folder_is_refused(tmp_path, command):
    _scenario(tmp_path)
    path = tmp_path / "robust.toml"
    path.write_text(
        path.read_text()
        + '\n[optimise]\nstrategy = "personal_appreciation"\nevaluations = 2\nbatch = 2\n'
        + '[optimise.variables]\n'
        + '"strategies.personal_appreciation.programs[0].params.contacts_per_year" = [0.0, 4.0]\n'
    )
    out = tmp_path / "o"
    out.mkdir()
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": "now"}  # alive: this process
    (out / ".lock").write_text(json.dumps(holder))
    result = runner.invoke(app, [command, str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and f"is being written by process {os.getpid()}" in lines[0], result.output
    assert sorted(p.name for p in out.iterdir()) == [".lock"]  # nothing written


def test_ctrl_c_leaves_a_folder_that_resumes(tmp_path):
    _scenario(tmp_path)
    path = tmp_path / "robust.toml"
    text = path.read_text().replace("customers = 300", "customers = 1500")
    path.write_text(text.replace("markets = 6", "markets = 10"))
    command = [sys.executable, "-c", "from sim.cli import main; main()", "robustness", "robust.toml"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*command, "--out", "o", "--workers", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    records = tmp_path / "o" / "robustness" / "markets"
    deadline = time.monotonic() + 120
    try:
        while not list(records.glob("market-*.json")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no market finished"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "loyalty-sim robustness robust.toml --out o --resume" in stderr
    kept = len(list(records.glob("market-*.json")))
    assert 0 < kept < 10 and not (tmp_path / "o" / ".lock").exists()
    counting = _Counting()
    robustness(scenarios.load(path), tmp_path / "o", counting, resume=True)
    assert counting.tasks == 10 - kept


@pytest.mark.slow
def test_robustness_is_the_same_on_a_dask_cluster(tmp_path):
    # tasks group markets by the number of workers, and a cluster's workers send back only outputs
    from sim.executors import DaskExecutor

    scenario = _scenario(tmp_path)
    serial = robustness(scenario, tmp_path / "serial", SerialExecutor())
    with DaskExecutor("local", 2) as cluster:  # a real LocalCluster on loopback
        found = robustness(scenario, tmp_path / "dask", cluster)
    assert found.table.equals(serial.table)
