"""Retention after each complaint path: what became of customers after their first service failure.

Each customer's first failure is recorded with its path (silent, unresolved, slow, fast), its
severity and its month (``first_failure_*`` in the per-customer records, ``sim.mechanisms.service``).
:func:`retention_after_failure` counts, per path, the customers whose first failure came early
enough to be followed for ``horizon_months`` and the share of them still customers that long after.
The share is descriptive: paths differ in who takes them (large failures are voiced more often),
not only in how the firm handled them.
"""

from __future__ import annotations

import math

import polars as pl

from sim.mechanisms.service import FAILURE_PATHS

RETENTION_AFTER_FAILURE_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.Utf8,
    "customers": pl.Int64,  # first failures followed for the whole horizon
    "retained": pl.Int64,  # of those, still customers horizon_months later
    "retained_share": pl.Float64,
    "ci_low": pl.Float64,  # 95% Wilson interval of the share
    "ci_high": pl.Float64,
}


def _wilson(kept: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p = kept / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def retention_after_failure(
    customers: pl.DataFrame, months: int, horizon_months: int = 12, large: bool | None = None
) -> pl.DataFrame:
    """One row per failure path: customers followed, retained ``horizon_months`` after their first
    failure, the share and its 95% interval.

    ``customers`` are per-customer records (``RunResult.customer_records``, one run or several
    stacked), ``months`` the horizon of the runs; ``large`` keeps only large (True) or small
    (False) first failures.
    """
    if horizon_months < 1 or horizon_months >= months:
        raise ValueError(f"horizon_months must be in [1, {months - 1}], got {horizon_months}")
    followed = customers.filter(
        (pl.col("first_failure_month") >= 1) & (pl.col("first_failure_month") <= months - horizon_months)
    )
    if large is not None:
        followed = followed.filter(pl.col("first_failure_large") == large)
    end = pl.col("first_failure_month") + horizon_months
    kept = (pl.col("exit_month") < 0) | (pl.col("exit_month") > end)
    counts = followed.group_by("first_failure_path").agg(pl.len().alias("n"), kept.sum().alias("kept"))
    by_path = {row["first_failure_path"]: (row["n"], row["kept"]) for row in counts.iter_rows(named=True)}
    rows = []
    for path in FAILURE_PATHS:
        n, k = by_path.get(path, (0, 0))
        low, high = _wilson(k, n)
        rows.append((path, n, k, k / n if n else math.nan, low, high))
    return pl.DataFrame(rows, schema=RETENTION_AFTER_FAILURE_SCHEMA, orient="row")
