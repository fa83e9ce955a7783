"""The numba kernels of :mod:`sim.kernels`, compiled on first use and cached on disk.

Imported only when a model first runs a kernel (numba loads LLVM and SciPy: commands that do not
simulate should not pay for it). Every kernel has a NumPy twin; see :mod:`sim.kernels`.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np


def _jit(**options: object) -> Callable[[Callable], Callable]:
    """numba.njit with on-disk caching (``sim/__pycache__``), so a process loads machine code."""
    return numba.njit(cache=True, **options)


@_jit(inline="always")
def _mix(key: np.uint64, position: np.uint64) -> np.float32:
    z = key + (position + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.float32(z >> np.uint64(40)) * np.float32(2.0**-24)


@_jit()
def _uniforms_compiled(key: np.uint64, slots: np.ndarray, ids: np.ndarray, everyone: bool) -> np.ndarray:
    n = slots.size if everyone else ids.size
    out = np.empty(n, dtype=np.float32)
    for k in range(n):
        out[k] = _mix(key, np.uint64(slots[k] if everyone else slots[ids[k]]))
    return out


@_jit()
def _normals_compiled(key: np.uint64, slots: np.ndarray, ids: np.ndarray, everyone: bool) -> np.ndarray:
    n = slots.size if everyone else ids.size
    out = np.empty(n, dtype=np.float32)
    for k in range(n):
        doubled = np.uint64(2) * np.uint64(slots[k] if everyone else slots[ids[k]])
        radius = 1.0 - np.float64(_mix(key, doubled))
        angle = np.float64(_mix(key, doubled + np.uint64(1)))
        out[k] = np.float32(np.sqrt(-2.0 * np.log(radius)) * np.cos(2.0 * np.pi * angle))
    return out


# --- phase 1: service encounters ----------------------------------------------------------------


@_jit()
def follow_experience_compiled(
    active: np.ndarray, satisfaction: np.ndarray, experience: np.ndarray, adaptation: np.float32
) -> None:
    """Satisfaction closes ``adaptation`` of its gap to this month's experience (per row)."""
    for k in range(active.size):
        i = active[k]
        satisfaction[i] = satisfaction[i] + adaptation * (experience[i] - satisfaction[i])


# --- phase 3: decay and adaptation ---------------------------------------------------------------
# One pass over the active customers instead of a gather, a temporary and a scatter per term.
# Parameters arrive as float32 and every step rounds to float32 in the NumPy twin's order, so
# the results are bit-identical to sim.mechanisms.adaptation's NumPy code (tests compare them).


@_jit()
def _maximum(a: np.float32, b: np.float32) -> np.float32:
    return a if a >= b else b  # np.maximum's choice for equal values (and -0.0 == 0.0)


@_jit()
def _minimum(a: np.float32, b: np.float32) -> np.float32:
    return a if a <= b else b


@_jit()
def decay_and_adapt_compiled(
    active: np.ndarray, silence_months: np.ndarray, bond: np.ndarray, transient: np.ndarray,
    satisfaction: np.ndarray, received: np.ndarray, expectation: np.ndarray, rational_value: np.ndarray,
    spend: np.ndarray,
    points: np.ndarray, locked: np.ndarray, resentment: np.ndarray, p: np.ndarray,
) -> None:
    """``p``: float32 [bond share, decay, doubling, recovery, satisfaction loss, bond loss,
    expectation adaptation, habituation, reward reference, points reference, 1 - resentment
    decay, transient bond fade]; ``points`` empty when no program holds a balance; ``locked``
    aligned with ``active``."""
    zero, one = np.float32(0.0), np.float32(1.0)
    with_points = points.size > 0
    for k in range(active.size):
        i = active[k]
        sat = satisfaction[i]
        b = bond[i]
        excess = b - p[0] * sat
        rate = p[1] * (one + np.float32(silence_months[i]) / p[2]) if excess > zero else p[3]
        b = b - rate * excess
        fade = p[11] * transient[i]
        b = b - fade
        transient[i] = transient[i] - fade
        got = received[i]
        expected = expectation[i]
        gap = _maximum(expected - got, zero)
        satisfaction[i] = sat - p[4] * gap
        bond[i] = b - p[5] * gap
        expectation[i] = expected + p[6] * (got - expected)
        value = _maximum(zero, got - p[7] * expected) / p[8]
        if with_points:
            value = value + points[k] / (spend[i] * p[9])
        rational_value[i] = _minimum(one, value)
        if not locked[k]:
            resentment[i] = resentment[i] * p[10]


@_jit()
def fade_compiled(
    active: np.ndarray, attention: np.ndarray, attentiveness: np.ndarray, fade: np.float32
) -> None:
    for k in range(active.size):
        i = active[k]
        attention[i] = attention[i] + fade * (attentiveness[i] - attention[i])


