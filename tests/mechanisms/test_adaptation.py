"""Phase 3, decay and adaptation: bonds fade in silence, expectations follow rewards."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.adaptation import AdaptationParams, decay_and_adapt

N = 400


@pytest.fixture
def model(make_model, begin_month):
    # with the programs that own points and contracts (their balance and terms hooks), not started
    model = make_model("point_card", "lock_in_contract", customers=N)
    pop = model.population
    pop.bond[:] = 0.6
    pop.bond_transient[:] = 0.0  # no courted premium or failure loss to fade
    pop.satisfaction[:] = 0.5
    pop.reward_expectation[:] = 0.0
    pop.points[:] = 0.0
    pop.months_since_personal_contact[:] = 0
    begin_month(model)
    return model


def halves() -> tuple[np.ndarray, np.ndarray]:
    return np.arange(N // 2), np.arange(N // 2, N)


def test_bond_decays_faster_in_silence(model):
    pop = model.population
    recent, silent = halves()
    params = model.market.adaptation
    pop.months_since_personal_contact[silent] = int(params.silence_doubling_months)
    decay_and_adapt(model)
    assert np.all(pop.bond < 0.6)
    assert pop.bond[silent].max() < pop.bond[recent].min()
    # excess above the floor lost: the decay rate after a contact, twice that after
    # silence_doubling_months of silence
    floor = params.satisfaction_bond_share * 0.5
    lost_recent = (0.6 - pop.bond[recent]) / (0.6 - floor)
    lost_silent = (0.6 - pop.bond[silent]) / (0.6 - floor)
    np.testing.assert_allclose(lost_recent, params.bond_decay_per_month, rtol=1e-3)
    np.testing.assert_allclose(lost_silent, 2 * lost_recent, rtol=1e-3)


def test_bond_never_decays_below_what_satisfaction_sustains(model):
    pop = model.population
    pop.months_since_personal_contact[:] = 12
    floor = model.market.adaptation.satisfaction_bond_share * 0.5
    for _ in range(3000):  # the bond is a durable stock: it takes years
        decay_and_adapt(model)
    assert np.all(pop.bond >= floor - 1e-6)
    np.testing.assert_allclose(pop.bond, floor, atol=1e-3)


def test_a_bond_below_the_floor_recovers_slowly(model):
    pop = model.population
    pop.bond[:] = 0.0
    decay_and_adapt(model)
    params = model.market.adaptation
    floor = params.satisfaction_bond_share * 0.5
    np.testing.assert_allclose(pop.bond, params.trust_recovery_per_month * floor, rtol=1e-4)


def test_a_failure_loss_is_forgiven_with_time_and_a_courted_premium_fades(model):
    pop = model.population
    dented, courted = halves()
    pop.bond_transient[dented] = -0.2  # failures took 0.2 of the bond
    pop.bond_transient[courted] = 0.1  # the courting before the sale added 0.1
    params = model.market.adaptation
    floor = params.satisfaction_bond_share * 0.5
    decay = params.bond_decay_per_month * (0.6 - floor)  # the durable part's own decay this month
    fade = params.transient_bond_fade_per_month
    assert fade > 0
    decay_and_adapt(model)
    np.testing.assert_allclose(pop.bond[dented], 0.6 - decay + fade * 0.2, rtol=1e-5)
    np.testing.assert_allclose(pop.bond[courted], 0.6 - decay - fade * 0.1, rtol=1e-5)
    np.testing.assert_allclose(pop.bond_transient[dented], -0.2 * (1 - fade), rtol=1e-5)
    np.testing.assert_allclose(pop.bond_transient[courted], 0.1 * (1 - fade), rtol=1e-5)


def test_a_reward_below_expectation_disappoints(model):
    pop = model.population
    expecting, not_expecting = halves()
    pop.reward_expectation[expecting] = 0.03
    decay_and_adapt(model)
    assert pop.satisfaction[expecting].max() < pop.satisfaction[not_expecting].min()
    assert pop.bond[expecting].max() < pop.bond[not_expecting].min()
    np.testing.assert_allclose(pop.satisfaction[not_expecting], 0.5)
    # expectations adapt down towards the reward received (nothing)
    assert np.all(pop.reward_expectation[expecting] < 0.03)
    assert np.all(pop.reward_expectation[expecting] > 0.0)


def test_expectations_rise_with_rewards_and_rewards_build_rational_value(model):
    pop = model.population
    rewarded, unrewarded = halves()
    pop.reward_received[rewarded] = 0.03
    decay_and_adapt(model)
    assert np.all(pop.reward_expectation[rewarded] > 0.0)
    np.testing.assert_array_equal(pop.reward_expectation[unrewarded], 0.0)
    assert np.all(pop.rational_value[rewarded] > 0.0)
    np.testing.assert_array_equal(pop.rational_value[unrewarded], 0.0)
    # a reward is not disappointing, and it builds no bond
    np.testing.assert_allclose(pop.satisfaction, 0.5)
    np.testing.assert_allclose(pop.bond[rewarded], pop.bond[unrewarded])


def test_an_expected_reward_is_partly_taken_for_granted(model):
    pop = model.population
    fresh, habitual = halves()
    pop.reward_received[:] = 0.03
    pop.reward_expectation[habitual] = 0.03
    decay_and_adapt(model)
    assert pop.rational_value[habitual].max() < pop.rational_value[fresh].min()
    assert pop.rational_value[habitual].min() > 0.0


def test_points_at_stake_are_rational_value_capped_at_one(model):
    pop = model.population
    pop.spend_per_month[:] = 50.0
    pop.points[: N // 4] = 0.0
    pop.points[N // 4 : N // 2] = 20.0
    pop.points[N // 2 :] = 10_000.0
    decay_and_adapt(model)
    reference = model.market.adaptation.points_reference_months
    np.testing.assert_array_equal(pop.rational_value[: N // 4], 0.0)
    np.testing.assert_allclose(pop.rational_value[N // 4 : N // 2], 20.0 / (50.0 * reference), rtol=1e-5)
    np.testing.assert_array_equal(pop.rational_value[N // 2 :], 1.0)


def test_resentment_fades_only_once_the_customer_is_free(model):
    pop = model.population
    locked, free = halves()
    pop.resentment[:] = 0.5
    pop.contract_months_left[locked] = 6
    decay_and_adapt(model)
    np.testing.assert_array_equal(pop.resentment[locked], 0.5)
    assert np.all(pop.resentment[free] < 0.5)


def test_customers_who_left_are_untouched(model):
    pop = model.population
    pop.deactivate(np.arange(0, len(pop), 2))
    pop.months_since_personal_contact[:] = 24
    pop.reward_expectation[:] = 0.05
    decay_and_adapt(model)
    gone = ~pop.active
    np.testing.assert_array_equal(pop.bond[gone], np.float32(0.6))
    np.testing.assert_array_equal(pop.satisfaction[gone], np.float32(0.5))
    np.testing.assert_array_equal(pop.reward_expectation[gone], np.float32(0.05))
    assert np.all(pop.bond[pop.active] < 0.6)


@pytest.mark.parametrize(
    ("field", "value"),
    [("bond_decay_per_month", 1.5), ("silence_doubling_months", 0.0), ("disappointment_bond_loss", -1.0)],
)
def test_invalid_adaptation_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        AdaptationParams(**{field: value})


@pytest.mark.parametrize("field", ["reward_reference", "points_reference_months"])
def test_references_too_small_for_float32_are_rejected(field):
    with pytest.raises(ValueError, match=field):
        AdaptationParams(**{field: 1e-300})
