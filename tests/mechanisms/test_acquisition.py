"""Phase 6, new customers: an open cohort joins; the initial cohort is tracked separately."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.market import Market
from sim.mechanisms.acquisition import AcquisitionParams, expected_joiners


def test_expected_joiners_scale_with_the_initial_cohort_and_the_multiplier(make_model):
    market = Market(acquisition=AcquisitionParams(new_customers_per_month_share=0.02))
    model = make_model(market=market, customers=1500)
    assert expected_joiners(model, 1.0) == pytest.approx(30.0)
    assert expected_joiners(model, 2.5) == pytest.approx(75.0)


def test_joiners_arrive_at_the_expected_rate_and_do_not_count_as_the_initial_cohort(make_model):
    market = Market(acquisition=AcquisitionParams(new_customers_per_month_share=0.02))
    model = make_model(market=market, customers=2000, months=12, rng=14)
    monthly = model.run().monthly
    acquired = monthly["acquired"].to_numpy()
    mean = 0.02 * 2000 * 12  # Poisson total
    assert abs(acquired.sum() - mean) < 4 * math.sqrt(mean)
    pop = model.population
    joined = pop.join_month > 0
    assert joined.sum() == acquired.sum()
    for month, count in enumerate(acquired, start=1):
        assert np.count_nonzero(pop.join_month == month) == count
    initial_active = np.count_nonzero(pop.active & ~joined)
    assert monthly["active_initial"][-1] == initial_active
    assert monthly["active_total"][-1] == np.count_nonzero(pop.active)


@pytest.mark.parametrize("premium", [0.0, 0.1])
def test_new_customers_are_courted_with_a_transient_premium(make_model, premium):
    params = AcquisitionParams(new_customers_per_month_share=0.05, courted_bond_premium=premium)
    market = Market(acquisition=params)
    model = make_model(market=market, customers=2000, rng=3)
    pop = model.population
    drawn = pop.bond - pop.bond_transient  # the segment's initial bond
    np.testing.assert_allclose(pop.bond_transient, np.minimum(premium, 1.0 - drawn), atol=1e-6)
    assert drawn.mean() == pytest.approx(0.25 * 0.4 + 0.15 * 0.25 + 0.25 * 0.35, abs=0.01)
    model.step()
    joiners = np.flatnonzero(pop.join_month == 1)
    assert joiners.size > 50
    np.testing.assert_allclose(pop.bond_transient[joiners], premium, atol=1e-6)


def test_a_closed_cohort_gets_no_joiners(make_model):
    market = Market(acquisition=AcquisitionParams(new_customers_per_month_share=0.0))
    monthly = make_model(market=market, customers=500, months=6).run().monthly
    assert monthly["acquired"].sum() == 0
    assert monthly["active_total"].equals(monthly["active_initial"])


def test_invalid_share_names_the_field():
    with pytest.raises(ValueError, match="new_customers_per_month_share"):
        AcquisitionParams(new_customers_per_month_share=-0.1)
