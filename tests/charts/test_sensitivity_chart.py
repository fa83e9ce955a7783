"""The sensitivity chart: a pure function of the index table."""

from __future__ import annotations

import altair as alt
import polars as pl

from sim.analysis.sensitivity import SENSITIVITY_SCHEMA
from sim.charts.sensitivity import sensitivity_chart


def _frame(method: str, indices: tuple[str, ...]) -> pl.DataFrame:
    rows = [
        {"method": method, "output": output, "parameter": parameter, "index": index, "value": 0.4,
         "ci_low": 0.3, "ci_high": 0.5, "evaluations": 64}
        for output in ("cohort_loss:point_card", "margin:point_card")
        for parameter in ("market.offers.discount", "market.gross_margin_share")
        for index in indices
    ]
    return pl.DataFrame(rows, schema=SENSITIVITY_SCHEMA)


def test_one_panel_per_output_with_bars_and_interval_whiskers():
    frame = _frame("sobol", ("S1", "ST"))
    chart = sensitivity_chart(frame)
    assert isinstance(chart, alt.FacetChart)
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    assert spec["facet"]["row"]["field"] == "output"
    marks = [layer["mark"]["type"] for layer in spec["spec"]["layer"]]
    assert marks == ["bar", "rule"]
    assert len(spec["data"]["values"]) == frame.height
    assert "resolve" not in spec  # Sobol indices share one 0..1 scale


def test_morris_panels_get_their_own_scales_and_sigma_has_no_whisker():
    frame = _frame("morris", ("mu_star", "sigma")).with_columns(
        pl.when(pl.col("index") == "sigma").then(None).otherwise(pl.col("ci_low")).alias("ci_low")
    )
    spec = sensitivity_chart(frame).to_dict()
    assert spec["resolve"]["scale"]["x"] == "independent"
    sigma = [v for v in spec["data"]["values"] if v["index"] == "sigma"]
    assert all(v["ci_low"] is None for v in sigma)
