"""Phase 5, stay or leave: competing exit hazards, lock-in, breakouts and term ends."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.mechanisms.decision import DecisionParams, stay_or_leave
from sim.mechanisms.service import FailurePath
from sim.population import ExitReason

N = 4000


def within(count: int, n: int, p: float, se_count: float = 4.0) -> bool:
    """``count`` successes out of ``n`` are within ``se_count`` standard errors of ``n * p``."""
    return abs(count - n * p) <= se_count * math.sqrt(n * p * (1 - p)) + 1e-9


@pytest.fixture
def quiet(make_model, begin_month, calm):
    """A model whose customers have no hazard at all unless a test gives them one; the lock-in
    program (not started) owns the contract columns that tests set."""
    model = make_model("rare_contact", "lock_in_contract", customers=N)
    calm(model)
    pop = model.population
    pop.bond[:] = 0.0  # no emotional hold, unless a test gives a bond
    pop.satisfaction[:] = 1.0  # no dissatisfaction hazard
    pop.bond_need[:] = 0.0  # no relationship hazard
    pop.price_focus[:] = 0.0
    pop.rational_value[:] = 0.0
    pop.tenure_months[:] = 5
    pop.months_since_personal_contact[:] = 2
    begin_month(model, 3)
    return model


def groups(k: int) -> list[np.ndarray]:
    return [np.arange(N)[np.arange(N) % k == i] for i in range(k)]


def test_nobody_leaves_without_a_hazard(quiet):
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    pop = quiet.population
    assert left.size == 0 and pop.active.all()
    # Ageing is its own phase (sim.mechanisms.ageing).
    np.testing.assert_array_equal(pop.tenure_months, 5)


def test_free_customers_follow_the_price_pull_and_leavers_are_recorded(quiet):
    left = stay_or_leave(quiet, np.full(N, 0.3, dtype=np.float32))
    pop = quiet.population
    assert within(left.size, N, 0.3)
    np.testing.assert_array_equal(pop.exit_reason[left], ExitReason.PRICE)
    np.testing.assert_array_equal(pop.exit_month[left], 3)
    assert not pop.active[left].any()
    np.testing.assert_array_equal(quiet.flows.exited, left)


def test_bonded_customers_forgive_a_failure(quiet):
    pop = quiet.population
    strong, weak = groups(2)
    pop.bond[strong] = 0.9
    pop.bond[weak] = 0.1
    quiet.flows.failure_path[:] = FailurePath.SILENT
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    params = quiet.market.decision
    np.testing.assert_array_equal(pop.exit_reason[left], ExitReason.SERVICE)
    left_strong, left_weak = np.isin(left, strong).sum(), np.isin(left, weak).sum()
    hold = math.exp(-params.emotional_hold * 0.1)
    assert within(left_weak, weak.size, params.failure_exit_share * 0.9**params.forgiveness * hold)
    assert left_strong < left_weak / 5


def test_background_exits_happen_whatever_the_ties(quiet):
    pop = quiet.population
    locked, free = groups(2)
    pop.background_exit_per_month[:] = 0.2
    pop.contract_months_left[locked] = 10
    pop.exit_fee_months[locked] = 100.0
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    np.testing.assert_array_equal(pop.exit_reason[left], ExitReason.BACKGROUND)
    assert within(np.isin(left, locked).sum(), locked.size, 0.2)
    assert within(np.isin(left, free).sum(), free.size, 0.2)


def test_lock_in_blocks_voluntary_exits_unless_resentment_beats_the_barrier(quiet):
    pop = quiet.population
    free, calm_locked, angry_locked, angry_high_fee = groups(4)
    locked = np.concatenate([calm_locked, angry_locked, angry_high_fee])
    pop.contract_months_left[locked] = 10
    pop.exit_fee_months[locked] = 3.0  # barrier 1 - exp(-1) = 0.63 with the default reference
    pop.exit_fee_months[angry_high_fee] = 24.0  # barrier 1 - exp(-8), above any resentment
    pop.resentment[angry_locked] = 0.5
    pop.resentment[angry_high_fee] = 0.5
    pop.bond[locked] = 0.5  # the price hazard, the only one here, does not depend on it
    pull = 0.3
    left = stay_or_leave(quiet, np.full(N, pull, dtype=np.float32))
    params = quiet.market.decision

    assert within(np.isin(left, free).sum(), free.size, pull)
    # 0 + 0.3 stays below the barrier: blocked; the blocked pull turns into resentment
    assert not np.isin(left, calm_locked).any()
    np.testing.assert_allclose(
        pop.resentment[calm_locked], params.resentment_per_blocked_exit * pull, rtol=1e-5
    )
    # 0.5 + 0.3 beats the barrier of a 3-month fee, not that of a 24-month fee
    breakouts = left[np.isin(left, angry_locked)]
    assert within(breakouts.size, angry_locked.size, params.breakout_share * pull)
    np.testing.assert_array_equal(pop.exit_reason[breakouts], ExitReason.RESENTMENT)
    assert not np.isin(left, angry_high_fee).any()
    # being trapped and resentful costs bond; the clock runs in the ageing phase
    stayed = locked[pop.active[locked]]
    np.testing.assert_array_equal(pop.contract_months_left[stayed], 10)
    assert np.all(pop.bond[stayed] < 0.5)
    np.testing.assert_array_equal(pop.bond[free[pop.active[free]]], 0.0)


def test_a_term_end_is_a_decision_for_those_who_pay_attention(quiet):
    pop = quiet.population
    content, resentful = groups(2)
    pop.contract_months_left[:] = 1
    pop.exit_fee_months[:] = 3.0
    pop.resentment[resentful] = 1.0
    inattentive = np.arange(N) % 4 < 2  # half of each group; the term's end wakes some of them
    pop.attention[:] = np.where(inattentive, 0.0, 1.0)
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    params, gain = quiet.market.decision, quiet.market.attention.term_end_gain
    flows = quiet.flows

    # content customers who act re-contract; nobody content leaves
    assert not np.isin(left, content).any()
    p_switch = 1 - math.exp(-params.term_end_resentment_weight * 1.0)
    awake = resentful[~inattentive[resentful]]
    assert within(np.isin(left, awake).sum(), awake.size, p_switch)
    dozing = resentful[inattentive[resentful]]
    assert within(np.isin(left, dozing).sum(), dozing.size, gain * p_switch)
    np.testing.assert_array_equal(pop.exit_reason[left], ExitReason.CONTRACT_END)

    # every stayer is reported, with whether they re-contracted or rolled on
    np.testing.assert_array_equal(flows.term_ended, pop.active_ids())
    actions = flows.term_end_actions
    assert actions["switched"] == left.size
    assert actions["recontracted"] + actions["rolled_on"] == N - left.size
    rolled = flows.term_ended[~flows.recontracted]
    assert np.all(inattentive[rolled])  # attentive customers never roll on
    woke = np.count_nonzero(inattentive[content] & np.isin(content, flows.term_ended[flows.recontracted]))
    assert within(woke, np.count_nonzero(inattentive[content]), gain)


def test_pent_up_pull_acts_at_the_term_end(quiet):
    pop = quiet.population
    pop.contract_months_left[:] = 1  # and attention 1: everyone acts
    pull = 0.1
    left = stay_or_leave(quiet, np.full(N, pull, dtype=np.float32))
    params = quiet.market.decision
    resentment = params.resentment_per_blocked_exit * pull
    p_leave = 1 - math.exp(
        -(params.term_end_resentment_weight * resentment + params.term_end_window_months * pull)
    )
    assert within(left.size, N, p_leave)
    assert left.size > 2 * N * pull  # far more than a free customer's pull would take
    np.testing.assert_array_equal(pop.exit_reason[left], ExitReason.CONTRACT_END)


def test_reasons_follow_the_component_hazards(quiet):
    pop = quiet.population
    bond_hungry, price_tempted = groups(2)
    pop.bond[bond_hungry] = 0.0
    pop.bond_need[bond_hungry] = 1.0
    pop.bond_need[price_tempted] = 0.0
    price = np.zeros(N, dtype=np.float32)
    price[price_tempted] = 0.2
    left = stay_or_leave(quiet, price)
    reasons = pop.exit_reason
    params = quiet.market.decision
    hungry_left = left[np.isin(left, bond_hungry)]
    # bond 0 also means low satisfaction has no say (satisfaction 1): relationship only
    np.testing.assert_array_equal(reasons[hungry_left], ExitReason.RELATIONSHIP)
    assert within(hungry_left.size, bond_hungry.size, params.relationship_exit_per_month)
    np.testing.assert_array_equal(reasons[left[np.isin(left, price_tempted)]], ExitReason.PRICE)


def test_rewards_at_stake_damp_voluntary_exits(quiet):
    pop = quiet.population
    held, loose = groups(2)
    pop.bond[:] = 0.0
    pop.bond_need[:] = 1.0
    pop.price_focus[:] = 1.0
    pop.rational_value[held] = 1.0
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    params = quiet.market.decision
    hold = math.exp(-params.rational_hold)
    assert within(np.isin(left, held).sum(), held.size, params.relationship_exit_per_month * hold)
    assert np.isin(left, held).sum() < np.isin(left, loose).sum()


def test_dissatisfaction_adds_a_hazard_below_the_content_level(quiet):
    pop = quiet.population
    unhappy, content = groups(2)
    pop.satisfaction[unhappy] = 0.0
    pop.satisfaction[content] = quiet.market.decision.content_level
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    assert not np.isin(left, content).any()
    params = quiet.market.decision
    assert within(np.isin(left, unhappy).sum(), unhappy.size, params.dissatisfaction_exit_per_month)
    np.testing.assert_array_equal(pop.exit_reason[left], ExitReason.SERVICE)


def test_only_active_customers_decide(quiet):
    pop = quiet.population
    pop.deactivate(np.arange(N // 2))
    pop.exit_month[: N // 2] = 1
    pop.exit_reason[: N // 2] = ExitReason.PRICE
    left = stay_or_leave(quiet, np.ones(N, dtype=np.float32))
    assert left.min() >= N // 2
    np.testing.assert_array_equal(pop.exit_month[: N // 2], 1)
    np.testing.assert_array_equal(pop.tenure_months[: N // 2], 5)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("failure_exit_share", 1.5),
        ("forgiveness", -1.0),
        ("fee_reference_months", 0.0),
        ("breakout_share", -0.1),
    ],
)
def test_invalid_decision_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        DecisionParams(**{field: value})


# --- every hazard term: dropping or changing any one of them fails one of these ----------------


def test_the_relationship_hazard_falls_with_the_bond_squared_and_the_emotional_hold(quiet):
    pop = quiet.population
    pop.bond_need[:] = 1.0
    pop.bond[:] = 0.5
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    params = quiet.market.decision
    p = params.relationship_exit_per_month * 0.5**2 * math.exp(-params.emotional_hold * 0.5)
    assert within(left.size, N, p)
    np.testing.assert_array_equal(pop.exit_reason[left], ExitReason.RELATIONSHIP)


def test_the_relationship_hazard_grows_with_the_need_for_a_bond(quiet):
    pop = quiet.population
    needy, content = groups(2)
    pop.bond_need[needy] = 1.0
    pop.bond_need[content] = 0.25
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    rate = quiet.market.decision.relationship_exit_per_month
    assert within(np.isin(left, needy).sum(), needy.size, rate)
    assert within(np.isin(left, content).sum(), content.size, rate * 0.25)


def test_the_bond_holds_customers_who_do_not_need_one(quiet):
    """The emotional hold damps the service hazard of a customer with no need for a bond."""
    pop = quiet.population
    bonded, loose = groups(2)
    pop.satisfaction[:] = 0.0
    pop.bond[bonded] = 0.5
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    params = quiet.market.decision
    rate = params.dissatisfaction_exit_per_month
    assert within(np.isin(left, loose).sum(), loose.size, rate)
    assert within(np.isin(left, bonded).sum(), bonded.size, rate * math.exp(-params.emotional_hold * 0.5))


@pytest.mark.parametrize(
    ("path", "weight"),
    [
        (FailurePath.SILENT, lambda p: 1.0),
        (FailurePath.UNRESOLVED, lambda p: p.unresolved_exit_weight),
        (FailurePath.SLOW, lambda p: p.slow_exit_weight),
        (FailurePath.FAST, lambda p: p.fast_exit_weight),
    ],
)
@pytest.mark.parametrize("large", [False, True])
def test_each_failure_path_and_severity_has_its_own_exit_hazard(quiet, path, weight, large):
    quiet.flows.failure_path[:] = path
    quiet.flows.failure_large[:] = large
    left = stay_or_leave(quiet, np.zeros(N, dtype=np.float32))
    params = quiet.market.decision
    severity = quiet.market.service.large_failure_weight if large else 1.0
    p = min(1.0, params.failure_exit_share * weight(params) * severity)
    assert within(left.size, N, p)
    np.testing.assert_array_equal(quiet.population.exit_reason[left], ExitReason.SERVICE)


def test_attention_scales_the_price_hazard(quiet):
    pop = quiet.population
    watching, dozing = groups(2)
    pop.attention[dozing] = 0.2
    left = stay_or_leave(quiet, np.full(N, 0.3, dtype=np.float32))
    assert within(np.isin(left, watching).sum(), watching.size, 0.3)
    assert within(np.isin(left, dozing).sum(), dozing.size, 0.3 * 0.2)


def test_restlessness_multiplies_the_voluntary_hazards_only(quiet):
    pop = quiet.population
    pop.restlessness[:] = 2.0
    pop.background_exit_per_month[:] = 0.05
    left = stay_or_leave(quiet, np.full(N, 0.1, dtype=np.float32))
    p = 1 - (1 - 0.05) * (1 - 0.2)
    assert within(left.size, N, p)
