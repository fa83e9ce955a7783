"""Phase 3, decay and adaptation: bonds fade in silence, expectations follow rewards.

Bond decays towards what the product alone earns (a share of satisfaction), and faster the
longer nobody has spoken to the customer personally (C1)::

    floor = satisfaction_bond_share * satisfaction
    rate  = bond_decay_per_month * (1 + months_since_personal_contact / silence_doubling_months)
            if bond > floor else trust_recovery_per_month
    bond -= rate * (bond - floor)

The transient part of the bond (``bond_transient``: minus the failure losses not yet forgiven,
phase 1) fades, and the bond with it::

    fade = transient_bond_fade_per_month * bond_transient
    bond -= fade;  bond_transient -= fade

so a failure's loss comes back over the following months: customers forgive with time
(McCullough, Fincham & Tsang, J. Personality and Social Psychology 84(3), 2003: benevolence
towards a transgressor rises and avoidance falls over the months after the offence), and a
customer's bond under steady service settles near what that service sustains instead of being
worn away by failures for ever (an identical customer's retention does not fall with tenure).

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

``points`` are the reward balances the strategy's programs hold for the customer (their
``balance`` hook: the point card's points). Resentment fades once no contract binds the
customer (programs' ``terms``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import kernels
from sim.mechanisms import MECHANISMS
from sim.params import check_positive, check_range, param
from sim.programs import under_contract


@MECHANISMS.register("adaptation")
@dataclass(frozen=True)
class AdaptationParams:
    """Decay and adaptation rates.

    The bond is a durable stock: trust builds slowly and fades slowly, over months to years, not
    weeks. Affective commitment measured once still predicts retention a year or more later
    (Verhoef, J. Marketing 67(4), 2003; Gustafsson, Johnson & Roos, J. Marketing 69(4), 2005),
    and recognition keeps working after a program ends (Melnyk & Bijmolt, Eur. J. Marketing
    49(3/4), 2015). The rates below are assumptions in that spirit: after a personal contact the
    bond above its floor halves in about a decade right after a personal contact, faster the
    longer the silence (C1), and a bond below the floor builds just as slowly. Fast decay
    (the first version lost 12% a month) erased the differences between customers within a year,
    so the bond stopped predicting who stays; with these rates the most bonded third at month 12
    lives markedly longer than the least bonded third (``docs/ODD.md``, calibration).
    """

    bond_decay_per_month: float = param(
        0.005, "share per month",
        "share of the bond above the floor lost per month right after a personal contact "
        "(half-life about 11 years right after a contact, 5.8 years after five years of silence; "
        "assumption, see the class docstring)",
    )
    satisfaction_bond_share: float = param(
        0.5, "bond per satisfaction",
        "bond that good experience alone builds and sustains (the floor): a content customer "
        "(satisfaction 0.75) grows a bond of about 0.37 over the years (assumption)",
    )
    trust_recovery_per_month: float = param(
        0.005, "share per month",
        "share of a gap below the floor that good months refill: trust builds as slowly as it fades"
    )
    transient_bond_fade_per_month: float = param(
        0.05, "share per month",
        "share of the transient bond (failure losses not yet forgiven) that comes back per month "
        "(forgiveness over months: McCullough et al. 2003; half-life about 14 months, assumption for "
        "the size: with it an identical customer's bond, and retention, level off within about two "
        "years under the default service instead of falling for a decade)",
    )
    silence_doubling_months: float = param(
        60.0, "months", "months of silence after which the decay rate has doubled (C1)"
    )
    expectation_adaptation: float = param(
        0.15, "share per month",
        "share of the reward gap closed per month (erosion in 6-9 months, Meyer-Waarden)",
    )
    disappointment_satisfaction_loss: float = param(
        4.0, "satisfaction per unit share of spend", "satisfaction lost to a reward below expectation (C2)"
    )
    disappointment_bond_loss: float = param(
        3.0, "bond per unit share of spend", "bond lost to a reward below expectation (C2)"
    )
    reward_habituation: float = param(0.5, "share", "share of an expected reward taken for granted")
    reward_reference: float = param(0.1, "share of spend", "reward worth a rational value of 1")
    points_reference_months: float = param(2.0, "months of spend", "points worth a rational value of 1")
    resentment_decay_per_month: float = param(
        0.1, "share per month", "resentment fading when no contract binds"
    )

    def __post_init__(self) -> None:
        check_range(self, (
            "bond_decay_per_month", "satisfaction_bond_share", "trust_recovery_per_month",
            "expectation_adaptation", "reward_habituation", "resentment_decay_per_month",
            "transient_bond_fade_per_month",
        ), 0.0, 1.0)
        check_positive(self, ("silence_doubling_months",))
        # Lower bounds keep the divisions meaningful in float32.
        check_range(self, ("reward_reference",), 0.001, 1.0)
        check_range(self, ("points_reference_months",), 0.1)
        check_range(self, ("disappointment_satisfaction_loss", "disappointment_bond_loss"))


def decay_and_adapt(model, clamp: bool = False) -> bool:
    """Apply bond decay, expectation adaptation, disappointment and rational value. ``clamp``:
    also clamp the states to their ranges, where a compiled pass can do it as it goes; returns
    whether it did (else the caller clamps)."""
    params: AdaptationParams = model.market.adaptation
    pop = model.population
    # Integer ids, not a boolean mask: NumPy gathers and scatters by id several times faster.
    active = pop.active_ids()
    points = model.balance(active)  # the programs' reward balances (point card's points), EUR
    terms = model.terms(active)  # once: the programs' hooks are not free
    if not kernels.COMPILED:
        _decay_and_adapt_numpy(params, pop, active, points, under_contract(terms, active.size))
        return False
    if points is None and terms is None:  # every row in order, without a gather
        kernels.decay_and_adapt_rows_compiled(
            pop.active, pop.months_since_personal_contact, pop.bond, pop.bond_transient, pop.satisfaction,
            pop.reward_received, pop.reward_expectation, pop.rational_value, pop.resentment,
            _parameters(params), clamp,
        )
        return clamp
    kernels.decay_and_adapt_compiled(
        active, pop.months_since_personal_contact, pop.bond, pop.bond_transient, pop.satisfaction,
        pop.reward_received,
        pop.reward_expectation, pop.rational_value, pop.spend_per_month,
        np.zeros(0, dtype=np.float32) if points is None else points.astype(np.float32, copy=False),
        under_contract(terms), pop.resentment, _parameters(params), clamp,
    )
    return clamp


def _parameters(params: AdaptationParams) -> np.ndarray:
    """The float32 parameters ``p`` of ``sim.compiled.decay_and_adapt_compiled``, in its order."""
    return np.array([
        params.satisfaction_bond_share, params.bond_decay_per_month, params.silence_doubling_months,
        params.trust_recovery_per_month, params.disappointment_satisfaction_loss,
        params.disappointment_bond_loss, params.expectation_adaptation, params.reward_habituation,
        params.reward_reference, params.points_reference_months,
        1.0 - params.resentment_decay_per_month, params.transient_bond_fade_per_month,
    ], dtype=np.float32)


def _decay_and_adapt_numpy(params: AdaptationParams, pop, active, points, locked) -> None:
    """The NumPy twin of ``sim.kernels.decay_and_adapt_compiled`` (tests compare them)."""
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
    transient = pop.bond_transient[active]
    fade = params.transient_bond_fade_per_month * transient
    bond -= fade
    pop.bond_transient[active] = transient - fade

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
    value = surprise / params.reward_reference
    if points is not None:
        value += points / (pop.spend_per_month[active] * params.points_reference_months)
    pop.rational_value[active] = np.minimum(1.0, value)
    free = active[~locked]
    pop.resentment[free] *= 1.0 - params.resentment_decay_per_month
