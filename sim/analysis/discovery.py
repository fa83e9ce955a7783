"""Scenario discovery: in which markets does an outcome cross a threshold (a claim fail)?

Markets are sampled by Latin hypercube over the ranges a scenario declares (see
:mod:`sim.analysis.space`), each is simulated, and a market is a *case* when its output lies
beyond the threshold. PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999) as used
for scenario discovery by Bryant & Lempert (2010) and the EMA Workbench (Kwakkel 2017), then
looks for a box (a range per parameter) where cases concentrate:

* **peeling**: starting from the whole sampled space, repeatedly cut off the ``alpha`` share of
  the points in the box at the low or high end of one parameter, choosing the cut that leaves
  the highest density; stop when the box holds fewer than ``min_mass`` of all points or only
  cases. The boxes along the way form the *peeling trajectory*, from broad to dense.
* **choice**: the densest box on the trajectory that still holds ``min_coverage`` of all cases.
* **simplification**: a restriction is dropped when it does not raise the density
  significantly (one-sided binomial test of the box's cases against the density of the box
  without it, the EMA Workbench's quasi-p-value, at 5%); the rule keeps the parameters that matter.

Every box is judged by its **coverage** (share of all cases that lie inside it), **density**
(share of the markets inside that are cases) and **mass** (share of the sampled markets inside).

``DISCOVERY_SCHEMA`` names the columns of the sample table :func:`discover` returns
(``discovery.parquet``): one row per sampled market with one Float64 column per parameter (its
dotted path), then ``output`` (Float64, the output averaged over replications), ``case``
(Boolean, beyond the threshold) and ``in_box`` (Boolean, inside the chosen box).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from sim.analysis.space import Output, Space, evaluate, space_of
from sim.executors import Executor
from sim.scenario import Scenario

DISCOVERY_SCHEMA: dict[str, type[pl.DataType]] = {
    "<parameter path>": pl.Float64,
    "output": pl.Float64,
    "case": pl.Boolean,
    "in_box": pl.Boolean,
}


@dataclass(frozen=True)
class Box:
    """Limits per parameter (the space's own bounds where it is not restricted) and its quality."""

    lows: np.ndarray
    highs: np.ndarray
    coverage: float
    density: float
    mass: float

    def contains(self, points: np.ndarray) -> np.ndarray:
        return np.all((points >= self.lows) & (points <= self.highs), axis=1)


def _box(lows: np.ndarray, highs: np.ndarray, points: np.ndarray, cases: np.ndarray) -> Box:
    inside = np.all((points >= lows) & (points <= highs), axis=1)
    n_inside, n_cases = np.count_nonzero(inside), np.count_nonzero(cases)
    hits = np.count_nonzero(inside & cases)
    return Box(
        lows.copy(),
        highs.copy(),
        coverage=hits / n_cases if n_cases else 0.0,
        density=hits / n_inside if n_inside else 0.0,
        mass=n_inside / len(points),
    )


def peel(
    points: np.ndarray,
    cases: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    alpha: float = 0.05,
    min_mass: float = 0.05,
) -> list[Box]:
    """The PRIM peeling trajectory, from the box ``lows..highs`` inwards."""
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    cases = np.asarray(cases, dtype=bool)
    lows, highs = np.asarray(lows, dtype=float).copy(), np.asarray(highs, dtype=float).copy()
    trajectory = [_box(lows, highs, points, cases)]
    inside = trajectory[0].contains(points)
    while trajectory[-1].density < 1.0:
        best = None
        for dim in range(points.shape[1]):
            values = points[inside, dim]
            for side, cut in (("low", np.quantile(values, alpha)), ("high", np.quantile(values, 1 - alpha))):
                keep = inside & (points[:, dim] >= cut if side == "low" else points[:, dim] <= cut)
                kept = np.count_nonzero(keep)
                if kept in (0, np.count_nonzero(inside)) or kept / len(points) < min_mass:
                    continue
                score = (np.count_nonzero(keep & cases) / kept, kept)  # densest, then largest
                if best is None or score > best[0]:
                    best = (score, dim, side, cut, keep)
        if best is None:
            break
        _, dim, side, cut, inside = best
        if side == "low":
            lows[dim] = cut
        else:
            highs[dim] = cut
        trajectory.append(_box(lows, highs, points, cases))
    return trajectory


def choose(trajectory: list[Box], min_coverage: float = 0.5) -> Box:
    """The densest box that keeps ``min_coverage`` of the cases (the broadest on ties)."""
    eligible = [b for b in trajectory if b.coverage >= min_coverage] or trajectory[:1]
    return max(eligible, key=lambda b: (b.density, b.coverage))


def quasi_p_value(box: Box, wider: Box, points: np.ndarray) -> float:
    """Chance of at least the box's cases if its points had the density of ``wider`` (the box
    without one restriction): a one-sided binomial test, as in the EMA Workbench."""
    from scipy.stats import binom

    n = round(box.mass * len(points))
    return float(binom.sf(round(box.density * n) - 1, n, wider.density))


def simplify(
    box: Box,
    points: np.ndarray,
    cases: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    significance: float = 0.05,
) -> Box:
    """Drop restrictions that do not raise the density significantly, least significant first."""
    while True:
        candidates = []
        for dim in np.flatnonzero((box.lows > lows) | (box.highs < highs)):
            wider_lows, wider_highs = box.lows.copy(), box.highs.copy()
            wider_lows[dim], wider_highs[dim] = lows[dim], highs[dim]
            wider = _box(wider_lows, wider_highs, points, cases)
            p_value = quasi_p_value(box, wider, points)
            if p_value > significance:
                candidates.append((p_value, wider))
        if not candidates:
            return box
        box = max(candidates, key=lambda c: c[0])[1]


def prim(
    points: np.ndarray,
    cases: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    min_coverage: float = 0.5,
    significance: float = 0.05,
) -> Box:
    """Peel, choose and simplify: the box where the cases concentrate."""
    trajectory = peel(points, cases, lows, highs, alpha, min_mass)
    chosen = choose(trajectory, min_coverage)
    cases = np.asarray(cases, dtype=bool)
    return simplify(chosen, points, cases, np.asarray(lows), np.asarray(highs), significance)


def restrictions(box: Box, space: Space) -> list[tuple[str, float | None, float | None]]:
    """The parameters the box restricts, each with its new low and high end (None: the end of
    its range, not restricted)."""
    out = []
    limits = zip(space.names, box.lows, box.highs, space.lows, space.highs, strict=True)
    for name, low, high, lo, hi in limits:
        if low > lo or high < hi:
            out.append((name, float(low) if low > lo else None, float(high) if high < hi else None))
    return out


def rules(box: Box, space: Space) -> list[str]:
    """The box's restrictions in words, one per restricted parameter."""
    out = []
    for name, low, high in restrictions(box, space):
        if low is not None and high is not None:
            out.append(f"{name} between {low:.4g} and {high:.4g}")
        elif low is not None:
            out.append(f"{name} >= {low:.4g}")
        else:
            out.append(f"{name} <= {high:.4g}")
    return out


@dataclass(frozen=True)
class Discovery:
    """Sampled markets, the box PRIM found, and the finding in words."""

    samples: pl.DataFrame
    box: Box | None  # None when no market, or every market, is a case
    rules: tuple[str, ...]
    cases: int
    condition: str  # e.g. "cohort_loss:lock_in_contract-personal_appreciation > 0"

    def describe(self) -> str:
        n = self.samples.height
        share = f"{self.condition} in {self.cases} of {n} sampled markets ({self.cases / n:.0%})"
        if self.box is None:
            return f"{share}: " + ("nowhere in the sampled space." if not self.cases else "everywhere.")
        b = self.box
        where = " and ".join(self.rules) or "no parameter stands out (the box is the whole space)"
        return (
            f"{share}.\nMostly where {where}: "
            f"coverage {b.coverage:.0%} (of those markets, the share inside), density {b.density:.0%} "
            f"(of the markets inside, the share where it happens), mass {b.mass:.0%} of the sampled space."
        )


def sample(space: Space, samples: int, seed: int) -> np.ndarray:
    """A Latin hypercube of ``samples`` markets over the space."""
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=space.dimensions, rng=np.random.default_rng(seed)).random(samples)
    return space.points(unit)


