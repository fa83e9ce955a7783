"""What happened to whom in the current month: masks over the population, filled phase by phase."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.mechanisms.service import FailurePath
from sim.population import ExitReason


@dataclass
class MonthFlows:
    """Per-month events. Masks and per-row arrays have one entry per customer row (active or not)."""

    month: int
    active_at_start: np.ndarray
    failure_path: np.ndarray  # int8 FailurePath of this month's failure; 0 = none
    failure_large: np.ndarray  # this month's failure was large
    offered: np.ndarray  # received a competitor offer this month
    exited: np.ndarray | None = None  # ids of customers who left this month, ascending
    exits_by_reason: np.ndarray = field(default_factory=lambda: np.zeros(len(ExitReason), dtype=np.int64))
    acquired: int = 0
    resolved_slowly: int = 0  # slow complaint resolutions that arrived this month
    failures_by_path: np.ndarray = field(default_factory=lambda: np.zeros(len(FailurePath), dtype=np.int64))
    failures_large: int = 0
    # Contract terms that ended this month, by what the customer did (sim.mechanisms.decision);
    # the ids of the customers who stayed, and which of them re-contracted.
    term_end_actions: dict[str, int] = field(default_factory=dict)
    term_ended: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    recontracted: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    costs: dict[str, float] = field(default_factory=dict)  # EUR per program
    cost_by_category: dict[str, float] = field(default_factory=dict)  # EUR per COST_CATEGORIES entry
    exit_fees: float = 0.0  # EUR collected from customers who left during a contract term

    @classmethod
    def start(cls, month: int, active: np.ndarray) -> MonthFlows:
        none = np.zeros(active.size, dtype=bool)
        return cls(month, active.copy(), np.zeros(active.size, dtype=np.int8), none, none.copy())

    def record_failures(self, ids: np.ndarray, path: np.ndarray, large: np.ndarray) -> None:
        """This month's failures: customer ids, their ``FailurePath`` codes, and severity."""
        self.failure_path[ids] = path
        self.failure_large[ids] = large
        self.failures_by_path = np.bincount(path, minlength=len(FailurePath))
        self.failures_large = int(np.count_nonzero(large))

    @property
    def service_failed_unrecovered(self) -> np.ndarray:
        """Mask: a failure this month that was not resolved in the same month."""
        return (self.failure_path != FailurePath.NONE) & (self.failure_path != FailurePath.FAST)

    @property
    def service_recovered(self) -> np.ndarray:
        """Mask: a failure this month, complained about and resolved in the same month."""
        return self.failure_path == FailurePath.FAST
