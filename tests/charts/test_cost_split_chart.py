"""The program-cost split: stacked bars per strategy, the biggest spender named in the title."""

from __future__ import annotations

import polars as pl

from sim.charts.cost_split import cost_split_chart
from sim.charts.style import StrategyColours
from sim.outcomes import COST_CATEGORIES


def summary_frame() -> pl.DataFrame:
    costs = {
        "base": {"contacts": 40_000.0},
        "card": {"rewards": 600_000.0, "admin": 150_000.0},
        "deals": {"discounts": 275_000.0},
    }
    return pl.DataFrame([
        {"strategy": s, "point": "{}", **{f"cost_{c}_mean": split.get(c, 0.0) for c in COST_CATEGORIES}}
        for s, split in costs.items()
    ])


def test_bars_stack_categories_and_the_title_names_the_biggest_spender():
    colours = StrategyColours(("base", "card", "deals"), "base")
    spec = cost_split_chart(summary_frame(), colours, 60).to_dict()
    bars = spec["layer"][0]
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["x"]["stack"] == "zero"
    assert bars["encoding"]["y"]["sort"] == ["card", "deals", "base"]  # most expensive on top
    assert spec["layer"][1]["mark"]["type"] == "text"  # segments named on the bar, greys not hues
    assert spec["title"]["text"] == (
        "card spends the most on its programs: 750,000 EUR over 60 months, 80% of it on rewards"
    )
    (rows,) = {len(v): v for v in spec["datasets"].values()}.values()
    assert len(rows) == 3 * len(COST_CATEGORIES)


def test_german_labels():
    colours = StrategyColours(("base", "card", "deals"), "base", "de")
    spec = cost_split_chart(summary_frame(), colours, 60).to_dict()
    assert spec["title"]["text"].startswith("card gibt am meisten für Programme aus: 750.000 EUR")
    assert "Prämien" in spec["layer"][0]["encoding"]["color"]["scale"]["domain"]


def test_results_before_the_cost_split_have_no_chart():
    colours = StrategyColours(("base",), "base")
    assert cost_split_chart(summary_frame().select("strategy", "point"), colours, 60) is None
