"""Personal appreciation: unscheduled, authentic contact (C4).

Each month a customer is contacted personally with probability ``contacts_per_year / 12``;
when more are drawn than staff can handle (``capacity_per_1000_customers_month``), a random
subset within capacity is contacted. A contact closes part of the gap to a full bond, more for
customers who need a bond, less when it comes too soon after the last one (habituation)::

    freshness     = min(1, months_since_personal_contact / habituation_months)
    bond         += bond_gain * bond_need * freshness * (1 - bond)
    satisfaction += satisfaction_gain * (1 - satisfaction)

The sale itself was personal contact, so a contact in a customer's first months counts less.

Calibration: non-monetary recognition builds loyalty more than discounts and persists
(Melnyk & Bijmolt, Eur. J. Marketing 49(3/4), 2015); affective commitment raises retention
(Verhoef, J. Marketing 67(4), 2003).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import check_range
from sim.plugins import param
from sim.programs import Program, register


@dataclass(frozen=True)
class PersonalAppreciationParams:
    """Personal contacts."""

    contacts_per_year: float = param(
        2.0, "per customer-year", "unscheduled personal contacts drawn per customer"
    )
    capacity_per_1000_customers_month: float = param(
        250.0, "per 1000 customers-month", "staff limit on contacts per month"
    )
    cost_per_contact: float = param(8.0, "EUR", "a handwritten card or a call, staff time included")
    bond_gain: float = param(0.5, "share of gap", "share of the gap to a full bond closed by one contact")
    satisfaction_gain: float = param(
        0.05, "share of gap", "share of the gap to full satisfaction closed by one contact"
    )
    habituation_months: float = param(3.0, "months", "contacts closer together than this count less")

    def __post_init__(self) -> None:
        check_range(self, ("contacts_per_year",), 0.0, 12.0)
        check_range(self, ("bond_gain", "satisfaction_gain"), 0.0, 1.0)
        check_range(self, ("capacity_per_1000_customers_month", "cost_per_contact", "habituation_months"))


@register("personal_appreciation")
class PersonalAppreciation(Program):
    Params = PersonalAppreciationParams

    def act(self, model) -> None:
        p: PersonalAppreciationParams = self.params
        pop = model.population
        ids = pop.active_ids()
        contacted = model.below(self.stream_key, p.contacts_per_year / 12, ids)
        capacity = int(p.capacity_per_1000_customers_month * ids.size / 1000)
        if contacted.size > capacity:
            rng = model.stream(f"{self.stream_key}.capacity")
            contacted = rng.choice(contacted, size=capacity, replace=False)
        silence = pop.months_since_personal_contact[contacted].astype(np.float64)
        freshness = np.minimum(1.0, silence / p.habituation_months) if p.habituation_months else 1.0
        bond = pop.bond[contacted]
        pop.bond[contacted] = bond + p.bond_gain * pop.bond_need[contacted] * freshness * (1.0 - bond)
        pop.satisfaction[contacted] += p.satisfaction_gain * (1.0 - pop.satisfaction[contacted])
        pop.months_since_personal_contact[contacted] = 0
        self.contacted(model, contacted)  # a thank-you is not about the deal: attention unchanged
        model.charge(self.name, p.cost_per_contact * contacted.size, "contacts")
