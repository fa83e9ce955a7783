"""Aggregations the charts share: replication means with 95% confidence intervals."""

from __future__ import annotations

import polars as pl

from sim.analysis.statistics import UNBOUNDED, t_interval

SHARE = (0.0, 1.0)


def mean_ci(
    frame: pl.DataFrame, by: list[str], value: str, bounds: tuple[float, float] = UNBOUNDED
) -> pl.DataFrame:
    """``by`` columns plus ``mean``, ``ci_low``, ``ci_high`` (95% t interval of ``value`` over the
    rows of each group, usually replications, cut to ``bounds``, the range ``value`` can take)
    and ``n``. With one replication the interval collapses to the mean, so bands and error bars
    draw as lines instead of vanishing."""
    grouped = frame.group_by(by, maintain_order=True).agg(
        pl.col(value).mean().alias("mean"), pl.col(value).std().alias("std"), pl.len().alias("n")
    )
    low, high = t_interval(
        grouped["mean"].to_numpy(), grouped["std"].fill_null(0.0).to_numpy(), grouped["n"], bounds=bounds
    )
    return (
        grouped.drop("std")
        .with_columns(pl.Series("ci_low", low).fill_nan(None), pl.Series("ci_high", high).fill_nan(None))
        .with_columns(pl.col("ci_low", "ci_high").fill_null(pl.col("mean")))
    )


def best(frame: pl.DataFrame, column: str, lowest: bool = False) -> dict:
    """The row with the highest (or lowest) ``column``."""
    return frame.sort(column, descending=not lowest).row(0, named=True)
