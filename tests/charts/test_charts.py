"""Each chart function on small synthetic frames: valid Vega-Lite, takeaway titles from the
numbers, one colour per strategy everywhere, German labels."""

from __future__ import annotations

import itertools
import json
import re

import altair as alt
import polars as pl
import pytest
import vl_convert

from sim.charts.churn import churn_chart
from sim.charts.churn_reasons import churn_reasons_chart
from sim.charts.cohort_loss import cohort_loss_chart
from sim.charts.cost_retained import cost_retained_chart
from sim.charts.cost_split import cost_split_chart
from sim.charts.grid import grid_chart
from sim.charts.loyalty_types import loyalty_types_chart
from sim.charts.style import BASELINE_COLOUR, GREYS, StrategyColours, check_language, number, percent
from sim.charts.survival import survival_chart, survival_frame
from sim.outcomes import COST_CATEGORIES


def spec_of(chart: alt.TopLevelMixin) -> dict:
    return chart.to_dict()  # validates against the Vega-Lite schema


def title_of(spec: dict) -> str:
    return spec["title"]["text"]


def data_of(spec: dict) -> list[dict]:
    (rows,) = [v for v in spec["datasets"].values() if len(v) > 1] or list(spec["datasets"].values())[:1]
    return rows


def test_survival_is_the_running_product_of_cohort_churn(monthly):
    frame = survival_frame(monthly).filter(pl.col("strategy") == "base")
    assert frame.filter(pl.col("month") == 0)["mean"].item() == pytest.approx(1.0)
    assert frame.filter(pl.col("month") == 6)["mean"].item() == pytest.approx(0.9**6, rel=0.02)
    assert (frame["ci_low"] <= frame["mean"] + 1e-12).all() and (
        frame["mean"] <= frame["ci_high"] + 1e-12
    ).all()
    assert (frame.filter(pl.col("month") > 0)["ci_high"] > frame.filter(pl.col("month") > 0)["ci_low"]).all()


def test_survival_chart_names_the_strategy_that_keeps_most(monthly, colours):
    spec = spec_of(survival_chart(monthly, colours))
    assert title_of(spec).startswith(
        "bond keeps the most customers: 89% still active after 6 months (base: 53%)"
    )
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["area", "line", "text"]
    names = spec["layer"][2]  # the strategies' names at the ends of their lines, no legend
    assert names["encoding"]["text"]["field"] == "strategy"
    assert spec["layer"][1]["encoding"]["color"]["legend"] is None


def test_churn_chart_title_finds_the_spike(monthly, colours):
    spec = spec_of(churn_chart(monthly, colours))
    assert title_of(spec) == "Churn peaks at 50.0% a month (contract, month 4)"
    line = spec["layer"][0]
    assert line["mark"]["interpolate"] == "linear"  # no smoothing that would hide one-month spikes


def test_churn_axis_is_not_set_by_one_spike(monthly, colours):
    """The 50% spike would flatten every other line: the axis stops near the other months and the
    spike is marked at the top edge with its value."""
    spec = spec_of(churn_chart(monthly, colours))
    cap = spec["layer"][0]["encoding"]["y"]["scale"]["domain"][1]
    assert cap < 0.5
    marks = [layer for layer in spec["layer"] if layer["mark"]["type"] == "point"]
    assert marks and marks[0]["mark"]["shape"] == "triangle-up"
    assert "the axis stops at" in spec["title"]["subtitle"]


@pytest.mark.parametrize("height_px", [600, 200])
def test_labels_at_line_ends_keep_apart_at_the_drawn_height(height_px):
    """Names at the ends of lines that end close together are moved apart by at least a line of
    type at the height the chart is drawn (the report sizes charts to the screen), each as near
    its line as the others allow, and within the axis."""
    ends = {"a": 0.50, "b": 0.505, "c": 0.51, "d": 0.8, "e": 0.99, "f": 0.995}
    frame = pl.DataFrame([
        {"strategy": s, "month": m, "mean": 1 - (1 - end) * m / 60}
        for s, end in ends.items()
        for m in (0, 60)
    ])
    colours = StrategyColours(tuple(ends), "a")
    lines = alt.Chart(frame).mark_line().encode(
        x="month:Q", y=alt.Y("mean:Q", scale=alt.Scale(domain=[0, 1])), color=colours.color()
    )
    chart = alt.layer(lines, colours.end_labels(frame, "month", "mean", 0.0, 1.0))
    svg = vl_convert.vegalite_to_svg(chart.properties(width=600, height=height_px).to_dict())
    marks = re.findall(
        r'<text [^>]*aria-roledescription="text mark"[^>]*translate\([\d.]+,([\d.-]+)\)[^>]*>(\w)</text>', svg
    )
    drawn = {name: float(y) for y, name in marks}
    assert set(drawn) == set(ends)
    heights = sorted(drawn.values())
    assert min(b - a for a, b in itertools.pairwise(heights)) >= 20  # 20 px type
    assert min(heights) >= 0 and max(heights) <= height_px + 8  # within the axis
    if height_px == 600:  # room: the lowest and a lone label stay at their lines
        assert drawn["a"] == pytest.approx(height_px * 0.5, abs=8)
        assert drawn["d"] == pytest.approx(height_px * 0.2, abs=8)


