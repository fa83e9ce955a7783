"""Chart of global sensitivity indices: one bar per parameter and index, with its 95% interval."""

from __future__ import annotations

import altair as alt
import polars as pl

INDEX_TITLES = {
    "S1": "first order (S1)",
    "ST": "total (ST)",
    "mu_star": "mean |elementary effect| (mu*)",
    "sigma": "spread of effects (sigma)",
}


def sensitivity_chart(frame: pl.DataFrame) -> alt.FacetChart:
    """Bars of each index per parameter, whiskers for the 95% interval, one panel per output.

    ``frame`` has the columns of ``sim.analysis.sensitivity.SENSITIVITY_SCHEMA``. Sobol indices
    share the scale 0..1 across outputs; Morris mu* is in each output's own unit, so its panels
    get independent scales.
    """
    data = frame.with_columns(
        pl.col("index").replace_strict(INDEX_TITLES, default=pl.col("index")).alias("index_title")
    ).to_dicts()
    parameters = sorted({row["parameter"] for row in data})
    y = alt.Y("parameter:N", title=None, sort=parameters)
    offset = alt.YOffset("index_title:N", title=None)
    color = alt.Color("index_title:N", title="index")
    bars = alt.Chart().mark_bar().encode(
        y=y,
        yOffset=offset,
        x=alt.X("value:Q", title="sensitivity index"),
        color=color,
        tooltip=["output:N", "parameter:N", "index:N", alt.Tooltip("value:Q", format=".3f"),
                 alt.Tooltip("ci_low:Q", format=".3f"), alt.Tooltip("ci_high:Q", format=".3f")],
    )
    whiskers = alt.Chart().mark_rule(color="black").encode(
        y=y, yOffset=offset, x="ci_low:Q", x2="ci_high:Q"
    )
    method = frame["method"][0] if frame.height else ""
    chart = alt.layer(bars, whiskers, data=alt.Data(values=data)).facet(
        row=alt.Row("output:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
    ).properties(title=f"Global sensitivity ({method}), 95% bootstrap intervals")
    return chart.resolve_scale(x="independent") if method == "morris" else chart


__all__ = ["sensitivity_chart"]
