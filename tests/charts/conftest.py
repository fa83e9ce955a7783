"""Small synthetic result frames with known winners, shaped like a sweep's files at one grid point."""

from __future__ import annotations

import json

import polars as pl
import pytest

from sim.charts.style import StrategyColours
from sim.outcomes import LOYALTY_TYPES
from sim.population import EXIT_REASONS

MONTHS = 6
# monthly churn of the initial cohort per strategy; "contract" spikes in month 4
COHORT_CHURN = {
    "base": [0.10] * MONTHS,
    "bond": [0.02] * MONTHS,
    "contract": [0.0, 0.0, 0.0, 0.5, 0.0, 0.0],
}


@pytest.fixture(scope="session")
def monthly() -> pl.DataFrame:
    rows = []
    for strategy, churn in COHORT_CHURN.items():
        for replication, jitter in enumerate((-0.005, 0.005)):
            for month, rate in enumerate(churn, start=1):
                bonded = 0.6 if strategy == "bond" else 0.1
                shares = dict(
                    zip(LOYALTY_TYPES, (bonded / 2, bonded / 2, 0.2, 0.1, 0.7 - bonded), strict=True)
                )
                rows.append(
                    {
                        "strategy": strategy,
                        "point": "{}",
                        "replication": replication,
                        "month": month,
                        "cohort_churn_rate": max(0.0, rate + jitter),
                        "churn_rate": max(0.0, rate + jitter),
                        **{f"share_{k}": v for k, v in shares.items()},
                    }
                )
    return pl.DataFrame(rows)


def _summary_row(strategy: str, loss: float, cost: float, point: dict | None = None) -> dict:
    return {
        "strategy": strategy,
        "point": json.dumps(point or {}),
        "replications": 2,
        "baseline": "base",
        "cohort_loss_mean": loss,
        "cohort_loss_ci_low": loss - 0.02,
        "cohort_loss_ci_high": loss + 0.02,
        "program_cost_mean": cost,
        "cost_per_retained_customer_mean": cost / ((1 - loss) * 1000) if cost else 0.0,
    }


@pytest.fixture(scope="session")
def summary() -> pl.DataFrame:
    return pl.DataFrame(
        [
            _summary_row("base", 0.5, 0.0),
            _summary_row("bond", 0.2, 3000.0),
            _summary_row("contract", 0.4, 500.0),
        ]
    )


@pytest.fixture(scope="session")
def grid_summary() -> pl.DataFrame:
    rows = []
    for discount in (0.1, 0.2, 0.3):
        point = {"market.offers.discount": discount}
        for strategy, loss in (("base", 0.5), ("bond", 0.2)):
            row = _summary_row(strategy, loss + discount / 2, 100.0, point)
            rows.append({**row, "market.offers.discount": discount})
    return pl.DataFrame(rows)


@pytest.fixture(scope="session")
def runs() -> pl.DataFrame:
    counts = {
        "base": {"price": 25, "service": 25, "relationship": 50},
        "bond": {"price": 10, "service": 5, "relationship": 5},
        "contract": {"contract_end": 60, "resentment": 10},
    }
    return pl.DataFrame(
        [
            {"strategy": s, "replication": r, **{f"churned_{x}": c.get(x, 0) for x in EXIT_REASONS}}
            for s, c in counts.items()
            for r in (0, 1)
        ]
    )


@pytest.fixture(scope="session")
def plane() -> pl.DataFrame:
    """base: everyone at bond 0.1; bond: 3 of 4 customers at bond >= 0.5."""
    rows = []
    for replication in (0, 1):
        rows += [
            {"strategy": "base", "replication": replication, "bond_bin": 2, "value_bin": 0, "customers": 40},
            {"strategy": "bond", "replication": replication, "bond_bin": 15, "value_bin": 1, "customers": 30},
            {"strategy": "bond", "replication": replication, "bond_bin": 3, "value_bin": 0, "customers": 10},
            {
                "strategy": "contract",
                "replication": replication,
                "bond_bin": 4,
                "value_bin": 0,
                "customers": 20,
            },
        ]
    return pl.DataFrame(rows)


@pytest.fixture(scope="session")
def colours() -> StrategyColours:
    return StrategyColours(("base", "bond", "contract"), "base")


@pytest.fixture(scope="session")
def colours_de() -> StrategyColours:
    return StrategyColours(("base", "bond", "contract"), "base", "de")