@_jit()
def clamp_compiled(
    active: np.ndarray, bond: np.ndarray, satisfaction: np.ndarray, rational_value: np.ndarray,
    resentment: np.ndarray,
) -> None:
    """Clamp the four states of the active customers to [0, 1] (as np.clip: -0.0 stays)."""
    zero, one = np.float32(0.0), np.float32(1.0)
    for k in range(active.size):
        i = active[k]
        for column in (bond, satisfaction, rational_value, resentment):
            x = column[i]
            column[i] = zero if x < zero else (one if x > one else x)


# --- phase 9: record ---------------------------------------------------------------------------


@_jit()
def record_compiled(
    active: np.ndarray, join_month: np.ndarray, locked: np.ndarray, bond: np.ndarray,
    rational_value: np.ndarray, satisfaction: np.ndarray, resentment: np.ndarray,
    attention: np.ndarray, t: np.ndarray, spend: np.ndarray, rows_at_start: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One pass over the active customers for the monthly row: sums (float64) of bond, rational
    value, satisfaction, resentment, attention and of the spend of those already customers at
    the month's start (rows below ``rows_at_start``), and counts of the initial cohort, of the
    loyalty types apostle, loyalist, mercenary, hostage and of the customers at the start
    (``t``: float32 thresholds of ``sim.outcomes.LoyaltyTypes`` in field order; ``locked``
    aligned with ``active``)."""
    sum_b = sum_v = sum_s = sum_r = sum_a = revenue = 0.0
    initial = apostles = loyalists = mercenaries = hostages = at_start = 0
    for k in range(active.size):  # branch-free: the types are data-dependent and mispredict
        i = active[k]
        b, v, s, r = bond[i], rational_value[i], satisfaction[i], resentment[i]
        sum_b += b
        sum_v += v
        sum_s += s
        sum_r += r
        sum_a += attention[i]
        here = np.int64(i < rows_at_start)
        at_start += here
        revenue += here * np.float64(spend[i])
        initial += np.int64(join_month[i] == 0)
        hostage = np.int64(locked[k]) * np.int64(r >= t[0])
        apostle = (1 - hostage) * np.int64(s >= t[1]) * np.int64(b >= t[2])
        loyalist = (1 - hostage - apostle) * np.int64(s >= t[3]) * np.int64(b >= t[4])
        hostages += hostage
        apostles += apostle
        loyalists += loyalist
        mercenaries += (1 - hostage - apostle - loyalist) * np.int64(v >= t[5]) * np.int64(b < t[4])
    sums = np.array([sum_b, sum_v, sum_s, sum_r, sum_a, revenue])
    return sums, np.array([initial, apostles, loyalists, mercenaries, hostages, at_start], dtype=np.int64)


# --- phase 5: exit hazards -----------------------------------------------------------------------
# Two passes around NumPy's exp (numba's exp may differ from NumPy's in the last bit), each
# rounding to float32 in sim.mechanisms.decision's NumPy order: the same bits as the twin.


@_jit()
def hold_exponent_compiled(
    ids: np.ndarray, price_focus: np.ndarray, rational_value: np.ndarray, bond: np.ndarray,
    minus_rational_hold: np.float32, emotional_hold: np.float32,
) -> np.ndarray:
    out = np.empty(ids.size, dtype=np.float32)
    for k in range(ids.size):
        i = ids[k]
        out[k] = minus_rational_hold * price_focus[i] * rational_value[i] - emotional_hold * bond[i]
    return out


@_jit()
def hazards_compiled(
    ids: np.ndarray, exp_hold: np.ndarray, failure_weight: np.ndarray, switch: np.ndarray,
    bond: np.ndarray, restlessness: np.ndarray, churn_propensity: np.ndarray, bond_need: np.ndarray,
    satisfaction: np.ndarray, background_exit: np.ndarray, attention: np.ndarray, p: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Relationship, service, background and price hazards of customers ``ids`` with a
    forgiveness exponent of 2; ``p``: float32 [relationship exit, failure exit share,
    dissatisfaction exit, content level]."""
    n = ids.size
    relationship = np.empty(n, dtype=np.float32)
    service = np.empty(n, dtype=np.float32)
    background = np.empty(n, dtype=np.float32)
    price = np.empty(n, dtype=np.float32)
    zero, one = np.float32(0.0), np.float32(1.0)
    for k in range(n):
        i = ids[k]
        propensity = restlessness[i] * churn_propensity[i]
        hold = propensity * exp_hold[k]
        gap = one - bond[i]
        relationship[k] = _minimum(one, p[0] * bond_need[i] * (gap * gap) * hold)
        discontent = _maximum(zero, one - satisfaction[i] / p[3])
        service[k] = _minimum(one, (p[1] * failure_weight[k] * (gap * gap) + p[2] * discontent) * hold)
        background[k] = _minimum(one, background_exit[i] * churn_propensity[i])
        price[k] = _minimum(one, switch[i] * propensity * attention[i])
    return relationship, service, background, price
