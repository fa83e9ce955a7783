"""Phase 5, stay or leave: competing exit hazards, lock-in, term ends and breakouts.

Each active customer faces, this month, the probabilities (all per month)::

    background   = background_exit_per_month                       (trait)
    relationship = relationship_exit_per_month * bond_need * (1 - bond) ** 2 * hold
    service      = (failure_exit_share * failed * (1 - bond) ** forgiveness
                    + dissatisfaction_exit_per_month * max(0, 1 - satisfaction / content_level)) * hold
    price        = switch probability from this month's competitor offer (phase 4) * restlessness
    hold         = restlessness * exp(-rational_hold * price_focus * rational_value)

A free customer leaves with probability ``1 - prod(1 - p)``, and the reason is drawn in
proportion to the component probabilities (competing risks). A customer under contract cannot
leave for voluntary reasons; the blocked pull ``v = 1 - (1-relationship)(1-service)(1-price)``
turns into resentment (C3)::

    resentment += resentment_per_blocked_exit * v

and a customer whose resentment exceeds the exit barrier ``1 - exp(-exit_fee_months /
fee_reference_months)`` breaks out with probability ``breakout_share``-scaled pull. When the term
ends, the pent-up pull decides at once::

    leave_at_term_end = 1 - exp(-(term_end_resentment_weight * resentment + term_end_window_months * v))

Customers who stay renew into ``renewal_term_months`` (0 = free, cancellable monthly; the
contract's renewal clause is fixed at signing). Feeling trapped erodes trust (C3)::

    bond -= trapped_bond_loss * resentment          (while under contract)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.mechanisms import MECHANISMS
from sim.params import check_positive, check_range
from sim.population import ExitReason


@MECHANISMS.register("decision")
@dataclass(frozen=True)
class DecisionParams:
    """Exit hazards and lock-in behaviour.

    Calibrated so that the rare-contact baseline loses about two thirds of its initial
    customers in five years (Reichheld, The Loyalty Effect, 1996: about half in five years,
    10-30% a year; DESIGN.md: about 70% of companies lose more than half), and so that about
    three quarters leave for service or relationship reasons (DESIGN.md; Accenture Germany
    2014/15: 54% service, 46% lost trust).
    """

    relationship_exit_per_month: float = 0.02  # a bond-hungry customer with no bond at all
    failure_exit_share: float = 0.15  # leave after an unrecovered failure, with no bond
    forgiveness: float = 2.0  # exponent: how strongly bond softens a failure (C5)
    dissatisfaction_exit_per_month: float = 0.02  # at zero satisfaction
    content_level: float = 0.6  # satisfaction at or above which dissatisfaction adds no hazard
    rational_hold: float = 1.5  # how strongly rewards at stake damp voluntary exits
    resentment_per_blocked_exit: float = 1.0  # resentment gained per unit of blocked pull
    fee_reference_months: float = 3.0  # exit fee (months of spend) for a barrier of 1 - 1/e
    breakout_share: float = 0.5  # scales the pull of a customer whose resentment beats the barrier
    term_end_resentment_weight: float = 0.8
    term_end_window_months: float = 3.0  # months of pent-up pull that act at a term's end
    trapped_bond_loss: float = 0.02  # bond lost per month per unit resentment while locked

    def __post_init__(self) -> None:
        check_range(self, (
            "relationship_exit_per_month", "failure_exit_share", "dissatisfaction_exit_per_month",
            "content_level", "breakout_share", "trapped_bond_loss",
        ), 0.0, 1.0)
        check_range(self, (
            "forgiveness", "rational_hold", "resentment_per_blocked_exit",
            "term_end_resentment_weight", "term_end_window_months",
        ))
        check_positive(self, ("fee_reference_months",))


def _one_minus_product(*probabilities: np.ndarray) -> np.ndarray:
    stay = np.ones_like(probabilities[0])
    for p in probabilities:
        stay *= 1.0 - p
    return 1.0 - stay


def stay_or_leave(model, price: np.ndarray) -> np.ndarray:
    """Decide exits for all active customers; return the ids of those who left.

    Subsets are selected by integer positions (``np.flatnonzero``), not boolean masks: NumPy
    gathers and scatters by position several times faster on large populations.
    """
    params: DecisionParams = model.market.decision
    pop, flows = model.population, model.flows
    ids = pop.active_ids()
    bond = pop.bond[ids]
    restlessness = pop.restlessness[ids]
    hold = restlessness * np.exp(-params.rational_hold * pop.price_focus[ids] * pop.rational_value[ids])
    relationship = params.relationship_exit_per_month * pop.bond_need[ids] * (1 - bond) ** 2 * hold
    failed = flows.service_failed_unrecovered[ids]
    service = (
        params.failure_exit_share * failed * (1 - bond) ** params.forgiveness
        + params.dissatisfaction_exit_per_month
        * np.maximum(0.0, 1.0 - pop.satisfaction[ids] / params.content_level)
    ) * hold
    price = np.minimum(1.0, price[ids] * restlessness)
    background = pop.background_exit_per_month[ids]
    relationship = np.minimum(1.0, relationship)
    service = np.minimum(1.0, service)
    pull = _one_minus_product(relationship, service, price)

    months_left = pop.contract_months_left[ids]
    locked = months_left > 0
    locked_at = np.flatnonzero(locked)
    resentment = pop.resentment[ids]
    resentment[locked_at] = np.minimum(
        1.0, resentment[locked_at] + params.resentment_per_blocked_exit * pull[locked_at]
    )
    barrier = 1.0 - np.exp(-pop.exit_fee_months[ids[locked_at]] / params.fee_reference_months)
    breakout_at = locked_at[resentment[locked_at] > barrier]
    breakout = np.zeros_like(locked)
    breakout[breakout_at] = True
    term_ends = months_left == 1
    term_ends_at = np.flatnonzero(term_ends)
    voluntary = pull.astype(np.float32)
    voluntary[locked_at] = 0.0
    voluntary[breakout_at] = np.minimum(1.0, params.breakout_share * pull[breakout_at])
    voluntary[term_ends_at] = 1.0 - np.exp(
        -(
            params.term_end_resentment_weight * resentment[term_ends_at]
            + params.term_end_window_months * pull[term_ends_at]
        )
    )
    leave = _one_minus_product(background, voluntary)
    leaves = np.flatnonzero(model.uniforms("decision")[ids] < leave)

    # Competing risks: the reason is drawn in proportion to each component's probability.
    leaver_locked, leaver_term_ends = locked[leaves], term_ends[leaves]
    weights = np.stack(
        [
            np.where(leaver_locked, 0.0, price[leaves]),
            np.where(leaver_locked, 0.0, service[leaves]),
            np.where(leaver_locked, 0.0, relationship[leaves]),
            np.where(leaver_term_ends, voluntary[leaves], 0.0),
            np.where(breakout[leaves] & ~leaver_term_ends, voluntary[leaves], 0.0),
            background[leaves],
        ]
    )
    reason_codes = np.array(
        [
            ExitReason.PRICE, ExitReason.SERVICE, ExitReason.RELATIONSHIP,
            ExitReason.CONTRACT_END, ExitReason.RESENTMENT, ExitReason.BACKGROUND,
        ],
        dtype=np.int8,
    )
    cumulative = np.cumsum(weights, axis=0)
    draw = model.uniforms("decision.reason")[ids[leaves]] * cumulative[-1]
    reasons = reason_codes[np.minimum((draw[None, :] >= cumulative).sum(axis=0), len(reason_codes) - 1)]

    # Trapped customers trust the firm less (C3: freedom to choose builds trust).
    pop.bond[ids[locked_at]] -= params.trapped_bond_loss * resentment[locked_at]
    pop.resentment[ids] = resentment

    leavers = ids[leaves]
    # Leaving during a term (not at its end) costs the exit fee, in months of spend.
    early = leavers[np.flatnonzero(leaver_locked & ~leaver_term_ends)]
    flows.exit_fees += float((pop.exit_fee_months[early] * pop.spend_per_month[early]).sum())
    pop.active[leavers] = False
    pop.exit_month[leavers] = flows.month
    pop.exit_reason[leavers] = reasons
    flows.exited = leavers

    stayers = np.flatnonzero(pop.active)
    left_months = pop.contract_months_left[stayers]
    under_contract = np.flatnonzero(left_months > 0)
    renewing = under_contract[left_months[under_contract] == 1]
    left_months[under_contract[left_months[under_contract] > 1]] -= 1
    left_months[renewing] = pop.renewal_term_months[stayers[renewing]]
    pop.contract_months_left[stayers] = left_months
    pop.exit_fee_months[stayers[left_months == 0]] = 0.0
    # Adding the mask adds 1 to exactly the stayers, without gathering them.
    pop.tenure_months[:] += pop.active
    pop.months_since_personal_contact[:] += pop.active
    return leavers
