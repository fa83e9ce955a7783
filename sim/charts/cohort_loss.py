"""Chart 3: five-year customer-base loss per strategy, point and 95% CI, baseline marked, sorted."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.style import HEIGHT_PX, WIDTH_PX, StrategyColours, label, mean_ci_tooltip, percent, title


def cohort_loss_chart(summary: pl.DataFrame, colours: StrategyColours, months: int) -> alt.LayerChart:
    """From one grid point's rows of ``summary.parquet``: a dot per strategy at its mean cohort
    loss with the 95% CI as a bar, best (lowest loss) on top, and a black rule at the baseline."""
    lang = colours.lang
    frame = summary.select(
        "strategy",
        "replications",
        pl.col("cohort_loss_mean").alias("mean"),
        pl.col("cohort_loss_ci_low").fill_null(pl.col("cohort_loss_mean")).alias("ci_low"),
        pl.col("cohort_loss_ci_high").fill_null(pl.col("cohort_loss_mean")).alias("ci_high"),
    ).sort("mean")
    top = frame.row(0, named=True)
    baseline = frame.filter(pl.col("strategy") == colours.baseline)
    baseline_loss = percent(baseline["mean"][0], lang) if baseline.height else "-"
    if top["strategy"] == colours.baseline:
        heading = label(lang, "title_loss_baseline", baseline=colours.baseline, baseline_loss=baseline_loss)
    else:
        heading = label(
            lang,
            "title_loss",
            best=top["strategy"],
            best_loss=percent(top["mean"], lang),
            baseline_loss=baseline_loss,
            baseline=colours.baseline,
        )
    selection = colours.selection()
    y = alt.Y("strategy:N", sort=frame["strategy"].to_list(), title=None, axis=alt.Axis(labelLimit=0))
    x_title = label(lang, "cohort_loss", months=months)
    root = alt.Chart(frame)
    interval = root.mark_rule(strokeWidth=5).encode(
        y=y, x=alt.X("ci_low:Q"), x2="ci_high:Q", color=colours.color(), opacity=colours.opacity(selection)
    )
    point = (
        root.mark_circle(size=400)
        .encode(
            y=y,
            x=alt.X(
                "mean:Q",
                title=x_title,
                axis=alt.Axis(format="%", tickCount=8),
                scale=alt.Scale(zero=False, padding=20),
            ),
            color=colours.color(),
            opacity=colours.opacity(selection),
            tooltip=[
                *mean_ci_tooltip(lang, x_title, ".1%"),
                alt.Tooltip("replications:Q", title=label(lang, "replications")),
            ],
        )
        .add_params(selection)
    )
    layers = [interval, point]
    if baseline.height:
        layers.insert(
            0,
            alt.Chart(baseline).mark_rule(color="black", strokeDash=[4, 3]).encode(x="mean:Q"),
        )
    return alt.layer(*layers).properties(
        width=WIDTH_PX,
        height=HEIGHT_PX,
        title=title(heading, label(lang, "cohort_loss_subtitle", baseline=colours.baseline)),
    )
