"""Common random numbers hold for joiners too (slots), per program instance, and Mesa's own
generators cannot silently break them."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sim.mechanisms.acquisition import poisson_quantile
from sim.model import LoyaltyModel
from sim.strategy import ProgramSpec, Strategy

BASE = Strategy("base", (ProgramSpec("rare_contact"),))
# Twice the joiners and nothing else: no discount, no existing customer sees the deal.
MORE_JOINERS = Strategy(
    "more_joiners",
    (
        ProgramSpec("rare_contact"),
        ProgramSpec(
            "new_customer_deals",
            {"acquisition_multiplier": 2.0, "welcome_discount_share": 0.0, "visibility_per_month": 0.0},
        ),
    ),
)
KEY = ["join_month", "rank"]
TRAJECTORY = ["segment", "spend_per_month", "price_focus", "bond", "exit_month", "exit_reason"]


def _customers(strategy: Strategy, seed: int) -> pl.DataFrame:
    result = LoyaltyModel(strategy, customers=1_000, months=24, rng=seed).run(customers=True)
    frame = result.customer_records.select([c for c in ("join_month", *TRAJECTORY)])
    return frame.with_columns(rank=pl.int_range(pl.len()).over("join_month"))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_kth_joiner_of_a_month_is_the_same_customer_whatever_the_number_joining(seed):
    base, more = _customers(BASE, seed), _customers(MORE_JOINERS, seed)
    joined = base.filter(pl.col("join_month") > 0)
    assert joined.height > 200
    assert more.filter(pl.col("join_month") > 0).height > 1.5 * joined.height
    # Customers do not interact here, so every customer of the base run lives the same life in
    # the run with more joiners: paired differences are exactly the extra joiners' doing.
    paired = base.join(more, on=KEY, how="left", suffix="_more")
    for column in TRAJECTORY:
        assert paired[column].equals(paired[f"{column}_more"], null_equal=True), column


def test_counts_are_drawn_by_inversion_so_a_higher_mean_never_gives_fewer():
    u = np.random.default_rng(3).random(500)
    low = np.array([poisson_quantile(x, 20.0) for x in u])
    high = np.array([poisson_quantile(x, 30.0) for x in u])
    assert (high >= low).all()
    assert low.mean() == pytest.approx(20.0, abs=4 * np.sqrt(20 / 500))


def test_a_program_listed_twice_draws_from_streams_of_its_own():
    twice = Strategy("twice", (ProgramSpec("mass_contact"), ProgramSpec("mass_contact")))
    model = LoyaltyModel(twice, customers=200, months=3, rng=1)
    first, second = (p.stream_key for p in model.programs)
    assert (first, second) == ("mass_contact", "mass_contact#1")
    assert not np.array_equal(model.uniforms(first), model.uniforms(second))


@pytest.mark.parametrize("name", ["rng", "random"])
def test_mesa_generators_raise_instead_of_breaking_common_random_numbers(name):
    model = LoyaltyModel(BASE, customers=50, months=2, rng=1)
    with pytest.raises(RuntimeError, match=r"model.uniforms\(purpose\)"):
        getattr(model, name).random()


def test_slots_are_unique_and_keyed_by_month_and_rank():
    from sim.mechanisms.acquisition import AcquisitionParams, Slots

    slots = Slots(AcquisitionParams(new_customers_per_month_share=0.01), customers=100, months=3)
    slots.join(1, 2)
    slots.join(2, slots.per_month + 3)  # three more than a month's slots: they overflow
    slots.join(4, 2)  # past the horizon: overflow too
    held = slots.rows(100 + 2 + slots.per_month + 3 + 2 + 1)  # and a row added without join
    assert np.unique(held).size == held.size
    assert held[100:102].tolist() == [100, 101]
    assert held[102] == 100 + slots.per_month  # month 2's first joiner
    assert (held[102 + slots.per_month :] >= slots.overflow_start).all()
