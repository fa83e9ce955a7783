"""New-customer deals: welcome discounts that loyal customers see (C6).

New customers get ``welcome_discount_share`` off their spend for ``deal_months`` (booked as
program cost) and more of them join (``acquisition_multiplier``). Each month a share
``visibility_per_month`` of existing customers notices that newcomers get a better deal and
feels treated unfairly, more so the longer they have been loyal::

    bond         -= unfairness_bond_loss * min(1, tenure_months / 12)
    satisfaction -= unfairness_satisfaction_loss * min(1, tenure_months / 12)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import check_range
from sim.plugins import param
from sim.programs import Program, register


@dataclass(frozen=True)
class NewCustomerDealsParams:
    """Welcome deals."""

    welcome_discount_share: float = param(
        0.2, "share of spend", "discount a new customer gets during the deal"
    )
    deal_months: int = param(3, "months", "how long a new customer's deal lasts")
    acquisition_multiplier: float = param(1.5, "factor", "new customers per month relative to no deal")
    visibility_per_month: float = param(
        0.1, "share per month", "existing customers who see a deal each month"
    )
    unfairness_bond_loss: float = param(0.05, "bond, 0..1", "bond lost by a loyal customer who sees a deal")
    unfairness_satisfaction_loss: float = param(
        0.05, "satisfaction, 0..1", "satisfaction lost by a loyal customer who sees a deal"
    )

    def __post_init__(self) -> None:
        check_range(self, (
            "welcome_discount_share", "visibility_per_month", "unfairness_bond_loss",
            "unfairness_satisfaction_loss",
        ), 0.0, 1.0)
        check_range(self, ("deal_months", "acquisition_multiplier"))


@register("new_customer_deals")
class NewCustomerDeals(Program):
    Params = NewCustomerDealsParams

    def act(self, model) -> None:
        p: NewCustomerDealsParams = self.params
        pop = model.population
        month = model.flows.month
        # Joiners arrive after this phase (phase 8), so a deal covers their next deal_months months.
        months_since_joining = month - pop.join_month
        on_deal = (
            pop.active
            & (pop.join_month >= self.start_month)
            & (months_since_joining > 0)
            & (months_since_joining <= p.deal_months)
        )
        # Integer ids, not masks: NumPy gathers and scatters by id several times faster.
        discount = p.welcome_discount_share * float(pop.spend_per_month[np.flatnonzero(on_deal)].sum())
        model.charge(self.name, discount, "discounts")
        candidates = np.flatnonzero(pop.active & ~on_deal)
        seen = model.below(self.stream_key, p.visibility_per_month, candidates)
        loyalty = np.minimum(1.0, pop.tenure_months[seen] / 12.0)
        pop.bond[seen] -= p.unfairness_bond_loss * loyalty
        pop.satisfaction[seen] -= p.unfairness_satisfaction_loss * loyalty

    def acquisition_multiplier(self, model) -> float:
        return self.params.acquisition_multiplier
