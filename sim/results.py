"""Load a sweep's results as polars frames, for notebooks and reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Results:
    """The files of one result directory (see ``sim.sweep`` for their schemas)."""

    path: Path
    runs: pl.DataFrame
    monthly: pl.DataFrame
    summary: pl.DataFrame
    manifest: dict[str, Any]
    customers: pl.DataFrame | None = None
    horizon_plane: pl.DataFrame | None = None  # absent in results written before it existed


def load(path: str | Path) -> Results:
    """Read ``runs``, ``monthly``, ``summary`` (``customers`` and ``horizon_plane`` if present) and the
    manifest."""
    path = Path(path)
    manifest_file = path / "manifest.json"
    if not manifest_file.exists():
        raise FileNotFoundError(f"{path} holds no sweep results (no manifest.json)")
    manifest = json.loads(manifest_file.read_text())
    if not (path / "summary.parquet").exists():
        raise FileNotFoundError(
            f"{path}: sweep status is '{manifest.get('status')}'; complete it with --resume"
        )
    customers = path / "customers.parquet"
    plane = path / "horizon_plane.parquet"
    return Results(
        path=path,
        runs=pl.read_parquet(path / "runs.parquet"),
        monthly=pl.read_parquet(path / "monthly.parquet"),
        summary=pl.read_parquet(path / "summary.parquet"),
        manifest=manifest,
        customers=pl.read_parquet(customers) if customers.exists() else None,
        horizon_plane=pl.read_parquet(plane) if plane.exists() else None,
    )
