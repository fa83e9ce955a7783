"""Phase 3, decay and adaptation: bonds fade in silence, expectations follow rewards.

Bond decays towards what the product alone earns (a share of satisfaction), and faster the
longer nobody has spoken to the customer personally (C1)::

    floor = satisfaction_bond_share * satisfaction
    rate  = bond_decay_per_month * (1 + months_since_personal_contact / silence_doubling_months)
            if bond > floor else trust_recovery_per_month
    bond -= rate * (bond - floor)

Reward expectations adapt to the rewards received; a reward below expectation disappoints
(C2, and the erosion of a program's effect 6-9 months after joining, Meyer-Waarden)::

    gap = max(0, reward_expectation - reward_received)
    satisfaction -= disappointment_satisfaction_loss * gap
    bond         -= disappointment_bond_loss * gap
    reward_expectation += expectation_adaptation * (reward_received - reward_expectation)

Rational value is recomputed from this month's reward and the points at stake (points are a
switching cost: Burnham, Frels & Mahajan, JAMS 31(2), 2003)::

    rational_value = min(1, max(0, reward_received - reward_habituation * reward_expectation)
                               / reward_reference
                           + points / (spend_per_month * points_reference_months))

A reward the customer has come to expect is partly taken for granted (``reward_habituation``),
so a card's pull fades in the months after joining while the points at stake remain.

Resentment fades once a customer is free again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.mechanisms import MECHANISMS
from sim.params import check_positive, check_range


@MECHANISMS.register("adaptation")
@dataclass(frozen=True)
class AdaptationParams:
    """Decay and adaptation rates (per month unless stated)."""

    bond_decay_per_month: float = 0.12  # share of bond above the floor lost per month after a contact
    satisfaction_bond_share: float = 0.3  # bond that good experience alone sustains, per satisfaction
    trust_recovery_per_month: float = 0.03  # share of a gap below the floor that good months refill
    silence_doubling_months: float = 24.0  # months of silence after which decay has doubled
    expectation_adaptation: float = 0.15  # share of the reward gap closed per month (6-9 months)
    disappointment_satisfaction_loss: float = 4.0  # satisfaction lost per unit share of spend
    disappointment_bond_loss: float = 3.0  # bond lost per unit share of spend missing
    reward_habituation: float = 0.5  # share of an expected reward taken for granted
    reward_reference: float = 0.1  # reward (share of spend) worth a rational value of 1
    points_reference_months: float = 2.0  # points worth this many months of spend = value 1
    resentment_decay_per_month: float = 0.1  # when no contract binds

    def __post_init__(self) -> None:
        check_range(self, (
            "bond_decay_per_month", "satisfaction_bond_share", "trust_recovery_per_month",
            "expectation_adaptation", "reward_habituation", "resentment_decay_per_month",
        ), 0.0, 1.0)
        check_positive(self, ("silence_doubling_months",))
        # Lower bounds keep the divisions meaningful in float32.
        check_range(self, ("reward_reference",), 0.001, 1.0)
        check_range(self, ("points_reference_months",), 0.1)
        check_range(self, ("disappointment_satisfaction_loss", "disappointment_bond_loss"))


def decay_and_adapt(model) -> None:
    """Apply bond decay, expectation adaptation, disappointment and rational value."""
    params: AdaptationParams = model.market.adaptation
    pop = model.population
    # Integer ids, not a boolean mask: NumPy gathers and scatters by id several times faster.
    active = pop.active_ids()
    silence = pop.months_since_personal_contact[active].astype(np.float32)
    bond = pop.bond[active]
    satisfaction = pop.satisfaction[active]
    floor = params.satisfaction_bond_share * satisfaction
    excess = bond - floor
    rate = np.where(
        excess > 0,
        params.bond_decay_per_month * (1.0 + silence / params.silence_doubling_months),
        params.trust_recovery_per_month,
    )
    bond -= rate * excess

    received = pop.reward_received[active]
    expectation = pop.reward_expectation[active]
    gap = np.maximum(expectation - received, 0.0)
    pop.satisfaction[active] = satisfaction - params.disappointment_satisfaction_loss * gap
    bond -= params.disappointment_bond_loss * gap
    pop.bond[active] = bond
    pop.reward_expectation[active] = expectation + params.expectation_adaptation * (
        received - expectation
    )
    surprise = np.maximum(0.0, received - params.reward_habituation * expectation)
    pop.rational_value[active] = np.minimum(
        1.0,
        surprise / params.reward_reference
        + pop.points[active] / (pop.spend_per_month[active] * params.points_reference_months),
    )
    free = active[pop.contract_months_left[active] == 0]
    pop.resentment[free] *= 1.0 - params.resentment_decay_per_month