def discover(
    scenario: Scenario,
    output: Output,
    threshold: float,
    executor: Executor,
    below: bool = False,
    samples: int | None = None,
    replications: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
) -> Discovery:
    """Sample the scenario's space, mark markets where ``output`` is above (or ``below``) the
    threshold, and find the box where they concentrate."""
    space = space_of(scenario)
    points = sample(space, samples or space.samples, scenario.seed)
    values = evaluate(scenario, space, points, (output,), executor, replications, on_progress)[:, 0]
    cases = values < threshold if below else values > threshold
    condition = f"{output.label} {'<' if below else '>'} {threshold:g}"
    box = prim(points, cases, space.lows, space.highs) if 0 < cases.sum() < len(cases) else None
    frame = pl.DataFrame({name: points[:, i] for i, name in enumerate(space.names)}).with_columns(
        pl.Series("output", values),
        pl.Series("case", cases),
        pl.Series("in_box", box.contains(points) if box else np.zeros(len(points), dtype=bool)),
    )
    return Discovery(frame, box, tuple(rules(box, space)) if box else (), int(cases.sum()), condition)


__all__ = [
    "DISCOVERY_SCHEMA", "Box", "Discovery", "choose", "discover", "peel", "prim", "quasi_p_value",
    "restrictions", "rules", "sample", "simplify",
]
