"""point_card: rewards build rational value and expectations; a cut or an end disappoints."""

from __future__ import annotations

import numpy as np
import pytest

from sim.programs.point_card import PointCardParams
from sim.strategy import ProgramSpec

N = 1000


def step_to(model, month: int) -> None:
    while model.month < month:
        model.step()


def test_members_earn_points_and_redeem_at_the_threshold(make_model, begin_month):
    model = make_model("point_card", customers=N)
    program = model.programs[0]
    p: PointCardParams = program.params
    pop = model.population
    pop.spend_per_month[:] = 50.0
    earn = p.reward_share_of_spend * 50.0
    near = np.arange(N) < N // 2
    pop.points[near] = p.redemption_threshold - earn / 2  # crosses the threshold this month
    pop.points[~near] = 0.0
    begin_month(model)
    program.act(model)
    np.testing.assert_array_equal(pop.reward_received, np.float32(p.reward_share_of_spend))
    np.testing.assert_array_equal(pop.points[near], 0.0)
    np.testing.assert_allclose(pop.points[~near], earn, rtol=1e-6)
    redeemed = (N // 2) * (p.redemption_threshold + earn / 2)
    expected = redeemed + p.admin_cost_per_member_month * N
    assert model.flows.costs["point_card"] == pytest.approx(expected, rel=1e-5)


def test_a_running_card_builds_rational_value_not_bond(make_model):
    card = make_model("point_card", customers=2000, months=6, rng=2).run().monthly
    plain = make_model("rare_contact", customers=2000, months=6, rng=2).run().monthly
    assert np.all(card["mean_rational_value"].to_numpy() > plain["mean_rational_value"].to_numpy() + 0.05)
    np.testing.assert_array_equal(plain["mean_rational_value"].to_numpy(), 0.0)
    assert abs(card["mean_bond"][0] - plain["mean_bond"][0]) < 0.01


def test_an_ending_card_disappoints_and_forfeits_points(make_model):
    """Against the same model and seed with the card still running."""
    ending = make_model(ProgramSpec("point_card", end_month=9), customers=2000, months=12, rng=3)
    running = make_model(ProgramSpec("point_card"), customers=2000, months=12, rng=3)
    step_to(ending, 8)
    step_to(running, 8)
    np.testing.assert_array_equal(ending.population.satisfaction, running.population.satisfaction)
    assert ending.population.points.sum() > 0

    ending.step()
    running.step()
    pop = ending.population
    active = pop.active
    np.testing.assert_array_equal(pop.points, 0.0)  # forfeited when the card ended
    assert running.population.points[running.population.active].sum() > 0
    np.testing.assert_array_equal(pop.reward_received[active], 0.0)
    assert np.all(pop.reward_expectation[active & (pop.join_month < 8)] > 0.0)
    satisfaction_gap = (
        running.population.satisfaction[running.population.active].mean() - pop.satisfaction[active].mean()
    )
    assert satisfaction_gap > 0.02
    assert pop.bond[active].mean() < running.population.bond[running.population.active].mean()
    assert (
        pop.rational_value[active].mean()
        < 0.5 * running.population.rational_value[running.population.active].mean()
    )


def test_without_forfeiture_points_survive_the_end(make_model):
    model = make_model(
        ProgramSpec("point_card", {"forfeit_points_at_end": False}, end_month=5), customers=N, months=6, rng=4
    )
    step_to(model, 4)
    held = model.population.points.copy()
    assert held.sum() > 0
    model.step()
    np.testing.assert_array_equal(model.population.points[: held.size], held)


def test_a_cut_disappoints_while_the_card_runs_on(make_model):
    cut = ProgramSpec("point_card", {"cut_month": 7, "cut_to_share": 0.005})
    model = make_model(cut, customers=2000, months=8, rng=6)
    reference = make_model("point_card", customers=2000, months=8, rng=6)
    step_to(model, 7)
    step_to(reference, 7)
    pop = model.population
    members = pop.active & (pop.join_month < 7)  # this month's joiners arrived after the rewards
    np.testing.assert_array_equal(pop.reward_received[members], np.float32(0.005))
    assert np.all(pop.reward_expectation[pop.active & (pop.join_month == 0)] > 0.005)
    assert (
        pop.satisfaction[pop.active].mean()
        < reference.population.satisfaction[reference.population.active].mean() - 0.01
    )
    assert PointCardParams(cut_month=7).share_in(6) == PointCardParams().reward_share_of_spend
    assert PointCardParams(cut_month=7, cut_to_share=0.01).share_in(7) == 0.01


def test_after_the_end_churn_rises_above_a_card_that_keeps_running(make_model):
    """Disappointment turns into exits (summed over a few seeds to keep the margin wide)."""
    after_end, still_running = 0, 0
    for seed in range(3):
        ending = make_model(ProgramSpec("point_card", end_month=9), customers=2000, months=14, rng=seed)
        running = make_model("point_card", customers=2000, months=14, rng=seed)
        after_end += int(ending.run().monthly["churned_total"][8:].sum())
        still_running += int(running.run().monthly["churned_total"][8:].sum())
    assert after_end > still_running * 1.3
