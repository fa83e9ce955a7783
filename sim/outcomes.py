"""Outcome tables with fixed schemas: per month, per run, and per customer.

``MONTHLY_SCHEMA`` (one row per simulated month, months 1..M):

==========================  =======  ===========================================================
column                      dtype    meaning
==========================  =======  ===========================================================
month                       Int32    month number, 1 = first simulated month
active_initial              Int64    customers of the initial cohort still active at month end
active_total                Int64    all active customers at month end (initial + joined)
acquired                    Int64    customers who joined this month
churned_total               Int64    customers who left this month
churned_<reason>            Int64    of those, per exit reason (see ``EXIT_REASONS``)
churn_rate                  Float64  churned_total / active at the start of the month
cohort_churn_rate           Float64  the same, for the initial cohort only
mean_bond                   Float64  mean over active customers at month end, 0..1 (each value
                                     truncated to a multiple of 2**-32 before it is summed)
mean_rational_value         Float64  likewise
mean_satisfaction           Float64  likewise
mean_resentment             Float64  likewise
share_<loyalty type>        Float64  share of active customers per loyalty type (sum 1)
revenue                     Float64  EUR, spend of customers active at the start of the month
program_cost                Float64  EUR, all programs
margin                      Float64  gross_margin_share * revenue - program_cost, EUR
cost_<category>             Float64  EUR, program_cost split by ``COST_CATEGORIES`` (sum = program_cost)
exit_fees                   Float64  EUR, exit fees paid by customers leaving during a contract term
                                     (not in revenue or margin)
points_liability            Float64  EUR, unredeemed points held by active customers at month end
failures                    Int64    service failures this month (small and large)
failures_large              Int64    of those, large
failures_<path>             Int64    failures by path (``FAILURE_PATHS``): silent, unresolved,
                                     slow (complaint resolved after slow_resolution_months), fast
slow_resolutions_arrived    Int64    slow resolutions of earlier complaints that arrived this month
term_ends_<action>          Int64    customers at the end of a contract term who switched,
                                     re-contracted or rolled on (``TERM_END_ACTIONS``)
mean_attention              Float64  mean attention of active customers at month end, 0..1
<reporter>                  Float64  one column per monthly reporter of the run's programs and
                                     behaviours (``sim.api.Reporter``), after the columns above
==========================  =======  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sim.mechanisms.decision import TERM_END_ACTIONS
from sim.mechanisms.service import FAILURE_PATHS
from sim.population import EXIT_REASONS, Column, ExitReason, Population


@dataclass(frozen=True)
class LoyaltyTypes:
    """Thresholds that sort active customers into loyalty types, checked in this order.

    hostage: locked in and resentful; apostle: very satisfied and strongly bonded; loyalist:
    satisfied and bonded; mercenary: held by rewards without a bond; at_risk: everyone else.
    """

    hostage_resentment: float = 0.3
    apostle_satisfaction: float = 0.8
    apostle_bond: float = 0.6
    loyalist_satisfaction: float = 0.6
    loyalist_bond: float = 0.4
    mercenary_rational_value: float = 0.2


LOYALTY_TYPES: tuple[str, ...] = ("apostle", "loyalist", "mercenary", "hostage", "at_risk")

# What programs spend on, as booked with ``model.charge(program, eur, category)``: redeemed
# rewards, price discounts, contacts (mail, calls, cards), service quality, administration
# (card operator, contract handling); "other" for programs that name no category.
COST_CATEGORIES: tuple[str, ...] = ("rewards", "discounts", "contacts", "service", "admin", "other")

MONTHLY_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Int32,
    "active_initial": pl.Int64,
    "active_total": pl.Int64,
    "acquired": pl.Int64,
    "churned_total": pl.Int64,
    **{f"churned_{reason}": pl.Int64 for reason in EXIT_REASONS},
    "churn_rate": pl.Float64,
    "cohort_churn_rate": pl.Float64,
    "mean_bond": pl.Float64,
    "mean_rational_value": pl.Float64,
    "mean_satisfaction": pl.Float64,
    "mean_resentment": pl.Float64,
    **{f"share_{kind}": pl.Float64 for kind in LOYALTY_TYPES},
    "revenue": pl.Float64,
    "program_cost": pl.Float64,
    "margin": pl.Float64,
    **{f"cost_{category}": pl.Float64 for category in COST_CATEGORIES},
    "exit_fees": pl.Float64,
    "points_liability": pl.Float64,
    "failures": pl.Int64,
    "failures_large": pl.Int64,
    **{f"failures_{path}": pl.Int64 for path in FAILURE_PATHS},
    "slow_resolutions_arrived": pl.Int64,
    **{f"term_ends_{action}": pl.Int64 for action in TERM_END_ACTIONS},
    "mean_attention": pl.Float64,
}

CUSTOMER_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.Int64,
    "segment": pl.Utf8,
    "price_focus": pl.Float32,
    "bond_need": pl.Float32,
    "contact_tolerance_per_year": pl.Float32,
    "background_exit_per_month": pl.Float32,
    "restlessness": pl.Float32,
    "churn_propensity": pl.Float32,
    "attentiveness": pl.Float32,
    "spend_per_month": pl.Float32,
    "join_month": pl.Int16,
    "exit_month": pl.Int16,
    "exit_reason": pl.Utf8,
    "first_failure_path": pl.Utf8,
    "first_failure_large": pl.Boolean,
    "first_failure_month": pl.Int16,
    "tenure_months": pl.Int16,
    "bond": pl.Float32,
    "rational_value": pl.Float32,
    "satisfaction": pl.Float32,
}


def loyalty_type_counts(
    pop: Population, locked: np.ndarray, thresholds: LoyaltyTypes = LoyaltyTypes()
) -> np.ndarray:
    """Active customers in each of ``LOYALTY_TYPES`` but the last (apostle, loyalist,
    mercenary, hostage; everyone else is at risk); ``locked`` marks the rows under contract
    (``LoyaltyModel.locked``).

    Classifies every row and masks with ``active``: comparisons over whole arrays are cheaper
    than gathering the active rows first, and only counts are needed.
    """
    active = pop.active
    t = thresholds
    sat, bond = pop.satisfaction, pop.bond
    hostage = active & locked & (pop.resentment >= t.hostage_resentment)
    apostle = active & ~hostage & (sat >= t.apostle_satisfaction) & (bond >= t.apostle_bond)
    loyalist = active & ~hostage & ~apostle & (sat >= t.loyalist_satisfaction) & (bond >= t.loyalist_bond)
    mercenary = (
        active & ~hostage & ~apostle & ~loyalist
        & (pop.rational_value >= t.mercenary_rational_value) & (bond < t.loyalist_bond)
    )
    return np.array([np.count_nonzero(m) for m in (apostle, loyalist, mercenary, hostage)])


class MonthlyRecorder:
    """Collects one row per month into preallocated columns; no copy of the population.
    ``extra`` names the Float64 columns that plugins report (``sim.api.Reporter``), after the
    columns of ``MONTHLY_SCHEMA``."""

    def __init__(self, months: int, extra: tuple[str, ...] = ()) -> None:
        self._schema = {**MONTHLY_SCHEMA, **dict.fromkeys(extra, pl.Float64)}
        self._columns = {
            name: np.zeros(months, dtype=np.int64 if dtype == pl.Int64 else np.float64)
            for name, dtype in self._schema.items()
        }
        self._rows = 0

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._schema)

    def record(self, row: dict[str, float]) -> None:
        for name, value in row.items():
            self._columns[name][self._rows] = value
        self._rows += 1

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {name: values[: self._rows] for name, values in self._columns.items()},
            schema=self._schema,
        )


PLANE_BINS = 20  # bins per axis of the bond x rational value plane


def bond_value_plane(pop: Population, bins: int = PLANE_BINS) -> np.ndarray:
    """Active customers counted on a ``bins`` x ``bins`` grid of bond (rows) by rational value
    (columns), both on [0, 1]: the per-run aggregate behind the report's heatmap, so no
    per-customer rows are needed to draw a million customers."""
    active = pop.active
    bond_bin = np.minimum((pop.bond[active] * bins).astype(np.int64), bins - 1)
    value_bin = np.minimum((pop.rational_value[active] * bins).astype(np.int64), bins - 1)
    return np.bincount(bond_bin * bins + value_bin, minlength=bins * bins).reshape(bins, bins)


def plane_frame(plane: np.ndarray) -> pl.DataFrame:
    """The non-empty cells of :func:`bond_value_plane` as rows (bond_bin, value_bin, customers)."""
    bond_bin, value_bin = np.nonzero(plane)
    return pl.DataFrame(
        {"bond_bin": bond_bin, "value_bin": value_bin, "customers": plane[bond_bin, value_bin]},
        schema={"bond_bin": pl.Int16, "value_bin": pl.Int16, "customers": pl.Int64},
    )


def customer_frame(
    pop: Population, segment_names: list[str], extra_columns: tuple[Column, ...] = ()
) -> pl.DataFrame:
    """Per-customer records: traits, join and exit month, exit reason, final state, and after
    them the columns that the run's plugins declared (``extra_columns``)."""
    labelled = ("customer_id", "segment", "exit_reason", "first_failure_path")
    data = pop.to_dict([n for n in CUSTOMER_SCHEMA if n not in labelled])
    reason_labels = np.array(["active", *EXIT_REASONS])
    data["first_failure_path"] = np.array(["none", *FAILURE_PATHS])[pop.first_failure_path]
    data["customer_id"] = np.arange(len(pop))
    data["segment"] = np.array(segment_names)[pop.segment]
    data["exit_reason"] = reason_labels[pop.exit_reason]
    frame = pl.DataFrame(data).select(list(CUSTOMER_SCHEMA)).cast(CUSTOMER_SCHEMA)
    return frame.with_columns(pl.Series(c.name, pop.to_dict([c.name])[c.name]) for c in extra_columns)


