"""Paired variants: named market variants and paired grid axes share their seeds, so behaviour
on/off and parameter contrasts are paired like strategies; the summary, the comparison table
and the report show the paired difference with its CI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sim.analysis.statistics import sweep_and_summarise
from sim.charts.paired import paired_chart
from sim.charts.style import StrategyColours
from sim.executors import SerialExecutor
from sim.scenario import ScenarioError, loads
from sim.seeds import replication_seed
from sim.sweep import plan
from sim.tables.comparison import rows as comparison_rows

WOM = """
name = "wom-variants"
customers = 600
months = 18
replications = 6

[[behaviours]]
behaviour = "word_of_mouth"

[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]
"""

VARIANTS = WOM + """
[variants]
with_wom = {}
without = { behaviours = [] }
same_again = { "behaviours.word_of_mouth.follow_per_leaver" = 0.05 }  # the default: no change
"""


def test_variants_are_a_grid_axis_whose_points_share_seeds():
    scenario = loads(VARIANTS, "v.toml")
    assert [dict(p)["variant"] for p in scenario.grid] == ["with_wom", "without", "same_again"]
    assert scenario.paired == {"variant": "with_wom"}
    seeds = {(dict(b.point)["variant"], b.replication): b.seed for b in plan(scenario)}
    for replication in range(6):
        assert seeds["with_wom", replication] == seeds["without", replication]
        assert seeds["with_wom", replication] == seeds["same_again", replication]
    assert seeds["with_wom", 0] != seeds["with_wom", 1]
    assert seeds["with_wom", 0] == replication_seed("wom-variants", 1, (), 0)  # as without variants


def test_a_sweep_without_paired_axes_keeps_its_seeds():
    scenario = loads(WOM + '[grid]\n"market.offers.discount" = [0.1, 0.2]\n', "g.toml")
    for batch in plan(scenario):
        assert batch.seed == replication_seed("wom-variants", 1, batch.point, batch.replication)


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("v") / "out"
    report = sweep_and_summarise(loads(VARIANTS, "v.toml"), out, SerialExecutor())
    assert report.failed == 0
    return report.summary


def test_the_summary_holds_each_variants_paired_difference(swept):
    rows = {(r["strategy"], r["variant"]): r for r in swept.iter_rows(named=True)}
    reference = rows["rare_contact", "with_wom"]
    assert reference["reference_point"] is None and reference["cohort_loss_paired_diff_mean"] is None
    # the same market again on the same seeds: exactly the same customers' fates
    again = rows["rare_contact", "same_again"]
    assert again["cohort_loss_paired_diff_mean"] == 0.0
    assert again["cohort_loss_paired_diff_ci_low"] == again["cohort_loss_paired_diff_ci_high"] == 0.0
    without = rows["point_card", "without"]
    assert without["reference_point"] == '{"variant": "with_wom"}'
    assert without["cohort_loss_paired_diff_ci_high"] < 0  # contagion costs customers
    assert without["cohort_loss_paired_diff_mean"] == pytest.approx(
        without["cohort_loss_mean"] - rows["point_card", "with_wom"]["cohort_loss_mean"]
    )


def test_pairing_narrows_the_interval_of_a_behaviour_on_off_contrast(swept):
    """The paired interval against the interval of the same two means taken as independent
    samples (Welch): pairing removes the replication-to-replication variance they share."""
    rows = {(r["strategy"], r["variant"]): r for r in swept.iter_rows(named=True)}
    for strategy in ("rare_contact", "point_card"):
        paired = rows[strategy, "without"]
        half_paired = (paired["cohort_loss_paired_diff_ci_high"] - paired["cohort_loss_paired_diff_ci_low"])
        half_paired /= 2
        halves = [
            (rows[strategy, v]["cohort_loss_ci_high"] - rows[strategy, v]["cohort_loss_ci_low"]) / 2
            for v in ("with_wom", "without")
        ]
        half_independent = float(np.hypot(*halves))
        assert half_paired < 0.7 * half_independent, (strategy, half_paired, half_independent)


def test_the_table_and_the_report_show_the_paired_difference(swept):
    rows = {(r["strategy"], r["variant"]): r for r in comparison_rows(swept)}  # one swept axis: its column
    assert rows["point_card", "with_wom"]["vs variant=with_wom (pp)"] == "reference"
    assert rows["point_card", "without"]["vs variant=with_wom (pp)"].startswith("-")
    spec = paired_chart(swept, StrategyColours(("rare_contact", "point_card"), "rare_contact")).to_dict()
    assert spec["title"]["text"] == "Initial customers lost: each variant against variant=with_wom"


def test_a_grid_axis_marked_paired_shares_seeds_across_its_values(tmp_path: Path):
    grid = '[grid]\n"market.offers.discount" = [0.1, 0.3]\n"months" = [6, 9]\n'
    grid += 'paired = ["market.offers.discount"]\n'
    scenario = loads(WOM.replace("replications = 6", "replications = 2") + grid, "p.toml")
    assert scenario.paired == {"market.offers.discount": 0.1}
    seeds = {(dict(b.point)["market.offers.discount"], dict(b.point)["months"], b.replication): b.seed
             for b in plan(scenario)}
    assert seeds[0.1, 6, 0] == seeds[0.3, 6, 0]
    assert seeds[0.1, 6, 0] != seeds[0.1, 9, 0]
    summary = sweep_and_summarise(scenario, tmp_path / "out", SerialExecutor()).summary
    contrast = summary.filter(pl.col("market.offers.discount") == 0.3)
    assert contrast["reference_point"].to_list() == [
        '{"market.offers.discount": 0.1, "months": 6}', '{"market.offers.discount": 0.1, "months": 9}'
    ] * 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[variants]\nonly = {}\n", "variants: expected a table of at least two named variants"),
        ("[variants]\na = {}\nb = 3\n", "variants.b: expected a table of overrides"),
        ('[variants]\na = {}\nb = { "programs.no.x" = 1 }\n', "variants.b: expected programs.<program run"),
        ('[variants]\na = {}\nb = { "market.offers.discont" = 0.2 }\n', "offers.discont: expected a known"),
        ('[grid]\n"months" = [6, 9]\npaired = ["customers"]\n', "grid.paired: expected paths of [grid] axes"),
    ],
)
def test_bad_variants_are_reported_like_any_scenario_mistake(text, message):
    with pytest.raises(ScenarioError) as caught:
        loads(WOM + text, "bad.toml")
    assert message in str(caught.value)


def test_validate_counts_the_variants(cli, tmp_path: Path):
    file = tmp_path / "v.toml"
    file.write_text(VARIANTS + '[grid]\n"market.offers.discount" = [0.1, 0.2]\n')
    code, out, _ = cli("validate", str(file))
    assert code == 0
    assert "2 strategies x 3 paired variants x 2 grid points x 6 replications = 72 runs" in out
