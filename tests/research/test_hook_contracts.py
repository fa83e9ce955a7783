"""Hook contracts: each kind defines only its own hooks, in-place hooks return nothing, the
multiplier is a number, and the behaviours' exit-hazard hook scales each reason per customer."""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import Behaviour, ExitHazards, PluginError, PluginRunError, Program, register_behaviour
from sim.api import register_program as program
from sim.behaviours import BehaviourSpec
from sim.market import Market
from sim.model import LoyaltyModel
from sim.population import EXIT_REASONS
from sim.strategy import ProgramSpec, Strategy

RARE = Strategy("rare_contact", (ProgramSpec("rare_contact"),))


def _run(*behaviours: str, customers: int = 3_000, months: int = 24):
    market = Market(behaviours=tuple(BehaviourSpec(b) for b in behaviours))
    return LoyaltyModel(RARE, market, customers=customers, months=months, rng=3).run().summary()


def test_a_program_defining_a_behaviour_hook_is_rejected(scratch_registries):
    with pytest.raises(PluginError) as caught:

        @program("sneaky_offers")
        class SneakyOffers(Program):
            def offers(self, model, switch) -> None:
                switch *= 0.0

    message = str(caught.value)
    assert message.startswith("program 'sneaky_offers'")
    assert "method 'offers' is a behaviour hook and never runs in a program" in message
    assert f"(a program's hooks: {', '.join(Program.HOOKS)})" in message


def test_a_behaviour_defining_a_program_hook_is_rejected(scratch_registries):
    with pytest.raises(PluginError, match="method 'start' is a program hook and never runs in a behaviour"):

        @register_behaviour("early_start")
        class EarlyStart(Behaviour):
            def start(self, model) -> None:
                pass


def test_a_hook_that_returns_an_array_instead_of_writing_in_place_fails(scratch_registries):
    @register_behaviour("rebinder")
    class Rebinder(Behaviour):
        def offers(self, model, switch):
            switch = switch * 0.0  # a new array: the model's would be unchanged
            return switch

    with pytest.raises(PluginRunError) as caught:
        _run("rebinder", customers=100, months=2)
    assert str(caught.value).startswith(
        "behaviour 'rebinder' (from module test_hook_contracts) failed in hook 'offers' in month 1: "
        "returned ndarray, which would be ignored; hooks change arrays in place"
    )


@pytest.mark.parametrize("value", [-1.0, None, float("nan"), "2"])
def test_a_multiplier_must_be_a_number_at_least_zero(scratch_registries, value):
    @register_behaviour("bad_multiplier")
    class BadMultiplier(Behaviour):
        def acquisition_multiplier(self, model):
            return value

    expected = r"hook 'acquisition_multiplier' in month 1: expected a number >= 0"
    with pytest.raises(PluginRunError, match=expected):
        _run("bad_multiplier", customers=100, months=2)


def test_exit_hazards_scale_each_reason_per_customer(scratch_registries):
    @register_behaviour("no_neglect")
    class NoNeglect(Behaviour):
        def exit_hazards(self, model, ids, hazards: ExitHazards) -> None:
            hazards.relationship *= 0.0

    @register_behaviour("loyal_bonded")
    class LoyalBonded(Behaviour):
        """Price exits halved for customers with a bond above 0.3, others unchanged."""

        def exit_hazards(self, model, ids, hazards: ExitHazards) -> None:
            hazards.price[model.population.bond[ids] > 0.3] *= 0.5

    @register_behaviour("identity")
    class Identity(Behaviour):
        def exit_hazards(self, model, ids, hazards: ExitHazards) -> None:
            hazards.service *= 1.0

    plain = _run()
    assert _run("identity") == plain  # the hook itself changes nothing
    neglect = _run("no_neglect")["churn_by_reason"]
    assert neglect["relationship"] == 0 < plain["churn_by_reason"]["relationship"]
    assert neglect["service"] > 0
    halved = _run("loyal_bonded")["churn_by_reason"]
    assert 0 < halved["price"] < plain["churn_by_reason"]["price"]
    assert set(halved) == set(EXIT_REASONS)


def test_an_exit_hazard_factor_of_the_wrong_shape_fails(scratch_registries):
    @register_behaviour("reshaper")
    class Reshaper(Behaviour):
        def exit_hazards(self, model, ids, hazards: ExitHazards) -> None:
            hazards.price = np.ones(3)

    with pytest.raises(PluginRunError, match=r"hazards.price must stay an array of \d+ finite factors >= 0"):
        _run("reshaper", customers=100, months=2)


@pytest.mark.parametrize("debug", ["", "1"])
def test_a_failing_plugin_in_run_is_one_line_unless_debugging(
    scratch_registries, cli, tmp_path, monkeypatch, debug
):
    @register_behaviour("tripwire")
    class Tripwire(Behaviour):
        def act(self, model) -> None:
            if model.month == 3:
                raise ValueError("tripped")

    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'customers = 100\nmonths = 4\nbehaviours = ["tripwire"]\n'
        '[strategies]\nrare_contact = ["rare_contact"]\n'
    )
    monkeypatch.setenv("LOYALTY_SIM_DEBUG", debug)
    code, _, err = cli("run", str(scenario))
    assert code == 1
    assert "behaviour 'tripwire' (from module test_hook_contracts) failed in hook 'act' in month 3: " in err
    assert ("Traceback (most recent call last)" in err) == bool(debug)
