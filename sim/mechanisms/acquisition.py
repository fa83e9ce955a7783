"""Phase 6, new customers: an open cohort joins the firm.

The number joining each month is Poisson with mean
``new_customers_per_month_share * initial customers * acquisition multiplier``, where programs
in the ``acquire`` phase (new-customer deals) raise the multiplier. New customers draw their
traits from the market's segments like the initial cohort and start with the bond of a fresh
sale. The initial cohort is tracked separately, so cohort loss is unaffected by joiners.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.mechanisms import MECHANISMS
from sim.params import check_range


@MECHANISMS.register("acquisition")
@dataclass(frozen=True)
class AcquisitionParams:
    """New customers per month, as a share of the initial cohort size."""

    new_customers_per_month_share: float = 0.01  # about 12% a year: the base shrinks slowly

    def __post_init__(self) -> None:
        check_range(self, ("new_customers_per_month_share",), 0.0, 1.0)


def expected_joiners(model, multiplier: float) -> float:
    params: AcquisitionParams = model.market.acquisition
    return params.new_customers_per_month_share * model.initial_customers * multiplier


def capacity(params: AcquisitionParams, customers: int, months: int) -> int:
    """Rows to allocate up front for a run: the initial cohort, its expected joiners twice over
    (the population grows by half when a program lifts acquisition beyond that), 10% slack."""
    return int(customers * (1.1 + 2 * params.new_customers_per_month_share * months))
