"""The numba kernels of :mod:`sim.kernels`, compiled on first use and cached on disk.

Imported only when a model first runs a kernel (numba loads LLVM and SciPy: commands that do not
simulate should not pay for it). Every kernel has a NumPy twin; see :mod:`sim.kernels`.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from sim.kernels import SPEND_HIGH, SPEND_LOW, SPEND_SCALE


def _jit(**options: object) -> Callable[[Callable], Callable]:
    """numba.njit with on-disk caching (``sim/__pycache__``), so a process loads machine code,
    and NumPy's error model: a division by zero gives inf or nan as in the NumPy twins, without
    a check before every division."""
    return numba.njit(cache=True, error_model="numpy", **options)


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


# --- phase 3: decay and adaptation ---------------------------------------------------------------
# One pass over the active customers instead of a gather, a temporary and a scatter per term.
# Parameters arrive as float32 and every step rounds to float32 in the NumPy twin's order, so
# the results are bit-identical to sim.mechanisms.adaptation's NumPy code (tests compare them).


@_jit(inline="always")
def _maximum(a: np.float32, b: np.float32) -> np.float32:
    return a if a >= b else b  # np.maximum's choice for equal values (and -0.0 == 0.0)


@_jit(inline="always")
def _minimum(a: np.float32, b: np.float32) -> np.float32:
    return a if a <= b else b


@_jit(inline="always")
def _adapted(
    b: np.float32, sat: np.float32, silence: np.float32, transient_bond: np.float32, got: np.float32,
    expected: np.float32, r: np.float32, points_value: np.float32, with_points: bool, held: bool, q: tuple,
    clamp: bool,
) -> tuple:
    """Phase 3 for one customer: bond, satisfaction, transient bond, expectation, rational value
    and resentment after decay and adaptation (``q``: the parameters ``p`` of
    :func:`decay_and_adapt_compiled` as a tuple; ``points_value``: the points' share of the
    rational value, added ``with_points``; ``held``: under contract, so resentment does not fade)."""
    zero, one = np.float32(0.0), np.float32(1.0)
    excess = b - q[0] * sat
    silent = q[1] * (one + silence / q[2])
    b = b - (silent if excess > zero else q[3]) * excess
    fade = q[11] * transient_bond
    b = b - fade
    gap = _maximum(expected - got, zero)
    sat = sat - q[4] * gap
    b = b - q[5] * gap
    value = _maximum(zero, got - q[7] * expected) / q[8]
    if with_points:
        value = value + points_value
    value = _minimum(one, value)
    if not held:
        r = r * q[10]
    if clamp:
        b, sat, value, r = _clamp(b), _clamp(sat), _clamp(value), _clamp(r)
    return b, sat, transient_bond - fade, expected + q[6] * (got - expected), value, r


@_jit()
def decay_and_adapt_compiled(
    active: np.ndarray, silence_months: np.ndarray, bond: np.ndarray, transient: np.ndarray,
    satisfaction: np.ndarray, received: np.ndarray, expectation: np.ndarray, rational_value: np.ndarray,
    spend: np.ndarray,
    points: np.ndarray, locked: np.ndarray, resentment: np.ndarray, p: np.ndarray, clamp: bool,
) -> None:
    """``p``: float32 [bond share, decay, doubling, recovery, satisfaction loss, bond loss,
    expectation adaptation, habituation, reward reference, points reference, 1 - resentment
    decay, transient bond fade]; ``points`` empty when no program holds a balance; ``locked``
    aligned with ``active``, empty when nobody is under contract. ``clamp``: clamp the states
    as :func:`clamp_compiled` in the same pass. Without points and contracts,
    :func:`decay_and_adapt_rows_compiled` is faster."""
    q = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11])  # in registers
    with_points = points.size > 0
    with_locked = locked.size > 0
    for k in range(active.size):  # branch-free where the data decide: they mispredict
        i = active[k]
        points_value = points[k] / (spend[i] * q[9]) if with_points else np.float32(0.0)
        held = with_locked and locked[k]
        (
            bond[i], satisfaction[i], transient[i], expectation[i], rational_value[i], resentment[i]
        ) = _adapted(
            bond[i], satisfaction[i], np.float32(silence_months[i]), transient[i], received[i],
            expectation[i], resentment[i], points_value, with_points, held, q, clamp,
        )


@_jit()
def decay_and_adapt_rows_compiled(
    active: np.ndarray, silence_months: np.ndarray, bond: np.ndarray, transient: np.ndarray,
    satisfaction: np.ndarray, received: np.ndarray, expectation: np.ndarray, rational_value: np.ndarray,
    resentment: np.ndarray, p: np.ndarray, clamp: bool,
) -> None:
    """:func:`decay_and_adapt_compiled` when no program holds points and nobody is under
    contract, over every row in order (``active``: the column, one flag per row): a departed
    customer's row is computed too and written back unchanged, so the pass has no gather and
    runs on vector registers, several times faster while a third or more of the rows are active.
    The same operations in the same order for every active row: the same bits."""
    q = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11])
    for i in range(active.size):
        here = active[i]
        b, sat, t, e = bond[i], satisfaction[i], transient[i], expectation[i]
        v, r = rational_value[i], resentment[i]
        new_b, new_sat, new_t, new_e, new_v, new_r = _adapted(
            b, sat, np.float32(silence_months[i]), t, received[i], e, r, np.float32(0.0), False, False, q,
            clamp,
        )
        bond[i] = new_b if here else b
        satisfaction[i] = new_sat if here else sat
        transient[i] = new_t if here else t
        expectation[i] = new_e if here else e
        rational_value[i] = new_v if here else v
        resentment[i] = new_r if here else r


@_jit()
def fade_compiled(
    active: np.ndarray, attention: np.ndarray, attentiveness: np.ndarray, fade: np.float32
) -> None:
    """Attention fades towards attentiveness, over every row in order (``active``: the column,
    one flag per row; a departed customer's attention is written back unchanged): no gather."""
    for i in range(active.size):
        old = attention[i]
        faded = old + fade * (attentiveness[i] - old)
        attention[i] = faded if active[i] else old


@_jit()
def clamp_compiled(
    active: np.ndarray, bond: np.ndarray, satisfaction: np.ndarray, rational_value: np.ndarray,
    resentment: np.ndarray,
) -> None:
    """Clamp the four states of the active customers to [0, 1] (as np.clip: -0.0 stays)."""
    for k in range(active.size):
        i = active[k]
        for column in (bond, satisfaction, rational_value, resentment):
            column[i] = _clamp(column[i])


@_jit(inline="always")
def _clamp(x: np.float32) -> np.float32:
    """``x`` clamped to [0, 1] (as np.clip: -0.0 stays)."""
    zero, one = np.float32(0.0), np.float32(1.0)
    return zero if x < zero else (one if x > one else x)


# --- phase 9: record ---------------------------------------------------------------------------
# Sums of integers do not depend on the order of addition, so these passes read every row in
# order, masked (no gather), on vector registers, and give the NumPy twin's integers bit for bit
# (sim.model.LoyaltyModel._state_summary): the states in fixed point (sim.model.STATE_SCALE), and
# the spend in fixed point where that is exactly the float64 sum in row order (revenue_compiled).


@_jit()
def record_compiled(
    active: np.ndarray, locked: np.ndarray, bond: np.ndarray, rational_value: np.ndarray,
    satisfaction: np.ndarray, resentment: np.ndarray, attention: np.ndarray, t: np.ndarray,
    state_scale: np.float32, sums: np.ndarray, counts: np.ndarray,
) -> None:
    """One pass over every row for the monthly row: ``sums`` (int64) of the active customers'
    bond, rational value, satisfaction, resentment and attention, each times ``state_scale`` (a
    power of two) truncated to an integer, and ``counts`` of the loyalty types apostle,
    loyalist, mercenary, hostage (``t``: float32 thresholds of ``sim.outcomes.LoyaltyTypes`` in
    field order; ``locked``: one flag per row, empty when nobody is under contract)."""
    sum_b = sum_v = sum_s = sum_r = sum_a = 0
    apostles = loyalists = mercenaries = hostages = 0
    t0, t1, t2, t3, t4, t5 = t[0], t[1], t[2], t[3], t[4], t[5]  # in registers, not reloaded
    with_locked = locked.size > 0
    for i in range(active.size):  # branch-free: the types are data-dependent and mispredict
        here = np.int64(active[i])
        keep = -here  # all bits set for an active row, none for a departed one
        b, v, s, r = bond[i], rational_value[i], satisfaction[i], resentment[i]
        sum_b += keep & np.int64(b * state_scale)
        sum_v += keep & np.int64(v * state_scale)
        sum_s += keep & np.int64(s * state_scale)
        sum_r += keep & np.int64(r * state_scale)
        sum_a += keep & np.int64(attention[i] * state_scale)
        hostage = here & np.int64(locked[i]) & np.int64(r >= t0) if with_locked else 0
        apostle = (here - hostage) & np.int64(s >= t1) & np.int64(b >= t2)
        loyalist = (here - hostage - apostle) & np.int64(s >= t3) & np.int64(b >= t4)
        hostages += hostage
        apostles += apostle
        loyalists += loyalist
        mercenaries += (here - hostage - apostle - loyalist) & np.int64(v >= t5) & np.int64(b < t4)
    sums[0], sums[1], sums[2], sums[3], sums[4] = sum_b, sum_v, sum_s, sum_r, sum_a
    counts[0], counts[1], counts[2], counts[3] = apostles, loyalists, mercenaries, hostages


@_jit()
def revenue_compiled(at_start: np.ndarray, spend: np.ndarray) -> tuple[int, int, int]:
    """The spend of the rows marked ``at_start`` in units of 2**-24 EUR, as its high and low 32
    bits summed apart (no overflow below 2**31 rows), and how many of those spends are outside
    [0.5, 2**38) EUR (NaN included). With none outside, every spend is a whole number of units,
    so while the total stays below 2**53 units (2**29 EUR) every float64 partial sum in any
    order is exact: the total is the float64 sum in row order, bit for bit."""
    high = low = outside = 0
    low_bits = np.int64(0xFFFFFFFF)
    for i in range(at_start.size):
        here = np.int64(at_start[i])
        x = spend[i]
        inside = np.int64(x >= SPEND_LOW) & np.int64(x < SPEND_HIGH)
        counted = here & inside
        units = np.int64((x if counted else np.float32(0.0)) * SPEND_SCALE)  # converts no NaN
        high += units >> 32
        low += units & low_bits
        outside += here - counted
    return high, low, outside


@_jit()
def revenue_in_order_compiled(active: np.ndarray, spend: np.ndarray, rows_at_start: np.int64) -> float:
    """The spend of the active customers ``active`` (ascending rows) below ``rows_at_start``,
    added in float64 in row order."""
    revenue = 0.0
    for k in range(active.size):
        if active[k] >= rows_at_start:
            break
        revenue += spend[active[k]]
    return revenue


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
    q = (p[0], p[1], p[2], p[3])  # in registers: stores to the outputs could alias p
    for k in range(n):
        relationship[k], service[k], background[k], price[k] = _hazards(
            ids[k], exp_hold[k], failure_weight[k], switch, bond, restlessness, churn_propensity,
            bond_need, satisfaction, background_exit, attention, q,
        )
    return relationship, service, background, price


@_jit(inline="always")
def _hazards(
    i: np.int64, exp_hold: np.float32, failure_weight: np.float32, switch: np.ndarray, bond: np.ndarray,
    restlessness: np.ndarray, churn_propensity: np.ndarray, bond_need: np.ndarray,
    satisfaction: np.ndarray, background_exit: np.ndarray, attention: np.ndarray, p: tuple,
) -> tuple[np.float32, np.float32, np.float32, np.float32]:
    """The four hazards of row ``i`` (see :func:`hazards_compiled`; ``p`` as a tuple)."""
    zero, one = np.float32(0.0), np.float32(1.0)
    propensity = restlessness[i] * churn_propensity[i]
    hold = propensity * exp_hold
    gap = one - bond[i]
    relationship = _minimum(one, p[0] * bond_need[i] * (gap * gap) * hold)
    discontent = _maximum(zero, one - satisfaction[i] / p[3])
    service = _minimum(one, (p[1] * failure_weight * (gap * gap) + p[2] * discontent) * hold)
    background = _minimum(one, background_exit[i] * churn_propensity[i])
    price = _minimum(one, switch[i] * propensity * attention[i])
    return relationship, service, background, price


@_jit()
def free_exits_compiled(
    ids: np.ndarray, slots: np.ndarray, keys: np.ndarray, exp_hold: np.ndarray, failure_path: np.ndarray,
    failure_large: np.ndarray, by_path: np.ndarray, large_weight: np.float64, switch: np.ndarray,
    bond: np.ndarray, restlessness: np.ndarray, churn_propensity: np.ndarray, bond_need: np.ndarray,
    satisfaction: np.ndarray, background_exit: np.ndarray, attention: np.ndarray, p: np.ndarray,
    codes: np.ndarray, month: np.int16, exit_month: np.ndarray, exit_reason: np.ndarray,
    capacity: np.int64, by_reason: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Phase 5 for customers ``ids`` when no contract binds anyone and no behaviour scales the
    hazards (``sim.mechanisms.decision.stay_or_leave``): hazards, the exit draw (stream
    ``keys[0]``) and, for leavers, the reason drawn in proportion to the hazards (``keys[1]``),
    in one pass. Sets leavers' exit month and reason, counts the leavers by reason code in
    ``by_reason`` (zeros on entry); returns the leavers, and the stayers at
    the start of an array of ``capacity`` entries (the population's next index of active rows)
    with their count."""
    one, zero = np.float32(1.0), np.float32(0.0)
    leavers = np.empty(ids.size, dtype=np.int64)
    stayers = np.empty(capacity, dtype=np.int64)
    left = stayed = 0
    q = (p[0], p[1], p[2], p[3])  # in registers: stores to the outputs could alias p
    for k in range(ids.size):
        i = ids[k]
        path = failure_path[i]
        weight = zero
        if path:
            weight = np.float32(np.float64(by_path[path]) * (large_weight if failure_large[i] else 1.0))
        relationship, service, background, price = _hazards(
            i, exp_hold[k], weight, switch, bond, restlessness, churn_propensity, bond_need,
            satisfaction, background_exit, attention, q,
        )
        pull = one - (one - relationship) * (one - service) * (one - price)
        leave = one - (one - background) * (one - pull)
        slot = np.uint64(slots[i])
        if _mix(keys[0], slot) < leave:
            # competing risks: price, service, relationship, (contract end, breakout), background
            c0 = price
            c1 = c0 + service
            c2 = c1 + relationship
            c5 = c2 + zero + zero + background
            draw = _mix(keys[1], slot) * c5
            reason = np.int64(draw >= c0) + np.int64(draw >= c1) + 3 * np.int64(draw >= c2)
            reason += np.int64(draw >= c5)
            code = codes[min(reason, 5)]
            exit_reason[i] = code
            by_reason[code] += 1
            exit_month[i] = month
            leavers[left] = i
            left += 1
        else:
            stayers[stayed] = i
            stayed += 1
    return leavers[:left].copy(), stayers, stayed


# --- fused phases: one pass over the active customers, with their random numbers drawn inline --
# A customer's counter-based number is _mix(stream key, slot), so drawing it inside the pass
# gives the very number model.uniforms() would: the passes below equal the NumPy code of their
# phase bit for bit (tests compare them), without its gathers, temporaries and masks.


@_jit(inline="always")
def _at(scalar: np.float32, rows: np.ndarray, i: np.int64) -> np.float32:
    """A per-customer value (``rows``, over every row) where one is given, else ``scalar``."""
    return rows[i] if rows.size else scalar


@_jit()
def below_compiled(
    key: np.uint64, slots: np.ndarray, ids: np.ndarray, probability: np.float32, rows: np.ndarray
) -> np.ndarray:
    """The customers of ``ids`` whose uniform number of stream ``key`` is below their
    probability (``rows[i]`` where ``rows`` is given, else ``probability``), in order."""
    out = np.empty(ids.size, dtype=np.int64)
    count = 0
    per_row = rows.size > 0
    for k in range(ids.size):  # branch-free: whether a customer is picked is a coin toss
        i = ids[k]
        out[count] = i
        count += _mix(key, np.uint64(slots[i])) < (rows[i] if per_row else probability)
    return out[:count].copy()


@_jit()
def encounters_compiled(
    active: np.ndarray, slots: np.ndarray, keys: np.ndarray, month: np.int16,
    failure: np.float32, failure_rows: np.ndarray, recovery: np.float32, recovery_rows: np.ndarray,
    fast: np.float32, fast_scalar: np.float32, quality: np.float32, quality_rows: np.ndarray,
    gain: np.float32, gain_rows: np.ndarray, with_gain: bool,
    f64: np.ndarray, f32: np.ndarray, loss: np.ndarray, slow_months: np.int8,
    satisfaction: np.ndarray, bond: np.ndarray, transient: np.ndarray, bond_need: np.ndarray,
    complaint_months_left: np.ndarray, silence: np.ndarray, first_month: np.ndarray,
    first_path: np.ndarray, first_large: np.ndarray, failure_path: np.ndarray,
    failure_large: np.ndarray,
) -> np.ndarray:
    """Phase 1 for the active customers (``sim.mechanisms.service.encounters``). ``keys``:
    streams failure, severity, complaint, recovery; ``f64``: [small and large complaint
    shares, failure experience], compared or computed in float64 as NumPy does; ``f32``: [slow
    recovered, unresolved, recovered experience, satisfaction adaptation, large failure weight,
    large failure share]; ``loss``: bond loss by path. Returns the counts of failures by path,
    of large failures and of slow resolutions arriving."""
    counts = np.zeros(len(loss) + 2, dtype=np.int64)
    one = np.float32(1.0)
    for k in range(active.size):
        i = active[k]
        slot = np.uint64(slots[i])
        experience = _at(quality, quality_rows, i)
        left = complaint_months_left[i]
        if left == 1:  # a slow resolution arrives
            experience = f32[0]
            silence[i] = 0
            counts[-1] += 1
        if left > 0:
            complaint_months_left[i] = left - 1
        b = bond[i]
        if _mix(keys[0], slot) < _at(failure, failure_rows, i):
            large = _mix(keys[1], slot) < f32[5]
            voice = f64[1] if large else f64[0]
            complained = np.float64(_mix(keys[2], slot)) < voice
            u = _mix(keys[3], slot)
            path = np.int8(1)
            if complained:
                path = np.int8(2)
                if u < _at(recovery, recovery_rows, i):
                    path = np.int8(3)
                    if u < (recovery_rows[i] * fast if recovery_rows.size else fast_scalar):
                        path = np.int8(4)
            if path == 2:
                experience = f32[1]
            elif path == 4:
                experience = f32[2]
                silence[i] = 0
            else:
                experience = np.float32((0.5 if large else 1.0) * f64[2])
            if path == 3:
                complaint_months_left[i] = slow_months
            failure_path[i] = path
            failure_large[i] = large
            counts[path] += 1
            counts[-2] += np.int64(large)
            lost = _minimum(b, loss[path] * (f32[4] if large else one) * (one - b))
            b = b - lost
            bond[i] = b
            transient[i] = transient[i] - lost
            if first_month[i] < 0:
                first_month[i] = month
                first_path[i] = path
                first_large[i] = large
        s = satisfaction[i]
        satisfaction[i] = s + f32[3] * (experience - s)
        if with_gain:
            bond[i] = b + _at(gain, gain_rows, i) * bond_need[i] * (one - b)
    return counts


@_jit()
def offers_compiled(
    active: np.ndarray, slots: np.ndarray, key: np.uint64, rate: np.float32, pull_per_focus: np.float32,
    switch_max: np.float32, price_focus: np.ndarray, rational_value: np.ndarray, bond: np.ndarray,
    offered: np.ndarray, switch: np.ndarray,
) -> None:
    """Phase 4 (``sim.mechanisms.offers.competitor_offers``) with a bond shield of 2, over every
    row in order (``active``: the column, one flag per row; ``offered`` and ``switch`` zeros on
    entry, and a departed customer's stay zero): no gather, on vector registers."""
    zero, one = np.float32(0.0), np.float32(1.0)
    for i in range(active.size):  # branch-free: an offer is a coin toss, and mispredicts
        tempted = active[i] & (_mix(key, np.uint64(slots[i])) < rate)
        focus = price_focus[i]
        pull = focus * pull_per_focus - focus * rational_value[i]
        pull = pull if pull > zero else zero  # np.clip: max, then min
        pull = pull if pull < one else one
        gap = one - bond[i]
        offered[i] = tempted
        switch[i] = switch_max * pull * (gap * gap) if tempted else zero
