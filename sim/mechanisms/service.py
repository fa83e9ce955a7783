"""Phase 1, service encounters: failures, complaints and their recovery.

Every active customer buys once a month. A purchase fails with probability
``failure_per_month``; a failed customer complains with probability ``complaint_share``, and a
complaint is recovered well with probability ``recovery_share``. Satisfaction follows the
experience with exponential smoothing::

    satisfaction += satisfaction_adaptation * (experience - satisfaction)

where experience is ``quality`` after a normal month, ``failure_experience`` after an
unrecovered failure and ``recovered_experience`` after a good recovery (the recovery paradox:
satisfaction may rise above its level before the failure, but the bond does not;
de Matos, Henrique & Rossi, J. Service Research 10(1), 2007). An unrecovered failure also costs
bond, less so for customers whose bond is strong (C5)::

    bond -= failure_bond_loss * (1 - bond)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.mechanisms import MECHANISMS
from sim.params import check_range


@MECHANISMS.register("service")
@dataclass(frozen=True)
class ServiceParams:
    """Service encounter parameters (probabilities per active customer per month).

    Defaults make service the leading exit reason: in Germany 54% of switchers name service
    dissatisfaction (Accenture Germany, 2014/15).
    """

    failure_per_month: float = 0.06  # probability of a failed encounter per month
    complaint_share: float = 0.4  # most failures are never voiced
    recovery_share: float = 0.5  # complaints resolved to the customer's satisfaction
    quality: float = 0.75  # experience of a normal month, 0..1
    failure_experience: float = 0.1  # experience after an unrecovered failure, 0..1
    recovered_experience: float = 0.9  # recovery paradox, de Matos et al. 2007
    satisfaction_adaptation: float = 0.3  # share of the gap to experience closed per month
    failure_bond_loss: float = 0.08  # bond lost to an unrecovered failure, times (1 - bond)

    def __post_init__(self) -> None:
        check_range(self, (
            "failure_per_month", "complaint_share", "recovery_share", "quality",
            "failure_experience", "recovered_experience", "satisfaction_adaptation",
            "failure_bond_loss",
        ), 0.0, 1.0)


@dataclass
class ServiceLevel:
    """This month's effective service; programs in the ``service`` phase improve it."""

    failure_per_month: float
    recovery_share: float
    quality: float
    staff_bond_gain: float = 0.0  # bond gained per month from staff who care, times bond need

    @classmethod
    def from_params(cls, params: ServiceParams) -> ServiceLevel:
        return cls(params.failure_per_month, params.recovery_share, params.quality)


def encounters(model, level: ServiceLevel) -> None:
    """Draw failures, complaints and recoveries for active customers; update satisfaction and bond."""
    params: ServiceParams = model.market.service
    pop, flows = model.population, model.flows
    active = pop.active
    u_fail = model.uniforms("service.failure")
    u_complain = model.uniforms("service.complaint")
    u_recover = model.uniforms("service.recovery")
    failed = active & (u_fail < level.failure_per_month)
    recovered = failed & (u_complain < params.complaint_share) & (u_recover < level.recovery_share)
    unrecovered = failed & ~recovered
    flows.service_failed_unrecovered, flows.service_recovered = unrecovered, recovered

    # Integer ids, not boolean masks: NumPy gathers and scatters by id several times faster.
    active, unrecovered, recovered = (np.flatnonzero(m) for m in (active, unrecovered, recovered))
    experience = np.full(len(pop), level.quality, dtype=np.float32)
    experience[unrecovered] = params.failure_experience
    experience[recovered] = params.recovered_experience
    satisfaction = pop.satisfaction[active]
    pop.satisfaction[active] = satisfaction + params.satisfaction_adaptation * (
        experience[active] - satisfaction
    )
    pop.bond[unrecovered] -= params.failure_bond_loss * (1.0 - pop.bond[unrecovered])
    if level.staff_bond_gain:
        bond = pop.bond[active]
        pop.bond[active] = bond + level.staff_bond_gain * pop.bond_need[active] * (1.0 - bond)
    # A complaint handled by a person is personal attention, though it builds no bond.
    pop.months_since_personal_contact[recovered] = 0
