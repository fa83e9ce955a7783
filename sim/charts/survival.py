"""Chart 1: survival of the initial cohort per strategy over months, with the replication CI."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.frames import SHARE, best, mean_ci
from sim.charts.style import HEIGHT_PX, WIDTH_PX, StrategyColours, label, mean_ci_tooltip, percent, title


def survival_frame(monthly: pl.DataFrame) -> pl.DataFrame:
    """Share of the initial cohort still active per (strategy, month): mean and CI over runs.

    Survival is the running product of ``1 - cohort_churn_rate``, which equals
    ``active_initial / initial customers`` without needing the cohort size; month 0 is 1.
    """
    runs = monthly.sort("strategy", "replication", "month").select(
        "strategy",
        "replication",
        "month",
        (1.0 - pl.col("cohort_churn_rate")).cum_prod().over("strategy", "replication").alias("survival"),
    )
    start = runs.filter(pl.col("month") == pl.col("month").min()).with_columns(
        pl.lit(0, dtype=runs["month"].dtype).alias("month"), pl.lit(1.0).alias("survival")
    )
    curves = pl.concat([start, runs]).sort("strategy", "month")
    return mean_ci(curves, ["strategy", "month"], "survival", SHARE)


def survival_chart(
    monthly: pl.DataFrame,
    colours: StrategyColours,
    subtitle: str | None = None,
    previous: pl.DataFrame | None = None,
    low: float | None = None,
) -> alt.LayerChart:
    """Lines of the mean survival with a band for its 95% CI; the title names the strategy that
    keeps the most of its initial customers at the horizon. ``previous`` (monthly rows of an
    earlier run) is drawn as faint dashed lines; ``low`` fixes the bottom of the axis."""
    lang = colours.lang
    frame = survival_frame(monthly)
    horizon = frame.filter(pl.col("month") == pl.col("month").max())
    top = best(horizon, "mean")
    base = horizon.filter(pl.col("strategy") == colours.baseline)
    heading = label(
        lang,
        "title_survival",
        best=top["strategy"],
        best_share=percent(top["mean"], lang),
        months=top["month"],
        baseline=colours.baseline,
        baseline_share=percent(base["mean"][0], lang) if base.height else "-",
    )
    selection = colours.selection()
    low = float(frame["ci_low"].min()) if low is None else low
    x = alt.X("month:Q", title=label(lang, "month"), scale=alt.Scale(nice=False))
    y_scale = alt.Scale(domain=[low, 1.0], zero=False, nice=False)
    root = alt.Chart(frame)
    band = root.mark_area().encode(
        x=x,
        y=alt.Y("ci_low:Q", scale=y_scale),
        y2="ci_high:Q",
        color=colours.color(),
        opacity=colours.opacity(selection, 0.25, 0.03),
    )
    line = (
        root.mark_line(strokeWidth=4)
        .encode(
            x=x,
            y=alt.Y("mean:Q", title=label(lang, "survival"), axis=alt.Axis(format="%"), scale=y_scale),
            color=colours.color(),
            opacity=colours.opacity(selection),
            tooltip=mean_ci_tooltip(
                lang, label(lang, "survival"), ".1%", alt.Tooltip("month:Q", title=label(lang, "month"))
            ),
        )
        .add_params(selection)
    )
    names = colours.end_labels(frame, "month", "mean", low, 1.0, selection)
    layers = [band, line, names]
    if previous is not None:
        before = survival_frame(previous)
        layers.insert(0, colours.faint(before, x, alt.Y("mean:Q", scale=y_scale)))
    widest = float((frame["ci_high"] - frame["ci_low"]).max() or 0.0) / 2
    note = subtitle or label(lang, "survival_subtitle", half=percent(widest, lang, 1))
    chart = alt.layer(*layers)
    return chart.properties(width=WIDTH_PX, height=HEIGHT_PX, title=title(heading, note))
