"""Chart 4: churn by reason, stacked, per strategy."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.style import (
    FONT_PX,
    GREYS,
    HEIGHT_PX,
    REASON_LABELS,
    WIDTH_PX,
    StrategyColours,
    fits_segment,
    label,
    percent,
    title,
)
from sim.population import EXIT_REASONS

RELATIONAL_REASONS = ("relationship", "service")


def churn_reasons_chart(runs: pl.DataFrame, colours: StrategyColours) -> alt.Chart:
    """From one grid point's finished rows of ``runs.parquet``: mean customers lost per run by exit
    reason, one stacked bar per strategy; the title gives the baseline's relational share."""
    lang = colours.lang
    names = REASON_LABELS[lang]
    means = runs.group_by("strategy", maintain_order=True).agg(
        pl.col(f"churned_{r}").mean().alias(r) for r in EXIT_REASONS
    )
    frame = means.unpivot(index="strategy", variable_name="reason_key", value_name="customers").with_columns(
        pl.col("reason_key").replace_strict(names).alias("reason"),
        (pl.col("customers") / pl.col("customers").sum().over("strategy")).fill_nan(0.0).alias("share"),
    )
    base = means.filter(pl.col("strategy") == colours.baseline)
    if base.height:
        counts = base.row(0, named=True)
        total = sum(counts[r] for r in EXIT_REASONS) or 1.0
        heading = label(
            lang,
            "title_reasons",
            share=percent(sum(counts[r] for r in RELATIONAL_REASONS) / total, lang),
            price=percent(counts["price"] / total, lang),
            baseline=colours.baseline,
        )
    else:
        heading = label(lang, "reason")
    order = [names[r] for r in EXIT_REASONS]
    y = alt.Y("strategy:N", sort=colours.domain, title=None, axis=alt.Axis(labelLimit=0))
    bars = (
        alt.Chart(frame)
        .mark_bar(stroke="white", strokeWidth=2)
        .encode(
            y=y,
            x=alt.X("customers:Q", title=label(lang, "churned"), stack="zero"),
            color=alt.Color(
                "reason:N",
                scale=alt.Scale(domain=order, range=list(GREYS)),
                title=label(lang, "reason"),
                legend=alt.Legend(orient="top", direction="horizontal", title=None),
            ),
            order=alt.Order("reason_order:Q"),
            tooltip=[
                alt.Tooltip("strategy:N", title=label(lang, "strategy")),
                alt.Tooltip("reason:N", title=label(lang, "reason")),
                alt.Tooltip("customers:Q", title=label(lang, "churned"), format=",.0f"),
                alt.Tooltip("share:Q", title="%", format=".0%"),
            ],
        )
        .transform_calculate(reason_order=f"indexof({order!r}, datum.reason)")
    )
    # each segment that has room says what it is: the reason and its share, white on dark greys
    text = (
        alt.Chart(frame)
        .transform_calculate(reason_order=f"indexof({order!r}, datum.reason)")
        .transform_stack(stack="customers", groupby=["strategy"], sort=[{"field": "reason_order"}],
                         as_=["left", "right"])
        .transform_calculate(middle="(datum.left + datum.right) / 2",
                             text="datum.reason + ' ' + format(datum.share, '.0%')",
                             ink=f"datum.reason_order < {len(GREYS) // 2} ? 'white' : 'black'")
        .mark_text(fontSize=FONT_PX - 2, baseline="middle")
        .encode(y=y, x="middle:Q", text="text:N", color=alt.Color("ink:N", scale=None),
                opacity=alt.condition(fits_segment("text", "left", "right", FONT_PX - 2),
                                      alt.value(1), alt.value(0)))
    )
    return alt.layer(bars, text).properties(
        width=WIDTH_PX, height=HEIGHT_PX, title=title(heading, label(lang, "reasons_subtitle"))
    )
