"""Attention and inertia: how closely a customer watches their deal (phase 3, and events).

Each customer draws, at creation, an ``attentiveness`` (their resting attention, 0..1) from
their segment's distribution (bargain hunters watch their deal, most others do not);
``attention`` starts there. Events raise attention for a
while, and it fades back each month (phase 3)::

    attention += gain * (1 - attention)                            (an event)
    attention += attention_fade_per_month * (attentiveness - attention)   (every month)

Events: a contact from a program that declares ``contacts_raise_attention`` (``contact_gain``),
the end of a contract term (``term_end_gain``, phase 5), an end-of-contract notice (the
lock-in program's ``notice_attention_gain``). Attention is the chance that a customer weighs
a competitor's offer at all (the price hazard is multiplied by it, phase 5) and that they act
at the end of a contract term (re-contract or switch) instead of rolling on (inertia).

Sources. Most consumers do not track their deal and roll on: at the end of a broadband
contract about 47% act without a reminder, 62% with an end-of-contract notice (Ofcom,
end-of-contract notification review, 2021). Contacts that remind customers of their deal can
wake inattentive customers and raise churn (Ascarza, Iyengar & Schleicher, "The perils of
proactive churn prevention using plan recommendations", J. Marketing Research 53(1), 2016).
The size of the gains and the fade are assumptions set with the default market.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import kernels
from sim.mechanisms import MECHANISMS
from sim.params import check_range, param


@MECHANISMS.register("attention")
@dataclass(frozen=True)
class AttentionParams:
    """Resting attention, how events raise it and how fast it fades."""

    attention_fade_per_month: float = param(
        0.35, "share of gap", "gap to resting attention closed per month (assumption: a few months)"
    )
    contact_gain: float = param(
        0.1, "share of 1 - attention", "raised by one contact that reminds of the deal (Ascarza et al. 2016)"
    )
    term_end_gain: float = param(
        0.2, "share of 1 - attention",
        "raised by the end of a contract term (set so that 47% act, Ofcom 2021)",
    )

    def __post_init__(self) -> None:
        check_range(self, ("attention_fade_per_month", "contact_gain", "term_end_gain"), 0.0, 1.0)


def raise_attention(model, ids: np.ndarray, gain: float) -> None:
    """Raise the attention of customers ``ids`` by ``gain`` of the gap to full attention."""
    if gain:
        pop = model.population
        pop.attention[ids] += np.float32(gain) * (1.0 - pop.attention[ids])


def fade(model) -> None:
    """Phase 3: attention returns towards each customer's resting attentiveness."""
    params: AttentionParams = model.market.attention
    pop = model.population
    if kernels.COMPILED:
        fade = np.float32(params.attention_fade_per_month)
        kernels.fade_compiled(pop.active, pop.attention, pop.attentiveness, fade)
        return
    active = pop.active_ids()
    attention = pop.attention[active]
    pop.attention[active] = attention + params.attention_fade_per_month * (
        pop.attentiveness[active] - attention
    )
