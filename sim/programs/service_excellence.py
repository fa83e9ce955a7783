"""Service excellence: product, process and personal quality, and staff who care (C7).

While it runs, failures are rarer, complaints are recovered more often, a normal month is a
better experience, and engaged staff build a little bond at every encounter::

    failure_per_month *= 1 - failure_reduction
    recovery_share     = max(recovery_share, recovery_share_excellent)
    quality           += quality_gain
    bond              += staff_bond_gain * bond_need * (1 - bond)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import check_range
from sim.plugins import param
from sim.programs import Program, register


@dataclass(frozen=True)
class ServiceExcellenceParams:
    """Quality improvements and their running cost."""

    failure_reduction: float = param(
        0.5, "share", "share of service failures prevented (product and process)"
    )
    recovery_share_excellent: float = param(0.8, "share", "complaints recovered well (personal service)")
    quality_gain: float = param(0.1, "0..1", "added to the experience of a normal month")
    staff_bond_gain: float = param(
        0.02, "share of gap per month", "bond built by engaged staff at every encounter"
    )
    cost_per_customer_month: float = param(1.5, "EUR per customer-month", "training, staffing, process work")

    def __post_init__(self) -> None:
        check_range(
            self,
            ("failure_reduction", "recovery_share_excellent", "quality_gain", "staff_bond_gain"),
            0.0,
            1.0,
        )
        check_range(self, ("cost_per_customer_month",))


@register("service_excellence")
class ServiceExcellence(Program):
    Params = ServiceExcellenceParams

    def service(self, model, level) -> None:
        p: ServiceExcellenceParams = self.params
        level.failure_per_month *= 1.0 - p.failure_reduction
        level.recovery_share = max(level.recovery_share, p.recovery_share_excellent)
        level.quality = min(1.0, level.quality + p.quality_gain)
        level.staff_bond_gain += p.staff_bond_gain
        active = np.count_nonzero(model.population.active)
        model.charge(self.name, p.cost_per_customer_month * active, "service")