def test_cohort_loss_chart_sorts_best_first_and_marks_the_baseline(summary, colours):
    spec = spec_of(cohort_loss_chart(summary, colours, months=60))
    assert title_of(spec) == "bond loses the fewest customers: 20% vs 50% for base"
    dots = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "circle")
    assert dots["encoding"]["y"]["sort"] == ["bond", "contract", "base"]
    rule = spec["layer"][0]
    assert rule["mark"]["type"] == "rule" and rule["data"]["name"] != spec["layer"][1]["data"]["name"]


def test_cohort_loss_chart_says_when_nothing_beats_the_baseline(summary, colours):
    worse = summary.with_columns(
        pl.when(pl.col("strategy") == "base")
        .then(0.1)
        .otherwise(pl.col("cohort_loss_mean"))
        .alias("cohort_loss_mean")
    )
    assert title_of(spec_of(cohort_loss_chart(worse, colours, 60))).startswith(
        "No strategy beats the baseline base"
    )


def test_churn_reasons_chart_reports_the_relational_share_of_the_baseline(runs, colours):
    spec = spec_of(churn_reasons_chart(runs, colours))
    assert (
        title_of(spec) == "75% of those who leave base go for relationship or service reasons, 25% for price"
    )
    bars = spec["layer"][0]
    assert bars["encoding"]["x"]["stack"] == "zero"
    assert "life events" in bars["encoding"]["color"]["scale"]["domain"]
    assert set(bars["encoding"]["color"]["scale"]["range"]) <= set(GREYS)  # hues mean strategies only


def visible_segment_labels(chart: alt.TopLevelMixin, width_px: int) -> list[str]:
    """The texts drawn on bar segments (those with a ``%`` or a word) when the chart is drawn
    ``width_px`` wide, as Vega draws them (vl-convert, the engine of PNG and SVG)."""
    svg = vl_convert.vegalite_to_svg(chart.properties(width=width_px).to_dict())
    marks = re.findall(r'<text ([^>]*aria-roledescription="text mark"[^>]*)>([^<]+)</text>', svg)
    return [text for attributes, text in marks if 'opacity="0"' not in attributes]


@pytest.mark.parametrize("chart", ["churn_reasons", "cost_split"])
def test_a_segment_carries_its_label_only_where_the_label_fits(chart, runs, colours):
    """The report draws charts as wide as the screen: a label is drawn where its segment is wide
    enough at the drawn size, so a narrow projector drops labels instead of overlapping them."""
    if chart == "churn_reasons":
        figure = churn_reasons_chart(runs, colours)
    else:
        costs = {"base": {"contacts": 40_000.0}, "bond": {"contacts": 50_000.0, "service": 450_000.0}}
        summary = pl.DataFrame([
            {"strategy": s, "point": "{}", **{f"cost_{c}_mean": split.get(c, 0.0) for c in COST_CATEGORIES}}
            for s, split in costs.items()
        ])
        figure = cost_split_chart(summary, colours, 60)
    wide, narrow = visible_segment_labels(figure, 1200), visible_segment_labels(figure, 250)
    assert wide and not any(text.endswith(" 0%") for text in wide)  # empty segments say nothing
    assert set(narrow) < set(wide)  # the same segments, drawn narrower: fewer labels fit


def test_loyalty_types_chart_is_one_bonded_line_per_strategy(monthly, colours):
    spec = spec_of(loyalty_types_chart(monthly, colours))
    assert title_of(spec).startswith("bond ends with the most apostles and loyalists: 60%")
    assert "facet" not in spec and spec["layer"][0]["mark"]["type"] == "line"
    assert spec["layer"][0]["encoding"]["color"]["field"] == "strategy"


