"""The economics table: lifetime value and its paired difference, costs, return on extra spend."""

from __future__ import annotations

import polars as pl

from sim.tables import Cell, table
from sim.tables.economics import economics_table


def summary_frame() -> pl.DataFrame:
    def row(strategy, clv, diff, cost, ros):
        return {
            "strategy": strategy, "point": "{}", "baseline": "base",
            "clv_mean": clv, "clv_ci_low": clv - 2, "clv_ci_high": clv + 2,
            "clv_diff_mean": diff, "clv_diff_ci_low": diff - 1, "clv_diff_ci_high": diff + 1,
            "program_cost_mean": cost, "exit_fees_mean": 1500.0, "points_liability_mean": 0.0,
            "return_on_spend_mean": ros,
            "return_on_spend_ci_low": None if ros is None else ros - 0.1,
            "return_on_spend_ci_high": None if ros is None else ros + 0.1,
        }

    return pl.DataFrame([
        row("base", 470.0, 0.0, 40_000.0, None),
        row("card", 480.5, 10.5, 770_000.0, -0.14),
        row("cheap", 465.0, -5.0, 20_000.0, None),
    ])


def test_a_row_per_strategy_with_intervals_and_the_baseline_marked():
    text = economics_table(summary_frame(), "en").text.replace("\u00a0", " ")
    assert text.count("<tr>") == 4
    card = text[text.index(">card<"):text.index(">cheap<")]
    assert "480.5 [478.5, 482.5]" in card and "10.5 [9.5, 11.5]" in card
    assert ">770.0<" in card and ">1.5<" in card  # kEUR
    assert "-14% [-24, -4]" in card  # in %, as the CLI shows it
    base = text[text.index(">base<"):text.index(">card<")]
    assert base.count(">baseline<") == 2  # no difference and no return against itself
    cheap = text[text.index(">cheap<"):]
    assert '<td class="num">n/a (no extra spend)</td>' in cheap  # spends less than the baseline: no ratio
    assert "vs base (EUR)" in text and "12% a year" in text


def test_german():
    text = economics_table(summary_frame(), "de").text.replace("\u00a0", " ")
    assert "480,5 [478,5; 482,5]" in text and "Vergleichsbasis" in text and "12 % pro Jahr" in text
    assert "-14 % [-24; -4]" in text and "k. A. (keine Mehrausgabe)" in text


def test_results_before_the_cost_split_have_no_section():
    assert economics_table(summary_frame().drop("clv_mean"), "en") is None


def test_a_number_breaks_before_its_interval_or_a_word_only():
    """On a narrow screen a column of intervals wraps below its means instead of pushing the
    last columns off the table; a number never breaks from its unit, sign or bound."""
    cells = ["-12.5 [-13.3, -11.7]", "> 60", "63,1 %", "n/a (spends < 1% more)"]
    text = table(["x"], [[Cell(c, "num")] for c in cells], "t").text
    assert '<td class="num">-12.5 [-13.3,\u00a0-11.7]</td>' in text
    assert '<td class="num">&gt;\u00a060</td>' in text
    assert '<td class="num">63,1\u00a0%</td>' in text
    assert '<td class="num">n/a\u00a0(spends\u00a0&lt;\u00a01% more)</td>' in text
