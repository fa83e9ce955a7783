"""Load a sweep's results as polars frames, for notebooks and reports.

A result folder is input like any other: a missing, damaged or foreign file raises a
:class:`ResultsError` (a :class:`~sim.errors.UserError`) naming the file, never a polars or JSON
traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from sim.errors import UserError
from sim.io import PathError, read_input

MAX_MANIFEST_BYTES = 500_000_000  # a manifest lists every run: 200,000 runs take about 40 MB


class ResultsError(UserError):
    """A result folder that cannot be read: the message names the file and what is wrong."""


class NoResults(ResultsError, FileNotFoundError):
    """A folder without (finished) sweep results."""


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
    manifest = finished_manifest(path)
    customers = path / "customers.parquet"
    plane = path / "horizon_plane.parquet"
    return Results(
        path=path,
        runs=read_frame(path / "runs.parquet"),
        monthly=read_frame(path / "monthly.parquet"),
        summary=read_frame(path / "summary.parquet"),
        manifest=manifest,
        customers=read_frame(customers) if customers.exists() else None,
        horizon_plane=read_frame(plane) if plane.exists() else None,
    )


def finished_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the finished sweep in folder ``path``; :class:`NoResults` if there is
    none, :class:`ResultsError` if its manifest is damaged."""
    manifest_file = path / "manifest.json"
    if not manifest_file.exists():
        raise NoResults(f"{path} holds no sweep results (no manifest.json)")
    manifest = _manifest(manifest_file)
    if not (path / "summary.parquet").exists():
        status = manifest.get("status")
        why = "its tables are missing" if status == "complete" else f"the sweep is {status}"
        raise NoResults(
            f"{path}: no summary.parquet ({why}); run the sweep again with --resume: it keeps the "
            "finished runs and writes the tables"
        )
    return manifest


def _manifest(file: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(read_input(file, "sweep manifest", MAX_MANIFEST_BYTES).decode("utf-8"))
    except PathError as error:
        raise ResultsError(str(error)) from None
    except ValueError as error:  # JSON or UTF-8
        raise ResultsError(f"{file}: expected the JSON manifest of a sweep, found {error}") from None
    if not isinstance(manifest, dict):
        raise ResultsError(f"{file}: expected a JSON object, found {type(manifest).__name__}")
    return manifest


def read_frame(file: Path, remedy: str = "run the sweep again with --resume to rewrite it") -> pl.DataFrame:
    """A Parquet table of a result folder; :class:`ResultsError` naming the file and ``remedy``
    if it is missing or damaged."""
    if not file.is_file():
        found = "nothing" if not file.exists() else "something that is not a file"
        raise NoResults(f"{file}: expected a Parquet file of the sweep, found {found}; use sweep --resume")
    try:
        return pl.read_parquet(file)
    except (pl.exceptions.PolarsError, OSError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ResultsError(
            f"{file}: expected a Parquet file written by loyalty-sim, found damaged data ({first}); {remedy}"
        ) from None
