"""rare_contact, the one-night brand: sales pitches build no bond; a pitch after silence costs bond."""

from __future__ import annotations

import numpy as np
import pytest

from sim.market import Market
from sim.mechanisms.offers import OffersParams
from sim.programs.rare_contact import RareContactParams
from sim.strategy import ProgramSpec

N = 1000


def test_a_pitch_after_silence_costs_bond_and_a_recent_one_does_not(make_model, begin_month):
    spec = ProgramSpec("rare_contact", {"sales_contacts_per_year": 12.0})  # everyone is pitched
    model = make_model(spec, customers=N)
    program = model.programs[0]
    p: RareContactParams = program.params
    pop = model.population
    pop.bond[:] = 0.5
    cold, warm = np.arange(N) < N // 2, np.arange(N) >= N // 2
    pop.months_since_personal_contact[cold] = p.silence_months
    pop.months_since_personal_contact[warm] = p.silence_months - 1
    begin_month(model)
    program.act(model)
    np.testing.assert_allclose(pop.bond[cold], 0.5 * (1 - p.pitch_after_silence_bond_loss), rtol=1e-6)
    np.testing.assert_array_equal(pop.bond[warm], np.float32(0.5))
    # a sales pitch is not personal contact: the silence clock runs on
    np.testing.assert_array_equal(pop.months_since_personal_contact[cold], p.silence_months)
    assert model.flows.costs["rare_contact"] == pytest.approx(p.cost_per_contact * N)


def test_pitches_arrive_at_the_sales_rate(make_model, begin_month):
    spec = ProgramSpec("rare_contact", {"sales_contacts_per_year": 3.0, "cost_per_contact": 1.0})
    model = make_model(spec, customers=4000)
    begin_month(model)
    model.programs[0].act(model)
    pitched = model.flows.costs["rare_contact"]  # 1 EUR per pitch
    expected, se = 4000 * 0.25, (4000 * 0.25 * 0.75) ** 0.5
    assert abs(pitched - expected) < 4 * se


def test_no_pitches_no_cost_no_change(make_model, begin_month):
    model = make_model(ProgramSpec("rare_contact", {"sales_contacts_per_year": 0.0}), customers=N)
    pop = model.population
    pop.months_since_personal_contact[:] = 24
    before = pop.bond.copy()
    begin_month(model)
    model.programs[0].act(model)
    np.testing.assert_array_equal(pop.bond, before)
    assert model.flows.costs.get("rare_contact", 0.0) == 0.0


def test_silent_pitches_erode_the_bond_over_a_run(make_model):
    """Against the same model and seed without pitches: the bond ends lower."""
    # Without competitor offers: a pitch also raises attention, which would change who leaves.
    market = Market(offers=OffersParams(offer_rate_per_month=0.0))
    pitching = make_model(
        ProgramSpec("rare_contact", {"sales_contacts_per_year": 12.0}), market=market, customers=2000, rng=5
    )
    silent = make_model(
        ProgramSpec("rare_contact", {"sales_contacts_per_year": 0.0}), market=market, customers=2000, rng=5
    )
    bond_pitching = pitching.run().monthly["mean_bond"].to_numpy()
    bond_silent = silent.run().monthly["mean_bond"].to_numpy()
    # identical until the first pitch meets six months of silence, then lower
    silence_months = pitching.programs[0].params.silence_months
    np.testing.assert_array_equal(bond_pitching[:silence_months], bond_silent[:silence_months])
    assert np.all(bond_pitching[silence_months:] < bond_silent[silence_months:])
    assert bond_pitching[-1] < bond_silent[-1] - 0.005
