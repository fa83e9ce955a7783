"""Phase 5, stay or leave: competing exit hazards, lock-in, breakouts and term-end decisions.

Each active customer faces, this month, the probabilities (all per month)::

    background   = background_exit_per_month * churn_propensity                   (traits)
    relationship = relationship_exit_per_month * bond_need * (1 - bond) ** 2 * hold
    service      = (failure_exit_share * failure_weight * (1 - bond) ** forgiveness
                    + dissatisfaction_exit_per_month * max(0, 1 - satisfaction / content_level)) * hold
    price        = switch probability from this month's competitor offer (phase 4)
                   * restlessness * churn_propensity * attention
    hold         = restlessness * churn_propensity
                   * exp(-rational_hold * price_focus * rational_value - emotional_hold * bond)

``failure_weight`` is 0 without a failure this month, else the weight of the failure's path
(1 silent, ``unresolved_exit_weight``, ``slow_exit_weight``, ``fast_exit_weight``; phase 1)
times its severity (``large_failure_weight`` of the service parameters for a large one).
``churn_propensity`` is the unobserved propensity to leave (``market.heterogeneity``);
``attention`` the chance of weighing an offer at all (``market.attention``). The bond holds a
customer whatever their need for one (``emotional_hold``: relational switching costs, Burnham,
Frels & Mahajan, JAMS 31(2), 2003; affective commitment raises retention, Verhoef, J. Marketing
67(4), 2003), while a customer who needs a bond and lacks one drifts away (the relationship
hazard).

A free customer leaves with probability ``1 - prod(1 - p)``, and the reason is drawn in
proportion to the component probabilities (competing risks). Who is under contract, with
which exit fee, and whose term ends this month, the programs of the strategy say (their
``terms`` hook, ``sim.programs.Terms``; the lock-in program's contracts). A customer under
contract cannot leave for voluntary reasons; the blocked pull ``v = 1 - (1-relationship)(1-service)(1-price)``
turns into resentment (C3)::

    resentment += resentment_per_blocked_exit * v

and a customer whose resentment exceeds the exit barrier ``1 - exp(-exit_fee_months /
fee_reference_months)`` breaks out with probability ``breakout_share``-scaled pull.

The end of a term is a decision, if the customer pays attention. The term's end raises
attention (``market.attention.term_end_gain``; a notice has raised it already in phase 2); an
attentive customer (probability ``attention``) acts: switches to a competitor with probability

    switch = 1 - exp(-(term_end_resentment_weight * resentment + term_end_window_months * v))

or else re-contracts with the firm. An inattentive one rolls on (inertia): into a new term if
the contract renews automatically, else onto a free monthly contract. What a re-contract or a
renewal means is the contract program's rule (its ``term_end`` hook, after phase 5). The month's
actions are counted in ``flows.term_end_actions``. Feeling trapped erodes trust (C3)::

    bond -= trapped_bond_loss * resentment          (while under contract)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import kernels
from sim.behaviours import scales_exit_hazards
from sim.mechanisms import MECHANISMS
from sim.mechanisms.attention import raise_attention
from sim.params import check_positive, check_range, param
from sim.population import ExitReason

TERM_END_ACTIONS: tuple[str, ...] = ("switched", "recontracted", "rolled_on")


@MECHANISMS.register("decision")
@dataclass(frozen=True)
class DecisionParams:
    """Exit hazards and lock-in behaviour.

    Calibrated with the other mechanisms so that the rare-contact baseline loses about half to
    two thirds of its initial customers in five years (Reichheld, The Loyalty Effect, 1996:
    about half in five years, 10-30% a year; DESIGN.md: about 70% of companies lose more than
    half), that about three quarters leave for service or relationship reasons (DESIGN.md;
    Accenture Germany 2014/15: 54% service, 46% lost trust), that yearly retention rises with
    tenure (Fader & Hardie 2007) and that strongly bonded customers stay markedly longer.
    """

    relationship_exit_per_month: float = param(
        0.04, "per month", "relationship hazard of a bond-hungry customer (bond_need 1) with no bond at all"
    )
    failure_exit_share: float = param(
        0.12, "probability", "chance of leaving after a small silent failure, with no bond"
    )
    unresolved_exit_weight: float = param(
        0.8, "factor", "exit hazard after an unresolved complaint relative to silence "
        "(TARP 1986: unresolved complainers buy again slightly more often than silent ones)",
    )
    slow_exit_weight: float = param(
        0.4, "factor", "after a complaint resolved slowly (TARP 1986: resolved complainers mostly stay)"
    )
    fast_exit_weight: float = param(
        0.1, "factor", "after a complaint resolved at once (TARP 1986: most loyal of all)"
    )
    forgiveness: float = param(2.0, "exponent", "how strongly bond softens a failure (C5)")
    dissatisfaction_exit_per_month: float = param(
        0.02, "per month", "dissatisfaction hazard at zero satisfaction"
    )
    content_level: float = param(
        0.6, "satisfaction 0..1", "satisfaction at or above which dissatisfaction adds no hazard"
    )
    rational_hold: float = param(1.5, "-", "how strongly rewards at stake damp voluntary exits")
    emotional_hold: float = param(
        4.0, "-", "how strongly the bond damps voluntary exits, whatever the need for it "
        "(Burnham et al. 2003; Verhoef 2003; assumption for the size: a bond of 0.4 cuts them to 20%)",
    )
    resentment_per_blocked_exit: float = param(
        0.6, "resentment per unit pull", "resentment gained per unit of blocked pull (C3); 0.6 (was 1 "
        "before the churn propensity, whose mean 1.7 scales every pull) keeps a locked customer's "
        "resentment where it was",
    )
    fee_reference_months: float = param(3.0, "months of spend", "exit fee for a barrier of 1 - 1/e")
    breakout_share: float = param(
        0.5, "-", "scales the pull of a customer whose resentment beats the barrier"
    )
    term_end_resentment_weight: float = param(
        0.8, "-", "weight of resentment in the chance that a customer who acts at a term end switches"
    )
    term_end_window_months: float = param(
        3.0, "months", "months of pent-up pull that act at a term's end"
    )
    trapped_bond_loss: float = param(
        0.02, "bond per month per unit resentment", "bond lost while locked and resentful (C3)"
    )

    def __post_init__(self) -> None:
        check_range(self, (
            "relationship_exit_per_month", "failure_exit_share", "dissatisfaction_exit_per_month",
            "content_level", "breakout_share", "trapped_bond_loss",
        ), 0.0, 1.0)
        check_range(self, (
            "forgiveness", "rational_hold", "emotional_hold", "resentment_per_blocked_exit",
            "term_end_resentment_weight", "term_end_window_months", "unresolved_exit_weight",
            "slow_exit_weight", "fast_exit_weight",
        ))
        check_positive(self, ("fee_reference_months",))


def _one_minus_product(*probabilities: np.ndarray) -> np.ndarray:
    stay = np.ones_like(probabilities[0])
    for p in probabilities:
        stay *= 1.0 - p
    return 1.0 - stay


def failure_weight(model, ids: np.ndarray) -> np.ndarray:
    """Weight of this month's failure in the service hazard of customers ``ids`` (0 if none)."""
    params: DecisionParams = model.market.decision
    flows = model.flows
    by_path = np.array(
        [0.0, 1.0, params.unresolved_exit_weight, params.slow_exit_weight, params.fast_exit_weight],
        dtype=np.float32,
    )
    path = flows.failure_path[ids]
    weight = np.zeros(ids.size, dtype=np.float32)
    failed = np.flatnonzero(path)  # a few percent of the customers: weigh only them
    large = flows.failure_large[ids[failed]]
    weight[failed] = by_path[path[failed]] * np.where(large, model.market.service.large_failure_weight, 1.0)
    return weight


