"""The per-run bond x rational value histogram that the report's heatmap is drawn from."""

import numpy as np

from sim.model import LoyaltyModel
from sim.outcomes import PLANE_BINS, bond_value_plane, plane_frame
from sim.strategy import builtin_strategies


def test_plane_counts_every_active_customer_in_its_cell():
    model = LoyaltyModel(builtin_strategies()["point_card"], customers=2_000, months=6, rng=3)
    result = model.run()
    pop = model.population
    plane = bond_value_plane(pop)
    assert plane.shape == (PLANE_BINS, PLANE_BINS)
    assert plane.sum() == result.monthly["active_total"][-1]
    assert np.array_equal(result.horizon_plane, plane)
    active = pop.active
    first = np.flatnonzero(active)[0]
    row = min(int(pop.bond[first] * PLANE_BINS), PLANE_BINS - 1)
    column = min(int(pop.rational_value[first] * PLANE_BINS), PLANE_BINS - 1)
    assert plane[row, column] >= 1


def test_plane_frame_keeps_only_non_empty_cells():
    plane = np.zeros((PLANE_BINS, PLANE_BINS), dtype=np.int64)
    plane[19, 0], plane[3, 7] = 5, 2
    frame = plane_frame(plane)
    assert sorted(frame.rows()) == [(3, 7, 2), (19, 0, 5)]
