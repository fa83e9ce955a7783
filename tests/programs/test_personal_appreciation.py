"""personal_appreciation: personal contacts raise the bond, reset the silence clock, cost money."""

from __future__ import annotations

import numpy as np
import pytest

from sim.programs.personal_appreciation import PersonalAppreciationParams
from sim.strategy import ProgramSpec

N = 2000


def test_a_contact_raises_bond_and_resets_the_silence_clock(make_model, begin_month):
    spec = ProgramSpec(
        "personal_appreciation", {"contacts_per_year": 6.0, "capacity_per_1000_customers_month": 1000}
    )
    model = make_model(spec, customers=N)
    program = model.programs[0]
    p: PersonalAppreciationParams = program.params
    pop = model.population
    pop.bond[:] = 0.2
    pop.bond_need[:] = 0.5
    pop.satisfaction[:] = 0.5
    pop.months_since_personal_contact[:] = 12
    begin_month(model)
    program.act(model)
    contacted = pop.months_since_personal_contact == 0
    untouched = ~contacted
    assert abs(contacted.sum() - N / 2) < 4 * (N * 0.25) ** 0.5
    np.testing.assert_allclose(pop.bond[contacted], 0.2 + p.bond_gain * 0.5 * 0.8, rtol=1e-5)
    np.testing.assert_array_equal(pop.bond[untouched], np.float32(0.2))
    assert np.all(pop.satisfaction[contacted] > 0.5)
    np.testing.assert_array_equal(pop.months_since_personal_contact[untouched], 12)
    assert model.flows.costs["personal_appreciation"] == pytest.approx(p.cost_per_contact * contacted.sum())


def test_staff_capacity_limits_the_contacts_and_their_cost(make_model, begin_month):
    spec = ProgramSpec(
        "personal_appreciation", {"contacts_per_year": 12.0, "capacity_per_1000_customers_month": 100.0}
    )
    model = make_model(spec, customers=N)
    program = model.programs[0]
    pop = model.population
    pop.months_since_personal_contact[:] = 5
    begin_month(model)
    program.act(model)
    contacted = int(np.count_nonzero(pop.months_since_personal_contact == 0))
    assert contacted == 100 * N // 1000
    assert model.flows.costs["personal_appreciation"] == pytest.approx(
        program.params.cost_per_contact * contacted
    )


def test_contacts_too_close_together_count_less(make_model, begin_month):
    spec = ProgramSpec(
        "personal_appreciation", {"contacts_per_year": 12.0, "capacity_per_1000_customers_month": 1000}
    )
    model = make_model(spec, customers=N)
    program = model.programs[0]
    pop = model.population
    pop.bond[:] = 0.2
    pop.bond_need[:] = 1.0
    recent = np.arange(N) < N // 2
    pop.months_since_personal_contact[recent] = 1
    pop.months_since_personal_contact[~recent] = int(np.ceil(program.params.habituation_months))
    begin_month(model)
    program.act(model)
    assert pop.bond[recent].max() < pop.bond[~recent].min()
    assert pop.bond[recent].min() > 0.2


def test_appreciation_raises_the_bond_against_the_same_model_without_it(make_model):
    with_it = make_model("rare_contact", "personal_appreciation", customers=N, months=12, rng=7).run().monthly
    without = make_model("rare_contact", customers=N, months=12, rng=7).run().monthly
    bond_with, bond_without = with_it["mean_bond"].to_numpy(), without["mean_bond"].to_numpy()
    assert bond_with[-1] > bond_without[-1] + 0.02
    assert np.all(bond_with[3:] > bond_without[3:])
    costs = with_it["program_cost"].to_numpy() - without["program_cost"].to_numpy()
    assert np.all(costs > 0)


def test_invalid_contact_rate_names_the_field():
    with pytest.raises(ValueError, match="contacts_per_year"):
        PersonalAppreciationParams(contacts_per_year=13.0)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_tiny_habituation_time_keeps_the_bond_finite(make_model, begin_month):
    spec = ProgramSpec(
        "personal_appreciation",
        {"contacts_per_year": 12.0, "capacity_per_1000_customers_month": 1000, "habituation_months": 1e-300},
    )
    model = make_model(spec, customers=100)
    pop = model.population
    pop.months_since_personal_contact[:] = 0
    begin_month(model)
    model.programs[0].act(model)
    assert np.all(np.isfinite(pop.bond))
