"""Phase 1, service encounters: failures of two severities and four complaint paths.

Every active customer buys once a month. A purchase fails with probability
``failure_per_month``; a failure is large with probability ``large_failure_share`` (weight
``large_failure_weight`` on its bond loss and exit hazard, 1 for a small one). The customer
complains with probability ``complaint_share`` (small) or ``complaint_share_large`` (large);
the rest stay silent. A complaint is resolved with probability ``recovery_share``, fast (in the
same month) with probability ``fast_resolution_share`` of those, else slowly, after
``slow_resolution_months``; the rest stay unresolved. Each failure therefore takes one path::

    silent      experience = failure_experience          bond -= w * failure_bond_loss * (1 - bond)
    unresolved  experience = unresolved_experience       bond -= w * unresolved_bond_loss * (1 - bond)
    slow        experience = failure_experience, then slow_recovered_experience when resolved
                                                         bond -= w * slow_bond_loss * (1 - bond)
    fast        experience = recovered_experience        bond unchanged

(``w`` is the failure's severity weight; a loss never exceeds the bond held.) The loss is not
for ever: it is booked in ``bond_transient`` and forgiven with time (phase 3,
``market.adaptation.transient_bond_fade_per_month``), so a failure dents the bond, and a strong
bond loses less (the factor ``1 - bond``: Hess, Ganesan & Klein, JAMS 31(2), 2003). Phase 5
adds a one-off exit hazard per path (``sim.mechanisms.decision``). Satisfaction follows the
experience with exponential smoothing::

    satisfaction += satisfaction_adaptation * (experience - satisfaction)

Sources. Most problems are never voiced, and the share voiced rises with the size of the
problem; customers whose complaint was resolved quickly are the most likely to buy again,
those resolved slowly less, unresolved complainers still slightly more than silent ones
(TARP, Consumer Complaint Handling in America: an update study, 1986; Goodman, "Basic facts on
customer complaint behavior", 1999). Recovery can lift satisfaction above its level before the
failure, but not repurchase intention or trust (the recovery paradox: de Matos, Henrique &
Rossi, J. Service Research 10(1), 2007). Complaint handling perceived as unfair lowers trust and
commitment, over and above the failure (Tax, Brown & Chandrashekaran, J. Marketing 62(2), 1998:
the "double deviation" of Bitner, Booms & Tetreault, J. Marketing 54(1), 1990). Speed of
recovery raises satisfaction with it; larger failures hurt more (Smith, Bolton & Wagner,
J. Marketing Research 36(3), 1999; Smith & Bolton, J. Service Research 1(1), 1998).

A fast or slow resolution is handled by a person: it resets ``months_since_personal_contact``
(attention from the firm, though it builds no bond). Each customer's first failure (path,
severity, month) is kept for the retention-after-failure table (``sim.analysis.complaints``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from sim import kernels
from sim.mechanisms import MECHANISMS
from sim.params import check_range, param


class FailurePath(IntEnum):
    """What became of a service failure; ``NONE`` for a customer without one."""

    NONE = 0
    SILENT = 1  # never voiced
    UNRESOLVED = 2  # complained, not resolved
    SLOW = 3  # complained, resolved after slow_resolution_months
    FAST = 4  # complained, resolved in the same month

    @property
    def label(self) -> str:
        return self.name.lower()


FAILURE_PATHS: tuple[str, ...] = tuple(p.label for p in FailurePath if p is not FailurePath.NONE)


@MECHANISMS.register("service")
@dataclass(frozen=True)
class ServiceParams:
    """Service encounter parameters (probabilities per active customer per month).

    Defaults make service the leading exit reason: in Germany 54% of switchers name service
    dissatisfaction (Accenture Germany, 2014/15).
    """

    failure_per_month: float = param(0.06, "per customer-month", "probability of a failed encounter")
    large_failure_share: float = param(
        0.2, "share", "failures that are large (a lost booking, a wrong bill), assumption"
    )
    large_failure_weight: float = param(
        2.5, "factor", "bond loss and exit hazard of a large failure relative to a small one "
        "(Smith & Bolton 1998: magnitude matters; assumption for the size)",
    )
    complaint_share: float = param(
        0.15, "share", "small failures voiced as a complaint (TARP 1986: most problems are never voiced)"
    )
    complaint_share_large: float = param(
        0.5, "share", "large failures voiced as a complaint (TARP 1986: about half for serious losses)"
    )
    recovery_share: float = param(0.5, "share", "complaints resolved to the customer's satisfaction")
    fast_resolution_share: float = param(
        0.6, "share", "resolutions made in the month of the complaint (assumption)"
    )
    slow_resolution_months: int = param(2, "months", "time a slow resolution takes (assumption)")
    quality: float = param(0.75, "experience 0..1", "experience of a normal month")
    failure_experience: float = param(0.1, "experience 0..1", "experience after a failure")
    unresolved_experience: float = param(
        0.0, "experience 0..1", "after an unresolved complaint: the double deviation (Bitner et al. 1990)"
    )
    recovered_experience: float = param(
        0.9, "experience 0..1", "after a fast resolution: the recovery paradox (de Matos et al. 2007)"
    )
    slow_recovered_experience: float = param(
        0.7, "experience 0..1", "when a slow resolution arrives (Smith, Bolton & Wagner 1999: speed)"
    )
    satisfaction_adaptation: float = param(0.3, "share of gap", "gap to the experience closed per month")
    failure_bond_loss: float = param(
        0.08, "share of 1 - bond", "bond lost to a silent failure: strong bonds lose less (C5)"
    )
    unresolved_bond_loss: float = param(
        0.2, "share of 1 - bond", "bond lost to an unresolved complaint (Tax et al. 1998: trust, commitment)"
    )
    slow_bond_loss: float = param(0.04, "share of 1 - bond", "bond lost to a slowly resolved complaint")

    def __post_init__(self) -> None:
        check_range(self, (
            "failure_per_month", "large_failure_share", "complaint_share", "complaint_share_large",
            "recovery_share", "fast_resolution_share", "quality", "failure_experience",
            "unresolved_experience", "recovered_experience", "slow_recovered_experience",
            "satisfaction_adaptation", "failure_bond_loss", "unresolved_bond_loss", "slow_bond_loss",
        ), 0.0, 1.0)
        check_range(self, ("large_failure_weight",), 0.0, 100.0)
        check_range(self, ("slow_resolution_months",), 1, 24)


@dataclass
class ServiceLevel:
    """This month's effective service; programs in the ``service`` phase improve it. A field a
    targeted program changed is a per-customer ``float32`` array over every row (sim.targeting)."""

    failure_per_month: float
    recovery_share: float
    quality: float
    staff_bond_gain: float = 0.0  # bond gained per month from staff who care, times bond need

    @classmethod
    def from_params(cls, params: ServiceParams) -> ServiceLevel:
        return cls(params.failure_per_month, params.recovery_share, params.quality)


def _at(value: float | np.ndarray, ids: np.ndarray) -> float | np.ndarray:
    """A service level field for customers ``ids``: per-customer where a targeted program set
    it (an array over all rows, sim.targeting), else the month's one value."""
    return value[ids] if isinstance(value, np.ndarray) else value


