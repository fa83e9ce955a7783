"""mass_contact: standardised contact nudges the bond and annoys customers above their tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from sim.programs.mass_contact import MassContactParams
from sim.strategy import ProgramSpec

N = 1000


@pytest.fixture
def newsletter(make_model, begin_month):
    model = make_model(ProgramSpec("mass_contact", {"contacts_per_year": 12.0}), customers=N)
    pop = model.population
    pop.bond[:] = 0.4
    pop.satisfaction[:] = 0.7
    pop.months_since_personal_contact[:] = 7
    pop.contact_tolerance_per_year[: N // 2] = 1000.0  # tolerant
    pop.contact_tolerance_per_year[N // 2 :] = 3.0  # annoyed by more than 3 contacts a year
    begin_month(model)
    return model


def test_contact_above_tolerance_lowers_the_bond_of_intolerant_customers(newsletter):
    newsletter.programs[0].act(newsletter)
    pop = newsletter.population
    tolerant, intolerant = slice(0, N // 2), slice(N // 2, N)
    assert np.all(pop.bond[tolerant] > 0.4)
    assert np.all(pop.bond[tolerant] < 0.41)  # barely moves the bond
    assert np.all(pop.bond[intolerant] < 0.4)
    np.testing.assert_array_equal(pop.satisfaction[tolerant], np.float32(0.7))
    assert np.all(pop.satisfaction[intolerant] < 0.7)
    # not personal: the silence clock runs on
    np.testing.assert_array_equal(pop.months_since_personal_contact, 7)


def test_cost_is_per_contact_and_active_customer(newsletter):
    newsletter.population.deactivate(np.arange(100))
    newsletter.programs[0].act(newsletter)
    p: MassContactParams = newsletter.programs[0].params
    assert newsletter.flows.costs["mass_contact"] == pytest.approx(p.cost_per_contact * (N - 100))


def test_no_contacts_change_nothing(make_model, begin_month):
    model = make_model(ProgramSpec("mass_contact", {"contacts_per_year": 0.0}), customers=N)
    before = model.population.to_dict(["bond", "satisfaction"])
    begin_month(model)
    model.programs[0].act(model)
    for name, values in before.items():
        np.testing.assert_array_equal(getattr(model.population, name), values)
    assert model.flows.costs.get("mass_contact", 0.0) == 0.0


def test_a_newsletter_lowers_the_bond_of_intolerant_customers_over_a_run(make_model):
    """Against the same model and seed without mass contact."""
    newsletter = make_model(
        ProgramSpec("mass_contact", {"contacts_per_year": 12.0}), customers=2000, months=6, rng=8
    )
    none = make_model(
        ProgramSpec("mass_contact", {"contacts_per_year": 0.0}), customers=2000, months=6, rng=8
    )
    newsletter.run()
    none.run()

    def mean_bond(model, low: float, high: float) -> float:
        pop = model.population
        tolerance = pop.contact_tolerance_per_year
        return float(pop.bond[pop.active & (tolerance >= low) & (tolerance < high)].mean())

    # annoyed at least half as much as the rate allows: clearly lower bond
    assert mean_bond(newsletter, 0, 6) < mean_bond(none, 0, 6) - 0.02
    # within tolerance: a small gain, no loss
    gain = mean_bond(newsletter, 12, np.inf) - mean_bond(none, 12, np.inf)
    assert 0.0 < gain < 0.02
