"""examples/word_of_mouth, installed as a plugin: it registers through its entry point, keeps its
network in step with the population, and churn clusters on the network.

The clustering test compares, month by month, the customers who were neighbours of someone who
left with everyone else still active: over the next months the neighbours must leave more
often, by a margin beyond seed-to-seed noise, and the same comparison without contagion must
not show it (so the measure itself is not biased).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.behaviours import BEHAVIOURS, BehaviourSpec
from sim.market import Market
from sim.model import LoyaltyModel
from sim.strategy import ProgramSpec, Strategy

RARE = Strategy("rare_contact", (ProgramSpec("rare_contact"),))
# Personal appreciation and good service make apostles, who bring referrals.
WARM = Strategy("warm", (ProgramSpec("personal_appreciation"), ProgramSpec("service_excellence")))


def model(
    customers: int = 1_000, months: int = 12, seed: int = 1, strategy: Strategy = RARE, **params
) -> LoyaltyModel:
    market = Market(behaviours=(BehaviourSpec("word_of_mouth", params),))
    return LoyaltyModel(strategy, market, customers=customers, months=months, rng=seed)


def test_the_installed_package_is_found_through_its_entry_point():
    cls = BEHAVIOURS.get("word_of_mouth")
    assert cls.__module__ == "word_of_mouth"
    assert cls.source == "loyalty-sim-word-of-mouth"


@pytest.mark.parametrize("network", ["small_world", "scale_free"])
def test_the_network_grows_with_the_population_and_stays_symmetric(network):
    run = model(months=24, strategy=WARM, network=network, referrals_per_apostle_year=6.0)
    run.run()
    adjacency = run.behaviours[0].adjacency
    pop = run.population
    assert adjacency.shape == (len(pop), len(pop)) and len(pop) > 1_000
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    joiners = np.flatnonzero(pop.join_month > 0)
    assert (adjacency[joiners].sum(axis=1) > 0).all()  # every newcomer knows somebody
    referred = joiners[pop.referred_by[joiners] >= 0]
    assert referred.size > 0
    assert (adjacency[referred, pop.referred_by[referred]] == 1).all()


def test_exposure_counts_neighbours_who_left_and_fades():
    run = model(memory_months=2.0)
    run.step()
    pop, adjacency = run.population, run.behaviours[0].adjacency
    left = (pop.exit_month == 1).astype(np.float32)
    np.testing.assert_allclose(pop.exposure, adjacency @ left, rtol=1e-6)
    adjacency = run.behaviours[0].adjacency  # with month 1's joiners: the network of month 2
    before = pop.exposure.copy()
    run.step()
    n = before.size
    left = (pop.exit_month[:n] == 2).astype(np.float32)
    expected = before * np.exp(-1 / 2.0) + adjacency @ left
    np.testing.assert_allclose(pop.exposure[:n], expected, rtol=1e-5, atol=1e-6)


def test_same_seed_same_network_and_churn():
    a, b = model(seed=3), model(seed=3)
    ra, rb = a.run(), b.run()
    assert (a.behaviours[0].adjacency != b.behaviours[0].adjacency).nnz == 0
    assert ra.monthly.equals(rb.monthly)


def test_customer_records_carry_the_plugin_columns():
    records = model(months=3).run(customers=True).customer_records
    assert records.columns[-2:] == ["exposure", "referred_by"]


# --- churn clusters on the network ------------------------------------------------------------

# 20 seeds: with issue 12's durable bonds and relationship proneness the default contagion's
# excess is +33% [+31%, +35%], close to the +30% asked for; 10 seeds gave [+29.9%, +34.9%].
SEEDS = range(20)
HORIZON = 6  # months after a neighbour's exit in which a follower's exit counts


def neighbour_excess_churn(run: LoyaltyModel) -> float:
    """Share of churners' neighbours who leave within HORIZON months, relative to the same share
    for all other active customers, minus one, pooled over months (0.5: neighbours leave 50% more
    often). Relative, so the check does not depend on the market's overall churn level."""
    pop, adjacency = run.population, run.behaviours[0].adjacency
    n = len(pop)
    exit_month = pop.exit_month.astype(np.int64)
    counts = np.zeros((2, 2))  # [neighbours, others] x [at risk, left within HORIZON]
    for month in range(1, run.months - HORIZON + 1):
        present = (pop.join_month <= month) & ((exit_month == -1) | (exit_month > month))
        left_now = np.zeros(n, dtype=np.float32)
        left_now[exit_month == month] = 1.0
        neighbour = (adjacency @ left_now > 0) & present
        soon = (exit_month > month) & (exit_month <= month + HORIZON)
        for row, group in enumerate((neighbour, present & ~neighbour)):
            counts[row] += (np.count_nonzero(group), np.count_nonzero(group & soon))
    rates = counts[:, 1] / counts[:, 0]
    return float(rates[0] / rates[1] - 1.0)


def _ci95(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return values.mean() - half, values.mean() + half


@pytest.mark.slow
def test_churn_clusters_on_the_network():
    def excess(follow: float) -> list[float]:
        runs = [model(3_000, 36, seed, follow_per_leaver=follow) for seed in SEEDS]
        for run in runs:
            run.run()
        return [neighbour_excess_churn(run) for run in runs]

    # Nitzan & Libai (2011) found about +80% exit hazard for neighbours of churners in a telecom
    # call graph; default contagion must give at least +30% (a clear, not an exact, match).
    contagion, control = excess(0.05), excess(0.0)
    low, _ = _ci95(contagion)
    assert low > 0.3  # neighbours of churners leave at least 30% more often in 6 months
    control_low, control_high = _ci95(control)
    assert control_low < 0 < control_high or abs(np.mean(control)) < 0.05  # no bias without contagion
    assert control_high < low
