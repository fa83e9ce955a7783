"""Chart of global sensitivity indices: one bar per parameter and index, with its 95% interval."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.charts.style import GREYS, WIDTH_PX, label, number, title

# The index that ranks parameters in the title: total effect (Sobol), mean |effect| (Morris).
RANKING_INDEX = {"sobol": "ST", "morris": "mu_star"}
INDEX_COLOURS = {"S1": GREYS[0], "ST": GREYS[3], "mu_star": GREYS[0], "sigma": GREYS[3]}  # not strategies


def sensitivity_chart(frame: pl.DataFrame, lang: str = "en") -> alt.FacetChart:
    """Bars of each index per parameter, whiskers for the 95% interval, one panel per output.

    ``frame`` has the columns of ``sim.analysis.sensitivity.SENSITIVITY_SCHEMA``. Sobol indices
    share the scale 0..1 across outputs; Morris mu* is in each output's own unit, so its panels
    get independent scales. The title names the parameter with the largest ranking index for
    the first output.
    """
    method = frame["method"][0] if frame.height else "sobol"
    indices = frame["index"].unique(maintain_order=True).to_list()
    titles = {index: label(lang, f"index_{index}") for index in indices}
    data = frame.with_columns(pl.col("index").replace_strict(titles).alias("index_title")).to_dicts()
    parameters = frame["parameter"].unique(maintain_order=True).to_list()
    y = alt.Y("parameter:N", title=None, sort=parameters, axis=alt.Axis(labelLimit=360))
    order = list(titles.values())  # the method's order (S1 before ST), not the alphabet's
    offset = alt.YOffset("index_title:N", title=None, sort=order)
    color = alt.Color(
        "index_title:N",
        title=label(lang, "index"),
        scale=alt.Scale(
            domain=order, range=[INDEX_COLOURS.get(i, GREYS[4]) for i in indices]
        ),
        legend=alt.Legend(orient="top", labelLimit=320),
    )
    bars = alt.Chart().mark_bar().encode(
        y=y,
        yOffset=offset,
        x=alt.X("value:Q", title=label(lang, "sensitivity_index")),
        color=color,
        tooltip=[
            alt.Tooltip("output:N", title=label(lang, "output")),
            alt.Tooltip("parameter:N", title=label(lang, "parameter")),
            alt.Tooltip("index_title:N", title=label(lang, "index")),
            alt.Tooltip("value:Q", title=label(lang, "value"), format=".3f"),
            alt.Tooltip("ci_low:Q", title=label(lang, "ci_low"), format=".3f"),
            alt.Tooltip("ci_high:Q", title=label(lang, "ci_high"), format=".3f"),
        ],
    )
    # bandPosition: a rule sits at the start of its offset band unless told to take the middle
    whiskers = alt.Chart().mark_rule(color="black", strokeWidth=1.5).encode(
        y=y,
        yOffset=alt.YOffset("index_title:N", title=None, sort=order, bandPosition=0.5),
        x="ci_low:Q",
        x2="ci_high:Q",
    )
    chart = (
        alt.layer(bars, whiskers, data=alt.Data(values=data))
        .properties(width=WIDTH_PX)
        .facet(row=alt.Row("output:N", title=None, header=alt.Header(
            labelAngle=0, labelAlign="left", labelAnchor="start", labelOrient="top", labelFontWeight="bold"
        )))
        .properties(title=title(_heading(frame, method, lang), label(
            lang, "sensitivity_subtitle", method=method,
            evaluations=number(int(frame["evaluations"].max() or 0), lang) if frame.height else 0,
        )))
    )
    return chart.resolve_scale(x="independent") if method == "morris" else chart


def _heading(frame: pl.DataFrame, method: str, lang: str) -> str:
    first_output = frame["output"][0] if frame.height else ""
    ranked = frame.filter(
        (pl.col("output") == first_output) & (pl.col("index") == RANKING_INDEX[method])
    ).sort("value", descending=True)
    if ranked.height == 0:
        return label(lang, "heading_sensitivity")
    top = ranked.row(0, named=True)
    return label(lang, "title_sensitivity", parameter=top["parameter"], output=top["output"])


__all__ = ["sensitivity_chart"]
