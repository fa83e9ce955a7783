"""Paired variants: each variant's difference to the reference variant, per strategy, in
initial customers lost, with the 95% CI of the paired difference (same seeds, same customers)."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.style import WIDTH_PX, StrategyColours, label, mean_ci_tooltip, title
from sim.seeds import point_text

ROW_HEIGHT_PX = 34


def has_paired(summary: pl.DataFrame) -> bool:
    """Whether a summary holds paired differences (a scenario with variants or paired axes)."""
    return "reference_point" in summary.columns and summary["reference_point"].drop_nulls().len() > 0


def paired_chart(
    summary: pl.DataFrame, colours: StrategyColours, outcome: str = "cohort_loss"
) -> alt.LayerChart:
    """From ``summary.parquet`` with variants: a dot per (point, strategy) at the mean paired
    difference of ``outcome`` to its reference point, the 95% CI as a bar, zero marked."""
    lang = colours.lang
    rows = summary.filter(pl.col("reference_point").is_not_null())
    mean = pl.col(f"{outcome}_paired_diff_mean")
    frame = rows.select(
        "strategy",
        pl.col("point").map_elements(point_text, return_dtype=pl.String).alias("variant"),
        pl.col("reference_point").map_elements(point_text, return_dtype=pl.String).alias("reference"),
        mean.alias("mean"),
        pl.col(f"{outcome}_paired_diff_ci_low").fill_null(mean).alias("ci_low"),
        pl.col(f"{outcome}_paired_diff_ci_high").fill_null(mean).alias("ci_high"),
    )
    percent = outcome in ("cohort_loss", "annual_churn")
    x_title = label(lang, "cohort_loss_short") if outcome == "cohort_loss" else outcome
    selection = colours.selection()
    y = alt.Y("variant:N", title=None, sort=frame["variant"].unique(maintain_order=True).to_list(),
              axis=alt.Axis(labelLimit=260))
    offset = alt.YOffset("strategy:N", sort=colours.domain)
    x = alt.X("mean:Q", title=label(lang, "paired_axis", outcome=x_title),
              axis=alt.Axis(format="+%" if percent else "+~s"))
    root = alt.Chart(frame)
    interval = root.mark_rule(strokeWidth=3).encode(
        y=y, yOffset=offset, x=alt.X("ci_low:Q"), x2="ci_high:Q", color=colours.color(),
        opacity=colours.opacity(selection),
    )
    point = root.mark_circle(size=110).encode(
        y=y, yOffset=offset, x=x, color=colours.color(), opacity=colours.opacity(selection),
        tooltip=[alt.Tooltip("reference:N"), *mean_ci_tooltip(lang, x_title, "+.1%" if percent else "+.4~g")],
    ).add_params(selection)
    zero = (
        alt.Chart(pl.DataFrame({"zero": [0.0]}))
        .mark_rule(color="black", strokeDash=[4, 3])
        .encode(x="zero:Q")
    )
    reference = frame["reference"][0]
    return alt.layer(zero, interval, point).properties(
        width=WIDTH_PX,
        height=ROW_HEIGHT_PX * frame.height,
        title=title(
            label(lang, "title_paired", outcome=x_title, reference=reference), label(lang, "paired_subtitle")
        ),
    )
