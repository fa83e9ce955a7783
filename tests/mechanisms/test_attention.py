"""Attention and inertia: events raise attention, it fades back, contacts of some programs wake."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.attention import AttentionParams, fade, raise_attention
from sim.params import ParamError


def test_attention_fades_back_to_each_customers_resting_level(make_model, begin_month):
    model = make_model(customers=200)
    pop = model.population
    pop.attentiveness[:] = np.linspace(0.1, 0.5, 200, dtype=np.float32)
    pop.attention[:] = 0.9
    begin_month(model)
    fade(model)
    rate = model.market.attention.attention_fade_per_month
    np.testing.assert_allclose(pop.attention, 0.9 + rate * (pop.attentiveness - 0.9), rtol=1e-5)
    for _ in range(100):
        fade(model)
    np.testing.assert_allclose(pop.attention, pop.attentiveness, atol=1e-4)


def test_an_event_closes_part_of_the_gap_to_full_attention(make_model):
    model = make_model(customers=10)
    pop = model.population
    pop.attention[:] = 0.2
    raise_attention(model, np.arange(5), 0.5)
    np.testing.assert_allclose(pop.attention[:5], 0.6)
    np.testing.assert_allclose(pop.attention[5:], 0.2)


def test_customers_start_at_their_resting_attention(make_model):
    pop = make_model(customers=500).population
    np.testing.assert_array_equal(pop.attention, pop.attentiveness)
    assert pop.attentiveness.std() > 0.05


@pytest.mark.parametrize(("program", "wakes"), [
    ("rare_contact", True), ("mass_contact", True), ("personal_appreciation", False),
])
def test_programs_declare_whether_their_contacts_raise_attention(make_model, begin_month, program, wakes):
    from sim.strategy import ProgramSpec

    model = make_model(ProgramSpec(program, {"contacts_per_year" if program != "rare_contact"
                                             else "sales_contacts_per_year": 12.0}), customers=500)
    pop = model.population
    before = pop.attention.copy()
    begin_month(model, 1)
    model.programs[0].act(model)
    raised = pop.attention > before + 1e-6
    assert model.programs[0].contacts_raise_attention == wakes
    assert raised.mean() > 0.5 if wakes else not raised.any()


def test_invalid_parameters_name_the_field():
    with pytest.raises(ParamError, match="contact_gain"):
        AttentionParams(contact_gain=1.5)