def run_summary(monthly: pl.DataFrame, initial_customers: int) -> dict[str, object]:
    """Per-run outcomes from the monthly table (the keys of ``RUN_SUMMARY_KEYS``)."""
    months = monthly.height
    active_initial = monthly["active_initial"].to_numpy()
    retained = int(active_initial[-1]) if months else initial_customers
    cohort_loss = 1.0 - retained / initial_customers
    below_half = np.flatnonzero(active_initial <= initial_customers / 2)
    program_cost = float(monthly["program_cost"].sum())
    return {
        "cohort_loss": cohort_loss,
        "annual_churn": 1.0 - (1.0 - cohort_loss) ** (12.0 / months) if months else 0.0,
        # None when more than half of the cohort is still active at the horizon (censored).
        "half_life_months": int(monthly["month"][int(below_half[0])]) if below_half.size else None,
        "monthly_churn": monthly["churn_rate"].to_list(),
        "churn_by_reason": {
            reason: int(monthly[f"churned_{reason}"].sum()) for reason in EXIT_REASONS
        },
        "revenue": float(monthly["revenue"].sum()),
        "program_cost": program_cost,
        "margin": float(monthly["margin"].sum()),
        "cost_per_retained_customer": program_cost / retained if retained else None,
        "final_active_total": int(monthly["active_total"][-1]) if months else initial_customers,
        **run_economics(monthly, initial_customers),
    }


