"""new_customer_deals: more joiners, welcome discounts, and unfairness felt by loyal customers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.programs.new_customer_deals import NewCustomerDealsParams
from sim.strategy import ProgramSpec

N = 2000


def test_deals_raise_acquisitions_against_the_same_model_without_them(make_model):
    deals = make_model("rare_contact", "new_customer_deals", customers=N, months=24, rng=9)
    plain = make_model("rare_contact", customers=N, months=24, rng=9)
    acquired_deals = int(deals.run().monthly["acquired"].sum())
    acquired_plain = int(plain.run().monthly["acquired"].sum())
    multiplier = deals.programs[1].params.acquisition_multiplier
    assert multiplier > 1.2
    # Poisson counts near 480 and 720: 4 standard deviations are about 90 and 110
    assert acquired_deals > acquired_plain * 1.2
    assert deals.programs[1].acquisition_multiplier(deals) == multiplier


def test_loyal_customers_who_see_the_deal_lose_bond(make_model, begin_month):
    spec = ProgramSpec("new_customer_deals", {"visibility_per_month": 1.0})
    model = make_model(spec, customers=N)
    program = model.programs[0]
    p: NewCustomerDealsParams = program.params
    pop = model.population
    pop.bond[:] = 0.5
    pop.satisfaction[:] = 0.7
    long, short, fresh = np.arange(N) % 3 == 0, np.arange(N) % 3 == 1, np.arange(N) % 3 == 2
    pop.tenure_months[long] = 24
    pop.tenure_months[short] = 6
    pop.tenure_months[fresh] = 0
    begin_month(model, 5)
    program.act(model)
    np.testing.assert_allclose(pop.bond[long], 0.5 - p.unfairness_bond_loss, rtol=1e-5)
    np.testing.assert_allclose(pop.bond[short], 0.5 - p.unfairness_bond_loss * 0.5, rtol=1e-5)
    np.testing.assert_array_equal(pop.bond[fresh], np.float32(0.5))
    assert np.all(pop.satisfaction[long] < 0.7)


def test_only_some_customers_see_the_deal(make_model, begin_month):
    model = make_model(ProgramSpec("new_customer_deals", {"visibility_per_month": 0.25}), customers=N)
    pop = model.population
    pop.bond[:] = 0.5
    pop.tenure_months[:] = 12
    begin_month(model, 5)
    model.programs[0].act(model)
    saw = int(np.count_nonzero(pop.bond < 0.5))
    assert abs(saw - N / 4) < 4 * (N * 0.25 * 0.75) ** 0.5


def test_customers_on_the_deal_cost_the_discount_and_feel_no_unfairness(make_model, begin_month):
    spec = ProgramSpec("new_customer_deals", {"visibility_per_month": 1.0, "deal_months": 3})
    model = make_model(spec, customers=100)
    pop = model.population
    # joined at the end of month 4
    ids = pop.add(model.stream("test.joiners"), 50, model.market.segments, month=4)
    pop.tenure_months[ids] = 12  # even if they somehow had tenure, they are on the deal
    pop.bond[ids] = 0.5
    begin_month(model, 5)
    model.programs[0].act(model)
    p = model.programs[0].params
    expected = p.welcome_discount_share * float(pop.spend_per_month[ids].sum())
    assert model.flows.costs["new_customer_deals"] == pytest.approx(expected, rel=1e-5)
    np.testing.assert_array_equal(pop.bond[ids], np.float32(0.5))


@pytest.mark.parametrize("deal_months", [1, 3])
def test_a_joiner_gets_the_deal_for_deal_months(make_model, begin_month, deal_months):
    spec = ProgramSpec("new_customer_deals", {"deal_months": deal_months})
    model = make_model(spec, customers=100)
    program = model.programs[0]
    pop = model.population
    pop.deactivate(pop.active_ids())  # only the joiners below are customers
    pop.add(model.stream("test.joiners"), 20, model.market.segments, month=4)  # phase 6 of month 4
    months_on_deal = 0
    for month in range(5, 12):
        begin_month(model, month)
        program.act(model)
        if model.flows.costs.get("new_customer_deals", 0.0) > 0:
            months_on_deal += 1
    assert months_on_deal == deal_months
