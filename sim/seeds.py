"""Where every run's seed comes from: one helper, used by sweeps, analyses and calibration.

A replication's seed is derived from the *identities* of the scenario, the grid point and the
replication (never from their positions), so results do not depend on the executor, the
number of workers, the order runs finish in, or on strategies, points or replications added
later. Every strategy of a (grid point, replication) shares the seed: common random numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

import numpy as np

GridValue = float | int | bool
GridPoint = tuple[tuple[str, GridValue], ...]  # sorted (dotted path, value) pairs; () = no grid
Entropy = tuple[int, ...]  # the entropy of a numpy SeedSequence: picklable, JSON-able


def point_id(point: GridPoint) -> str:
    """A stable identity of a grid point: its values, not its position in the file."""
    return json.dumps(dict(point), sort_keys=True) if point else "{}"


def swept_paths(point_ids: Iterable[str]) -> list[str]:
    """The swept parameters of results: every key path of their grid points (the ``point``
    column, as :func:`point_id` writes it), in order of first appearance. This is the one
    definition of a grid column: any dotted path a ``[grid]`` sweeps, ``customers``, ``months``
    and ``variant`` are columns of ``runs.parquet`` and ``summary.parquet`` under their path."""
    return list(dict.fromkeys(path for point in dict.fromkeys(point_ids) for path in json.loads(point)))


def point_text(point: str, separator: str = "=") -> str:
    """A grid point (its id) for people: ``discount=0.2, variant=without`` (last path part)."""
    values = json.loads(point).items()
    return ", ".join(
        f"{path.rsplit('.', 1)[-1]}{separator}{value:g}" if isinstance(value, int | float) and not isinstance(
            value, bool) else f"{path.rsplit('.', 1)[-1]}{separator}{value}"
        for path, value in values
    )


def replication_seed(scenario_name: str, root_seed: int, point: GridPoint, replication: int) -> Entropy:
    """The seed (SeedSequence entropy) of one (grid point, replication) of a scenario.

    ``SeedSequence([root_seed, *sha256(scenario name, point id)[:16] as 4 uint32, replication])``.
    """
    digest = hashlib.sha256(f"{scenario_name}\x00{point_id(point)}".encode()).digest()
    words = np.frombuffer(digest[:16], dtype="<u4").tolist()
    return tuple(int(w) for w in np.random.SeedSequence([root_seed, *words, replication]).entropy)
