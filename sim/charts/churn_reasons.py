"""Chart 4: churn by reason, stacked, per strategy."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.style import REASON_COLOURS, REASON_LABELS, WIDTH_PX, StrategyColours, label, percent, title
from sim.population import EXIT_REASONS

ROW_HEIGHT_PX = 30
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
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("strategy:N", sort=colours.domain, title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("customers:Q", title=label(lang, "churned"), stack="zero"),
            color=alt.Color(
                "reason:N",
                scale=alt.Scale(domain=order, range=list(REASON_COLOURS)),
                title=label(lang, "reason"),
                legend=alt.Legend(orient="right"),
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
        .properties(
            width=WIDTH_PX,
            height=ROW_HEIGHT_PX * means.height,
            title=title(heading, label(lang, "reasons_subtitle")),
        )
    )