_NO_ROWS = np.zeros(0, dtype=np.float32)


def _per_row(value: float | np.ndarray) -> tuple[np.float32, np.ndarray]:
    """A service level field for a compiled pass: (the one value, no rows) or (0, one per row)."""
    if isinstance(value, np.ndarray):
        return np.float32(0.0), value.astype(np.float32, copy=False)
    return np.float32(value), _NO_ROWS


def encounters(model, level: ServiceLevel) -> None:
    """Draw failures, their severity and path; update satisfaction and bond; set the flows."""
    if kernels.COMPILED:
        _encounters_compiled(model, level)
        return
    params: ServiceParams = model.market.service
    pop, flows = model.population, model.flows
    # Integer ids, not boolean masks: NumPy gathers and scatters by id several times faster.
    active = pop.active_ids()
    failed = active[model.uniforms("service.failure", active) < _at(level.failure_per_month, active)]
    large = model.uniforms("service.severity", failed) < params.large_failure_share
    voice = np.where(large, params.complaint_share_large, params.complaint_share)
    complained = model.uniforms("service.complaint", failed) < voice
    u_resolve = model.uniforms("service.recovery", failed)
    resolved = complained & (u_resolve < _at(level.recovery_share, failed))
    # The same draw splits resolutions into fast and slow, so more resolutions never means fewer fast ones.
    fast = resolved & (u_resolve < _at(level.recovery_share, failed) * params.fast_resolution_share)
    path = np.full(failed.size, FailurePath.SILENT, dtype=np.int8)
    path[complained] = FailurePath.UNRESOLVED
    path[resolved] = FailurePath.SLOW
    path[fast] = FailurePath.FAST
    flows.record_failures(failed, path, large)

    experience = np.empty(len(pop), dtype=np.float32)
    experience[:] = level.quality
    open_complaints = np.flatnonzero(pop.complaint_months_left)  # few: cheaper than gathering all
    open_complaints = open_complaints[pop.active[open_complaints]]
    due = open_complaints[pop.complaint_months_left[open_complaints] == 1]  # resolutions arriving now
    experience[due] = params.slow_recovered_experience
    flows.resolved_slowly = due.size
    # A large failure is a worse experience: half the failure experience.
    experience[failed] = np.where(large, 0.5, 1.0) * params.failure_experience
    experience[failed[path == FailurePath.UNRESOLVED]] = params.unresolved_experience
    experience[failed[fast]] = params.recovered_experience
    slow = failed[path == FailurePath.SLOW]
    pop.complaint_months_left[open_complaints] -= 1
    pop.complaint_months_left[slow] = params.slow_resolution_months
    satisfaction = pop.satisfaction[active]
    adaptation = params.satisfaction_adaptation
    pop.satisfaction[active] = satisfaction + adaptation * (experience[active] - satisfaction)

    loss = np.array(
        [0.0, params.failure_bond_loss, params.unresolved_bond_loss, params.slow_bond_loss, 0.0],
        dtype=np.float32,
    )[path] * np.where(large, np.float32(params.large_failure_weight), np.float32(1.0))
    bond = pop.bond[failed]
    lost = np.minimum(bond, loss * (1.0 - bond))  # no more than the customer had
    pop.bond[failed] = bond - lost
    pop.bond_transient[failed] -= lost  # forgiven with time (sim.mechanisms.adaptation)
    if np.any(level.staff_bond_gain):
        bond = pop.bond[active]
        pop.bond[active] = bond + _at(level.staff_bond_gain, active) * pop.bond_need[active] * (1.0 - bond)
    # A complaint handled by a person is personal attention, though it builds no bond.
    pop.months_since_personal_contact[failed[fast]] = 0
    pop.months_since_personal_contact[due] = 0

    first = pop.first_failure_month[failed] < 0
    pop.first_failure_month[failed[first]] = flows.month
    pop.first_failure_path[failed[first]] = path[first]
    pop.first_failure_large[failed[first]] = large[first]


