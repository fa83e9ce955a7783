"""Replication statistics: means with 95% confidence intervals, and paired differences.

Strategies of one (grid point, replication) share their random numbers, so the difference to
the baseline is computed per replication first and its mean and interval come from those
paired differences, tighter than comparing two independent means.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from sim.analysis.economics import return_on_spend
from sim.executors import Executor
from sim.io import write_atomic
from sim.outcomes import SCALAR_OUTCOMES
from sim.scenario import Scenario
from sim.sweep import SweepReport, sweep

SUMMARY_OUTCOMES: tuple[str, ...] = SCALAR_OUTCOMES


def t_interval(
    mean: np.ndarray, std: np.ndarray, n: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Student-t confidence interval of a mean from its sample std and count (NaN if n < 2)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan)) * np.asarray(std) / np.sqrt(n)
    return np.asarray(mean) - half, np.asarray(mean) + half


def _describe(frame: pl.DataFrame, by: list[str], columns: dict[str, str]) -> pl.DataFrame:
    """Mean, CI low/high and n of each ``source`` column, named ``<target>_mean`` etc."""
    aggregated = frame.group_by(by, maintain_order=True).agg(
        *[pl.col(src).mean().alias(f"{dst}_mean") for src, dst in columns.items()],
        *[pl.col(src).std().alias(f"{dst}_std") for src, dst in columns.items()],
        *[pl.col(src).count().alias(f"{dst}_n") for src, dst in columns.items()],
    )
    out = []
    for dst in columns.values():
        low, high = t_interval(
            aggregated[f"{dst}_mean"].to_numpy(),
            aggregated[f"{dst}_std"].fill_null(np.nan).to_numpy(),
            aggregated[f"{dst}_n"].to_numpy(),
        )
        out += [
            pl.Series(f"{dst}_ci_low", low).fill_nan(None),
            pl.Series(f"{dst}_ci_high", high).fill_nan(None),
        ]
    return aggregated.with_columns(out).drop([f"{dst}_std" for dst in columns.values()])


def sweep_summary(runs: pl.DataFrame, baseline: str, strategies: list[str]) -> pl.DataFrame:
    """One row per (strategy, grid point): outcome means with CIs, and paired differences to
    ``baseline`` (``<outcome>_diff_mean``, ``_diff_ci_low``, ``_diff_ci_high``)."""
    done = runs.filter(pl.col("status") == "done")
    grid_columns = [
        c
        for c in runs.columns
        if c.startswith(("market.", "service.", "programs.")) or c in ("customers", "months")
    ]
    by = ["strategy", "point"]
    summary = _describe(done, [*by, *grid_columns], {o: o for o in SUMMARY_OUTCOMES})
    summary = summary.rename({"cohort_loss_n": "replications"}).drop(
        [f"{o}_n" for o in SUMMARY_OUTCOMES if o != "cohort_loss"]
    )
    base = done.filter(pl.col("strategy") == baseline).select(
        "point", "replication", *[pl.col(o).alias(f"{o}_base") for o in SUMMARY_OUTCOMES]
    )
    paired = done.join(base, on=["point", "replication"], how="inner").with_columns(
        *[(pl.col(o) - pl.col(f"{o}_base")).alias(f"{o}_diff") for o in SUMMARY_OUTCOMES]
    )
    differences = _describe(paired, by, {f"{o}_diff": f"{o}_diff" for o in SUMMARY_OUTCOMES}).drop(
        [f"{o}_diff_n" for o in SUMMARY_OUTCOMES]
    )
    summary = summary.join(differences, on=by, how="left")
    if "exit_fees" in done.columns:  # results of sweeps before the cost split have no economics
        summary = summary.join(return_on_spend(runs, baseline), on=by, how="left")
    order = {name: i for i, name in enumerate(strategies)}
    return summary.with_columns(pl.lit(baseline).alias("baseline")).sort(
        pl.col("strategy").replace_strict(order, default=len(order), return_dtype=pl.Int32),
        maintain_order=True,
    )


def sweep_and_summarise(scenario: Scenario, out: Path, executor: Executor, **options: Any) -> SweepReport:
    """Run a sweep (``sim.sweep.sweep``, same arguments) and write its ``summary.parquet``: one
    row per (strategy, grid point), means and paired differences (:func:`sweep_summary`)."""
    report = sweep(scenario, out, executor, **options)
    summary = sweep_summary(report.runs, scenario.baseline, list(scenario.strategies))
    write_atomic(report.out / "summary.parquet", summary.write_parquet)
    return dataclasses.replace(report, summary=summary)
