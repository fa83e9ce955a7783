"""Scenario discovery: PRIM finds a known box in synthetic data, and rules read as words."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.analysis.discovery import Box, choose, discover, peel, prim, rules
from sim.analysis.space import Space, parse_outputs
from sim.executors import SerialExecutor

LOWS, HIGHS = np.zeros(3), np.ones(3)


def _known_box(noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """1,000 uniform points; cases where x0 > 0.6 and x1 < 0.3 (x2 irrelevant), labels flipped
    with probability ``noise``."""
    rng = np.random.default_rng(seed)
    points = rng.random((1000, 3))
    cases = (points[:, 0] > 0.6) & (points[:, 1] < 0.3)
    return points, cases ^ (rng.random(1000) < noise)


def test_prim_recovers_a_clean_box():
    points, cases = _known_box(noise=0.0)
    box = prim(points, cases, LOWS, HIGHS)
    assert box.lows[0] == pytest.approx(0.6, abs=0.05) and box.highs[0] == 1.0
    assert box.lows[1] == 0.0 and box.highs[1] == pytest.approx(0.3, abs=0.05)
    assert (box.lows[2], box.highs[2]) == (0.0, 1.0)  # the irrelevant parameter is not restricted
    assert box.coverage > 0.9 and box.density > 0.95


def test_prim_with_noisy_labels_keeps_the_box_and_drops_spurious_restrictions():
    points, cases = _known_box(noise=0.05)
    box = prim(points, cases, LOWS, HIGHS)
    assert box.lows[0] == pytest.approx(0.6, abs=0.05)
    assert box.highs[1] == pytest.approx(0.3, abs=0.05)
    assert (box.lows[2], box.highs[2]) == (0.0, 1.0)
    # 5% flips put about 44 false cases outside the box: coverage cannot exceed about 72%
    assert box.coverage > 0.6 and box.density > 0.9


def test_peeling_raises_density_and_respects_the_minimum_mass():
    points, cases = _known_box(noise=0.05)
    trajectory = peel(points, cases, LOWS, HIGHS, alpha=0.05, min_mass=0.1)
    assert trajectory[0].mass == 1.0 and trajectory[0].coverage == 1.0
    assert trajectory[-1].density > trajectory[0].density
    assert all(box.mass >= 0.1 for box in trajectory)
    assert all(b.mass <= a.mass for a, b in itertools.pairwise(trajectory))


def test_choose_takes_the_densest_box_with_enough_coverage():
    boxes = [
        Box(LOWS, HIGHS, coverage=1.0, density=0.2, mass=1.0),
        Box(LOWS, HIGHS, coverage=0.8, density=0.7, mass=0.3),
        Box(LOWS, HIGHS, coverage=0.4, density=0.95, mass=0.1),
    ]
    assert choose(boxes, min_coverage=0.5) is boxes[1]
    assert choose(boxes, min_coverage=0.3) is boxes[2]


def test_rules_name_only_restricted_parameters():
    space = Space(("a", "b", "c"), LOWS, HIGHS, samples=1)
    box = Box(np.array([0.25, 0.0, 0.1]), np.array([1.0, 0.5, 0.9]), 0.8, 0.9, 0.2)
    assert rules(box, space) == ["a >= 0.25", "b <= 0.5", "c between 0.1 and 0.9"]


def test_discover_on_the_model_reports_rules_and_samples(space_scenario):
    chosen = space_scenario(customers=150, months=12, samples=24)
    (output,) = parse_outputs("cohort_loss:rare_contact", chosen)
    found = discover(chosen, output, threshold=0.15, executor=SerialExecutor())
    assert found.samples.height == 24
    assert found.samples.columns == [
        "market.gross_margin_share", "market.offers.offer_rate_per_month", "output", "case", "in_box",
    ]
    assert found.cases == found.samples["case"].sum()
    text = found.describe()
    assert text.startswith(f"cohort_loss:rare_contact > 0.15 in {found.cases} of 24 sampled markets")
    nothing = discover(chosen, output, threshold=2.0, executor=SerialExecutor())
    assert nothing.box is None and nothing.describe().endswith("nowhere in the sampled space.")


@pytest.mark.slow
def test_slow_discovery_finds_that_frequent_offers_drive_five_year_loss(space_scenario):
    """The highest five-year losses (the top quarter of the sampled markets) happen where
    competitor offers are frequent; the margin share, which moves no customer, is not part of the
    rule. The threshold is a quantile of the sampled losses, so the test does not depend on the
    level the default market is calibrated to."""
    chosen = space_scenario(customers=1_000, months=60, samples=80)
    (output,) = parse_outputs("cohort_loss:rare_contact", chosen)
    everywhere = discover(chosen, output, threshold=0.0, executor=SerialExecutor())
    threshold = float(everywhere.samples["output"].quantile(0.75))
    found = discover(chosen, output, threshold=threshold, executor=SerialExecutor())
    assert 0 < found.cases < 80
    assert found.rules == (f"market.offers.offer_rate_per_month >= {found.box.lows[1]:.4g}",)
    assert found.box.coverage > 0.8 and found.box.density > 0.8
