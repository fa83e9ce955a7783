"""Unobserved heterogeneity: the Gamma-distributed churn propensity and what it multiplies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.distributions import Gamma
from sim.market import Market
from sim.mechanisms.decision import stay_or_leave
from sim.mechanisms.heterogeneity import HeterogeneityParams
from sim.params import ParamError
from sim.scenario import ScenarioError, loads

N = 20_000


@pytest.mark.parametrize(("mean", "cv"), [(1.0, 1.0), (0.5, 0.4), (2.0, 2.0)])
def test_gamma_has_the_requested_mean_and_spread(mean, cv):
    sample = Gamma(mean, cv).sample(np.random.default_rng(1), N).astype(np.float64)
    se_mean = mean * cv / math.sqrt(N)
    assert abs(sample.mean() - mean) < 4 * se_mean
    # The coefficient of variation within 6% (its standard error is below 2% at these sizes).
    assert sample.std() / sample.mean() == pytest.approx(cv, rel=0.06)


def test_a_zero_spread_is_a_constant_and_draws_nothing():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    np.testing.assert_array_equal(Gamma(1.5, 0.0).sample(rng, 10), 1.5)
    assert rng.bit_generator.state == state


@pytest.mark.parametrize(("field", "value"), [("propensity_mean", -0.1), ("propensity_cv", -1.0)])
def test_invalid_parameters_name_the_field(field, value):
    with pytest.raises(ParamError, match=field):
        HeterogeneityParams(**{field: value})


def test_every_customer_draws_a_propensity_and_the_segments_are_unchanged(make_model):
    spread = Market(heterogeneity=HeterogeneityParams(propensity_mean=1.2, propensity_cv=0.8))
    same = Market(heterogeneity=HeterogeneityParams(propensity_mean=1.0, propensity_cv=0.0))
    a, b = make_model(market=spread, customers=N).population, make_model(market=same, customers=N).population
    assert abs(float(a.churn_propensity.mean()) - 1.2) < 4 * 1.2 * 0.8 / math.sqrt(N)
    np.testing.assert_array_equal(b.churn_propensity, 1.0)
    # Drawn after the segment traits: the other traits are those of a market without a spread.
    for trait in ("segment", "price_focus", "bond_need", "restlessness", "spend_per_month", "bond"):
        np.testing.assert_array_equal(getattr(a, trait), getattr(b, trait))


def test_the_propensity_is_the_same_under_every_strategy(make_model):
    """Common random numbers: it comes from the population stream, not from a program's."""
    card, baseline = make_model("point_card", customers=500), make_model(customers=500)
    np.testing.assert_array_equal(card.population.churn_propensity, baseline.population.churn_propensity)


def test_newcomers_draw_a_propensity_too(make_model):
    market = Market(heterogeneity=HeterogeneityParams(propensity_cv=1.0))
    model = make_model(market=market, customers=2000, months=6)
    model.run()
    joined = model.population.join_month > 0
    assert joined.sum() > 50
    assert np.unique(model.population.churn_propensity[joined]).size == joined.sum()


@pytest.fixture
def still(make_model, begin_month, calm):
    """Customers with only a background hazard and no voluntary one."""
    model = make_model(customers=N)
    calm(model)
    pop = model.population
    pop.bond[:] = 0.0  # no emotional hold
    pop.satisfaction[:] = 1.0
    pop.bond_need[:] = 0.0
    pop.price_focus[:] = 0.0
    begin_month(model, 3)
    return model


def test_the_propensity_multiplies_the_background_hazard(still):
    pop = still.population
    pop.background_exit_per_month[:] = 0.05
    pop.churn_propensity[: N // 2] = 0.0
    pop.churn_propensity[N // 2 :] = 4.0
    left = stay_or_leave(still, np.zeros(N, dtype=np.float32))
    assert not (left < N // 2).any()
    assert abs(left.size - N // 2 * 0.2) < 4 * math.sqrt(N // 2 * 0.2 * 0.8)


@pytest.mark.parametrize("hazard", ["price", "relationship", "service"])
def test_the_propensity_multiplies_every_voluntary_hazard(still, hazard):
    pop = still.population
    price = np.zeros(N, dtype=np.float32)
    if hazard == "price":
        price[:] = 0.05
    elif hazard == "relationship":
        pop.bond_need[:] = 1.0
    else:
        pop.satisfaction[:] = 0.0
    params = still.market.decision
    base = {
        "price": 0.05,
        "relationship": params.relationship_exit_per_month,
        "service": params.dissatisfaction_exit_per_month,
    }[hazard]
    pop.churn_propensity[: N // 2] = 0.0
    pop.churn_propensity[N // 2 :] = 3.0
    left = stay_or_leave(still, price)
    assert not (left < N // 2).any()
    p = 3 * base
    assert abs(left.size - N // 2 * p) < 4 * math.sqrt(N // 2 * p * (1 - p))


def test_the_section_is_a_scenario_and_grid_path():
    scenario = loads(
        '[strategies]\nbase = ["rare_contact"]\n[market.heterogeneity]\npropensity_cv = 0.5\n'
        '[grid]\n"market.heterogeneity.propensity_mean" = [0.8, 1.2]\n'
    )
    assert scenario.market.heterogeneity.propensity_cv == 0.5
    means = [scenario.at(point)[0].heterogeneity.propensity_mean for point in scenario.grid]
    assert means == [0.8, 1.2]
    with pytest.raises(ScenarioError, match=r"market\.heterogeneity\.propensity_cv"):
        loads('[strategies]\nbase = ["rare_contact"]\n[market.heterogeneity]\npropensity_cv = -1\n')


def test_the_customers_most_likely_to_leave_leave_first(make_model):
    """Sorting: those who left had a markedly higher propensity than those who stayed."""
    market = Market(heterogeneity=HeterogeneityParams(propensity_cv=1.0))
    model = make_model(market=market, customers=4000, months=24)
    model.run()
    pop = model.population
    initial = pop.join_month == 0
    survivors = pop.churn_propensity[initial & pop.active].mean()
    leavers = pop.churn_propensity[initial & ~pop.active].mean()
    assert leavers > 1.3 * survivors
