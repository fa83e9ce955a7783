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
from sim.params import check_range, param


@MECHANISMS.register("acquisition")
@dataclass(frozen=True)
class AcquisitionParams:
    """New customers per month, as a share of the initial cohort size."""

    new_customers_per_month_share: float = param(
        0.01, "share of the initial cohort per month",
        "new customers per month; about 12% a year (assumption)",
    )

    def __post_init__(self) -> None:
        check_range(self, ("new_customers_per_month_share",), 0.0, 1.0)


def expected_joiners(model, multiplier: float) -> float:
    params: AcquisitionParams = model.market.acquisition
    return params.new_customers_per_month_share * model.initial_customers * multiplier
