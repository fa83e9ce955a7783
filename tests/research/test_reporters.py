"""Plugins' monthly reporters: declared with the plugin, recorded in the monthly table (and in a
sweep's monthly.parquet, also when only some strategies run the program), checked at
registration, listed by the CLI and charted."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sim.analysis.statistics import sweep_and_summarise
from sim.api import (
    Behaviour,
    PluginError,
    PluginRunError,
    Program,
    Reporter,
    register_behaviour,
    register_program,
)
from sim.behaviours import BehaviourSpec
from sim.charts.metric import metric_chart, metric_charts, plugin_metrics
from sim.charts.style import StrategyColours
from sim.executors import SerialExecutor
from sim.market import Market
from sim.model import LoyaltyModel
from sim.scenario import loads
from sim.strategy import ProgramSpec, Strategy


def _strong(model) -> int:
    return np.count_nonzero(model.population.active & (model.population.bond > 0.5))


@pytest.fixture
def plugins(scratch_registries):
    @register_behaviour("bond_watch")
    class BondWatch(Behaviour):
        reporters = (
            Reporter("bond_watch_strong", "customers", _strong),
            Reporter("bond_watch_months", "months", "months_seen", "months this behaviour has seen"),
        )

        def setup(self, model) -> None:
            self.seen = 0

        def act(self, model) -> None:
            self.seen += 1

        def months_seen(self, model) -> int:
            return self.seen

    @register_program("thank_you")
    class ThankYou(Program):
        reporters = (Reporter("thank_you_cards", "cards", lambda m: 10.0 * m.month),)

    return BondWatch, ThankYou


def test_reporters_land_in_the_monthly_table(plugins):
    market = Market(behaviours=(BehaviourSpec("bond_watch"),))
    strategy = Strategy("thanks", (ProgramSpec("thank_you"),))
    monthly = LoyaltyModel(strategy, market, customers=300, months=5, rng=1).run().monthly
    assert monthly.columns[-3:] == ["thank_you_cards", "bond_watch_strong", "bond_watch_months"]
    assert monthly["thank_you_cards"].to_list() == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert monthly["bond_watch_months"].to_list() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert monthly.schema["bond_watch_strong"] == pl.Float64
    assert plugin_metrics(monthly) == ["thank_you_cards", "bond_watch_strong", "bond_watch_months"]


def test_a_sweep_keeps_reporters_of_programs_some_strategies_do_not_run(plugins, tmp_path: Path):
    scenario = loads(
        """
        customers = 200
        months = 4
        replications = 2
        behaviours = ["bond_watch"]
        [strategies]
        rare_contact = ["rare_contact"]
        thanks = ["thank_you"]
        """,
        "reporters.toml",
    )
    report = sweep_and_summarise(scenario, tmp_path / "out", SerialExecutor())
    assert report.failed == 0
    monthly = pl.read_parquet(tmp_path / "out" / "monthly.parquet")
    thanks = monthly.filter(pl.col("strategy") == "thanks")
    rare = monthly.filter(pl.col("strategy") == "rare_contact")
    assert thanks["thank_you_cards"].null_count() == 0
    assert rare["thank_you_cards"].null_count() == rare.height
    assert rare["bond_watch_months"].null_count() == 0
    colours = StrategyColours(("rare_contact", "thanks"), "rare_contact")
    spec = metric_chart(monthly, "thank_you_cards", colours, "cards").to_dict()
    assert spec["title"]["text"] == "thank_you_cards"
    assert {row["strategy"] for row in spec["datasets"][spec["data"]["name"]]} == {"thanks"}
    # Several plugin charts share one highlight, and building them prints no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both = metric_charts(monthly, ["thank_you_cards", "bond_watch_months"], colours, {}).to_dict()
    assert len(both["params"]) == 1 and len(both["vconcat"]) == 2


@pytest.mark.parametrize(
    ("reporters", "problem"),
    [
        ((Reporter("churn_rate", "-", lambda m: 0.0),), "reporter 'churn_rate' is a column of the monthly"),
        ((Reporter("x y", "-", lambda m: 0.0),), "reporter name 'x y' must be a Python identifier"),
        ((Reporter("a", "-", "no_such_method"),), "reporter 'a' names method 'no_such_method', which Bad"),
        ((Reporter("a", "-", 3.0),), "reporter 'a' needs a function of the model"),
        ((Reporter("a", "-", lambda m: 0), Reporter("a", "-", lambda m: 1)), "reporters declared twice: a"),
        ([Reporter("a", "-", lambda m: 0)], "reporters must be a tuple of sim.api.Reporter"),
    ],
)
def test_bad_reporters_are_rejected_at_registration(scratch_registries, reporters, problem):
    with pytest.raises(PluginError, match=problem):

        @register_behaviour("bad")
        class Bad(Behaviour):
            pass

        Bad.reporters = reporters  # set after class creation, so the check sees the bad value
        register_behaviour("bad2")(Bad)


def test_a_reporter_that_raises_names_plugin_reporter_and_month(plugins, scratch_registries):
    @register_behaviour("fragile")
    class Fragile(Behaviour):
        reporters = (Reporter("fragile_ratio", "-", lambda m: 1 / (m.month - 2)),)

    market = Market(behaviours=(BehaviourSpec("fragile"),))
    strategy = Strategy("rare", (ProgramSpec("rare_contact"),))
    expected = r"behaviour 'fragile' .*failed in reporter 'fragile_ratio' in month 2: ZeroDivisionError"
    with pytest.raises(PluginRunError, match=expected):
        LoyaltyModel(strategy, market, customers=100, months=3, rng=1).run()


def test_two_plugins_reporting_one_name_is_an_error(plugins, scratch_registries):
    @register_behaviour("copycat")
    class Copycat(Behaviour):
        reporters = (Reporter("thank_you_cards", "cards", lambda m: 0.0),)

    market = Market(behaviours=(BehaviourSpec("copycat"),))
    expected = "reporter 'thank_you_cards' is declared by program 'thank_you' and behaviour 'copycat'"
    with pytest.raises(PluginError, match=expected):
        LoyaltyModel(Strategy("t", (ProgramSpec("thank_you"),)), market, customers=100, months=1, rng=1)


def test_the_listing_shows_the_reporters(plugins, cli):
    code, out, _ = cli("behaviours")
    assert code == 0
    assert "monthly results: bond_watch_strong" in out  # the caption wraps at the table's width
    code, out, _ = cli("behaviours", "--format", "json")
    listed = {p["name"]: p for p in json.loads(out)}
    assert listed["bond_watch"]["reporters"][1] == {
        "name": "bond_watch_months", "unit": "months", "doc": "months this behaviour has seen"
    }
