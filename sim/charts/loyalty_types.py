"""Chart 5: the share of bonded customers (apostles and loyalists) over time, per strategy.

Redesigned for the room: one line per strategy with its name at the end, instead of nine small
panels of five stacked types that could not be read from a distance. The other types
(mercenaries, hostages, at risk) stay in ``monthly.parquet`` (``share_<type>``).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.frames import SHARE, best, mean_ci
from sim.charts.style import HEIGHT_PX, WIDTH_PX, StrategyColours, label, mean_ci_tooltip, percent, title

BONDED_TYPES = ("apostle", "loyalist")


def loyalty_types_chart(monthly: pl.DataFrame, colours: StrategyColours) -> alt.LayerChart:
    """Mean share of active customers who are apostles or loyalists (satisfied and emotionally
    bonded), per month and strategy; the title names the strategy with the most at the horizon."""
    lang = colours.lang
    bonded = monthly.with_columns(pl.sum_horizontal(*(f"share_{k}" for k in BONDED_TYPES)).alias("bonded"))
    frame = mean_ci(bonded, ["strategy", "month"], "bonded", SHARE)
    horizon = frame.filter(pl.col("month") == pl.col("month").max())
    top = best(horizon, "mean")
    heading = label(lang, "title_loyalty", best=top["strategy"], share=percent(top["mean"], lang))
    selection = colours.selection()
    high = min(1.0, float(frame["mean"].max() or 0.0) * 1.1) or 1.0
    y_title = label(lang, "bonded_share")
    line = (
        alt.Chart(frame)
        .mark_line(strokeWidth=4)
        .encode(
            x=alt.X("month:Q", title=label(lang, "month"), scale=alt.Scale(nice=False)),
            y=alt.Y("mean:Q", title=y_title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, high])),
            color=colours.color(),
            opacity=colours.opacity(selection),
            tooltip=mean_ci_tooltip(lang, y_title, ".1%", alt.Tooltip("month:Q", title=label(lang, "month"))),
        )
        .add_params(selection)
    )
    names = colours.end_labels(frame, "month", "mean", 0.0, high, selection)
    return alt.layer(line, names).properties(
        width=WIDTH_PX, height=HEIGHT_PX, title=title(heading, label(lang, "loyalty_subtitle"))
    )
