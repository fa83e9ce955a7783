"""Phase 1, service encounters: failures, complaints, recovery, satisfaction and bond."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.market import Market
from sim.mechanisms.service import ServiceLevel, ServiceParams, encounters

N = 4000


def level(failure: float, recovery: float = 0.0, quality: float = 0.75, staff: float = 0.0) -> ServiceLevel:
    return ServiceLevel(
        failure_per_month=failure, recovery_share=recovery, quality=quality, staff_bond_gain=staff
    )


def test_bonded_customers_lose_less_bond_to_a_failure(make_model, begin_month):
    model = make_model(customers=N)
    pop = model.population
    strong = np.arange(N) % 2 == 0
    pop.bond[:] = np.where(strong, 0.9, 0.1)
    begin_month(model)
    encounters(model, level(failure=1.0, recovery=0.0))
    assert model.flows.service_failed_unrecovered.all()
    assert not model.flows.service_recovered.any()
    loss = np.where(strong, 0.9, 0.1) - pop.bond
    assert np.all(loss > 0)
    assert loss[strong].max() < loss[~strong].min()
    params = model.market.service
    np.testing.assert_allclose(loss[strong], params.failure_bond_loss * 0.1, rtol=1e-4)


def test_an_unrecovered_failure_pulls_satisfaction_towards_the_failure_experience(make_model, begin_month):
    model = make_model(customers=500)
    pop = model.population
    pop.satisfaction[:] = 0.8
    begin_month(model)
    encounters(model, level(failure=1.0))
    params = model.market.service
    expected = 0.8 + params.satisfaction_adaptation * (params.failure_experience - 0.8)
    np.testing.assert_allclose(pop.satisfaction, expected, rtol=1e-5)


def test_a_good_recovery_lifts_satisfaction_builds_no_bond_and_counts_as_personal_contact(
    make_model, begin_month
):
    market = Market(service=ServiceParams(complaint_share=1.0))
    model = make_model(market=market, customers=500)
    pop = model.population
    pop.satisfaction[:] = 0.75
    pop.months_since_personal_contact[:] = 9
    bond_before = pop.bond.copy()
    begin_month(model)
    encounters(model, level(failure=1.0, recovery=1.0))
    assert model.flows.service_recovered.all()
    assert not model.flows.service_failed_unrecovered.any()
    # the recovery paradox: satisfaction above its level before the failure, bond unchanged
    assert np.all(pop.satisfaction > 0.75)
    np.testing.assert_array_equal(pop.bond, bond_before)
    np.testing.assert_array_equal(pop.months_since_personal_contact, 0)


def test_failures_occur_at_the_service_level_rate_and_only_complaints_get_recovered(make_model, begin_month):
    market = Market(service=ServiceParams(complaint_share=0.5))
    model = make_model(market=market, customers=N)
    begin_month(model)
    encounters(model, level(failure=0.2, recovery=1.0))
    failed = model.flows.service_failed_unrecovered | model.flows.service_recovered
    se = math.sqrt(N * 0.2 * 0.8)
    assert abs(int(failed.sum()) - 0.2 * N) < 4 * se
    # half of the failures are voiced, and all voiced ones are recovered
    recovered_share = model.flows.service_recovered.sum() / failed.sum()
    assert abs(recovered_share - 0.5) < 4 * math.sqrt(0.25 / failed.sum())
    assert not (model.flows.service_failed_unrecovered & model.flows.service_recovered).any()


def test_without_failures_satisfaction_moves_towards_quality(make_model, begin_month):
    model = make_model(customers=500)
    pop = model.population
    pop.satisfaction[:250] = 0.2
    pop.satisfaction[250:] = 1.0
    bond_before = pop.bond.copy()
    begin_month(model)
    encounters(model, level(failure=0.0, quality=0.6))
    assert not model.flows.service_failed_unrecovered.any()
    assert np.all(pop.satisfaction[:250] > 0.2) and np.all(pop.satisfaction[:250] < 0.6)
    assert np.all(pop.satisfaction[250:] < 1.0) and np.all(pop.satisfaction[250:] > 0.6)
    np.testing.assert_array_equal(pop.bond, bond_before)


def test_staff_who_care_build_bond_for_those_who_need_it(make_model, begin_month):
    model = make_model(customers=500)
    pop = model.population
    pop.bond[:] = 0.3
    pop.bond_need[:250] = 0.0
    pop.bond_need[250:] = 0.8
    begin_month(model)
    encounters(model, level(failure=0.0, staff=0.05))
    np.testing.assert_allclose(pop.bond[:250], 0.3)
    np.testing.assert_allclose(pop.bond[250:], 0.3 + 0.05 * 0.8 * 0.7, rtol=1e-5)


def test_customers_who_left_are_untouched(make_model, begin_month):
    model = make_model(customers=500)
    pop = model.population
    pop.active[::2] = False
    gone = ~pop.active
    before = {name: getattr(pop, name)[gone].copy() for name in ("bond", "satisfaction")}
    begin_month(model)
    encounters(model, level(failure=1.0))
    assert not model.flows.service_failed_unrecovered[gone].any()
    for name, values in before.items():
        np.testing.assert_array_equal(getattr(pop, name)[gone], values)


def test_invalid_service_params_name_the_field():
    with pytest.raises(ValueError, match="failure_per_month"):
        ServiceParams(failure_per_month=1.5)
    with pytest.raises(ValueError, match="recovered_experience"):
        ServiceParams(recovered_experience=-0.1)
