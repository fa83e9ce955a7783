"""Phase 4, competitor offers: who gets tempted, and how strongly.

Each active customer receives a competitor offer with probability ``offer_rate_per_month``.
An offer's pull grows with the discount and the customer's price focus; rewards at stake
(rational value) hold against it additively, because a competitor can match them with a
bigger discount; the bond shields multiplicatively, because no discount buys it (C5, C7)::

    pull          = price_focus * discount / discount_reference
    switch_prob   = switch_max * clip(pull - price_focus * rational_value, 0, 1)
                    * (1 - bond) ** bond_shield

From ``price_war_start_month`` a price war multiplies the offer rate and replaces the discount
with ``price_war_discount``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import kernels
from sim.mechanisms import MECHANISMS
from sim.params import check_positive, check_range, param


@MECHANISMS.register("offers")
@dataclass(frozen=True)
class OffersParams:
    """Competitor offers (rates per active customer per month, discounts as share of spend)."""

    offer_rate_per_month: float = param(
        0.1, "per customer-month", "tempting competitor offers: about one a year; only attentive customers "
        "weigh them (the price hazard is multiplied by attention, about 0.3 on average: assumption)",
    )
    discount: float = param(0.15, "share of spend", "competitor's price advantage")
    discount_reference: float = param(
        0.2, "share of spend", "discount that fully pulls a purely price-focused customer"
    )
    switch_max: float = param(0.3, "probability", "highest chance of accepting one offer")
    bond_shield: float = param(2.0, "exponent", "how strongly a bond protects against offers (C5)")
    price_war_start_month: int | None = param(None, "month", "month a price war starts; None = never")
    price_war_offer_multiplier: float = param(
        3.0, "factor", "offers arrive this much more often in a price war"
    )
    price_war_discount: float = param(0.3, "share of spend", "discount during a price war")

    def __post_init__(self) -> None:
        check_range(self, ("offer_rate_per_month", "discount", "switch_max", "price_war_discount"), 0.0, 1.0)
        check_positive(self, ("discount_reference", "bond_shield", "price_war_offer_multiplier"))
        check_range(self, ("price_war_start_month",), 1)

    def terms(self, month: int) -> tuple[float, float]:
        """Offer rate and discount in force in ``month``."""
        if self.price_war_start_month is not None and month >= self.price_war_start_month:
            rate = min(1.0, self.offer_rate_per_month * self.price_war_offer_multiplier)
            return rate, self.price_war_discount
        return self.offer_rate_per_month, self.discount


def competitor_offers(model) -> np.ndarray:
    """Draw offers; return each customer's probability of switching this month (0 if no offer)."""
    params: OffersParams = model.market.offers
    pop, flows = model.population, model.flows
    rate, discount = params.terms(flows.month)
    flows.offered = np.zeros(len(pop), dtype=bool)
    switch = np.zeros(len(pop), dtype=np.float32)
    if kernels.COMPILED and params.bond_shield == 2.0:  # one pass, the same bits (squares like ** 2.0)
        f32 = np.float32
        kernels.offers_compiled(
            pop.active, model.slot_of_rows(), model.stream_keys("offers")[0], f32(rate),
            f32(discount / params.discount_reference), f32(params.switch_max), pop.price_focus,
            pop.rational_value, pop.bond, flows.offered, switch,
        )
        return switch
    active = pop.active_ids()  # ids gather several times faster than a mask
    offered = active[model.uniforms("offers", active) < rate]
    flows.offered[offered] = True
    focus = pop.price_focus[offered]
    pull = focus * (discount / params.discount_reference) - focus * pop.rational_value[offered]
    switch[offered] = (
        params.switch_max
        * np.clip(pull, 0.0, 1.0)
        * (1.0 - pop.bond[offered]) ** params.bond_shield
    )
    return switch