def _hazards_numpy(model, ids: np.ndarray, switch: np.ndarray) -> tuple[np.ndarray, ...]:
    """Relationship, service, background and price hazards of customers ``ids`` (the NumPy twin
    of ``sim.kernels.hazards_compiled``, which gives the same bits)."""
    params: DecisionParams = model.market.decision
    pop = model.population
    bond = pop.bond[ids]
    propensity = pop.restlessness[ids] * pop.churn_propensity[ids]
    hold = propensity * np.exp(
        -params.rational_hold * pop.price_focus[ids] * pop.rational_value[ids] - params.emotional_hold * bond
    )
    relationship = params.relationship_exit_per_month * pop.bond_need[ids] * (1 - bond) ** 2 * hold
    service = (
        params.failure_exit_share * failure_weight(model, ids) * (1 - bond) ** params.forgiveness
        + params.dissatisfaction_exit_per_month
        * np.maximum(0.0, 1.0 - pop.satisfaction[ids] / params.content_level)
    ) * hold
    background = np.minimum(1.0, pop.background_exit_per_month[ids] * pop.churn_propensity[ids])
    relationship = np.minimum(1.0, relationship)
    service = np.minimum(1.0, service)
    price = np.minimum(1.0, switch[ids] * propensity * pop.attention[ids])
    return relationship, service, background, price


