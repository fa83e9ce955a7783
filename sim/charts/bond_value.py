"""Chart 6: customers at the horizon on the bond x rational value plane, as a binned heatmap.

Drawn from ``horizon_plane.parquet`` (counts on a fixed grid per run), never from per-customer
rows, so a sweep of a million customers gives a chart of at most 400 cells per strategy.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.frames import best
from sim.charts.style import StrategyColours, label, percent, title
from sim.outcomes import PLANE_BINS

BONDED_FROM = 0.5  # bond from which the title counts a customer as bonded


def bond_value_chart(plane: pl.DataFrame, colours: StrategyColours, months: int) -> alt.FacetChart:
    """One heatmap per strategy: mean active customers per run in each (bond, value) cell."""
    lang = colours.lang
    per_strategy_runs = plane.group_by("strategy").agg(pl.col("replication").n_unique().alias("runs"))
    frame = (
        plane.group_by("strategy", "bond_bin", "value_bin")
        .agg(pl.col("customers").sum())
        .join(per_strategy_runs, on="strategy")
        .with_columns(
            (pl.col("customers") / pl.col("runs")).alias("customers"),
            (pl.col("bond_bin") / PLANE_BINS).alias("bond"),
            ((pl.col("bond_bin") + 1) / PLANE_BINS).alias("bond_end"),
            (pl.col("value_bin") / PLANE_BINS).alias("value"),
            ((pl.col("value_bin") + 1) / PLANE_BINS).alias("value_end"),
        )
        .drop("runs")
        .sort("strategy", "bond_bin", "value_bin")
    )
    bonded = frame.group_by("strategy").agg(
        (pl.col("customers").filter(pl.col("bond") >= BONDED_FROM).sum() / pl.col("customers").sum()).alias(
            "bonded"
        )
    )
    top = best(bonded, "bonded")
    heading = label(lang, "title_plane", best=top["strategy"], share=percent(top["bonded"], lang))
    axis_scale = alt.Scale(domain=[0, 1], nice=False)
    chart = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("value:Q", title=label(lang, "rational_value_axis"), scale=axis_scale),
            x2="value_end:Q",
            y=alt.Y("bond:Q", title=label(lang, "bond"), scale=axis_scale),
            y2="bond_end:Q",
            color=alt.Color(
                "customers:Q",
                title=label(lang, "customers"),
                scale=alt.Scale(scheme="yellowgreenblue", type="sqrt"),
            ),
            tooltip=[
                alt.Tooltip("strategy:N", title=label(lang, "strategy")),
                alt.Tooltip("bond:Q", title=label(lang, "bond"), format=".2f"),
                alt.Tooltip("value:Q", title=label(lang, "rational_value"), format=".2f"),
                alt.Tooltip("customers:Q", title=label(lang, "customers"), format=",.0f"),
            ],
        )
    )
    return colours.panels(
        chart, title(heading, label(lang, "plane_subtitle", months=months, bins=PLANE_BINS))
    )
