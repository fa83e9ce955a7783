"""The default market behaves like real customer bases (issue 12): slow, but cheap (seconds).

- Contract ends (``scenarios/contract-end.toml``): the share of customers who act at a term end
  (re-contract or switch) is Ofcom's 47% without an end-of-contract notice and 62% with one,
  within 5 percentage points, and most of the rise is re-contracting (Ofcom 2021).
- The baseline's yearly retention of its initial cohort rises with tenure: year 5 at least 5
  points above year 1 (Fader & Hardie 2007: +6 to +26 points in real cohorts).
- Bonds last: the most bonded third at month 12 lives markedly longer than the least bonded.
The controls show that each check can fail: identical customers (no spread of the churn
propensity) give no rising retention.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.validation import term_end_actions
from sim.analysis.claims import _changed, _identical_customers
from sim.market import Market
from sim.mechanisms.heterogeneity import HeterogeneityParams
from sim.model import LoyaltyModel
from sim.strategy import builtin_strategies

pytestmark = pytest.mark.slow


def _term_end_actions(strategy: str) -> dict[str, int]:
    """Term-end actions pooled over contract-end.toml's 12-month points, counted as the
    validation table counts them."""
    return term_end_actions(strategy, 1, 2500)


def _act(totals: dict[str, int]) -> float:
    return (totals["switched"] + totals["recontracted"]) / sum(totals.values())


def test_contract_end_reproduces_the_ofcom_action_rates():
    without, with_notice = _term_end_actions("lock_in_contract"), _term_end_actions("lock_in_with_notice")
    assert _act(without) == pytest.approx(0.47, abs=0.05)
    assert _act(with_notice) == pytest.approx(0.62, abs=0.05)
    rise = {a: with_notice[a] / sum(with_notice.values()) - without[a] / sum(without.values())
            for a in ("switched", "recontracted")}
    assert rise["recontracted"] > 2 * rise["switched"]


def _yearly_retention(market: Market, customers: int = 8000, seeds: int = 2, months: int = 60) -> np.ndarray:
    rates = []
    for seed in range(seeds):
        model = LoyaltyModel(builtin_strategies()["rare_contact"], market, customers, months, rng=seed)
        active = np.r_[customers, model.run().monthly["active_initial"].to_numpy()[11::12]]
        rates.append(active[1:] / active[:-1])
    return np.mean(rates, axis=0)


def test_yearly_retention_rises_with_tenure_and_not_without_heterogeneity():
    retention = _yearly_retention(Market())
    assert retention[4] - retention[0] >= 0.05, retention
    same = dataclasses.replace(Market(), heterogeneity=HeterogeneityParams(propensity_cv=0.0))
    control = _yearly_retention(same)
    assert control[4] - control[0] < retention[4] - retention[0] - 0.02, control


def test_an_identical_customers_retention_does_not_fall_with_tenure_unless_failures_are_never_forgiven():
    """Identical customers (no spread of any trait): after the courted premium has faded (years
    1-4), yearly retention of years 8-12 is not below that of years 4-6, because failures dent the
    bond and time forgives them. The control never forgives: the bond is worn away and retention
    falls for a decade (what kept the regular Fader-Hardie cohort's held-out years out of reach)."""
    market = _identical_customers(Market())
    retention = _yearly_retention(market, customers=3000, seeds=1, months=144)
    assert retention[7:].mean() >= retention[3:6].mean() - 0.005, retention
    never_forgiven = _changed({"adaptation.transient_bond_fade_per_month": 0.0})(market)
    unforgiving = _yearly_retention(never_forgiven, customers=3000, seeds=1, months=144)
    assert unforgiving[7:].mean() < unforgiving[3:6].mean() - 0.02, unforgiving


def test_the_most_bonded_third_at_month_12_lives_markedly_longer():
    customers, months = 6000, 84
    model = LoyaltyModel(builtin_strategies()["rare_contact"], Market(), customers, months, rng=11)
    for _ in range(12):
        model.step()
    pop = model.population
    alive, bond = pop.active[:customers].copy(), pop.bond[:customers].copy()
    while model.month < months:
        model.step()
    exit_month = pop.exit_month[:customers].astype(float)
    exit_month[exit_month < 0] = months
    lifetime, bond = (exit_month - 12)[alive], bond[alive]
    top, bottom = bond >= np.quantile(bond, 2 / 3), bond <= np.quantile(bond, 1 / 3)
    assert lifetime[top].mean() > 1.1 * lifetime[bottom].mean()