def test_cost_retained_chart_names_the_cheapest_extra_customer(summary, colours):
    spec = spec_of(cost_retained_chart(summary, colours, customers=1000))
    # bond: 3000 EUR for 300 extra customers = 10 EUR each; contract: 500 EUR for 100 = 5 EUR each
    assert (
        title_of(spec)
        == "contract keeps extra customers most cheaply: 5.00 EUR per customer kept beyond base"
    )


def test_grid_chart_plots_the_swept_parameter(grid_summary, summary, colours):
    spec = spec_of(grid_chart(grid_summary, colours))
    assert title_of(spec) == "bond loses the fewest customers at every discount"
    assert spec["layer"][1]["encoding"]["x"]["axis"]["values"] == [0.1, 0.2, 0.3]
    assert spec["layer"][2]["mark"]["type"] == "text"  # names at the line ends
    with pytest.raises(ValueError, match="no grid"):
        grid_chart(summary, colours)


def test_grid_title_without_one_winner(grid_summary, colours):
    mixed = grid_summary.with_columns(
        pl.when((pl.col("strategy") == "base") & (pl.col("market.offers.discount") == 0.3))
        .then(0.0)
        .otherwise(pl.col("cohort_loss_mean"))
        .alias("cohort_loss_mean")
    )
    assert title_of(spec_of(grid_chart(mixed, colours))) == "Initial customers lost across discount"


def test_two_swept_parameters_become_panels(grid_summary, colours):
    # a swept path is a grid column: it is in every grid point (sim.scenario.swept_paths)
    two = grid_summary.with_columns(
        pl.lit(12).alias("programs.lock_in_contract.term_months"),
        pl.col("point").str.replace("}", ', "programs.lock_in_contract.term_months": 12}', literal=True),
    )
    spec = spec_of(grid_chart(two, colours))
    assert spec["facet"]["field"] == "panel"


def test_a_strategy_has_the_same_colour_in_every_chart(monthly, summary, colours):
    charts = (
        survival_chart(monthly, colours),
        churn_chart(monthly, colours),
        cohort_loss_chart(summary, colours, 60),
        cost_retained_chart(summary, colours, 1000),
    )
    found = {json.dumps(_colour_scale(spec_of(chart)), sort_keys=True) for chart in charts}
    assert len(found) == 1
    scale = json.loads(found.pop())
    assert scale["domain"][0] == "base" and scale["range"][0] == BASELINE_COLOUR
    assert len(set(scale["range"])) == len(scale["domain"])


def _colour_scale(node: object) -> dict | None:
    """The scale of the first colour encoding by strategy found in a spec."""
    if isinstance(node, dict):
        colour = node.get("color")
        if isinstance(colour, dict) and colour.get("field") == "strategy" and "scale" in colour:
            return colour["scale"]
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    return next((found for child in children if (found := _colour_scale(child)) is not None), None)


def test_clicking_a_line_selects_its_strategy(monthly, colours):
    spec = spec_of(churn_chart(monthly, colours))
    (param,) = spec.get("params") or [p for layer in spec["layer"] for p in layer.get("params", [])]
    assert param["select"]["fields"] == ["strategy"] and param["select"]["on"] == "click"


def test_result_order_sets_the_order_but_not_the_colours():
    by_file = StrategyColours(("base", "a", "b"), "base")
    by_result = StrategyColours(("base", "a", "b"), "base", order=("b", "base", "a"))
    assert by_result.domain == ["b", "base", "a"]
    assert {s: by_result.colour_of(s) for s in "ab"} == {s: by_file.colour_of(s) for s in "ab"}


def test_german_labels(monthly, summary, colours_de):
    spec = spec_of(survival_chart(monthly, colours_de))
    assert title_of(spec).startswith("bond hält die meisten Kunden: 89 % nach 6 Monaten noch aktiv")
    assert spec["layer"][1]["encoding"]["x"]["title"] == "Monat"
    loss = spec_of(cohort_loss_chart(summary, colours_de, 60))
    assert "Verlorene Anfangskunden nach 60 Monaten" in json.dumps(loss, ensure_ascii=False)


def test_many_strategies_keep_distinct_colours():
    many = StrategyColours(tuple(f"s{i}" for i in range(13)), "s0")
    assert len(set(many.scale().to_dict()["range"])) == 13


def test_formats_and_languages():
    assert percent(0.384, "en", 1) == "38.4%" and percent(0.384, "de", 1) == "38,4 %"
    assert number(1234.5, "de", 2) == "1.234,50"
    with pytest.raises(ValueError, match="--lang"):
        check_language("fr")