# Per-run economics (run_economics; definitions in sim.analysis.economics): lifetime value, cost
# split, exit fees, liability.
ECONOMIC_OUTCOMES: tuple[str, ...] = (
    "clv", *(f"cost_{c}" for c in COST_CATEGORIES), "exit_fees", "points_liability",
)

# Yearly discount rate for lifetime value; Gupta, Lehmann & Stuart (2004) use 12%, a
# typical weighted cost of capital.
DISCOUNT_RATE_PER_YEAR = 0.12


def run_economics(
    monthly: pl.DataFrame, initial_customers: int, discount_rate_per_year: float = DISCOUNT_RATE_PER_YEAR
) -> dict[str, float]:
    """The per-run economic outcomes (``ECONOMIC_OUTCOMES``) of one run's monthly table."""
    months = monthly.height
    if months == 0:
        return dict.fromkeys(ECONOMIC_OUTCOMES, 0.0)
    base_at_start = np.concatenate([[initial_customers], monthly["active_total"].to_numpy()[:-1]])
    cohort_at_start = np.concatenate([[initial_customers], monthly["active_initial"].to_numpy()[:-1]])
    profit = monthly["margin"].to_numpy() + monthly["exit_fees"].to_numpy()
    per_customer = profit / np.maximum(base_at_start, 1)
    discount = (1.0 + discount_rate_per_year) ** (-monthly["month"].to_numpy() / 12.0)
    clv = float(np.sum(per_customer * cohort_at_start / initial_customers * discount))
    return {
        "clv": clv,
        **{f"cost_{c}": float(monthly[f"cost_{c}"].sum()) for c in COST_CATEGORIES},
        "exit_fees": float(monthly["exit_fees"].sum()),
        "points_liability": float(monthly["points_liability"][-1]),
    }

# The numeric per-run outcomes that sweeps average over replications.
SCALAR_OUTCOMES: tuple[str, ...] = (
    "cohort_loss", "annual_churn", "half_life_months", "revenue", "program_cost", "margin",
    "cost_per_retained_customer", *ECONOMIC_OUTCOMES,
)

# The range each scalar outcome can take (the others, margin and lifetime value, can take any
# value): a confidence interval is cut to it, which keeps its coverage, since the true mean lies
# in the range too (a t interval over two replications of a share can otherwise reach 120%).
SCALAR_OUTCOME_RANGES: dict[str, tuple[float, float]] = {
    "cohort_loss": (0.0, 1.0),
    "annual_churn": (0.0, 1.0),
    **dict.fromkeys(
        ("half_life_months", "revenue", "program_cost", "cost_per_retained_customer",
         *(f"cost_{c}" for c in COST_CATEGORIES), "exit_fees", "points_liability"),
        (0.0, np.inf),
    ),
}

RUN_SUMMARY_KEYS: tuple[str, ...] = (
    "strategy", "customers", "months", "seed", "cohort_loss", "annual_churn",
    "half_life_months", "monthly_churn", "churn_by_reason", "revenue", "program_cost",
    "margin", "cost_per_retained_customer", "final_active_total", *ECONOMIC_OUTCOMES, "cost_by_program",
)

__all__ = [
    "COST_CATEGORIES", "CUSTOMER_SCHEMA", "ECONOMIC_OUTCOMES", "LOYALTY_TYPES", "MONTHLY_SCHEMA",
    "PLANE_BINS", "RUN_SUMMARY_KEYS", "SCALAR_OUTCOMES", "SCALAR_OUTCOME_RANGES", "ExitReason",
    "LoyaltyTypes", "MonthlyRecorder",
    "bond_value_plane", "customer_frame", "loyalty_type_counts", "plane_frame", "run_summary",
]
