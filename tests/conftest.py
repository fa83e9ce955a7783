"""Shared test set-up.

Test helpers such as ``update_baseline.py`` are importable from ``tests``. The fixtures below
are session-scoped and return functions (small models, manual stepping, the invariants every
run must keep), so that test modules in sub-folders (which have no ``__init__.py``) need not
import anything from here, and so that Hypothesis tests may use them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sim.flows import MonthFlows
from sim.market import Market
from sim.model import LoyaltyModel, RunResult
from sim.outcomes import LOYALTY_TYPES
from sim.population import EXIT_REASONS, ExitReason
from sim.strategy import ProgramSpec, Strategy

# Test helpers such as update_baseline.py are importable from tests.
sys.path.insert(0, str(Path(__file__).parent))

STATE_COLUMNS = ("bond", "satisfaction", "rational_value", "resentment")


def _make_model(
    *programs: str | ProgramSpec,
    market: Market | None = None,
    customers: int = 1000,
    months: int = 12,
    rng: int = 0,
    name: str = "test",
) -> LoyaltyModel:
    specs = tuple(p if isinstance(p, ProgramSpec) else ProgramSpec(p) for p in programs)
    return LoyaltyModel(
        Strategy(name, specs or (ProgramSpec("rare_contact"),)),
        market=market,
        customers=customers,
        months=months,
        rng=rng,
    )


def _begin_month(model: LoyaltyModel, month: int | None = None) -> None:
    """Do what ``LoyaltyModel.step`` does before its phases, so a test can call one phase."""
    model.month = model.month + 1 if month is None else month
    model.flows = MonthFlows.start(model.month, model.population.active)
    model.population.reward_received[:] = 0.0


def _calm(model: LoyaltyModel) -> None:
    """Remove noise the mechanism under test does not need: no life events, no restlessness."""
    pop = model.population
    pop.background_exit_per_month[:] = 0.0
    pop.restlessness[:] = 1.0
    pop.churn_propensity[:] = 1.0
    pop.attention[:] = 1.0  # every offer is weighed


def _check_invariants(model: LoyaltyModel, result: RunResult) -> None:
    """Invariants of every finished run, whatever the strategy and market."""
    monthly, pop = result.monthly, model.population
    assert monthly.height == model.months
    assert monthly["month"].to_list() == list(range(1, model.months + 1))

    for name, dtype in monthly.schema.items():
        if dtype == pl.Float64:
            assert np.all(np.isfinite(monthly[name].to_numpy())), f"non-finite value in {name}"

    # States stay in their ranges for every customer, active or gone.
    for name in STATE_COLUMNS:
        column = getattr(pop, name)
        assert np.all((column >= 0.0) & (column <= 1.0)), f"{name} outside [0, 1]"
    if "points" in pop.columns:  # the point card's column
        assert np.all(pop.points >= 0.0)
    if "contract_months_left" in pop.columns:  # the lock-in program's
        assert np.all(pop.contract_months_left >= 0)

    # Stock and flow accounting: active + churned so far == initial + acquired so far.
    active = monthly["active_total"].to_numpy()
    churned = monthly["churned_total"].to_numpy()
    acquired = monthly["acquired"].to_numpy()
    np.testing.assert_array_equal(active + np.cumsum(churned), model.initial_customers + np.cumsum(acquired))
    assert len(pop) == model.initial_customers + int(acquired.sum())
    assert int(np.count_nonzero(pop.active)) == int(active[-1])

    by_reason = sum(monthly[f"churned_{reason}"].to_numpy() for reason in EXIT_REASONS)
    np.testing.assert_array_equal(by_reason, churned)

    # The initial cohort only shrinks and is part of the base.
    initial = monthly["active_initial"].to_numpy()
    assert np.all(np.diff(initial) <= 0)
    assert initial[0] <= model.initial_customers
    assert np.all(initial <= active)

    shares = sum(monthly[f"share_{kind}"].to_numpy() for kind in LOYALTY_TYPES)
    for month_share, n_active in zip(shares, active, strict=True):
        assert month_share == (pytest.approx(1.0, abs=1e-9) if n_active else 0.0)
    for name in ("churn_rate", "cohort_churn_rate"):
        values = monthly[name].to_numpy()
        assert np.all((values >= 0.0) & (values <= 1.0)), name
    assert np.all(monthly["program_cost"].to_numpy() >= 0.0)

    # Gone customers carry their exit month and reason; active ones carry neither.
    gone = ~pop.active
    assert np.all(pop.exit_reason[pop.active] == ExitReason.STILL_ACTIVE)
    assert np.all(pop.exit_month[pop.active] == -1)
    assert np.all(pop.exit_reason[gone] != ExitReason.STILL_ACTIVE)
    assert np.all((pop.exit_month[gone] >= 1) & (pop.exit_month[gone] <= model.months))
    assert np.all(pop.exit_month[gone] > pop.join_month[gone])

    summary = result.summary()
    assert 0.0 <= summary["cohort_loss"] <= 1.0
    assert 0.0 <= summary["annual_churn"] <= 1.0


@pytest.fixture(scope="session")
def make_model():
    """``make_model(*programs, market=, customers=, months=, rng=)``: an unstepped model."""
    return _make_model


@pytest.fixture(scope="session")
def begin_month():
    """``begin_month(model, month=None)``: open a month as ``step`` does, without its phases."""
    return _begin_month


@pytest.fixture(scope="session")
def calm():
    """``calm(model)``: no background exits and restlessness 1 for every customer."""
    return _calm


@pytest.fixture(scope="session")
def check_invariants():
    """``check_invariants(model, result)``: assert the invariants of a finished run."""
    return _check_invariants


@pytest.fixture
def scratch_registries(monkeypatch):
    """Plugins registered in a test are unregistered afterwards."""
    from sim.behaviours import BEHAVIOURS
    from sim.programs import PROGRAMS

    for registry in (PROGRAMS, BEHAVIOURS):
        registry.names()  # discover first, so the copy holds the installed plugins too
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
