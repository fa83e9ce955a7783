"""Chart 2: monthly churn rate per strategy; spikes at contract ends or a program's end show."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.frames import SHARE, best, mean_ci
from sim.charts.style import (
    FONT_PX,
    HEIGHT_PX,
    WIDTH_PX,
    StrategyColours,
    label,
    mean_ci_tooltip,
    percent,
    title,
)

# The axis stops above what most months reach, so that a one-month spike (a contract's end, say)
# does not flatten every other line: at this quantile of all monthly values, times the headroom.
AXIS_QUANTILE = 0.95
AXIS_HEADROOM = 1.5


def axis_cap(frame: pl.DataFrame) -> float:
    """Top of the churn axis for :func:`sim.charts.frames.mean_ci` rows of ``churn_rate``."""
    top = float(frame["mean"].max() or 0.0)
    return min(top, float(frame["mean"].quantile(AXIS_QUANTILE) or 0.0) * AXIS_HEADROOM) or top or 0.01


def churn_chart(
    monthly: pl.DataFrame,
    colours: StrategyColours,
    subtitle: str | None = None,
    previous: pl.DataFrame | None = None,
    cap: float | None = None,
) -> alt.LayerChart:
    """One line per strategy of the mean monthly churn rate (no smoothing, so that one-month
    spikes stay visible); the title names the highest peak and when it happens. The axis stops
    half again above the 95th percentile of all values; months beyond it are drawn at the top
    edge with a triangle and their value written next to it. ``previous`` (monthly rows of an
    earlier run) is drawn as faint dashed lines; ``cap`` fixes the top of the axis."""
    lang = colours.lang
    frame = mean_ci(monthly, ["strategy", "month"], "churn_rate", SHARE)
    peak = best(frame, "mean")
    heading = label(
        lang,
        "title_churn",
        peak=percent(peak["mean"], lang, 1),
        strategy=peak["strategy"],
        month=peak["month"],
    )
    if cap is None:
        cap = axis_cap(frame)
    spikes = frame.filter(pl.col("mean") > cap).with_columns(
        pl.lit(cap).alias("edge"),
        pl.col("mean").map_elements(lambda v: percent(v, lang, 0), return_dtype=pl.String).alias("text"),
    )
    selection = colours.selection()
    x = alt.X("month:Q", title=label(lang, "month"), scale=alt.Scale(nice=False))
    y_scale = alt.Scale(domain=[0, cap], clamp=True, nice=False)
    line = (
        alt.Chart(frame)
        .mark_line(strokeWidth=3, interpolate="linear", clip=True)
        .encode(
            x=x,
            y=alt.Y("mean:Q", title=label(lang, "churn"), axis=alt.Axis(format="%"), scale=y_scale),
            color=colours.color(),
            opacity=colours.opacity(selection),
            tooltip=mean_ci_tooltip(
                lang, label(lang, "churn"), ".2%", alt.Tooltip("month:Q", title=label(lang, "month"))
            ),
        )
        .add_params(selection)
    )
    layers = [line]
    if previous is not None:
        before = mean_ci(previous, ["strategy", "month"], "churn_rate", SHARE)
        clipped = before.with_columns(pl.col("mean").clip(0, cap))
        layers.insert(0, colours.faint(clipped, x, alt.Y("mean:Q", scale=y_scale)))
    note = subtitle or label(lang, "churn_subtitle")
    if spikes.height:
        marks = alt.Chart(spikes).encode(x="month:Q", y=alt.Y("edge:Q", scale=y_scale), color=colours.color())
        layers += [
            marks.mark_point(shape="triangle-up", size=260, filled=True, opacity=1),
            marks.mark_text(align="left", dx=12, dy=4, fontSize=FONT_PX, fontWeight="bold").encode(
                text="text:N"
            ),
        ]
        note = label(lang, "churn_capped", subtitle=note, cap=percent(cap, lang, 1))
    layers.append(colours.end_labels(frame.with_columns(pl.col("mean").clip(0, cap)), "month", "mean", 0, cap,
                                     selection))
    return alt.layer(*layers).properties(width=WIDTH_PX, height=HEIGHT_PX, title=title(heading, note))
