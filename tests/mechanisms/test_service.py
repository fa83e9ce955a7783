"""Phase 1, service encounters: failures, complaints, recovery, satisfaction and bond."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.market import Market
from sim.mechanisms.service import FailurePath, ServiceLevel, ServiceParams, encounters

N = 4000


def level(failure: float, recovery: float = 0.0, quality: float = 0.75, staff: float = 0.0) -> ServiceLevel:
    return ServiceLevel(
        failure_per_month=failure, recovery_share=recovery, quality=quality, staff_bond_gain=staff
    )


def service(**overrides) -> Market:
    """A market whose failures are all small and silent unless ``overrides`` say otherwise."""
    defaults = dict(large_failure_share=0.0, complaint_share=0.0, complaint_share_large=0.0)
    return Market(service=ServiceParams(**{**defaults, **overrides}))


def test_bonded_customers_lose_less_bond_to_a_failure(make_model, begin_month):
    model = make_model(market=service(), customers=N)
    pop = model.population
    strong = np.arange(N) % 2 == 0
    pop.bond[:] = np.where(strong, 0.9, 0.1)
    begin_month(model)
    encounters(model, level(failure=1.0, recovery=0.0))
    np.testing.assert_array_equal(model.flows.failure_path, FailurePath.SILENT)
    assert model.flows.service_failed_unrecovered.all()
    assert not model.flows.service_recovered.any()
    loss = np.where(strong, 0.9, 0.1) - pop.bond
    assert np.all(loss > 0)
    assert loss[strong].max() < loss[~strong].min()
    params = model.market.service
    np.testing.assert_allclose(loss[strong], params.failure_bond_loss * 0.1, rtol=1e-4)


def test_a_failure_loss_is_booked_as_transient_and_never_exceeds_the_bond(make_model, begin_month):
    market = service(large_failure_share=1.0, large_failure_weight=20.0)  # a loss of 1.6 (1 - bond)
    model = make_model(market=market, customers=N)
    pop = model.population
    low = np.arange(N) % 2 == 0
    pop.bond[:] = np.where(low, 0.1, 0.95)
    pop.bond_transient[:] = 0.0
    begin_month(model)
    encounters(model, level(failure=1.0))
    np.testing.assert_array_equal(pop.bond[low], 0.0)  # all it had, not 1.6 * 0.9
    np.testing.assert_allclose(pop.bond[~low], 0.95 - 1.6 * 0.05, rtol=1e-5)
    # the loss is forgiven with time (phase 3): exactly what was lost is owed back
    np.testing.assert_allclose(pop.bond_transient, pop.bond - np.where(low, 0.1, 0.95), atol=1e-6)


def test_a_silent_failure_pulls_satisfaction_towards_the_failure_experience(make_model, begin_month):
    model = make_model(market=service(), customers=500)
    pop = model.population
    pop.satisfaction[:] = 0.8
    begin_month(model)
    encounters(model, level(failure=1.0))
    params = model.market.service
    expected = 0.8 + params.satisfaction_adaptation * (params.failure_experience - 0.8)
    np.testing.assert_allclose(pop.satisfaction, expected, rtol=1e-5)


def test_each_path_has_its_own_bond_loss_and_a_large_failure_weighs_more(make_model, begin_month):
    """Silent, unresolved, slow and fast, small and large: bond losses as the table says."""
    losses = {}
    for path, overrides in {
        FailurePath.SILENT: {},
        FailurePath.UNRESOLVED: dict(complaint_share=1.0, complaint_share_large=1.0, recovery_share=0.0),
        FailurePath.SLOW: dict(
            complaint_share=1.0, complaint_share_large=1.0, recovery_share=1.0, fast_resolution_share=0.0
        ),
        FailurePath.FAST: dict(
            complaint_share=1.0, complaint_share_large=1.0, recovery_share=1.0, fast_resolution_share=1.0
        ),
    }.items():
        for large in (False, True):
            market = service(large_failure_share=float(large), **overrides)
            model = make_model(market=market, customers=200)
            model.population.bond[:] = 0.5
            begin_month(model)
            encounters(model, level(failure=1.0, recovery=market.service.recovery_share))
            np.testing.assert_array_equal(model.flows.failure_path, path)
            losses[path, large] = 0.5 - float(model.population.bond.mean())
    p = ServiceParams()
    expected = {
        FailurePath.SILENT: p.failure_bond_loss,
        FailurePath.UNRESOLVED: p.unresolved_bond_loss,
        FailurePath.SLOW: p.slow_bond_loss,
        FailurePath.FAST: 0.0,
    }
    for (path, large), loss in losses.items():
        weight = p.large_failure_weight if large else 1.0
        assert loss == pytest.approx(expected[path] * weight * 0.5, abs=1e-6), (path, large)
    assert losses[FailurePath.UNRESOLVED, False] > losses[FailurePath.SILENT, False] > 0
    small = {path: loss for (path, large), loss in losses.items() if not large}
    assert small[FailurePath.SILENT] > small[FailurePath.SLOW] > small[FailurePath.FAST]


def test_a_fast_resolution_lifts_satisfaction_builds_no_bond_and_counts_as_personal_contact(
    make_model, begin_month
):
    market = service(complaint_share=1.0, fast_resolution_share=1.0)
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


def test_a_slow_resolution_arrives_later_with_its_own_experience(make_model, begin_month):
    market = service(complaint_share=1.0, fast_resolution_share=0.0, slow_resolution_months=2)
    model = make_model(market=market, customers=300)
    pop = model.population
    pop.months_since_personal_contact[:] = 9
    params = market.service
    begin_month(model, 1)
    encounters(model, level(failure=1.0, recovery=1.0))
    np.testing.assert_array_equal(model.flows.failure_path, FailurePath.SLOW)
    np.testing.assert_array_equal(pop.months_since_personal_contact, 9)  # nobody has called yet
    np.testing.assert_array_equal(pop.complaint_months_left, 2)
    for month in (2, 3):
        begin_month(model, month)
        pop.satisfaction[:] = 0.5
        encounters(model, level(failure=0.0, recovery=1.0, quality=0.5))
        arrived = month == 3
        assert model.flows.resolved_slowly == (300 if arrived else 0)
    expected = 0.5 + params.satisfaction_adaptation * (params.slow_recovered_experience - 0.5)
    np.testing.assert_allclose(pop.satisfaction, expected, rtol=1e-5)
    np.testing.assert_array_equal(pop.months_since_personal_contact, 0)
    np.testing.assert_array_equal(pop.complaint_months_left, 0)


def test_failures_occur_at_the_service_level_rate_and_take_every_path(make_model, begin_month):
    market = service(complaint_share=0.5, complaint_share_large=0.5, fast_resolution_share=0.5,
                     large_failure_share=0.3)
    model = make_model(market=market, customers=N)
    begin_month(model)
    encounters(model, level(failure=0.2, recovery=0.8))
    flows = model.flows
    failed = flows.failure_path > 0
    se = math.sqrt(N * 0.2 * 0.8)
    assert abs(int(failed.sum()) - 0.2 * N) < 4 * se
    n = int(failed.sum())
    shares = {FailurePath.SILENT: 0.5, FailurePath.UNRESOLVED: 0.5 * 0.2,
              FailurePath.SLOW: 0.5 * 0.8 * 0.5, FailurePath.FAST: 0.5 * 0.8 * 0.5}
    for path, share in shares.items():
        count = int(np.count_nonzero(flows.failure_path == path))
        assert abs(count - n * share) < 4 * math.sqrt(n * share * (1 - share)), path
        assert flows.failures_by_path[path] == count
    assert abs(int(flows.failure_large.sum()) - 0.3 * n) < 4 * math.sqrt(n * 0.21)
    assert not flows.failure_large[~failed].any()


def test_large_failures_are_voiced_more_often(make_model, begin_month):
    market = service(large_failure_share=0.5, complaint_share=0.1, complaint_share_large=0.6)
    model = make_model(market=market, customers=N)
    begin_month(model)
    encounters(model, level(failure=1.0))
    flows = model.flows
    voiced = flows.failure_path != FailurePath.SILENT
    large = flows.failure_large
    assert voiced[large].mean() == pytest.approx(0.6, abs=0.05)
    assert voiced[~large].mean() == pytest.approx(0.1, abs=0.03)


def test_the_first_failure_is_kept(make_model, begin_month):
    model = make_model(market=service(), customers=200)
    pop = model.population
    begin_month(model, 2)
    encounters(model, level(failure=1.0))
    begin_month(model, 3)
    encounters(model, level(failure=1.0))
    np.testing.assert_array_equal(pop.first_failure_month, 2)
    np.testing.assert_array_equal(pop.first_failure_path, FailurePath.SILENT)


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
    pop.deactivate(np.arange(0, len(pop), 2))
    gone = ~pop.active
    before = {name: getattr(pop, name)[gone].copy() for name in ("bond", "satisfaction")}
    begin_month(model)
    encounters(model, level(failure=1.0))
    assert not model.flows.failure_path[gone].any()
    for name, values in before.items():
        np.testing.assert_array_equal(getattr(pop, name)[gone], values)


def test_invalid_service_params_name_the_field():
    with pytest.raises(ValueError, match="failure_per_month"):
        ServiceParams(failure_per_month=1.5)
    with pytest.raises(ValueError, match="recovered_experience"):
        ServiceParams(recovered_experience=-0.1)
