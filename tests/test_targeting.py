"""Targeting and budget caps (sim.targeting): every program reaches exactly its target, a cap is
never exceeded, and targeted runs are deterministic."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import LoyaltyModel
from sim.programs import PROGRAMS, Program, register
from sim.strategy import ProgramSpec, Strategy
from sim.targeting import Budget, Target, churn_score, fixed_uniforms

N, MONTHS = 600, 6
# Static traits only, so the reached set stays the same month by month (among the active).
TARGET = Target(
    segments=("relationship_seekers", "convenience_buyers"), spend_per_month=(30.0, 80.0), share=0.5
)


def _run(*specs: ProgramSpec, months: int = MONTHS, customers: int = N, seed: int = 3) -> LoyaltyModel:
    model = LoyaltyModel(Strategy("s", specs), customers=customers, months=months, rng=seed)
    model.run()
    return model


def _reached(model: LoyaltyModel, stream_key: str) -> np.ndarray:
    """The target, recomputed from the traits (not through Target.mask)."""
    pop = model.population
    names = [s.name for s in model.market.segments]
    wanted = [names.index(s) for s in TARGET.segments]
    spend = pop.spend_per_month
    share = fixed_uniforms(model, f"target.{stream_key}") < TARGET.share
    return np.isin(pop.segment, wanted) & (spend >= 30.0) & (spend <= 80.0) & share


@pytest.fixture
def idle(scratch_registries):
    @register("idle")
    class Idle(Program):
        """Does nothing: the reference for customers a program does not reach."""

    return "idle"


@pytest.mark.parametrize("program", [p for p in PROGRAMS.names() if p != "idle"])
def test_a_targeted_program_changes_exactly_the_customers_it_reaches(program, idle):
    reference = _run(ProgramSpec(idle))
    targeted = _run(ProgramSpec(idle), ProgramSpec(program, target=TARGET))
    untargeted = _run(ProgramSpec(idle), ProgramSpec(program))
    reached = _reached(targeted, program)[:N]
    changed = np.zeros(N, dtype=bool)
    for column in targeted.population.columns.values():  # the program's own columns too
        if column.name in reference.population.columns:
            before = getattr(reference.population, column.name)[:N]
        else:  # a column the program declares: untouched rows keep their initial value
            before = np.full(N, column.initial, dtype=column.dtype)
        changed |= getattr(targeted.population, column.name)[:N] != before
    assert 0 < reached.sum() < N
    assert not changed[~reached].any(), (
        f"{program} changed {int(changed[~reached].sum())} customers it does not reach"
    )
    assert changed[reached].any(), f"{program} changed none of the customers it reaches"
    assert targeted.cost_by_program.get(program, 0.0) < untargeted.cost_by_program[program]


def test_churn_risk_targets_the_riskiest_share_by_the_models_own_hazard(make_model, begin_month):
    model = make_model("rare_contact", customers=1000)
    model.population.deactivate(np.arange(100))
    begin_month(model)
    mask = Target(churn_risk_top_share=0.2).mask(model, "rare_contact")
    score = churn_score(model)
    assert mask.sum() == 180  # 20% of the 900 active customers
    assert score[mask].min() >= score[model.population.active & ~mask].max()
    above = Target(churn_risk_above=float(np.median(score[100:]))).mask(model, "rare_contact")
    assert np.array_equal(above, model.population.active & (score >= np.median(score[100:])))


def test_a_random_share_is_the_same_customers_under_every_strategy():
    one = _run(ProgramSpec("mass_contact", target=Target(share=0.3)), months=1)
    other = _run(ProgramSpec("point_card"), ProgramSpec("mass_contact", target=Target(share=0.3)), months=1)
    pick = one.programs[0].reach.target.mask(one, "mass_contact")[:N]
    also = other.programs[1].reach.target.mask(other, "mass_contact")[:N]
    both = one.population.active[:N] & other.population.active[:N]
    assert np.array_equal(pick[both], also[both])
    assert 0.2 < pick[both].mean() < 0.4


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    program=st.sampled_from(
        ["personal_appreciation", "point_card", "service_excellence", "mass_contact", "status_tiers"]
    ),
    eur=st.floats(0.0, 400.0),
    per=st.sampled_from(["month", "year"]),
    share=st.sampled_from([1.0, 0.5]),
)
def test_a_budget_cap_is_never_exceeded(program, eur, per, share):
    model = _run(
        ProgramSpec(program, target=Target(share=share), budget=Budget(eur, per)), months=14, customers=300
    )
    costs = model.result().monthly["program_cost"].to_numpy()
    length = 1 if per == "month" else 12
    for start in range(0, costs.size, length):
        assert costs[start : start + length].sum() <= eur
    spent = model.programs[0].reach.spent_by_month
    assert sum(spent.values()) == pytest.approx(costs.sum())


def test_a_binding_cap_stops_the_program_for_the_rest_of_its_period():
    # service excellence costs 1.5 EUR per customer-month: 300 customers cost 450 EUR a month.
    model = _run(ProgramSpec("service_excellence", budget=Budget(1000.0, "year")), months=14, customers=300)
    costs = model.result().monthly["program_cost"].to_numpy()
    assert costs[0] > 0 and costs[3:12].sum() == 0.0  # spent within the first months of year 1
    assert costs[12] > 0  # a new year, a new budget
    assert costs[:12].sum() <= 1000.0


def test_targeted_and_capped_runs_are_deterministic():
    spec = ProgramSpec(
        "personal_appreciation", target=Target(churn_risk_top_share=0.3, share=0.7), budget=Budget(150.0)
    )
    first, second = (_run(spec, months=8).result().monthly for _ in range(2))
    assert first.equals(second)


def test_untargeted_programs_take_no_detour():
    model = _run(ProgramSpec("point_card"), months=1)
    assert model.programs[0].reach is None


def test_a_capped_run_books_only_what_it_keeps():
    model = _run(ProgramSpec("mass_contact", budget=Budget(5.0)), months=3, customers=300)
    monthly = model.result().monthly
    assert pl.Series(monthly["program_cost"]).max() <= 5.0
    assert monthly["cost_contacts"].to_list() == monthly["program_cost"].to_list()


def test_targeting_keys_are_grid_axes():
    from sim.scenario import loads

    scenario = loads(
        'months = 4\n[strategies]\na = [{ program = "mass_contact", target = { share = 0.5 } }]\n'
        '[grid]\n"programs.mass_contact.target.share" = [0.2, 0.4]\n'
        '"programs.mass_contact.budget.eur" = [9.0]\n'
    )
    reaches = []
    for point in scenario.grid:
        _, strategies, _, _ = scenario.at(point)
        (spec,) = strategies["a"].programs
        reaches.append((spec.target.share, spec.budget.eur))
    assert sorted(reaches) == [(0.2, 9.0), (0.4, 9.0)]


def test_a_resting_program_still_ends_at_the_end_of_its_window():
    # The card's year budget is spent in month 1; its end in month 4 still forfeits the points.
    model = _run(ProgramSpec("point_card", end_month=4, budget=Budget(30.0, "year")), months=5, customers=300)
    reach = model.programs[0].reach
    assert reach.exhausted and reach.spent_by_month == {1: 30.0, 4: 0.0}  # month 4: the end, free
    assert not model.population.points.any()


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.sampled_from([0.0, 0.1, 0.2, 0.5]), max_size=40), share=st.floats(0.0, 1.0))
def test_the_riskiest_share_is_what_a_stable_sort_picks(values, share):
    from sim.targeting import _top

    scores = np.array(values)
    count = int(share * scores.size)
    expected = np.argsort(-scores, kind="stable")[:count]
    assert sorted(_top(scores, count).tolist()) == sorted(expected.tolist())


def test_a_targeted_service_level_is_per_customer_and_several_do_not_mix(make_model, begin_month):
    from sim.mechanisms.service import ServiceLevel
    from sim.plugins import call_hook

    seekers, hunters = Target(segments=("relationship_seekers",)), Target(segments=("bargain_hunters",))
    model = make_model(
        ProgramSpec("service_excellence", {"failure_reduction": 0.5}, target=seekers),
        ProgramSpec("service_excellence", {"failure_reduction": 0.2}, target=hunters),
        customers=500,
    )
    begin_month(model)
    level = ServiceLevel.from_params(model.market.service)
    for program in model.programs:
        call_hook("program", program, "service", model, level)
    base, segment = model.market.service.failure_per_month, model.population.segment
    expected = np.select([segment == 1, segment == 0], [base * 0.5, base * 0.8], base).astype(np.float32)
    assert np.allclose(level.failure_per_month, expected)
    assert isinstance(level.quality, np.ndarray) and level.quality[segment == 2].max() == np.float32(
        model.market.service.quality
    )


def _service_level(make_model, begin_month, *specs):
    from sim.mechanisms.service import ServiceLevel
    from sim.plugins import call_hook

    model = make_model(*specs, customers=500)
    begin_month(model)
    level = ServiceLevel.from_params(model.market.service)
    for program in model.programs:
        call_hook("program", program, "service", model, level)
    return model, level


def test_targeted_service_programs_compose_where_their_targets_overlap(make_model, begin_month):
    first = Target(segments=("relationship_seekers", "bargain_hunters"), share=0.7)
    second = Target(segments=("bargain_hunters", "convenience_buyers"), share=0.7)
    a = {"failure_reduction": 0.5, "quality_gain": 0.1, "recovery_share_excellent": 0.6}
    b = {"failure_reduction": 0.2, "quality_gain": 0.05, "recovery_share_excellent": 0.8}
    model, level = _service_level(
        make_model,
        begin_month,
        ProgramSpec("service_excellence", a, target=first),
        ProgramSpec("service_excellence", b, target=second),
    )
    in_a, in_b = (p.reach.target.mask(model, p.stream_key) for p in model.programs)
    both, only_a, only_b = in_a & in_b, in_a & ~in_b, in_b & ~in_a
    assert all(group.any() for group in (both, only_a, only_b, model.population.active & ~(in_a | in_b)))
    base = model.market.service
    groups = [both, only_a, only_b]

    def expected(both_value, a_value, b_value, other):
        return np.select(groups, [both_value, a_value, b_value], other)

    failure = base.failure_per_month
    composed = expected(failure * 0.5 * 0.8, failure * 0.5, failure * 0.8, failure)
    assert np.allclose(level.failure_per_month, composed)
    quality = base.quality
    raised = expected(quality + 0.15, quality + 0.1, quality + 0.05, quality)
    assert np.allclose(level.quality, np.minimum(1.0, raised))
    recovery = base.recovery_share
    best = expected(max(recovery, 0.8), max(recovery, 0.6), max(recovery, 0.8), recovery)
    assert np.allclose(level.recovery_share, best)
    # each charged once, for the customers it reaches (1.5 EUR a customer-month by default)
    assert sum(model.flows.costs.values()) == pytest.approx((in_a.sum() + in_b.sum()) * 1.5)


def test_targeted_service_programs_reaching_everyone_are_the_untargeted_pair(make_model, begin_month):
    a, b = {"failure_reduction": 0.5, "quality_gain": 0.1}, {"failure_reduction": 0.2, "quality_gain": 0.05}
    everyone = Target(share=1.0)
    model, targeted = _service_level(
        make_model,
        begin_month,
        ProgramSpec("service_excellence", a, target=everyone),
        ProgramSpec("service_excellence", b, target=everyone),
    )
    _, untargeted = _service_level(
        make_model, begin_month, ProgramSpec("service_excellence", a), ProgramSpec("service_excellence", b)
    )
    active = model.population.active
    for name in ("failure_per_month", "recovery_share", "quality", "staff_bond_gain"):
        values = np.broadcast_to(getattr(targeted, name), active.shape)[active]
        assert np.allclose(values, np.float32(getattr(untargeted, name))), name


def test_an_untargeted_service_program_after_a_targeted_one_changes_every_customers_own_level(
    make_model, begin_month
):
    first = Target(segments=("bargain_hunters",))
    model, level = _service_level(
        make_model,
        begin_month,
        ProgramSpec("service_excellence", {"failure_reduction": 0.5}, target=first),
        ProgramSpec("service_excellence", {"failure_reduction": 0.2}),
    )
    reached = model.programs[0].reach.target.mask(model, model.programs[0].stream_key)
    active = model.population.active
    failure = model.market.service.failure_per_month
    expected = np.where(reached, failure * 0.5 * 0.8, failure * 0.8)
    assert reached[active].any() and not reached[active].all()
    assert np.allclose(level.failure_per_month[active], expected[active])
