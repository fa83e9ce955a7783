"""What happened to whom in the current month: masks over the population, filled phase by phase."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class MonthFlows:
    """Per-month events. Masks have one entry per customer row (active or not)."""

    month: int
    active_at_start: np.ndarray
    service_failed_unrecovered: np.ndarray  # a failure this month that was not recovered
    service_recovered: np.ndarray  # failure followed by a complaint handled well
    offered: np.ndarray  # received a competitor offer this month
    exited: np.ndarray | None = None  # ids of customers who left this month
    acquired: int = 0
    costs: dict[str, float] = field(default_factory=dict)  # EUR per program
    cost_by_category: dict[str, float] = field(default_factory=dict)  # EUR per COST_CATEGORIES entry
    exit_fees: float = 0.0  # EUR collected from customers who left during a contract term

    @classmethod
    def start(cls, month: int, active: np.ndarray) -> MonthFlows:
        none = np.zeros(active.size, dtype=bool)
        return cls(month, active.copy(), none, none.copy(), none.copy())