def _exp_hold(model, ids: np.ndarray) -> np.ndarray:
    """``exp(-rational_hold * price_focus * rational_value - emotional_hold * bond)`` of customers
    ``ids``: a compiled pass, then NumPy's exp (numba's may differ from it in the last bit)."""
    params: DecisionParams = model.market.decision
    pop = model.population
    return np.exp(kernels.hold_exponent_compiled(
        ids, pop.price_focus, pop.rational_value, pop.bond,
        np.float32(-params.rational_hold), np.float32(params.emotional_hold),
    ))


def _hazard_params(params: DecisionParams) -> np.ndarray:
    return np.array([
        params.relationship_exit_per_month, params.failure_exit_share,
        params.dissatisfaction_exit_per_month, params.content_level,
    ], dtype=np.float32)


def _hazards_compiled(model, ids: np.ndarray, switch: np.ndarray) -> tuple[np.ndarray, ...]:
    """The hazards in two compiled passes around NumPy's exp (so the bits equal the twin's)."""
    pop = model.population
    return kernels.hazards_compiled(
        ids, _exp_hold(model, ids), failure_weight(model, ids), switch, pop.bond, pop.restlessness,
        pop.churn_propensity, pop.bond_need, pop.satisfaction, pop.background_exit_per_month,
        pop.attention, _hazard_params(model.market.decision),
    )


_REASON_CODES = np.array([  # the competing reasons, in the order of the hazards (and of free_exits_compiled)
    ExitReason.PRICE, ExitReason.SERVICE, ExitReason.RELATIONSHIP,
    ExitReason.CONTRACT_END, ExitReason.RESENTMENT, ExitReason.BACKGROUND,
], dtype=np.int8)


