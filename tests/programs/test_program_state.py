"""State owned by programs: a plugin's own contract reaches the core through the ``terms`` hook,
contracts of several programs combine, and state hooks keep their contract."""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import Column, PluginRunError, Program, Terms, register_program
from sim.model import LoyaltyModel
from sim.strategy import ProgramSpec, Strategy

N = 2000


def test_a_plugin_contract_locks_customers_in_like_the_built_in_one(scratch_registries):
    @register_program("subscription")
    class Subscription(Program):
        """A yearly plan: a 12-month term with a fee of two months, counted down by the plugin."""

        columns = (Column("plan_months_left", "int16", 0, "months left on the plan; 0 = none"),)

        def start(self, model) -> None:
            self.onboard(model, model.population.active_ids())

        def onboard(self, model, ids) -> None:
            model.population.plan_months_left[ids] = 12

        def age(self, model) -> None:
            pop = model.population
            pop.plan_months_left[pop.active & (pop.plan_months_left > 0)] -= 1

        def terms(self, model, ids):
            months_left = model.population.plan_months_left[ids]
            return Terms(months_left, np.full(ids.size, 2.0, dtype=np.float32))

    plan = Strategy("plan", (ProgramSpec("subscription"),))
    free = Strategy("free", (ProgramSpec("rare_contact"),))
    monthly = LoyaltyModel(plan, customers=N, months=12, rng=3).run().monthly
    baseline = LoyaltyModel(free, customers=N, months=12, rng=3).run().monthly
    during = monthly[:11]
    for reason in ("price", "service", "relationship"):
        assert during[f"churned_{reason}"].sum() == 0, reason
    assert during["mean_resentment"][-1] > 0.0 == baseline["mean_resentment"][-1]
    assert during["exit_fees"].sum() > 0.0  # break-outs pay the plugin's fee
    assert monthly["term_ends_rolled_on"][11] > 0  # the term's end is a decision, in month 12
    assert monthly["churned_contract_end"][11] > 0


def test_contracts_of_several_programs_bind_until_the_last_ends_and_fees_add_up():
    a = Terms(np.array([0, 3, 1, 0], dtype=np.int16), np.array([9.0, 2.0, 1.0, 9.0], dtype=np.float32))
    b = Terms(np.array([2, 0, 1, 0], dtype=np.int16), np.array([4.0, 9.0, 3.0, 9.0], dtype=np.float32))
    both = Terms.combine([a, b])
    np.testing.assert_array_equal(both.months_left, [2, 3, 1, 0])
    np.testing.assert_array_equal(both.exit_fee_months[:3], [4.0, 2.0, 4.0])  # only running contracts
    assert Terms.combine([a]) is a


def test_a_terms_hook_with_arrays_of_the_wrong_length_names_plugin_and_hook(scratch_registries):
    @register_program("short_terms")
    class ShortTerms(Program):
        def terms(self, model, ids):
            return Terms(np.zeros(3, dtype=np.int16), np.zeros(3, dtype=np.float32))

    strategy = Strategy("short", (ProgramSpec("short_terms"),))
    with pytest.raises(PluginRunError, match=r"'short_terms'.*hook 'terms' in month 1.*months_left"):
        LoyaltyModel(strategy, customers=100, months=2, rng=1).run()


def test_point_balances_reach_rational_value_and_the_liability(make_model):
    card = make_model("point_card", customers=N, months=6, rng=2)
    monthly = card.run().monthly
    pop = card.population
    held = pop.points[pop.active].sum()
    assert monthly["points_liability"][-1] == pytest.approx(float(held))
    assert card.balance(np.arange(len(pop))) is not None
    assert make_model(customers=10).balance(np.arange(10)) is None
