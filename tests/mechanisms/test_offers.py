"""Phase 4, competitor offers: who gets tempted, and how strongly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.market import Market
from sim.mechanisms import offers
from sim.mechanisms.offers import OffersParams, competitor_offers
from sim.strategy import ProgramSpec

N = 4000


@pytest.fixture
def always(make_model, begin_month):
    """Every active customer gets an offer; no bond, no rewards, moderate price focus."""
    model = make_model(market=Market(offers=OffersParams(offer_rate_per_month=1.0)), customers=N)
    pop = model.population
    pop.bond[:] = 0.0
    pop.rational_value[:] = 0.0
    pop.price_focus[:] = 0.5
    begin_month(model)
    return model


def test_offers_arrive_at_the_offer_rate(make_model, begin_month):
    model = make_model(market=Market(offers=OffersParams(offer_rate_per_month=0.2)), customers=N)
    begin_month(model)
    switch = competitor_offers(model)
    offered = model.flows.offered
    assert abs(int(offered.sum()) - 0.2 * N) < 4 * math.sqrt(N * 0.2 * 0.8)
    assert np.all(switch[~offered] == 0.0)
    assert np.all(switch[offered] > 0.0)


def test_no_offers_no_switching(make_model, begin_month):
    model = make_model(market=Market(offers=OffersParams(offer_rate_per_month=0.0)), customers=500)
    begin_month(model)
    assert not competitor_offers(model).any()
    assert not model.flows.offered.any()


def test_price_focused_customers_are_pulled_harder(always):
    pop = always.population
    pop.price_focus[: N // 2] = 0.1
    pop.price_focus[N // 2 :] = 0.9
    switch = competitor_offers(always)
    p = always.market.offers
    np.testing.assert_allclose(
        switch[: N // 2], p.switch_max * 0.1 * p.discount / p.discount_reference, rtol=1e-5
    )
    assert switch[N // 2 :].min() > switch[: N // 2].max()
    assert switch.max() <= p.switch_max


def test_a_bond_shields_and_rewards_at_stake_hold(always):
    pop = always.population
    quarter = N // 4
    pop.bond[quarter : 2 * quarter] = 0.5
    pop.bond[2 * quarter : 3 * quarter] = 1.0
    pop.rational_value[3 * quarter :] = 1.0  # 0.5 * 0.75 pull - 0.5 * 1.0 hold < 0
    switch = competitor_offers(always)
    bare = switch[:quarter]
    np.testing.assert_allclose(
        switch[quarter : 2 * quarter], bare * 0.5**always.market.offers.bond_shield, rtol=1e-5
    )
    np.testing.assert_array_equal(switch[2 * quarter : 3 * quarter], 0.0)
    np.testing.assert_array_equal(switch[3 * quarter :], 0.0)
    assert np.all(bare > 0)


def test_a_price_war_brings_more_and_bigger_offers(make_model, begin_month):
    params = OffersParams(
        offer_rate_per_month=0.1,
        discount=0.1,
        price_war_start_month=3,
        price_war_offer_multiplier=4.0,
        price_war_discount=0.3,
    )
    assert params.terms(2) == (0.1, 0.1)
    assert params.terms(3) == pytest.approx((0.4, 0.3))
    assert params.terms(30) == pytest.approx((0.4, 0.3))
    assert OffersParams(offer_rate_per_month=0.5, price_war_start_month=1).terms(1)[0] == 1.0

    peace = make_model(market=Market(offers=params), customers=N, rng=3)
    war = make_model(market=Market(offers=params), customers=N, rng=3)
    begin_month(peace, 2)
    begin_month(war, 3)
    switch_peace, switch_war = competitor_offers(peace), competitor_offers(war)
    assert war.flows.offered.sum() > 2 * peace.flows.offered.sum()
    assert switch_war[war.flows.offered].mean() > switch_peace[peace.flows.offered].mean()


def test_customers_who_left_get_no_offers(always):
    pop = always.population
    pop.deactivate(np.arange(0, len(pop), 2))
    switch = competitor_offers(always)
    assert not always.flows.offered[~pop.active].any()
    assert np.all(switch[~pop.active] == 0.0)


def test_switch_probability_never_exceeds_switch_max_in_a_run(make_model, monkeypatch):
    """Offers must see clamped states: heavy annoyance and an ended card push raw bonds below 0."""
    seen: list[float] = []
    lowest_bond: list[float] = []

    def recording(model):
        pop = model.population
        lowest_bond.append(float(pop.bond[pop.active].min()))
        switch = competitor_offers(model)
        seen.append(float(switch.max()))
        return switch

    monkeypatch.setattr(offers, "competitor_offers", recording)
    market = Market(offers=OffersParams(offer_rate_per_month=1.0))
    programs = (
        ProgramSpec("mass_contact", {"contacts_per_year": 100.0}),
        ProgramSpec("point_card", {"reward_share_of_spend": 0.3}, end_month=4),
    )
    make_model(*programs, market=market, customers=2000, months=12, rng=1).run()
    assert len(seen) == 12
    assert min(lowest_bond) >= 0.0, "offers phase saw a bond below 0"
    assert max(seen) <= market.offers.switch_max


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("offer_rate_per_month", 1.2),
        ("discount_reference", 0.0),
        ("price_war_start_month", 0),
        ("discount", -0.1),
    ],
)
def test_invalid_offers_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        OffersParams(**{field: value})
