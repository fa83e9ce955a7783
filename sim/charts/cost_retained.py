"""Chart 7: program cost against customers retained per strategy: which strategies are efficient."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.style import FONT_PX, HEIGHT_PX, WIDTH_PX, StrategyColours, label, number, title

LABEL_LEFT_FROM = 0.6  # names of dots beyond this share of the largest cost go left of the dot
LABEL_GAP = 0.07  # least vertical distance between two names, as a share of the retained range
LABEL_NEAR = 0.3  # names closer than this share of the cost range can collide


def label_heights(cost: list[float], retained: list[float]) -> list[float]:
    """Where to write each strategy's name: at its dot, moved up just enough that names of
    dots close together do not overlap (lowest dot first)."""
    gap = LABEL_GAP * ((max(retained) - min(retained)) or 0.1)
    near = LABEL_NEAR * ((max(cost) - min(cost)) or 1.0)
    heights = list(retained)
    placed: list[int] = []
    for i in sorted(range(len(cost)), key=lambda i: retained[i]):
        while any(abs(cost[j] - cost[i]) < near and abs(heights[j] - heights[i]) < gap for j in placed):
            heights[i] += gap / 2
        placed.append(i)
    return heights


def cost_retained_chart(summary: pl.DataFrame, colours: StrategyColours, customers: int) -> alt.LayerChart:
    """From one grid point's rows of ``summary.parquet``: a labelled dot per strategy at (mean
    program cost, share of the initial cohort retained). The title names the strategy that keeps
    customers beyond the baseline's at the lowest extra cost per extra customer:
    ``(cost - baseline cost) / ((retained - baseline retained) * customers)``."""
    lang = colours.lang
    frame = summary.select(
        "strategy",
        pl.col("program_cost_mean").alias("cost"),
        (1.0 - pl.col("cohort_loss_mean")).alias("retained"),
        pl.col("cost_per_retained_customer_mean").alias("cost_per_retained"),
    )
    frame = frame.with_columns(
        pl.Series("label_at", label_heights(frame["cost"].to_list(), frame["retained"].to_list()))
    )
    base = frame.filter(pl.col("strategy") == colours.baseline)
    better = (
        frame.filter(pl.col("retained") > base["retained"][0])
        .with_columns(
            (
                (pl.col("cost") - base["cost"][0]) / ((pl.col("retained") - base["retained"][0]) * customers)
            ).alias("extra_cost")
        )
        .sort("extra_cost")
        if base.height
        else frame.clear()
    )
    if better.height:
        top = better.row(0, named=True)
        heading = label(
            lang,
            "title_cost",
            best=top["strategy"],
            eur=number(top["extra_cost"], lang, 2),
            baseline=colours.baseline,
        )
    else:
        heading = label(lang, "title_cost_none", baseline=colours.baseline)
    selection = colours.selection()
    root = alt.Chart(frame).encode(
        x=alt.X("cost:Q", title=label(lang, "program_cost"), axis=alt.Axis(format="~s")),
        y=alt.Y(
            "retained:Q",
            title=label(lang, "retained"),
            axis=alt.Axis(format="%"),
            scale=alt.Scale(zero=False),
        ),
        color=colours.color(),
        opacity=colours.opacity(selection),
    )
    dots = (
        root.mark_circle(size=400)
        .encode(
            tooltip=[
                alt.Tooltip("strategy:N", title=label(lang, "strategy")),
                alt.Tooltip("cost:Q", title=label(lang, "program_cost"), format=",.0f"),
                alt.Tooltip("retained:Q", title=label(lang, "retained"), format=".1%"),
                alt.Tooltip("cost_per_retained:Q", title=label(lang, "cost_per_retained"), format=",.2f"),
            ],
        )
        .add_params(selection)
    )
    split = float(frame["cost"].max() or 0.0) * LABEL_LEFT_FROM
    names = {"text": "strategy:N", "y": "label_at:Q"}
    right = root.mark_text(align="left", dx=14, fontSize=FONT_PX, fontWeight="bold").encode(**names)
    left = root.mark_text(align="right", dx=-14, fontSize=FONT_PX, fontWeight="bold").encode(**names)
    return alt.layer(
        dots,
        right.transform_filter(alt.datum.cost <= split),
        left.transform_filter(alt.datum.cost > split),
    ).properties(width=WIDTH_PX, height=HEIGHT_PX, title=title(heading, label(lang, "cost_subtitle")))
