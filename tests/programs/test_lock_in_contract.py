"""lock_in_contract: contracts at the start and for joiners; exits blocked during the term."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.population import ExitReason
from sim.programs.lock_in_contract import LockInContractParams
from sim.strategy import ProgramSpec

N = 2000


def test_customers_sign_at_the_start_and_joiners_on_joining(make_model):
    model = make_model(ProgramSpec("lock_in_contract", {"term_months": 12}), customers=N, months=3, rng=1)
    p: LockInContractParams = model.programs[0].params
    model.step()
    pop = model.population
    initial = pop.active & (pop.join_month == 0)
    joiners = pop.join_month == 1
    assert joiners.any()
    # signed in month 1, one month of the term has passed
    np.testing.assert_array_equal(pop.contract_months_left[initial], 11)
    # joined at the end of month 1, the full term is ahead
    np.testing.assert_array_equal(pop.contract_months_left[joiners], 12)
    signed = initial | joiners
    np.testing.assert_array_equal(pop.exit_fee_months[signed], np.float32(p.exit_fee_months))
    assert set(np.unique(pop.renewal_term_months[signed])) <= {0, 12}
    renewing = float(np.mean(pop.renewal_term_months[signed] == 12))
    se = math.sqrt(p.auto_renewal_share * (1 - p.auto_renewal_share) / signed.sum())
    assert abs(renewing - p.auto_renewal_share) < 4 * se


def test_a_program_starting_later_signs_those_active_then(make_model):
    model = make_model(
        ProgramSpec("lock_in_contract", {"term_months": 6}, start_month=4), customers=N, months=4
    )
    for _ in range(3):
        model.step()
    assert not model.population.contract_months_left.any()
    model.step()
    pop = model.population
    before = pop.active & (pop.join_month < 4)
    np.testing.assert_array_equal(pop.contract_months_left[before], 5)
    np.testing.assert_array_equal(pop.contract_months_left[pop.join_month == 4], 6)


def test_during_the_term_only_background_exits_and_breakouts_happen(make_model):
    term = 6
    locked = make_model(ProgramSpec("lock_in_contract", {"term_months": term}), customers=N, months=8, rng=2)
    free = make_model("rare_contact", customers=N, months=8, rng=2)
    monthly = locked.run().monthly
    during = monthly[: term - 1]
    for reason in ("price", "service", "relationship", "contract_end"):
        assert during[f"churned_{reason}"].sum() == 0, reason
    assert monthly["churned_contract_end"][term - 1] > 0  # the term's end is a decision point
    baseline = free.run().monthly
    assert during["churned_total"].sum() < 0.5 * baseline["churned_total"][: term - 1].sum()


def test_a_lock_in_breeds_resentment_in_unhappy_customers(make_model):
    locked = make_model(ProgramSpec("lock_in_contract"), customers=N, months=6, rng=3).run().monthly
    free = make_model("rare_contact", customers=N, months=6, rng=3).run().monthly
    assert np.all(np.diff(locked["mean_resentment"].to_numpy()) > 0)
    np.testing.assert_array_equal(free["mean_resentment"].to_numpy(), 0.0)


def test_admin_cost_is_per_contract_month(make_model, begin_month):
    model = make_model("lock_in_contract", customers=N)
    program = model.programs[0]
    begin_month(model, 1)
    program.start(model)
    model.population.contract_months_left[: N // 4] = 0
    model.population.deactivate(np.arange(len(model.population))[-10:])
    program.act(model)
    expected = program.params.admin_cost_per_contract_month * (N - N // 4 - 10)
    assert model.flows.costs["lock_in_contract"] == pytest.approx(expected)


def test_when_the_program_stops_nobody_renews_and_contracts_run_out(make_model):
    spec = ProgramSpec("lock_in_contract", {"term_months": 4, "auto_renewal_share": 1.0}, end_month=3)
    model = make_model(spec, customers=N, months=6, rng=4)
    model.step()
    assert np.all(model.population.renewal_term_months[model.population.active] == 4)
    for _ in range(2):
        model.step()
    pop = model.population
    np.testing.assert_array_equal(pop.renewal_term_months, 0)
    # signed in month 1: term ends in month 4, and then nobody renews
    np.testing.assert_array_equal(pop.contract_months_left[pop.active & (pop.join_month == 0)], 1)
    model.step()
    assert not model.population.contract_months_left[model.population.active & (pop.join_month == 0)].any()
    assert np.count_nonzero(model.population.exit_reason == ExitReason.CONTRACT_END) > 0


def test_at_a_term_end_re_contracts_and_renewal_clauses_sign_again(make_model, begin_month):
    """... and the others go free."""
    model = make_model(ProgramSpec("lock_in_contract", {"term_months": 12}), customers=N)
    program = model.programs[0]
    pop = model.population
    begin_month(model, 1)
    program.start(model)
    ids = np.arange(N)
    clause = pop.renewal_term_months[ids] > 0
    recontracted = ids % 3 == 0
    pop.contract_months_left[:] = 0  # the clock ran down in the ageing phase
    program.term_end(model, ids, recontracted)
    signed = recontracted | clause
    np.testing.assert_array_equal(pop.contract_months_left[signed], 12)
    np.testing.assert_array_equal(pop.exit_fee_months[signed], np.float32(program.params.exit_fee_months))
    np.testing.assert_array_equal(pop.contract_months_left[~signed], 0)
    np.testing.assert_array_equal(pop.exit_fee_months[~signed], 0.0)
    assert signed.sum() > recontracted.sum() and (~signed).any()


def test_an_end_of_contract_notice_wakes_customers_in_their_last_month(make_model, begin_month):
    spec = ProgramSpec("lock_in_contract", {"end_of_contract_notice": True})
    model = make_model(spec, customers=N)
    program = model.programs[0]
    pop = model.population
    begin_month(model, 1)
    program.start(model)
    last = np.arange(N) % 2 == 0
    pop.contract_months_left[last] = 1
    pop.attention[:] = 0.2
    program.act(model)
    gain = program.params.notice_attention_gain
    np.testing.assert_allclose(pop.attention[last], 0.2 + gain * 0.8, rtol=1e-6)
    np.testing.assert_allclose(pop.attention[~last], 0.2)


@pytest.mark.parametrize("notice", [False, True])
def test_term_end_actions_are_counted_and_a_notice_raises_mostly_re_contracting(make_model, notice):
    spec = ProgramSpec(
        "lock_in_contract", {"term_months": 3, "auto_renewal_share": 1.0, "end_of_contract_notice": notice}
    )
    monthly = make_model(spec, customers=N, months=3, rng=6).run().monthly
    counts = {a: int(monthly[f"term_ends_{a}"][2]) for a in ("switched", "recontracted", "rolled_on")}
    assert monthly["term_ends_switched"][2] == monthly["churned_contract_end"][2]
    assert sum(counts.values()) > 0.9 * N * 0.9
    assert monthly["term_ends_rolled_on"][:2].sum() == 0
    act = (counts["switched"] + counts["recontracted"]) / sum(counts.values())
    # Without a notice far fewer act than with one (Ofcom 2021: 47% against 62%).
    assert (0.3 < act < 0.6) if not notice else (0.5 < act < 0.8)


def test_the_program_runs_its_clock_down_for_stayers_once_a_month_also_when_listed_twice(make_model):
    spec = ProgramSpec("lock_in_contract", {"term_months": 6})
    model = make_model(spec, spec, customers=N, months=2, rng=5)
    model.step()
    pop = model.population
    initial = pop.join_month == 0
    # one clock per customer, whatever the number of instances: the age hook runs once per class
    np.testing.assert_array_equal(pop.contract_months_left[initial & pop.active], 5)
    np.testing.assert_array_equal(pop.contract_months_left[initial & ~pop.active], 6)  # leavers keep theirs


def test_the_core_reads_contracts_through_the_terms_hook(make_model):
    model = make_model("rare_contact", "lock_in_contract", customers=100)
    assert make_model(customers=100).terms(np.arange(100)) is None  # nobody binds anyone
    pop = model.population
    pop.contract_months_left[:50] = 3
    pop.exit_fee_months[:50] = 2.0
    terms = model.terms(np.arange(100))
    np.testing.assert_array_equal(terms.months_left, pop.contract_months_left)
    np.testing.assert_array_equal(model.locked(np.arange(100)), np.arange(100) < 50)
