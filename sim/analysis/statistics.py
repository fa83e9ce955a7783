"""Replication statistics: means with 95% confidence intervals, and paired differences.

Strategies of one (grid point, replication) share their random numbers, so the difference to
the baseline is computed per replication first and its mean and interval come from those
paired differences, tighter than comparing two independent means.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sim.analysis.economics import return_on_spend
from sim.executors import Executor
from sim.io import write_atomic
from sim.outcomes import SCALAR_OUTCOME_RANGES, SCALAR_OUTCOMES
from sim.scenario import Scenario
from sim.seeds import swept_paths
from sim.sweep import SweepReport, sweep

SUMMARY_OUTCOMES: tuple[str, ...] = SCALAR_OUTCOMES


UNBOUNDED = (-np.inf, np.inf)


def t_interval(
    mean: np.ndarray,
    std: np.ndarray,
    n: np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float] = UNBOUNDED,
) -> tuple[np.ndarray, np.ndarray]:
    """Student-t confidence interval of a mean from its sample std and count (NaN if n < 2),
    cut to ``bounds``, the range the quantity can take: cutting keeps the coverage, since the
    true mean lies in that range too."""
    # The t quantile from scipy.special (what scipy.stats.t.ppf calls): importing scipy.stats
    # takes most of a second, which a one-run `loyalty-sim run` would pay for a table.
    from scipy import special

    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = special.stdtrit(np.where(n > 1, n - 1, np.nan), 0.5 + level / 2) * np.asarray(std) / np.sqrt(n)
    return np.clip(np.asarray(mean) - half, *bounds), np.clip(np.asarray(mean) + half, *bounds)


def difference_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    """The range of a difference of two quantities in ``bounds`` (unbounded if either end is)."""
    low, high = bounds
    return (low - high, high - low) if np.isfinite(low) and np.isfinite(high) else UNBOUNDED


def _describe(
    frame: pl.DataFrame, by: list[str], columns: dict[str, str], bounds: Mapping[str, tuple[float, float]]
) -> pl.DataFrame:
    """Mean, CI low/high and n of each ``source`` column, named ``<target>_mean`` etc.; the
    interval of a ``source`` in ``bounds`` is cut to its range."""
    aggregated = frame.group_by(by, maintain_order=True).agg(
        *[pl.col(src).mean().alias(f"{dst}_mean") for src, dst in columns.items()],
        *[pl.col(src).std().alias(f"{dst}_std") for src, dst in columns.items()],
        *[pl.col(src).count().alias(f"{dst}_n") for src, dst in columns.items()],
    )
    out = []
    for src, dst in columns.items():
        low, high = t_interval(
            aggregated[f"{dst}_mean"].to_numpy(),
            aggregated[f"{dst}_std"].fill_null(np.nan).to_numpy(),
            aggregated[f"{dst}_n"].to_numpy(),
            bounds=bounds.get(src, UNBOUNDED),
        )
        out += [
            pl.Series(f"{dst}_ci_low", low).fill_nan(None),
            pl.Series(f"{dst}_ci_high", high).fill_nan(None),
        ]
    return aggregated.with_columns(out).drop([f"{dst}_std" for dst in columns.values()])


# The ranges of the differences each summary describes, by the suffix of their columns.
_DIFFERENCE_BOUNDS = {
    suffix: {f"{o}{suffix}": difference_bounds(r) for o, r in SCALAR_OUTCOME_RANGES.items()}
    for suffix in ("_diff", "_paired_diff")
}


def reference_point(point: str, paired: Mapping[str, object]) -> str:
    """The point id of ``point`` (JSON) with every paired axis at its reference value."""
    values = json.loads(point)
    return json.dumps({**values, **{p: v for p, v in paired.items() if p in values}}, sort_keys=True)


def _paired_differences(done: pl.DataFrame, paired: Mapping[str, object], by: list[str]) -> pl.DataFrame:
    points = done["point"].unique().to_list()
    references = {p: reference_point(p, paired) for p in points}
    keyed = done.with_columns(
        pl.col("point").replace_strict(references, return_dtype=pl.String).alias("reference_point")
    )
    base = keyed.filter(pl.col("point") == pl.col("reference_point")).select(
        "strategy", "replication", pl.col("point").alias("reference_point"),
        *[pl.col(o).alias(f"{o}_ref") for o in SUMMARY_OUTCOMES],
    )
    differences = (
        keyed.filter(pl.col("point") != pl.col("reference_point"))
        .join(base, on=["strategy", "reference_point", "replication"], how="inner")
        .with_columns(*[(pl.col(o) - pl.col(f"{o}_ref")).alias(f"{o}_paired_diff") for o in SUMMARY_OUTCOMES])
    )
    columns = {f"{o}_paired_diff": f"{o}_paired_diff" for o in SUMMARY_OUTCOMES}
    described = _describe(differences, [*by, "reference_point"], columns, _DIFFERENCE_BOUNDS["_paired_diff"])
    return described.drop([f"{o}_paired_diff_n" for o in SUMMARY_OUTCOMES])


def sweep_summary(
    runs: pl.DataFrame,
    baseline: str,
    strategies: list[str],
    paired_axes: Mapping[str, object] | None = None,
) -> pl.DataFrame:
    """One row per (strategy, grid point): outcome means with CIs, and paired differences to
    ``baseline`` (``<outcome>_diff_mean``, ``_diff_ci_low``, ``_diff_ci_high``).

    With ``paired_axes`` (path -> reference value; a scenario's variants), also the paired
    difference of each point to its *reference point* (the same point with every paired axis
    at its reference value), same strategy and replication: ``<outcome>_paired_diff_mean``,
    ``_ci_low``, ``_ci_high`` and ``reference_point`` (null on the reference points themselves).
    """
    done = runs.filter(pl.col("status") == "done")
    grid_columns = [c for c in swept_paths(runs["point"]) if c in runs.columns]
    by = ["strategy", "point"]
    summary = _describe(done, [*by, *grid_columns], {o: o for o in SUMMARY_OUTCOMES}, SCALAR_OUTCOME_RANGES)
    summary = summary.rename({"cohort_loss_n": "replications"}).drop(
        [f"{o}_n" for o in SUMMARY_OUTCOMES if o != "cohort_loss"]
    )
    base = done.filter(pl.col("strategy") == baseline).select(
        "point", "replication", *[pl.col(o).alias(f"{o}_base") for o in SUMMARY_OUTCOMES]
    )
    paired = done.join(base, on=["point", "replication"], how="inner").with_columns(
        *[(pl.col(o) - pl.col(f"{o}_base")).alias(f"{o}_diff") for o in SUMMARY_OUTCOMES]
    )
    differences = _describe(
        paired, by, {f"{o}_diff": f"{o}_diff" for o in SUMMARY_OUTCOMES}, _DIFFERENCE_BOUNDS["_diff"]
    ).drop(
        [f"{o}_diff_n" for o in SUMMARY_OUTCOMES]
    )
    summary = summary.join(differences, on=by, how="left")
    if paired_axes:
        summary = summary.join(_paired_differences(done, paired_axes, by), on=by, how="left")
    if "exit_fees" in done.columns:  # results of sweeps before the cost split have no economics
        summary = summary.join(return_on_spend(runs, baseline), on=by, how="left")
    order = {name: i for i, name in enumerate(strategies)}
    return summary.with_columns(pl.lit(baseline).alias("baseline")).sort(
        pl.col("strategy").replace_strict(order, default=len(order), return_dtype=pl.Int32),
        maintain_order=True,
    )


def sweep_and_summarise(scenario: Scenario, out: Path, executor: Executor, **options: Any) -> SweepReport:
    """Run a sweep (``sim.sweep.sweep``, same arguments) and write its ``summary.parquet``: one
    row per (strategy, grid point), means and paired differences (:func:`sweep_summary`). A
    finished sweep run again keeps the summary it has."""
    report = sweep(scenario, out, executor, **options)
    if report.summary is not None:  # a finished sweep run again: nothing is rewritten
        return report
    summary = sweep_summary(report.runs, scenario.baseline, list(scenario.strategies), scenario.paired)
    write_atomic(report.out / "summary.parquet", summary.write_parquet)
    return dataclasses.replace(report, summary=summary)