def _free_exits_compiled(model, ids: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """:func:`stay_or_leave` when nobody is under contract and no behaviour scales the hazards,
    in one compiled pass after the hold's exp (the same bits as the NumPy code)."""
    params: DecisionParams = model.market.decision
    pop, flows = model.population, model.flows
    by_path = np.array(
        [0.0, 1.0, params.unresolved_exit_weight, params.slow_exit_weight, params.fast_exit_weight],
        dtype=np.float32,
    )
    leavers, stayers, count = kernels.free_exits_compiled(
        ids, model.slot_of_rows(), model.stream_keys("decision", "decision.reason"), _exp_hold(model, ids),
        flows.failure_path, flows.failure_large, by_path, float(model.market.service.large_failure_weight),
        switch, pop.bond, pop.restlessness, pop.churn_propensity, pop.bond_need, pop.satisfaction,
        pop.background_exit_per_month, pop.attention, _hazard_params(params), _REASON_CODES,
        np.int16(flows.month), pop.exit_month, pop.exit_reason, np.int64(pop.capacity), flows.exits_by_reason,
    )
    pop.deactivate(leavers, stayers[:count])
    flows.exited = leavers
    flows.term_ended, flows.recontracted = np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    flows.term_end_actions = dict.fromkeys(TERM_END_ACTIONS, 0)
    return leavers


def stay_or_leave(model, price: np.ndarray) -> np.ndarray:
    """Decide exits for all active customers; return the ids of those who left.

    Sets ``flows.exited`` (ascending), ``flows.exits_by_reason`` (counts by ``ExitReason`` code),
    ``flows.term_ended`` (ids of stayers whose term ended),
    ``flows.recontracted`` (which of those re-contracted) and ``flows.term_end_actions``.
    Subsets are selected by integer positions (``np.flatnonzero``), not boolean masks: NumPy
    gathers and scatters by position several times faster on large populations.
    """
    params: DecisionParams = model.market.decision
    pop, flows = model.population, model.flows
    ids = pop.active_ids()
    terms = model.terms(ids)  # the programs' contracts (sim.programs.Terms)
    compiled = kernels.COMPILED and params.forgiveness == 2.0  # the kernels square like NumPy's ** 2.0
    if compiled and terms is None and not scales_exit_hazards(model):
        return _free_exits_compiled(model, ids, price)
    months_left = np.zeros(ids.size, dtype=np.int16) if terms is None else terms.months_left
    term_ends_at = np.flatnonzero(months_left == 1)
    raise_attention(model, ids[term_ends_at], model.market.attention.term_end_gain)
    hazards = _hazards_compiled if compiled else _hazards_numpy  # another exponent: NumPy's power
    relationship, service, background, price = hazards(model, ids, price)
    factors = model.exit_hazard_factors(ids)  # behaviours' exit_hazards hook (sim.behaviours)
    if factors is not None:
        price, service, relationship, background = (
            np.minimum(1.0, h * f) for h, f in zip((price, service, relationship, background), (
                factors.price, factors.service, factors.relationship, factors.background), strict=True)
        )
    pull = _one_minus_product(relationship, service, price)

    locked = months_left > 0
    locked_at = np.flatnonzero(locked)
    resentment = pop.resentment[ids]
    resentment[locked_at] = np.minimum(
        1.0, resentment[locked_at] + params.resentment_per_blocked_exit * pull[locked_at]
    )
    fee = terms.exit_fee_months[locked_at] if terms is not None else np.zeros(0, dtype=np.float32)
    barrier = 1.0 - np.exp(-fee / params.fee_reference_months)
    breakout_at = locked_at[resentment[locked_at] > barrier]
    breakout = np.zeros_like(locked)
    breakout[breakout_at] = True
    term_ends = months_left == 1
    acts = np.zeros(0, dtype=bool)
    if term_ends_at.size:
        acts = model.uniforms("decision.term_end", ids[term_ends_at]) < pop.attention[ids[term_ends_at]]
    voluntary = pull.astype(np.float32)
    voluntary[locked_at] = 0.0
    voluntary[breakout_at] = np.minimum(1.0, params.breakout_share * pull[breakout_at])
    voluntary[term_ends_at] = np.where(
        acts,
        1.0 - np.exp(
            -(
                params.term_end_resentment_weight * resentment[term_ends_at]
                + params.term_end_window_months * pull[term_ends_at]
            )
        ),
        0.0,
    )
    leave = _one_minus_product(background, voluntary)
    leaves = np.flatnonzero(model.uniforms("decision", ids) < leave)

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
    cumulative = np.cumsum(weights, axis=0)
    draw = model.uniforms("decision.reason", ids[leaves]) * cumulative[-1]
    reasons = _REASON_CODES[np.minimum((draw[None, :] >= cumulative).sum(axis=0), len(_REASON_CODES) - 1)]

    # Trapped customers trust the firm less (C3: freedom to choose builds trust).
    pop.bond[ids[locked_at]] -= params.trapped_bond_loss * resentment[locked_at]
    model.clamp_states(ids[locked_at])  # the only states this phase moves out of their ranges
    pop.resentment[ids] = resentment

    leavers = ids[leaves]
    # Leaving during a term (not at its end) costs the exit fee, in months of spend.
    early = leaves[np.flatnonzero(leaver_locked & ~leaver_term_ends)]
    if early.size:
        flows.exit_fees += float((terms.exit_fee_months[early] * pop.spend_per_month[ids[early]]).sum())
    pop.deactivate(leavers)
    pop.exit_month[leavers] = flows.month
    pop.exit_reason[leavers] = reasons
    flows.exited = leavers
    flows.exits_by_reason = np.bincount(reasons, minlength=len(ExitReason))

    ended = ids[term_ends_at]
    stayed = pop.active[ended]
    flows.term_ended, flows.recontracted = ended[stayed], acts[stayed]
    flows.term_end_actions = {
        "switched": int(np.count_nonzero(pop.exit_reason[ended] == ExitReason.CONTRACT_END)),
        "recontracted": int(np.count_nonzero(acts & stayed)),
        "rolled_on": int(np.count_nonzero(~acts & stayed)),
    }
    return leavers
