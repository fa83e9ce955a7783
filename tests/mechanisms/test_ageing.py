"""Phase 6, ageing: the clocks of stayers."""

from __future__ import annotations

import numpy as np

from sim.mechanisms.ageing import age


def test_stayers_age_leavers_do_not(make_model, begin_month):
    model = make_model(customers=100)
    pop = model.population
    pop.tenure_months[:] = 5
    pop.months_since_personal_contact[:] = 2
    pop.deactivate(np.arange(0, len(pop), 4))
    begin_month(model, 6)
    age(model)
    stay, gone = pop.active, ~pop.active
    np.testing.assert_array_equal(pop.tenure_months[stay], 6)
    np.testing.assert_array_equal(pop.months_since_personal_contact[stay], 3)
    np.testing.assert_array_equal(pop.tenure_months[gone], 5)
    np.testing.assert_array_equal(pop.months_since_personal_contact[gone], 2)
