"""Chart 8 (sweeps with a grid): cohort loss across the swept parameter per strategy."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.style import HEIGHT_PX, WIDTH_PX, StrategyColours, label, mean_ci_tooltip, title
from sim.seeds import swept_paths


def grid_columns(summary: pl.DataFrame) -> list[str]:
    """The swept parameters: every path of the summary's grid points (``sim.seeds.swept_paths``)."""
    return [c for c in swept_paths(summary["point"]) if c in summary.columns]


def numeric_grid_columns(summary: pl.DataFrame) -> list[str]:
    """The swept parameters with numbers, which the grid chart can put on an axis (not
    ``variant``, whose values are names: see ``sim.charts.paired``)."""
    return [c for c in grid_columns(summary) if summary[c].dtype.is_numeric()]


def grid_chart(
    summary: pl.DataFrame, colours: StrategyColours
) -> alt.Chart | alt.LayerChart | alt.FacetChart:
    """Mean cohort loss (line) and its 95% CI (error bars) against the first swept parameter;
    further swept parameters become panels. Only for summaries with at least two grid points."""
    lang = colours.lang
    numeric = numeric_grid_columns(summary)
    if not numeric or summary["point"].n_unique() < 2:
        raise ValueError("the summary has no grid: chart 8 needs a sweep over a [grid] of numbers")
    swept = numeric[0]
    others = [c for c in grid_columns(summary) if c != swept]
    short = swept.rsplit(".", 1)[-1]
    frame = summary.select(
        "strategy",
        pl.col(swept).alias("value"),
        pl.col("cohort_loss_mean").alias("mean"),
        pl.col("cohort_loss_ci_low").fill_null(pl.col("cohort_loss_mean")).alias("ci_low"),
        pl.col("cohort_loss_ci_high").fill_null(pl.col("cohort_loss_mean")).alias("ci_high"),
        pl.concat_str(
            [pl.lit(f"{o.rsplit('.', 1)[-1]}=") + pl.col(o).cast(pl.String) for o in others], separator=", "
        ).alias("panel")
        if others
        else pl.lit("").alias("panel"),
    )
    selection = colours.selection()
    y_title = label(lang, "cohort_loss_short")
    values = sorted(frame["value"].unique().to_list())
    x = alt.X(
        "value:Q",
        title=short,
        scale=alt.Scale(zero=False, nice=False, padding=12),
        axis=alt.Axis(values=values),
    )
    root = alt.Chart()  # data on the layer, so that it can be faceted
    line = (
        root.mark_line(point=True, strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("mean:Q", title=y_title, axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
            color=colours.color(),
            opacity=colours.opacity(selection),
            tooltip=mean_ci_tooltip(lang, y_title, ".1%", alt.Tooltip("value:Q", title=short)),
        )
        .add_params(selection)
    )
    bars = root.mark_errorbar(ticks=True).encode(
        x=x,
        y=alt.Y("ci_low:Q", title=y_title),
        y2="ci_high:Q",
        color=colours.color(),
        opacity=colours.opacity(selection),
    )
    winners = frame.sort("mean").group_by("value", "panel", maintain_order=True).first()["strategy"].unique()
    text = (
        label(lang, "title_grid_winner", best=winners[0], parameter=short)
        if winners.len() == 1
        else label(lang, "title_grid", parameter=short)
    )
    heading = title(text, label(lang, "grid_subtitle"))
    if not others:
        low, high = float(frame["ci_low"].min()), float(frame["ci_high"].max())
        names = colours.end_labels(frame, "value", "mean", low, high, selection)
        layered = alt.layer(bars.properties(data=frame), line.properties(data=frame), names)
        return layered.properties(width=WIDTH_PX, height=HEIGHT_PX, title=heading)
    with_legend = colours.color(legend=True)  # panels have no room for names at the line ends
    return (
        alt.layer(bars.encode(color=with_legend), line.encode(color=with_legend), data=frame)
        .properties(width=WIDTH_PX // 2, height=HEIGHT_PX * 2 // 3)
        .facet(facet=alt.Facet("panel:N", title=label(lang, "other_parameters")), columns=2)
        .properties(title=heading)
    )
