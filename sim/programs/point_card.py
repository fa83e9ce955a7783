"""Point card: rewards as a share of spend, redeemed at a threshold (C2).

While it runs, every active customer earns ``reward_share_of_spend * spend_per_month`` in
points and a reward of that share this month (raising rational value, phase 3). Points are
redeemed when the balance reaches ``redemption_threshold``; the firm pays at redemption
(unredeemed points of leavers are breakage). A cut (``cut_month``, ``cut_to_share``) or the end
of the card leaves expectations above the reward received: disappointment (phase 3). With
``forfeit_points_at_end`` the balance is lost when the card ends.

The balance is the card's column ``points``; the core reads it through the ``balance`` hook
(rational value, phase 3; the monthly ``points_liability``).

Calibration: Payback-style cards return about 0.5-3% of spend; the causal effect of membership
is small (Leenheer et al., IJRM 24(1), 2007) and erodes 6-9 months after joining
(Meyer-Waarden), which the expectation adaptation reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import check_positive, check_range
from sim.plugins import param
from sim.population import Column
from sim.programs import Program, register


@dataclass(frozen=True)
class PointCardParams:
    """Reward rates are shares of spend; money in EUR."""

    reward_share_of_spend: float = param(
        0.03, "share of spend", "points earned per month while the card runs"
    )
    redemption_threshold: float = param(
        30.0, "EUR", "point balance needed to redeem; the firm pays at redemption"
    )
    admin_cost_per_member_month: float = param(0.2, "EUR per member-month", "card operator, IT, statements")
    forfeit_points_at_end: bool = param(True, "-", "unredeemed points are lost when the card ends")
    cut_month: int | None = param(None, "month", "month the reward is cut; None = never")
    cut_to_share: float = param(0.01, "share of spend", "reward after the cut")

    def __post_init__(self) -> None:
        check_range(self, ("reward_share_of_spend", "cut_to_share"), 0.0, 1.0)
        check_positive(self, ("redemption_threshold",))
        check_range(self, ("admin_cost_per_member_month",))
        check_range(self, ("cut_month",), 1)

    def share_in(self, month: int) -> float:
        if self.cut_month is not None and month >= self.cut_month:
            return self.cut_to_share
        return self.reward_share_of_spend


@register("point_card")
class PointCard(Program):
    Params = PointCardParams
    columns = (Column("points", "float32", 0.0, "unredeemed reward points, EUR value"),)

    def act(self, model) -> None:
        p: PointCardParams = self.params
        pop = model.population
        ids = pop.active_ids()
        share = p.share_in(model.flows.month)
        pop.reward_received[ids] = share
        points = pop.points[ids] + share * pop.spend_per_month[ids]
        redeem = points >= p.redemption_threshold
        model.charge(self.name, float(points[redeem].sum()), "rewards")
        model.charge(self.name, p.admin_cost_per_member_month * ids.size, "admin")
        points[redeem] = 0.0
        pop.points[ids] = points

    def stop(self, model) -> None:
        if self.params.forfeit_points_at_end:
            model.population.points[:] = 0.0

    def balance(self, model, ids: np.ndarray) -> np.ndarray:
        return model.population.points[ids]
