"""Chart 5: loyalty types over time (apostle, loyalist, mercenary, hostage, at risk)."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.frames import best
from sim.charts.style import (
    LOYALTY_COLOURS,
    LOYALTY_LABELS,
    StrategyColours,
    label,
    percent,
    title,
)
from sim.outcomes import LOYALTY_TYPES

BONDED_TYPES = ("apostle", "loyalist")


def loyalty_types_chart(monthly: pl.DataFrame, colours: StrategyColours) -> alt.FacetChart:
    """Stacked areas of the mean share of each loyalty type per month, one panel per strategy;
    the title names the strategy with the most apostles and loyalists at the horizon."""
    lang = colours.lang
    names = LOYALTY_LABELS[lang]
    means = monthly.group_by("strategy", "month", maintain_order=True).agg(
        pl.col(f"share_{kind}").mean().alias(kind) for kind in LOYALTY_TYPES
    )
    horizon = means.filter(pl.col("month") == pl.col("month").max()).with_columns(
        pl.sum_horizontal(*BONDED_TYPES).alias("bonded")
    )
    top = best(horizon, "bonded")
    heading = label(lang, "title_loyalty", best=top["strategy"], share=percent(top["bonded"], lang))
    order = [names[k] for k in LOYALTY_TYPES]
    frame = means.unpivot(index=["strategy", "month"], variable_name="kind", value_name="share").with_columns(
        pl.col("kind").replace_strict(names).alias("type"),
        pl.col("kind").replace_strict({k: i for i, k in enumerate(LOYALTY_TYPES)}).alias("type_order"),
    )
    chart = (
        alt.Chart(frame)
        .mark_area()
        .encode(
            x=alt.X("month:Q", title=label(lang, "month"), scale=alt.Scale(nice=False)),
            y=alt.Y(
                "share:Q", title=label(lang, "share_active"), stack="normalize", axis=alt.Axis(format="%")
            ),
            color=alt.Color(
                "type:N",
                scale=alt.Scale(domain=order, range=list(LOYALTY_COLOURS)),
                title=label(lang, "loyalty_type"),
            ),
            order=alt.Order("type_order:Q"),
            tooltip=[
                alt.Tooltip("strategy:N", title=label(lang, "strategy")),
                alt.Tooltip("month:Q", title=label(lang, "month")),
                alt.Tooltip("type:N", title=label(lang, "loyalty_type")),
                alt.Tooltip("share:Q", title=label(lang, "share_active"), format=".1%"),
            ],
        )
    )
    return colours.panels(chart, title(heading, label(lang, "loyalty_subtitle")))
