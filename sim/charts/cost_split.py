"""Program cost per strategy, stacked by category (rewards, discounts, contacts, ...)."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.style import (
    COST_LABELS,
    FONT_PX,
    GREYS,
    HEIGHT_PX,
    WIDTH_PX,
    StrategyColours,
    fits_segment,
    label,
    number,
    percent,
    title,
)
from sim.outcomes import COST_CATEGORIES


def cost_split_frame(summary: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Long frame: one row per (strategy, category) with the mean cost in EUR and the category's
    share of the strategy's program cost."""
    return (
        summary.select(
            "strategy",
            *(pl.col(f"cost_{c}_mean").alias(COST_LABELS[lang][c]) for c in COST_CATEGORIES),
        )
        .unpivot(index="strategy", variable_name="category", value_name="cost")
        .with_columns(
            (pl.col("cost") / pl.col("cost").sum().over("strategy")).fill_nan(0.0).alias("share"),
            pl.col("category")
            .replace_strict(
                {COST_LABELS[lang][c]: i for i, c in enumerate(COST_CATEGORIES)}, return_dtype=pl.Int32
            )
            .alias("category_order"),
        )
    )


def cost_split_chart(summary: pl.DataFrame, colours: StrategyColours, months: int) -> alt.Chart | None:
    """From one grid point's rows of ``summary.parquet``: a horizontal bar per strategy (most
    expensive on top), its segments the cost categories. The title names the strategy that
    spends most and where its money goes. ``None`` for results without the cost split."""
    if summary.height == 0 or "cost_rewards_mean" not in summary.columns:
        return None
    lang = colours.lang
    frame = cost_split_frame(summary, lang)
    totals = frame.group_by("strategy", maintain_order=True).agg(pl.col("cost").sum())
    totals = totals.sort("cost", descending=True)
    top = totals.row(0, named=True)
    own = frame.filter(pl.col("strategy") == top["strategy"])
    biggest = own.sort("cost", descending=True).row(0, named=True)
    heading = label(
        lang,
        "title_cost_split",
        best=top["strategy"],
        eur=number(top["cost"], lang),
        months=months,
        share=percent(biggest["share"], lang),
        category=biggest["category"],
    )
    categories = [COST_LABELS[lang][c] for c in COST_CATEGORIES]
    y = alt.Y("strategy:N", title=None, sort=totals["strategy"].to_list(), axis=alt.Axis(labelLimit=0))
    bars = (
        alt.Chart(frame)
        .mark_bar(stroke="white", strokeWidth=2)
        .encode(
            y=y,
            x=alt.X("cost:Q", title=label(lang, "cost_eur"), axis=alt.Axis(format="~s"), stack="zero"),
            color=alt.Color(
                "category:N",
                title=None,
                scale=alt.Scale(domain=categories, range=list(GREYS)),
                legend=alt.Legend(orient="top", direction="horizontal"),
            ),
            order=alt.Order("category_order:Q"),
            tooltip=[
                alt.Tooltip("strategy:N", title=label(lang, "strategy")),
                alt.Tooltip("category:N", title=label(lang, "cost_category")),
                alt.Tooltip("cost:Q", title="EUR", format=",.0f"),
                alt.Tooltip("share:Q", title="%", format=".0%"),
            ],
        )
    )
    text = (
        alt.Chart(frame)
        .transform_stack(stack="cost", groupby=["strategy"], sort=[{"field": "category_order"}],
                         as_=["left", "right"])
        .transform_calculate(middle="(datum.left + datum.right) / 2",
                             ink=f"datum.category_order < {len(GREYS) // 2} ? 'white' : 'black'")
        .mark_text(fontSize=FONT_PX - 2, baseline="middle")
        .encode(y=y, x="middle:Q", text="category:N", color=alt.Color("ink:N", scale=None),
                opacity=alt.condition(fits_segment("category", "left", "right", FONT_PX - 2),
                                      alt.value(1), alt.value(0)))
    )
    return alt.layer(bars, text).properties(
        width=WIDTH_PX, height=HEIGHT_PX, title=title(heading, label(lang, "cost_split_subtitle"))
    )


__all__ = ["cost_split_chart", "cost_split_frame"]
