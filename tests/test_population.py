"""The struct-of-arrays population: schema, growth, trait draws, in-place column views."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim.distributions import Beta, LogNormal
from sim.population import (
    DEFAULT_SEGMENTS,
    DRAWN_TRAITS,
    EXIT_REASONS,
    SCHEMA,
    TRAITS,
    Column,
    ExitReason,
    Population,
    Segment,
)

# Sample means must lie within this many standard errors of the requested mean. With about
# 30 such checks, the chance that a correct implementation fails one is below 1e-3.
TOLERANCE_SE = 4.0



def assert_beta_mean(sample: np.ndarray, dist: Beta) -> None:
    variance = dist.mean * (1 - dist.mean) / (dist.concentration + 1)
    se = math.sqrt(variance / sample.size)
    assert abs(float(sample.mean()) - dist.mean) < TOLERANCE_SE * se, (float(sample.mean()), dist)


def assert_lognormal_median(sample: np.ndarray, dist: LogNormal) -> None:
    """The mean of the log is log(median), with standard error sigma / sqrt(n)."""
    logs = np.log(sample.astype(np.float64))
    if dist.sigma == 0:
        np.testing.assert_allclose(sample, dist.median, rtol=1e-6)
        return
    se = dist.sigma / math.sqrt(sample.size)
    assert abs(float(logs.mean()) - math.log(dist.median)) < TOLERANCE_SE * se, (float(logs.mean()), dist)
    # the spread is the requested one too (standard error of a normal's sd: sigma / sqrt(2n))
    se_sd = dist.sigma / math.sqrt(2 * sample.size)
    assert abs(float(logs.std()) - dist.sigma) < TOLERANCE_SE * se_sd


def test_schema_drives_allocation_dtypes_and_initial_values():
    extra = Column("loyalty_card_id", "int32", 7, "an extra column a program might declare")
    pop = Population(capacity=8, extra_columns=(extra,))
    assert len(pop) == 0
    pop.add(np.random.default_rng(0), 5, DEFAULT_SEGMENTS, month=3)
    assert len(pop) == 5
    assert set(pop.columns) == {c.name for c in SCHEMA} | {"loyalty_card_id"}
    assert set(pop.to_dict()) == set(pop.columns)
    for column in (*SCHEMA, extra):
        array = getattr(pop, column.name)
        assert array.dtype == np.dtype(column.dtype), column.name
        assert array.shape == (5,)
        if column.kind == "state" and column.name != "bond":  # bond is drawn from the segment
            np.testing.assert_array_equal(array, np.full(5, column.initial, dtype=column.dtype))
    np.testing.assert_array_equal(pop.loyalty_card_id, 7)
    np.testing.assert_array_equal(pop.join_month, 3)
    assert {"segment", "join_month"} <= set(TRAITS)
    # every drawn trait has a distribution on Segment, and every Segment distribution but the
    # initial bond is a drawn trait
    distributions = {f.name for f in dataclasses.fields(Segment)} - {"name", "share", "initial_bond"}
    assert set(DRAWN_TRAITS) == distributions
    assert all(c.kind in ("trait", "state") for c in SCHEMA)


def test_duplicate_columns_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        Population(4, extra_columns=(Column("bond", "float32", 0.0, "again"),))


def test_unknown_column_is_an_attribute_error():
    pop = Population(4)
    with pytest.raises(AttributeError):
        _ = pop.no_such_column


def test_add_grows_capacity_and_keeps_old_rows():
    rng = np.random.default_rng(1)
    pop = Population(capacity=4)
    first = pop.add(rng, 3, DEFAULT_SEGMENTS, month=0)
    np.testing.assert_array_equal(first, [0, 1, 2])
    pop.bond[:] = [0.1, 0.2, 0.3]
    pop.deactivate(np.array([1]))
    pop.exit_month[1] = 2
    before = pop.to_dict()

    second = pop.add(rng, 10, DEFAULT_SEGMENTS, month=2)  # beyond the capacity of 4
    np.testing.assert_array_equal(second, np.arange(3, 13))
    assert len(pop) == 13
    for name, old in before.items():
        np.testing.assert_array_equal(getattr(pop, name)[:3], old, err_msg=name)
    np.testing.assert_array_equal(pop.join_month[3:], 2)
    assert pop.active[3:].all()
    np.testing.assert_array_equal(pop.exit_month[3:], -1)
    np.testing.assert_array_equal(pop.active_ids(), [0, *range(2, 13)])

    third = pop.add(rng, 200, DEFAULT_SEGMENTS, month=5)  # growth far beyond 1.5x
    assert third[0] == 13 and len(pop) == 213
    for name, old in before.items():
        np.testing.assert_array_equal(getattr(pop, name)[:3], old, err_msg=name)


def test_traits_follow_the_segment_distributions():
    segment = Segment(
        "only",
        1.0,
        price_focus=Beta(0.3, 10.0),
        bond_need=Beta(0.7, 4.0),
        contact_tolerance_per_year=LogNormal(8.0, 0.5),
        background_exit_per_month=LogNormal(0.002, 0.3),
        restlessness=LogNormal(1.5, 0.8),
        spend_per_month=LogNormal(60.0, 0.4),
        initial_bond=Beta(0.2, 12.0),
    )
    pop = Population(capacity=10)
    pop.add(np.random.default_rng(2), 20_000, (segment,), month=0)
    np.testing.assert_array_equal(pop.segment, 0)
    assert_beta_mean(pop.price_focus, segment.price_focus)
    assert_beta_mean(pop.bond_need, segment.bond_need)
    assert_beta_mean(pop.bond, segment.initial_bond)
    for trait in (
        "contact_tolerance_per_year",
        "background_exit_per_month",
        "restlessness",
        "spend_per_month",
    ):
        assert_lognormal_median(getattr(pop, trait), getattr(segment, trait))


@pytest.mark.parametrize("correlation", [0.0, 0.7])
def test_relationship_proneness_couples_the_initial_bond_and_the_churn_propensity(correlation):
    from scipy import stats

    from sim.distributions import Gamma

    pop = Population(capacity=10)
    propensity = Gamma(1.7, 1.2)
    pop.add(np.random.default_rng(5), 20_000, DEFAULT_SEGMENTS, month=0,
            traits={"churn_propensity": propensity}, proneness_correlation=correlation)
    rho = stats.spearmanr(pop.bond, pop.churn_propensity).statistic
    if correlation:
        assert rho < -0.5  # the normal scores' -0.7, within segments; Spearman's is a little smaller
    else:
        assert abs(rho) < 0.03
    # the propensity's distribution is kept
    assert pop.churn_propensity.mean() == pytest.approx(1.7, rel=0.04)
    assert pop.churn_propensity.std() / pop.churn_propensity.mean() == pytest.approx(1.2, rel=0.06)


def test_each_segment_gets_its_share_and_its_own_traits():
    n = 30_000
    pop = Population(capacity=n)
    pop.add(np.random.default_rng(3), n, DEFAULT_SEGMENTS, month=0)
    for index, segment in enumerate(DEFAULT_SEGMENTS):
        members = pop.segment == index
        count = int(members.sum())
        se = math.sqrt(n * segment.share * (1 - segment.share))
        assert abs(count - n * segment.share) < TOLERANCE_SE * se, segment.name
        assert_beta_mean(pop.price_focus[members], segment.price_focus)
        assert_beta_mean(pop.bond_need[members], segment.bond_need)
        assert_beta_mean(pop.bond[members], segment.initial_bond)
        assert_lognormal_median(pop.spend_per_month[members], segment.spend_per_month)
        assert_lognormal_median(pop.contact_tolerance_per_year[members], segment.contact_tolerance_per_year)


def test_background_exit_is_clipped_to_a_probability():
    wild = Segment("wild", 1.0, background_exit_per_month=LogNormal(0.4, 1.5))
    pop = Population(capacity=10)
    pop.add(np.random.default_rng(5), 2000, (wild,), month=0)
    assert pop.background_exit_per_month.max() <= 0.5
    assert pop.background_exit_per_month.min() > 0.0
    assert (pop.background_exit_per_month == np.float32(0.5)).any()  # the clip was needed


def test_columns_are_views_updated_in_place():
    pop = Population(capacity=20)
    pop.add(np.random.default_rng(6), 10, DEFAULT_SEGMENTS, month=0)
    bond = pop.bond
    bond[:] = 0.5  # through a reference taken earlier
    np.testing.assert_array_equal(pop.bond, 0.5)
    pop.bond[[1, 3]] += 0.25
    assert pop.bond[1] == pytest.approx(0.75) and pop.bond[0] == pytest.approx(0.5)
    pop.satisfaction[:] = 2.0
    np.clip(pop.satisfaction, 0.0, 1.0, out=pop.satisfaction)
    np.testing.assert_array_equal(pop.satisfaction, 1.0)
    # a view covers the customers only, not the spare capacity
    assert pop.bond.shape == (10,)


def test_to_dict_returns_copies():
    pop = Population(capacity=5)
    pop.add(np.random.default_rng(7), 5, DEFAULT_SEGMENTS, month=0)
    data = pop.to_dict(["bond", "active"])
    assert set(data) == {"bond", "active"}
    data["bond"][:] = 0.99
    data["active"][:] = False
    assert not np.any(pop.bond == np.float32(0.99))
    assert pop.active.all()


def test_assigning_an_attribute_raises():
    pop = Population(capacity=5)
    pop.add(np.random.default_rng(8), 5, DEFAULT_SEGMENTS, month=0)
    with pytest.raises(AttributeError, match="in place"):
        pop.bond = np.zeros(5, dtype=np.float32)
    with pytest.raises(AttributeError):
        pop.n = 0
    with pytest.raises(AttributeError):
        pop.new_column = np.zeros(5)
    assert len(pop) == 5 and pop.bond.dtype == np.float32


def test_exit_reasons_are_labelled_without_still_active():
    assert EXIT_REASONS == ("price", "service", "relationship", "contract_end", "resentment", "background")
    assert ExitReason.CONTRACT_END.label == "contract_end"
    assert "still_active" not in EXIT_REASONS


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: Beta(0.0), "mean"),
        (lambda: Beta(1.0), "mean"),
        (lambda: Beta(0.5, 0.0), "concentration"),
        (lambda: LogNormal(0.0), "median"),
        (lambda: LogNormal(1.0, -0.1), "sigma"),
        (lambda: Segment("s", 1.5), "share"),
    ],
)
def test_invalid_distributions_raise(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_the_index_of_active_rows_follows_joins_removals_and_exits():
    rng = np.random.default_rng(3)
    pop = Population(capacity=8)
    pop.add(rng, 6, DEFAULT_SEGMENTS, month=0)
    before = pop.active_ids()
    pop.deactivate(np.array([1, 4]))
    pop.add(rng, 10, DEFAULT_SEGMENTS, month=1)  # beyond the capacity: the index grows too
    pop.remove(8, 11)
    pop.truncate(11)
    pop.deactivate(np.array([9]))
    np.testing.assert_array_equal(pop.active_ids(), np.flatnonzero(pop.active))
    np.testing.assert_array_equal(before, np.arange(6))  # an index handed out earlier keeps its rows
    with pytest.raises(ValueError, match="read-only"):
        pop.active[0] = False  # customers leave through deactivate, which keeps the index
