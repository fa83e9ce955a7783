"""The vectorised model and the per-customer Mesa reference agree in distribution.

Both run the same scenario over many seeds; cohort loss, the shares of exits by reason and the
monthly churn curve must agree within the margins of ``benchmarks.agreement`` (3.29 standard
errors per outcome, 4 for the worst of the monthly churn rates). The checks can fail: a model
whose market differs by one parameter is detected, by the same checks on the same run counts.
"""

from __future__ import annotations

import pytest

from benchmarks.agreement import disagreements
from benchmarks.reference import ReferenceModel
from sim.market import Market
from sim.mechanisms.decision import DecisionParams
from sim.model import LoyaltyModel
from sim.strategy import builtin_strategies

# Relationship exits are the largest exit reason; half as many again moves cohort loss by
# about 6 percentage points, several times the margin at these run counts.
ALTERED = Market(decision=DecisionParams(relationship_exit_per_month=0.03))


def vectorised(
    strategy: str, seeds: range, customers: int, months: int, market: Market | None = None
) -> list[dict]:
    model = builtin_strategies()[strategy]
    return [LoyaltyModel(model, market, customers, months, rng=s).run().summary() for s in seeds]


def test_the_agreement_checks_pass_equal_models_and_catch_an_altered_parameter():
    # 1,000 customers: with a wide churn propensity, 500 made the worst monthly churn rate of two
    # equal models differ beyond its 4-standard-error margin now and then.
    first = vectorised("rare_contact", range(12), 1000, 36)
    second = vectorised("rare_contact", range(100, 112), 1000, 36)
    altered = vectorised("rare_contact", range(200, 212), 1000, 36, ALTERED)
    assert disagreements(first, second) == []
    found = disagreements(first, altered)
    # The raised relationship hazard must be caught where it acts: the share of exits for that
    # reason (with durable bonds and a wide churn propensity it moves cohort loss by less than the
    # checks' margin on 12 x 1,000 customers, so cohort loss is not required to flag it).
    assert any("relationship" in f for f in found), found


def test_the_reference_model_steps_one_mesa_agent_per_customer():
    model = ReferenceModel(builtin_strategies()["rare_contact"], customers=50, months=3, rng=1)
    assert len(model.agents) == 50
    summary = model.run()
    assert 0.0 <= summary["cohort_loss"] < 1.0
    assert len(summary["monthly_churn"]) == 3


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["rare_contact", "lock_in_contract"])
def test_vectorised_and_per_customer_reference_agree_in_distribution(strategy):
    seeds, customers, months = range(20), 1_000, 60
    reference = [
        ReferenceModel(builtin_strategies()[strategy], customers=customers, months=months, rng=s).run()
        for s in seeds
    ]
    fast = vectorised(strategy, range(1000, 1020), customers, months)
    assert disagreements(reference, fast, customers) == []
    # The same run counts would have caught a model with one parameter changed.
    altered = vectorised(strategy, range(2000, 2020), customers, months, ALTERED)
    assert disagreements(reference, altered, customers)
