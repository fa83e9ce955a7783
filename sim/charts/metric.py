"""Any monthly column over time per strategy: the plugins' own reporters (``sim.api.Reporter``)
or a core column of ``monthly.parquet``."""

from __future__ import annotations

import warnings

import altair as alt
import polars as pl

from sim.charts.frames import mean_ci
from sim.charts.style import HEIGHT_PX, WIDTH_PX, StrategyColours, label, mean_ci_tooltip, title
from sim.outcomes import MONTHLY_SCHEMA


def plugin_metrics(monthly: pl.DataFrame) -> list[str]:
    """The columns of a monthly table that plugins reported: those not in ``MONTHLY_SCHEMA``
    (nor the keys a sweep adds: strategy, point, replication and the swept paths)."""
    keys = {"strategy", "point", "replication"}
    return [
        c for c in monthly.columns
        if c not in MONTHLY_SCHEMA and c not in keys and monthly.schema[c].is_float()
    ]


def metric_charts(
    monthly: pl.DataFrame, columns: list[str], colours: StrategyColours, units: dict[str, str]
) -> alt.VConcatChart:
    """:func:`metric_chart` of every column, one under the other; clicking a strategy highlights
    it in all of them (one selection they share)."""
    selection = colours.selection()
    charts = [metric_chart(monthly, c, colours, units.get(c, ""), selection) for c in columns]
    with warnings.catch_warnings():
        # Altair warns whenever it lifts a parameter that subcharts share, even the one object
        # shared on purpose (vega/altair#3891); here one highlight across the charts is the intent,
        # and the warning reached the console of every sweep with a plugin's reporters.
        warnings.filterwarnings("ignore", message="Automatically deduplicated selection parameter")
        return alt.vconcat(*charts)


def metric_chart(
    monthly: pl.DataFrame,
    column: str,
    colours: StrategyColours,
    unit: str = "",
    selection: alt.Parameter | None = None,
) -> alt.LayerChart:
    """The mean of ``column`` over replications per strategy and month, with its 95% band.
    Months where a strategy has no value (a program's reporter under a strategy that does not
    run it) are left out. ``selection``: the strategy highlight, when charts share one."""
    lang = colours.lang
    frame = mean_ci(monthly.filter(pl.col(column).is_not_null() & pl.col(column).is_not_nan()),
                    ["strategy", "month"], column)
    y_title = f"{column} ({unit})" if unit else column
    selection = selection or colours.selection()
    x = alt.X("month:Q", title=label(lang, "month"), scale=alt.Scale(nice=False), axis=alt.Axis(format="d"))
    line = (
        alt.Chart()
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("mean:Q", title=y_title, scale=alt.Scale(zero=False)),
            color=colours.color(),
            opacity=colours.opacity(selection),
            tooltip=mean_ci_tooltip(
                lang, y_title, ".4~g", alt.Tooltip("month:Q", title=label(lang, "month"))
            ),
        )
        .add_params(selection)
    )
    band = alt.Chart().mark_area(opacity=0.15).encode(
        x=x, y="ci_low:Q", y2="ci_high:Q", color=colours.color(legend=False)
    )
    return alt.layer(band, line, data=frame).properties(
        width=WIDTH_PX, height=HEIGHT_PX, title=title(column, label(lang, "metric_subtitle"))
    )