def _encounters_compiled(model, level: ServiceLevel) -> None:
    """:func:`encounters` in one compiled pass over the active customers (the same bits)."""
    params: ServiceParams = model.market.service
    pop, flows = model.population, model.flows
    failure, failure_rows = _per_row(level.failure_per_month)
    recovery, recovery_rows = _per_row(level.recovery_share)
    quality, quality_rows = _per_row(level.quality)
    gain, gain_rows = _per_row(level.staff_bond_gain)
    f32 = np.float32
    counts = kernels.encounters_compiled(
        pop.active_ids(), model.slot_of_rows(),
        model.stream_keys("service.failure", "service.severity", "service.complaint", "service.recovery"),
        np.int16(flows.month), failure, failure_rows, recovery, recovery_rows,
        f32(params.fast_resolution_share),
        f32(0.0 if recovery_rows.size else level.recovery_share * params.fast_resolution_share),
        quality, quality_rows, gain, gain_rows, bool(np.any(level.staff_bond_gain)),
        np.array([params.complaint_share, params.complaint_share_large, params.failure_experience]),
        np.array([
            params.slow_recovered_experience, params.unresolved_experience, params.recovered_experience,
            params.satisfaction_adaptation, params.large_failure_weight, params.large_failure_share,
        ], dtype=f32),
        np.array([
            0.0, params.failure_bond_loss, params.unresolved_bond_loss, params.slow_bond_loss, 0.0,
        ], dtype=f32),
        np.int8(params.slow_resolution_months), pop.satisfaction, pop.bond, pop.bond_transient,
        pop.bond_need, pop.complaint_months_left, pop.months_since_personal_contact,
        pop.first_failure_month, pop.first_failure_path, pop.first_failure_large, flows.failure_path,
        flows.failure_large,
    )
    flows.failures_by_path = counts[: len(FailurePath)]
    flows.failures_large = int(counts[-2])
    flows.resolved_slowly = int(counts[-1])
