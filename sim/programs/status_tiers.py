"""Status tiers: non-monetary recognition with visible tiers, and demotion when activity falls.

Customers qualify for a tier (1 = silver, 2 = gold) by their recent purchase activity, an index
with 1 = an ordinary customer's month. Activity follows the bond with habit and noise, and
qualifying activity is its exponential average over ``qualifying_months``::

    activity   = habit * activity + (1 - habit) * (1 + activity_per_bond * (bond - reference_bond))
                 + activity_noise * N(0, 1)
    qualifying += (activity - qualifying) / qualifying_months

Every ``review_months`` tiers are set from qualifying activity (``silver_activity``,
``gold_activity``). While they hold a tier, customers feel recognised, which builds the bond; a
demotion is felt as a loss, larger than the gain of the same promotion (loss aversion)::

    bond += recognition_bond_gain * tier * (1 - bond)                   (every month)
    bond -= demotion_bond_loss * bond;  satisfaction -= demotion_satisfaction_loss   (at demotion)

so demoted customers lower their activity through the bond they lost. The perks are
non-monetary (recognition, priority service) and cost little per member; there is no reward
balance and nothing to lose when the program ends, so neither expectations nor forfeiture
disappoint, and the bond it built decays slowly after the end.

Calibration, in direction: non-monetary recognition builds loyalty more than discounts of the
same cost and its effect persists after the program ends (Melnyk & Bijmolt, Eur. J. Marketing
49(3/4), 2015); demoted customers lower their loyalty and activity, below customers who were
never promoted (Wagner, Hennig-Thurau & Rudolph, J. Marketing 73(3), 2009).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import check_positive, check_range
from sim.plugins import param
from sim.population import Column
from sim.programs import Program, register


@dataclass(frozen=True)
class StatusTiersParams:
    """Tier thresholds, recognition, demotion, activity dynamics and costs."""

    silver_activity: float = param(1.0, "activity index", "qualifying activity for silver (1 = ordinary)")
    gold_activity: float = param(1.15, "activity index", "qualifying activity for gold")
    review_months: int = param(6, "months", "tiers are reviewed this often")
    qualifying_months: float = param(6.0, "months", "time constant of the qualifying activity average")
    recognition_bond_gain: float = param(
        0.015, "share of gap per month and tier", "bond built by holding a visible tier"
    )
    demotion_bond_loss: float = param(0.3, "share of bond", "bond lost at a demotion (loss aversion)")
    demotion_satisfaction_loss: float = param(0.1, "satisfaction, 0..1", "satisfaction lost at a demotion")
    activity_habit: float = param(0.7, "share", "weight of last month's activity in this month's")
    activity_per_bond: float = param(1.0, "activity per unit bond", "how strongly the bond drives activity")
    reference_bond: float = param(
        0.35, "bond, 0..1", "bond of a customer with ordinary activity: the default segments' starting bond "
        "(was 0.1, the old market's typical bond; with durable bonds 0.1 made 60-70% of customers gold, "
        "and status that everyone holds is none: Drèze & Nunes, J. Consumer Research 35(6), 2009)",
    )
    activity_noise: float = param(0.2, "activity index", "month-to-month spread of activity")
    perk_cost_per_tier_month: float = param(
        0.15, "EUR per member-month and tier", "priority service, lounge, recognition mail"
    )
    admin_cost_per_customer_month: float = param(0.05, "EUR per customer-month", "tracking activity")

    def __post_init__(self) -> None:
        shares = ("recognition_bond_gain", "demotion_bond_loss", "demotion_satisfaction_loss")
        check_range(self, (*shares, "activity_habit", "reference_bond"), 0.0, 1.0)
        check_range(self, ("silver_activity", "activity_per_bond", "activity_noise"))
        check_range(self, ("perk_cost_per_tier_month", "admin_cost_per_customer_month"))
        check_range(self, ("review_months",), 1)
        check_positive(self, ("qualifying_months",))
        check_range(self, ("gold_activity",), self.silver_activity)  # gold is above silver


@register("status_tiers")
class StatusTiers(Program):
    Params = StatusTiersParams
    columns = (
        Column("activity", "float32", 1.0, "purchase activity this month, 1 = an ordinary month"),
        Column("qualifying_activity", "float32", 1.0, "exponential average of activity used for tiers"),
        Column("tier", "int8", 0, "status tier: 0 none, 1 silver, 2 gold"),
        Column("demoted_month", "int16", -1, "month of the last demotion; -1 = never"),
    )

    def start(self, model) -> None:
        self.onboard(model, model.population.active_ids())
        self._review(model, demote=False)

    def onboard(self, model, ids: np.ndarray) -> None:
        pop = model.population
        noise = self._noise(model, "onboard", ids)
        pop.activity[ids] = np.maximum(0.0, self._target(pop.bond[ids]) + self.params.activity_noise * noise)
        pop.qualifying_activity[ids] = pop.activity[ids]
        pop.tier[ids] = 0

    def act(self, model) -> None:
        p: StatusTiersParams = self.params
        pop = model.population
        ids = pop.active_ids()
        tier = pop.tier[ids]
        bond = pop.bond[ids]
        pop.bond[ids] = bond + p.recognition_bond_gain * tier * (1.0 - bond)
        activity = (
            p.activity_habit * pop.activity[ids]
            + (1.0 - p.activity_habit) * self._target(pop.bond[ids])
            + p.activity_noise * self._noise(model, "activity", ids)
        )
        pop.activity[ids] = np.maximum(0.0, activity)
        qualifying = pop.qualifying_activity[ids]
        pop.qualifying_activity[ids] = qualifying + (pop.activity[ids] - qualifying) / p.qualifying_months
        months_running = model.flows.month - self.start_month  # tiers were set at the start
        if months_running > 0 and months_running % p.review_months == 0:
            self._review(model, demote=True)
        tier_months = float(pop.tier[ids].sum())  # a gold member costs two tiers' perks
        perks = p.perk_cost_per_tier_month * tier_months
        model.charge(self.name, perks, "rewards")
        model.charge(self.name, p.admin_cost_per_customer_month * ids.size, "admin")

    def stop(self, model) -> None:
        model.population.tier[:] = 0  # the program ends for everyone: no one is demoted

    def _review(self, model, demote: bool) -> None:
        p: StatusTiersParams = self.params
        pop = model.population
        ids = pop.active_ids()
        qualifying = pop.qualifying_activity[ids]
        new_tier = (qualifying >= p.silver_activity).astype(np.int8) + (qualifying >= p.gold_activity)
        if demote:
            demoted = ids[new_tier < pop.tier[ids]]
            pop.bond[demoted] *= 1.0 - p.demotion_bond_loss
            pop.satisfaction[demoted] -= p.demotion_satisfaction_loss
            pop.demoted_month[demoted] = model.flows.month
        pop.tier[ids] = new_tier

    def _target(self, bond: np.ndarray) -> np.ndarray:
        p: StatusTiersParams = self.params
        return 1.0 + p.activity_per_bond * (bond - p.reference_bond)

    def _noise(self, model, purpose: str, ids: np.ndarray) -> np.ndarray:
        """One standard normal draw per customer of ``ids``, from a stream of the program's own."""
        return model.normals(f"{self.stream_key}.{purpose}", ids)
