"""Standardised mass contact: newsletters, the Christmas card everyone gets (C4).

Every active customer receives ``contacts_per_year / 12`` contacts a month. Each nudges the
bond a little; customers whose tolerance is below the contact rate are annoyed in proportion
to the excess::

    bond += bond_gain_per_contact * contacts * (1 - bond)
    excess = max(0, 1 - contact_tolerance_per_year / contacts_per_year)
    bond         -= annoyance_bond_loss * contacts * excess
    satisfaction -= annoyance_satisfaction_loss * contacts * excess

Standardised contacts carry offers and remind customers of their deal, so they raise attention
(``contacts_raise_attention``; Ascarza, Iyengar & Schleicher, J. Marketing Research 53(1), 2016).
Mass contact is not personal: it does not reset the silence clock (direct mailings raise
customer share, not retention: Verhoef, J. Marketing 67(4), 2003).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import check_range
from sim.plugins import param
from sim.programs import Program, register


@dataclass(frozen=True)
class MassContactParams:
    """Standardised contacts."""

    contacts_per_year: float = param(
        12.0, "per customer-year", "standardised contacts every customer receives"
    )
    cost_per_contact: float = param(0.05, "EUR", "cost of one contact")
    bond_gain_per_contact: float = param(0.003, "share of gap", "bond built by one contact")
    annoyance_bond_loss: float = param(
        0.02, "bond per contact", "at a contact rate far above the customer's tolerance"
    )
    annoyance_satisfaction_loss: float = param(
        0.01, "satisfaction per contact", "at a contact rate far above tolerance"
    )

    def __post_init__(self) -> None:
        check_range(self, ("contacts_per_year",), 0.0, 365.0)
        check_range(
            self, ("bond_gain_per_contact", "annoyance_bond_loss", "annoyance_satisfaction_loss"), 0.0, 1.0
        )
        check_range(self, ("cost_per_contact",))


@register("mass_contact")
class MassContact(Program):
    Params = MassContactParams
    contacts_raise_attention = True

    def act(self, model) -> None:
        p: MassContactParams = self.params
        if p.contacts_per_year == 0:
            return
        pop = model.population
        ids = pop.active_ids()
        contacts = p.contacts_per_year / 12
        excess = np.maximum(0.0, 1.0 - pop.contact_tolerance_per_year[ids] / p.contacts_per_year)
        bond = pop.bond[ids]
        bond += p.bond_gain_per_contact * contacts * (1.0 - bond)
        bond -= p.annoyance_bond_loss * contacts * excess
        pop.bond[ids] = bond
        pop.satisfaction[ids] -= p.annoyance_satisfaction_loss * contacts * excess
        self.contacted(model, model.below(self.stream_key, min(1.0, contacts), ids))
        model.charge(self.name, p.cost_per_contact * contacts * ids.size, "contacts")
