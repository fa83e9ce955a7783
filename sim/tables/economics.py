"""Economics per strategy as a report table: lifetime value and its paired difference to the
baseline, program cost, exit fees, points liability and return on extra spend, each with its 95%
CI where it has one (``sim.analysis.economics`` computes them into the sweep's summary)."""

from __future__ import annotations

import polars as pl

from sim.i18n import label, number, percent
from sim.outcomes import DISCOUNT_RATE_PER_YEAR
from sim.tables import Cell, Html, interval, table
from sim.tables.comparison import in_result_order, return_on_spend


def economics_table(summary: pl.DataFrame, lang: str) -> Html | None:
    """From one grid point's rows of ``summary.parquet``; ``None`` for results that predate the
    cost split (no ``clv_mean`` column)."""
    if summary.height == 0 or "clv_mean" not in summary.columns:
        return None
    baseline = summary["baseline"][0]
    base_row = next((r for r in summary.iter_rows(named=True) if r["strategy"] == baseline), None)
    rows = []
    for r in in_result_order(summary).iter_rows(named=True):
        is_baseline = r["strategy"] == baseline
        rows.append(
            [
                Cell(r["strategy"], "key"),
                Cell(interval(r["clv_mean"], r["clv_ci_low"], r["clv_ci_high"], lang), "num"),
                Cell(
                    label(lang, "baseline_row") if is_baseline
                    else interval(r["clv_diff_mean"], r["clv_diff_ci_low"], r["clv_diff_ci_high"], lang),
                    "num",
                ),
                *(Cell(number(r[f"{item}_mean"] / 1e3, lang, 1), "num")
                  for item in ("program_cost", "exit_fees", "points_liability")),
                Cell(return_on_spend(r, base_row, lang)[0], "num"),
            ]
        )
    headers = [
        label(lang, "strategy"),
        label(lang, "table_clv"),
        label(lang, "table_clv_diff", baseline=baseline),
        label(lang, "table_program_cost"),
        label(lang, "table_exit_fees"),
        label(lang, "table_points_liability"),
        label(lang, "table_return_on_spend"),
    ]
    note = label(lang, "economics_note", rate=percent(DISCOUNT_RATE_PER_YEAR, lang), baseline=baseline)
    return table(headers, rows, css="economics", note=note)


__all__ = ["economics_table"]
