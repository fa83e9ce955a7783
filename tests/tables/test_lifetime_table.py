"""The customer-lifetime table: median lifetime with its CI, retention, the sBG fit."""

from __future__ import annotations

import polars as pl

from sim.tables.lifetime import lifetime_table

# Fader & Hardie (2007), Table 1: two cohorts of 1,000 still active at years 0..7; their sBG
# estimates are alpha 0.704, beta 1.182 (regular) and alpha 0.668, beta 3.806 (high end).
YEARLY = {
    "regular": [1000, 631, 468, 382, 326, 289, 262, 241],
    "high_end": [1000, 869, 743, 653, 593, 551, 517, 491],
}


def monthly_frame() -> pl.DataFrame:
    """One run per strategy whose initial customers leave at the end of each year."""
    rows = []
    for strategy, counts in YEARLY.items():
        for month in range(1, 85):
            rows.append({"strategy": strategy, "point": "{}", "replication": 0, "month": month,
                         "active_initial": counts[month // 12], "churned_total": 0})
    return pl.DataFrame(rows)


def test_rows_follow_the_given_order_with_median_retention_and_the_published_sbg_fit():
    text = lifetime_table(monthly_frame(), "en", ["high_end", "regular"]).text.replace("\u00a0", " ")
    assert text.index(">high_end<") < text.index(">regular<")
    regular = text[text.index(">regular<"):]
    assert ">24 [" in regular  # survival first at or below one half in month 24 (468 of 1,000)
    assert ">0.704 \u00b1 " in regular and ">1.18 \u00b1 " in regular
    assert ">63.1%<" in regular and ">24.1%<" in regular  # after year 1 and year 7
    assert "&gt; 84" in text  # high_end keeps more than half: median beyond the horizon
    assert "Still active after year 1" in text and "Still active after year 7" in text


def test_german_labels_and_decimal_commas():
    text = lifetime_table(monthly_frame(), "de", ["regular", "high_end"]).text.replace("\u00a0", " ")
    assert "Median der Lebens\u00addauer" in text and ">0,704 \u00b1 " in text and "63,1 %" in text


def test_no_runs_no_section():
    assert lifetime_table(monthly_frame().clear(), "en", []) is None
