"""One batch of a sweep: every strategy of one (grid point, replication), run in a worker.

This module is what worker processes import, so it imports only what a run needs (the model,
NumPy, polars): every worker pays for its imports once at start-up.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sim.errors import debugging
from sim.market import Market
from sim.outcomes import EXIT_REASONS, SCALAR_OUTCOMES, plane_frame
from sim.plugins import PluginRunError
from sim.runs import run_strategies
from sim.seeds import Entropy, GridPoint, point_id
from sim.strategy import Strategy

RUN_OUTCOMES: tuple[str, ...] = (*SCALAR_OUTCOMES, "final_active_total")
# Fixed types of the result columns of runs.parquet: without them a column that happens to be
# all null (no failures, every median lifetime censored) is stored as type Null, and a sweep
# whose runs all failed has no outcome columns at all.
RUN_DTYPES: dict[str, type[pl.DataType]] = {
    "error": pl.String,
    **{k: pl.Float64 for k in RUN_OUTCOMES},
    "half_life_months": pl.Int64,
    "final_active_total": pl.Int64,
    **{f"churned_{r}": pl.Int64 for r in EXIT_REASONS},
    "cost_by_program": pl.String,
}


@dataclass(frozen=True)
class Batch:
    """Everything a worker needs to run one (grid point, replication) for every strategy."""

    point: GridPoint
    replication: int
    seed: Entropy  # sim.seeds.replication_seed
    market: Market
    strategies: tuple[Strategy, ...]
    customers: int
    months: int
    record_customers: bool = False

    @property
    def batch_id(self) -> str:
        return hashlib.sha256(f"{point_id(self.point)}\x00{self.replication}".encode()).hexdigest()[:20]


@dataclass
class BatchResult:
    batch_id: str
    runs: list[dict[str, Any]]
    monthly: pl.DataFrame | None
    customers: pl.DataFrame | None
    horizon_plane: pl.DataFrame | None = None


def run_batch(batch: Batch) -> BatchResult:
    """Worker entry point (module level, so process pools can spawn it on every platform)."""
    keys = {"point": point_id(batch.point), "replication": batch.replication}
    grid_values = dict(batch.point)
    runs, monthly, customers, planes = [], [], [], []
    done = run_strategies(
        batch.strategies,
        batch.market,
        batch.customers,
        batch.months,
        seeds=[batch.seed],
        record_customers=batch.record_customers,
        keep_going=True,
    )
    for strategy, run in zip(batch.strategies, done, strict=True):
        row: dict[str, Any] = {
            "run_id": f"{strategy.name}|{keys['point']}|{batch.replication}",
            "strategy": strategy.name,
            **keys,
            **grid_values,
            "seed": json.dumps(list(batch.seed)),
        }
        result = run.result
        if result is None:  # a failing run is recorded and the sweep goes on
            if debugging():  # LOYALTY_SIM_DEBUG=1: its traceback too, on the worker's stderr
                traceback.print_exception(run.error)
            runs.append({**row, "status": "failed", "error": _one_line(run.error)})
            continue
        summary = result.summary()
        runs.append(
            {
                **row,
                "status": "done",
                "error": None,
                **{k: summary[k] for k in RUN_OUTCOMES},
                **{f"churned_{r}": summary["churn_by_reason"][r] for r in EXIT_REASONS},
                "cost_by_program": json.dumps(summary["cost_by_program"], sort_keys=True),
            }
        )
        key_frame = {"strategy": strategy.name, **keys}
        key_columns = {k: pl.lit(v) for k, v in key_frame.items()}
        monthly.append(result.monthly.with_columns(**key_columns))
        planes.append(plane_frame(result.horizon_plane).with_columns(**key_columns))
        if result.customer_records is not None:
            customers.append(
                _with_table_ids(result.customer_records, batch.market).with_columns(**key_columns)
            )
    return BatchResult(
        batch.batch_id,
        runs,
        # diagonal: a program's monthly reporters are columns only in the strategies that run it
        pl.concat(monthly, how="diagonal_relaxed") if monthly else None,
        pl.concat(customers, how="diagonal_relaxed") if customers else None,  # programs add columns
        pl.concat(planes) if planes else None,
    )


def _with_table_ids(records: pl.DataFrame, market: Market | None) -> pl.DataFrame:
    """A run started from a customer table (``--population``): its customers' records gain
    ``table_customer_id``, the table's ``customer_id`` of each initial customer (the model's
    first rows, in the table's order), null for those who joined during the run; a CRM
    analyst joins on it, as on the ``customer_id`` of ``run --panel``."""
    base = market.customer_base if market is not None else None
    if base is None:
        return records
    ids = np.full(records.height, None, dtype=object)
    rows = records["customer_id"].to_numpy()
    initial = rows < len(base)
    ids[initial] = base.customer_id[rows[initial]]
    return records.with_columns(pl.Series("table_customer_id", ids, dtype=pl.Utf8))


def _one_line(error: BaseException) -> str:
    # A plugin's error is wrapped to name the plugin; the place is where the plugin raised.
    origin = error.__cause__ if isinstance(error, PluginRunError) and error.__cause__ else error
    where = traceback.extract_tb(origin.__traceback__)[-1] if origin.__traceback__ else None
    place = f" ({Path(where.filename).name}:{where.lineno})" if where else ""
    return f"{type(error).__name__}: {error}{place}"
