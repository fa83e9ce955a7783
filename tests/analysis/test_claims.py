"""The claims audit: verdicts from intervals, minimum effects with sources, controls that swap in
their variants, check selection, determinism across executors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from sim import scenario as scenarios
from sim.analysis.claims import (
    AUDIT_SCHEMA,
    BARGAIN_HUNTERS,
    BOND_DECAY_MONTH,
    BOND_SPLIT_MONTH,
    CHECKS,
    EXPERIMENTS,
    NOT_RUN,
    BondDecayProbe,
    BondLifetimeProbe,
    Check,
    ClaimsError,
    Control,
    ForgivenessProbe,
    Measurement,
    _changed,
    _identical_customers,
    audit,
    evaluate,
    experiments_of,
    select,
)
from sim.distributions import Beta, LogNormal
from sim.executors import LocalPoolExecutor
from sim.market import Market
from sim.population import EXIT_REASONS

BARGAIN_HUNTERS_FILE = Path(__file__).parents[2] / "scenarios" / "bargain-hunters.toml"


def _check(above=None, below=None, measure=lambda runs: np.zeros(1), swap=None) -> Check:
    control = Control("removed", swap or {})
    return Check("X", ("X",), "claim", "effect", ("x",), measure, "assumption", control, above, below)


@pytest.mark.parametrize(
    ("check", "interval", "verdict"),
    [
        (_check(above=0.0), (0.1, 0.2), "holds"),
        (_check(above=0.0), (-0.2, -0.1), "fails"),
        (_check(above=0.0), (-0.1, 0.1), "inconclusive"),
        (_check(below=0.3), (0.1, 0.2), "holds"),
        (_check(below=0.3), (0.31, 0.4), "fails"),
        (_check(above=0.65, below=0.85), (0.7, 0.8), "holds"),
        (_check(above=0.65, below=0.85), (0.6, 0.8), "inconclusive"),
        (_check(above=0.65, below=0.85), (0.86, 0.9), "fails"),
        (_check(above=0.65, below=0.85), (0.5, 0.6), "fails"),
        (_check(above=0.0), (float("nan"), float("nan")), "inconclusive"),
    ],
)
def test_verdict_follows_where_the_interval_lies(check, interval, verdict):
    assert check.verdict(*interval) == verdict


def test_the_interval_must_exclude_the_threshold_itself():
    assert _check(above=0.5).verdict(0.5, 0.6) == "inconclusive"


def test_a_positive_effect_smaller_than_the_minimum_fails():
    """A tiny but certain effect (0.004 +- 0.001) is no longer enough: it must clear the minimum."""
    assert _check(above=0.01).verdict(0.003, 0.005) == "fails"


def test_every_check_names_known_experiments_a_sourced_minimum_and_a_control():
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    for check in CHECKS:
        assert set(check.experiments) <= set(EXPERIMENTS)
        assert check.above is not None or check.below is not None
        assert check.source.startswith(("assumption", "DESIGN", "literature: ")), check.id
        assert check.control.swap, check.id
        assert set(check.control.swap) <= set(check.experiments), check.id  # swaps what the check reads
        assert set(check.control.swap.values()) <= set(EXPERIMENTS), check.id
    claims = {claim for c in CHECKS for claim in c.claims}
    assert claims == {f"C{i}" for i in range(1, 8)} | {f"F{i}" for i in range(1, 9)} | {"S1", "S2"}


def test_no_check_is_measured_twice():
    effects = [c.effect for c in CHECKS]
    assert len(effects) == len(set(effects))


def test_every_program_is_compared_on_top_of_the_baseline_contact():
    for name, experiment in EXPERIMENTS.items():
        assert experiment.strategy.programs[0].name == "rare_contact", name


def test_select_by_claim_or_check_and_reject_unknown_ids():
    assert [c.id for c in select(["F2"])] == ["F2a", "F2b"]
    assert [c.id for c in select(["C2", "C3", "C5"])] == ["F3b", "F4c", "F5"]
    assert [c.id for c in select(["C4", "F2b", "C4"])] == ["C4", "F2b"]
    with pytest.raises(ClaimsError, match="unknown check 'F9'"):
        select(["F9"])


def test_experiments_include_the_controls_only_when_asked():
    (c6,) = select(["C6"])
    assert experiments_of([c6]) == ["new_customer_deals", "baseline", "new_customer_deals_fair"]
    assert experiments_of([c6], controls=False) == ["new_customer_deals", "baseline"]


def _runs(**values: list[float]) -> dict[str, list[Measurement]]:
    """Measurements that carry only a five-year loss."""
    empty = np.zeros(60)

    def measurement(loss: float) -> Measurement:
        return Measurement(1, loss, {}, empty, empty, empty, {}, float("nan"), float("nan"), float("nan"))

    return {name: [measurement(v) for v in losses] for name, losses in values.items()}


def test_each_check_reads_only_the_experiments_it_declares():
    """``Check.experiments`` decides what the audit runs: a measure reading another would fail."""
    ones = np.ones(60)
    measurement = Measurement(
        100, 0.5, {"personal_appreciation": 1.0, "point_card": 1.0}, ones, ones, ones * 50,
        dict.fromkeys(EXIT_REASONS, 1), 0.0, -0.5, 1.0,
    )
    for check in CHECKS:
        runs = {name: [measurement, measurement] for name in experiments_of([check])}
        (row,) = evaluate([check], runs).iter_rows(named=True)
        assert row["control_verdict"] != NOT_RUN, check.id


def test_the_control_reads_its_variant_in_place_of_the_experiment_it_swaps():
    check = _check(above=0.1, measure=lambda r: np.array([m.cohort_loss for m in r["x"]]), swap={"x": "y"})
    runs = _runs(x=[0.30, 0.31, 0.29], y=[0.01, 0.02, 0.0])
    (row,) = evaluate([check], runs).iter_rows(named=True)
    assert row["verdict"] == "holds" and row["control_verdict"] == "fails"
    assert row["estimate"] == pytest.approx(0.30) and row["control_estimate"] == pytest.approx(0.01)
    (row,) = evaluate([check], _runs(x=[0.30, 0.31, 0.29])).iter_rows(named=True)
    assert row["control_verdict"] == NOT_RUN and np.isnan(row["control_estimate"])


def test_the_bargain_hunter_control_is_the_shipped_scenario_market():
    shipped = scenarios.load(BARGAIN_HUNTERS_FILE).market
    assert shipped == _changed(BARGAIN_HUNTERS)(Market())


def test_identical_customers_have_no_spread_in_any_trait():
    market = _identical_customers(Market())
    (segment,) = market.segments
    assert segment.share == 1.0 and market.heterogeneity.propensity_cv == 0.0
    rng = np.random.default_rng(1)
    for field in dataclasses.fields(segment):
        trait = getattr(segment, field.name)
        if isinstance(trait, Beta | LogNormal):
            draws = trait.sample(rng, 1000)
            assert draws.std() < 1e-3 * max(1.0, float(draws.mean())), field.name


def _model(month: int, bond, exit_month, failed=None, months: int = 60, join_month=None) -> SimpleNamespace:
    exit_month = np.array(exit_month)
    population = SimpleNamespace(
        bond=np.array(bond, dtype=float), active=exit_month < 0, exit_month=exit_month,
        join_month=np.zeros(exit_month.size, dtype=int) if join_month is None else np.array(join_month),
    )
    failed = np.array([False] * exit_month.size if failed is None else failed)
    recovered = np.zeros(failed.size, dtype=bool)
    flows = SimpleNamespace(service_failed_unrecovered=failed, service_recovered=recovered)
    return SimpleNamespace(month=month, months=months, population=population, flows=flows)


def test_forgiveness_is_the_churn_a_failure_causes_in_the_initial_cohort():
    probe = ForgivenessProbe()
    joined = [0, 0, 0, 0, 0, 3]  # the last one joined later: not counted
    probe.observe(_model(1, [0.5] * 6, [-1] * 6, join_month=joined))  # who is active at month 2's start
    # month 2: customers 0, 1 and 5 fail; 0 and 5 leave, and 2 (no failure) leaves too
    probe.observe(_model(2, [0.5] * 6, [2, -1, 2, -1, -1, 2], failed=[True, True, False, False, False, True],
                         join_month=joined))
    assert probe.value() == pytest.approx(1 / 2 - 1 / 3)


def test_bond_decay_follows_failure_free_initial_customers_to_month_24():
    probe = BondDecayProbe()
    joined = [0, 0, 0, 0, 3]  # the last one joined later: not followed
    probe.observe(_model(1, [0.4, 0.6, 0.5, 0.8, 0.9], [-1] * 5, join_month=joined))
    # month 2: customer 1 has a failure (recovered or not, it counts); customer 3 leaves in month 10
    probe.observe(_model(2, [0.4, 0.5, 0.5, 0.8, 0.9], [-1] * 5, failed=[False, True, False, False, False],
                         join_month=joined))
    month_24 = _model(BOND_DECAY_MONTH, [0.2, 0.1, 0.3, 0.1, 0.9], [-1, -1, -1, 10, -1], join_month=joined)
    probe.observe(month_24)
    assert probe.value() == pytest.approx((0.2 + 0.3) / (0.4 + 0.5) - 1.0)


def test_bond_lifetime_ratio_follows_the_thirds_at_month_12_to_the_horizon():
    probe = BondLifetimeProbe()
    bond = [0.9, 0.8, 0.5, 0.4, 0.1, 0.0, 0.9]
    joined = [0, 0, 0, 0, 0, 0, 5]  # the last one joined later: not in the initial cohort
    probe.observe(_model(BOND_SPLIT_MONTH, bond, [-1] * 7, months=60, join_month=joined))
    # at the horizon: the top third (0, 1) stayed 48 months after month 12, the bottom (4, 5) 12 and 24
    probe.observe(_model(60, bond, [-1, -1, 30, -1, 24, 36, 13], months=60, join_month=joined))
    assert probe.value() == pytest.approx(48 / 18)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"months": 24}, "at least 60 months"), ({"replications": 1}, "at least 2 replications")],
)
def test_audits_that_cannot_run_say_why(kwargs, message):
    options = {"customers": 100, "months": 60, "replications": 3} | kwargs
    with pytest.raises(ClaimsError, match=message):
        audit(Market(), **options)


SMALL_AUDIT = {"customers": 150, "months": 60, "replications": 3, "checks": ["F1", "F2"]}


def test_audit_table_has_its_schema_and_runs_the_controls():
    table = audit(Market(), **SMALL_AUDIT)
    assert table.schema == pl.Schema(AUDIT_SCHEMA)
    assert table["check"].to_list() == ["F1", "F2a", "F2b"]
    assert set(table["replications"]) == {3}
    assert set(table["verdict"]) | set(table["control_verdict"]) <= {"holds", "fails", "inconclusive"}
    assert table["control_estimate"].is_finite().all()


def test_an_audit_without_controls_says_they_were_not_run():
    table = audit(Market(), **SMALL_AUDIT | {"checks": ["F1"]}, controls=False)
    assert table["control_verdict"].to_list() == [NOT_RUN]


@pytest.mark.slow  # starting worker processes costs seconds; the fast suite covers the pool in test_space
def test_audit_is_identical_for_any_executor():
    options = SMALL_AUDIT | {"checks": ["F1"]}
    serial = audit(Market(), **options)
    with LocalPoolExecutor(workers=2) as executor:
        pooled = audit(Market(), executor=executor, **options)
    assert serial.equals(pooled, null_equal=True)
