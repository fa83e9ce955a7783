"""Every kind of dotted path a [grid] can sweep becomes a grid column of the results, and the
grid chart of the report draws it (issue 17: a grid over a behaviour parameter broke the report)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.analysis.statistics import sweep_and_summarise
from sim.charts.grid import grid_chart, grid_columns
from sim.charts.style import StrategyColours
from sim.executors import SerialExecutor
from sim.scenario import loads
from sim.seeds import swept_paths

BASE = """
name = "grid-kinds"
customers = 150
months = 4
replications = 2

[[behaviours]]
behaviour = "word_of_mouth"

[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]

[grid]
"""

PATHS = {
    "market section": ('"market.offers.discount"', "[0.1, 0.3]"),
    "market scalar": ('"market.gross_margin_share"', "[0.2, 0.4]"),
    "service": ('"service.failure_per_month"', "[0.03, 0.09]"),
    "program": ('"programs.point_card.reward_share_of_spend"', "[0.01, 0.03]"),
    "behaviour": ('"behaviours.word_of_mouth.follow_per_leaver"', "[0.0, 0.1]"),
    "customers": ("customers", "[100, 150]"),
    "months": ("months", "[3, 4]"),
}


@pytest.mark.parametrize("kind", list(PATHS))
def test_every_kind_of_swept_path_is_a_grid_column_and_charted(kind, tmp_path: Path):
    key, values = PATHS[kind]
    scenario = loads(f"{BASE}{key} = {values}\n", "grid.toml")
    path = key.strip('"')
    report = sweep_and_summarise(scenario, tmp_path / "out", SerialExecutor())
    assert report.failed == 0
    summary = report.summary
    assert grid_columns(summary) == [path]
    assert summary[path].n_unique() == 2
    colours = StrategyColours(tuple(scenario.strategies), scenario.baseline)
    spec = grid_chart(summary, colours).to_dict()
    assert spec["title"]["text"]


def test_swept_paths_reads_the_points_in_order_of_first_appearance():
    points = ['{"b.x": 1, "a.y": 2}', '{"b.x": 2, "a.y": 2}', "{}", '{"c": 1}']
    assert swept_paths(points) == ["b.x", "a.y", "c"]


def test_a_report_that_fails_makes_the_sweep_fail_and_keeps_the_runs(cli, tmp_path: Path, monkeypatch):
    import sim.report

    def broken(*args, **kwargs):
        raise KeyError("a chart column")

    monkeypatch.setattr(sim.report, "build_report", broken)
    file = tmp_path / "grid.toml"
    file.write_text(f'{BASE}"behaviours.word_of_mouth.follow_per_leaver" = [0.0, 0.1]\n')
    code, _, err = cli("sweep", str(file), "--workers", "1", "--out", str(tmp_path / "out"))
    assert code == 1
    assert "error: report: KeyError: 'a chart column'" in err
    assert f"loyalty-sim report {tmp_path / 'out'}" in err
    assert (tmp_path / "out" / "summary.parquet").exists()
