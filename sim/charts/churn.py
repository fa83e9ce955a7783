"""Chart 2: monthly churn rate per strategy; spikes at contract ends or a program's end show."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.frames import best, mean_ci
from sim.charts.style import HEIGHT_PX, WIDTH_PX, StrategyColours, label, mean_ci_tooltip, percent, title


def churn_chart(monthly: pl.DataFrame, colours: StrategyColours, subtitle: str | None = None) -> alt.Chart:
    """One line per strategy of the mean monthly churn rate (no smoothing, so that one-month
    spikes stay visible); the title names the highest peak and when it happens."""
    lang = colours.lang
    frame = mean_ci(monthly, ["strategy", "month"], "churn_rate")
    peak = best(frame, "mean")
    heading = label(
        lang,
        "title_churn",
        peak=percent(peak["mean"], lang, 1),
        strategy=peak["strategy"],
        month=peak["month"],
    )
    selection = colours.selection()
    return (
        alt.Chart(frame)
        .mark_line(strokeWidth=2, interpolate="linear")
        .encode(
            x=alt.X("month:Q", title=label(lang, "month"), scale=alt.Scale(nice=False)),
            y=alt.Y("mean:Q", title=label(lang, "churn"), axis=alt.Axis(format="%")),
            color=colours.color(),
            opacity=colours.opacity(selection),
            tooltip=mean_ci_tooltip(
                lang, label(lang, "churn"), ".2%", alt.Tooltip("month:Q", title=label(lang, "month"))
            ),
        )
        .add_params(selection)
        .properties(
            width=WIDTH_PX, height=HEIGHT_PX, title=title(heading, subtitle or label(lang, "churn_subtitle"))
        )
    )
