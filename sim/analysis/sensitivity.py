"""Global sensitivity analysis (SALib) over the parameter ranges a scenario declares.

Two methods, both over the ranges of ``[grid.latin_hypercube]`` (see :mod:`sim.analysis.space`):

* ``sobol``: variance-based indices (Sobol' 2001; Saltelli et al. 2010 estimators). ``S1`` is the
  share of the output's variance due to a parameter alone, ``ST`` the share it takes part in,
  interactions included. ``N`` base samples cost ``N * (D + 2)`` evaluations for ``D``
  parameters; ``N`` must be a power of two (Sobol' sequence).
* ``morris``: elementary effects (Morris 1991; Campolongo et al. 2007). ``mu_star`` is the mean
  absolute change of the output when the parameter moves by a step (in the output's unit),
  ``sigma`` the spread of those changes (non-linearity or interactions). ``N`` trajectories
  cost ``N * (D + 1)`` evaluations: a cheap screening.

Confidence intervals (95%) are bootstrap intervals from SALib. Every evaluation runs with the
same seeds (common random numbers), so a parameter the model ignores changes nothing at all and
gets an index of zero, not noise.

``SENSITIVITY_SCHEMA`` is the table :func:`sensitivity` returns (``sensitivity.parquet``):

===========  =======  ==========================================================================
column       dtype    meaning
===========  =======  ==========================================================================
method       String   sobol or morris
output       String   the output, ``outcome:strategy`` or ``outcome:strategy-strategy``
parameter    String   dotted path of the parameter (as in the scenario file)
index        String   S1, ST (sobol); mu_star, sigma (morris)
value        Float64  the index
ci_low       Float64  95% bootstrap interval, low end (null for sigma)
ci_high      Float64  high end
evaluations  Int64    model evaluations (points x replications) behind the index
===========  =======  ==========================================================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import polars as pl

from sim.analysis.space import AnalysisError, Output, Space, evaluate, space_of
from sim.executors import Executor
from sim.scenario import MAX_GRID_POINTS, Scenario

METHODS: tuple[str, ...] = ("sobol", "morris")
DEFAULT_SAMPLES: dict[str, int] = {"sobol": 64, "morris": 10}
MORRIS_LEVELS = 4
BOOTSTRAP_RESAMPLES = 500
SENSITIVITY_SCHEMA: dict[str, type[pl.DataType]] = {
    "method": pl.String,
    "output": pl.String,
    "parameter": pl.String,
    "index": pl.String,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "evaluations": pl.Int64,
}


def _problem(space: Space) -> dict:
    return {
        "num_vars": space.dimensions,
        "names": list(space.names),
        "bounds": [[float(lo), float(hi)] for lo, hi in zip(space.lows, space.highs, strict=True)],
    }


def check_method(method: str, samples: int | None) -> int:
    """The sample count to use; an :class:`AnalysisError` for a bad method or count."""
    if method not in METHODS:
        raise AnalysisError(f"--method: expected one of {', '.join(METHODS)}, found '{method}'")
    samples = DEFAULT_SAMPLES[method] if samples is None else samples
    if samples > MAX_GRID_POINTS:
        raise AnalysisError(f"--samples: expected at most {MAX_GRID_POINTS:,}, found {samples:,}")
    if method == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise AnalysisError(f"--samples: sobol needs a power of two >= 2 (e.g. 64), found {samples}")
    if method == "morris" and samples < 2:
        raise AnalysisError(f"--samples: morris needs at least 2 trajectories, found {samples}")
    return samples


def design(space: Space, method: str, samples: int, seed: int) -> np.ndarray:
    """The points (rows, in the parameters' units) the method evaluates."""
    from SALib.sample import morris, sobol  # SALib imports pandas: only when an analysis runs

    problem = _problem(space)
    if method == "sobol":
        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    return morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)


def indices(
    space: Space, method: str, points: np.ndarray, values: np.ndarray, outputs: list[str], seed: int
) -> pl.DataFrame:
    """Sensitivity indices of each output column of ``values`` at ``points`` (from :func:`design`)."""
    from SALib.analyze import morris, sobol

    problem = _problem(space)
    rows = []
    for column, output in enumerate(outputs):
        y = np.ascontiguousarray(values[:, column], dtype=float)
        constant = np.ptp(y) == 0.0  # no parameter moves it: every index is exactly zero
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if method == "sobol":
                found = {} if constant else sobol.analyze(
                    problem, y, calc_second_order=False, num_resamples=BOOTSTRAP_RESAMPLES, seed=seed
                )
                named = {"S1": "S1_conf", "ST": "ST_conf"}
            else:
                found = {} if constant else morris.analyze(
                    problem, points, y, num_resamples=BOOTSTRAP_RESAMPLES, num_levels=MORRIS_LEVELS,
                    seed=seed,
                )
                named = {"mu_star": "mu_star_conf", "sigma": None}
        zeros = np.zeros(space.dimensions)
        for index, conf in named.items():
            value = zeros if constant else np.asarray(found[index], dtype=float)
            half = None if conf is None else zeros if constant else np.asarray(found[conf], dtype=float)
            for i, parameter in enumerate(space.names):
                rows.append(
                    {
                        "method": method,
                        "output": output,
                        "parameter": parameter,
                        "index": index,
                        "value": float(value[i]),
                        "ci_low": None if half is None else float(value[i] - half[i]),
                        "ci_high": None if half is None else float(value[i] + half[i]),
                        "evaluations": len(y),
                    }
                )
    return pl.DataFrame(rows, schema=SENSITIVITY_SCHEMA)


def sensitivity(
    scenario: Scenario,
    method: str,
    outputs: tuple[Output, ...],
    executor: Executor,
    samples: int | None = None,
    replications: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Evaluate the scenario at the method's design points and return its indices."""
    samples = check_method(method, samples)
    space = space_of(scenario)
    points = design(space, method, samples, scenario.seed)
    values = evaluate(scenario, space, points, outputs, executor, replications, on_progress)
    frame = indices(space, method, points, values, [o.label for o in outputs], scenario.seed)
    return frame.with_columns(pl.lit(len(points) * replications, dtype=pl.Int64).alias("evaluations"))


__all__ = [
    "DEFAULT_SAMPLES", "METHODS", "SENSITIVITY_SCHEMA", "check_method", "design", "indices", "sensitivity",
]
