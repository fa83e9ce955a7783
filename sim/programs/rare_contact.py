"""The "one-night brand" baseline: contact only to sell (C1).

A sales pitch reaches each customer ``sales_contacts_per_year / 12`` times a month on average.
It builds no bond and does not count as personal contact, but it reminds the customer of the
deal and so raises attention (``contacts_raise_attention``: the perils of proactive contact,
Ascarza, Iyengar & Schleicher, J. Marketing Research 53(1), 2016); a pitch after ``silence_months`` or
more of silence reads as "as if nothing happened" and costs bond::

    bond -= pitch_after_silence_bond_loss * bond
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.params import check_range
from sim.plugins import param
from sim.programs import Program, register


@dataclass(frozen=True)
class RareContactParams:
    """Sales-only contact."""

    sales_contacts_per_year: float = param(2.0, "per customer-year", "sales pitches per customer")
    cost_per_contact: float = param(0.5, "EUR", "cost of one pitch")
    silence_months: int = param(6, "months", "a pitch after this much silence feels like a one-night stand")
    pitch_after_silence_bond_loss: float = param(
        0.02, "share of bond", "bond lost to such a pitch (small: the bond is a durable stock)"
    )

    def __post_init__(self) -> None:
        check_range(self, ("sales_contacts_per_year",), 0.0, 12.0)
        check_range(self, ("cost_per_contact", "silence_months"))
        check_range(self, ("pitch_after_silence_bond_loss",), 0.0, 1.0)


@register("rare_contact")
class RareContact(Program):
    Params = RareContactParams
    contacts_raise_attention = True

    def act(self, model) -> None:
        p: RareContactParams = self.params
        pop = model.population
        active = pop.active_ids()
        pitched = model.below(self.stream_key, p.sales_contacts_per_year / 12, active)
        model.charge(self.name, p.cost_per_contact * pitched.size, "contacts")
        self.contacted(model, pitched)
        cold = pitched[pop.months_since_personal_contact[pitched] >= p.silence_months]
        pop.bond[cold] *= 1.0 - p.pitch_after_silence_bond_loss
