"""``loyalty-sim table``: the comparison of stored runs with another baseline, some strategies or
one grid point, read from a result folder that is never written to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from sim.errors import UserError
from sim.results import read_frame


class SelectError(UserError):
    """An unknown strategy, baseline or grid point; exit code 2."""


def strategy_names(summary: pl.DataFrame, manifest: dict[str, Any]) -> dict[str, str]:
    """The names the comparison shows for the strategies of a stored sweep: their own labels in
    the scenario its manifest records (``sim.i18n.labelled_names``), read from its text without
    checking the scenario again (``table`` stays quick)."""
    import tomllib

    from sim.i18n import labelled_names
    from sim.scenario import strategy_display

    display = strategy_display(tomllib.loads(manifest["scenario"]["text"]).get("strategies"))
    return labelled_names(summary["strategy"].unique(maintain_order=True), display, "en")


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _unknown(option: str, kind: str, name: str, valid: list[str]) -> SelectError:
    from sim.registry import UnknownNameError

    return SelectError(f"{option}: {UnknownNameError(kind, name, valid)}")


def _match_point(point: str, wanted: dict[str, str]) -> bool:
    values = json.loads(point)
    for key, text in wanted.items():
        found = [v for path, v in values.items() if path == key or path.rsplit(".", 1)[-1] == key]
        try:
            if not found or not any(abs(float(v) - float(text)) < 1e-12 for v in found):
                return False
        except ValueError:
            return False
    return True


def compare(
    results_dir: Path, baseline: str | None = None, strategies: str | None = None, point: str | None = None
) -> pl.DataFrame:
    """The summary rows to show: re-paired against ``baseline`` when it is not the sweep's own
    (from ``runs.parquet``), narrowed to ``strategies`` (the baseline stays, as the reference)
    and to the grid points matching ``point`` (``name=value,...``)."""
    summary = read_frame(results_dir / "summary.parquet")
    order = summary["strategy"].unique(maintain_order=True).to_list()
    if baseline and baseline not in order:
        raise _unknown("--baseline", "strategy", baseline, order)
    if baseline and baseline != summary["baseline"][0]:
        from sim.analysis.statistics import sweep_summary

        summary = sweep_summary(read_frame(results_dir / "runs.parquet"), baseline, order)
    picked = _names(strategies)
    for name in picked:
        if name not in order:
            raise _unknown("--strategies", "strategy", name, order)
    if picked:
        summary = summary.filter(pl.col("strategy").is_in([*picked, summary["baseline"][0]]))
    if point:
        wanted = {}
        for part in _names(point):
            key, _, value = part.partition("=")
            if not key or not value:
                raise SelectError(f"--point: expected NAME=VALUE[,NAME=VALUE], found '{part}'")
            wanted[key.strip()] = value.strip()
        points = summary["point"].unique(maintain_order=True).to_list()
        keep = [p for p in points if _match_point(p, wanted)]
        if not keep:
            from sim.tables.comparison import point_text

            shown = "; ".join(point_text(p) or "(no grid)" for p in points)
            raise SelectError(f"--point: no grid point matches '{point}'; the sweep has: {shown}")
        summary = summary.filter(pl.col("point").is_in(keep))
    return summary


def write_xlsx(summary: pl.DataFrame, out: Path, manifest: dict[str, Any]) -> None:
    """The comparison as an Excel workbook: the numbers (sheet ``comparison``) and the rows as
    the terminal shows them (sheet ``display``), through polars' writer (needs ``xlsxwriter``:
    ``pip install 'loyalty-sim[xlsx]'``)."""
    import importlib.util

    from sim.io import write_atomic
    from sim.tables.comparison import records, rows

    if importlib.util.find_spec("xlsxwriter") is None:
        raise SelectError("--format xlsx needs the xlsxwriter package: pip install 'loyalty-sim[xlsx]'")
    import xlsxwriter

    def write(tmp: Path) -> None:
        with xlsxwriter.Workbook(tmp) as workbook:
            records(summary).write_excel(workbook, worksheet="comparison", autofit=True)
            shown = rows(summary, wide=True, names=strategy_names(summary, manifest))
            pl.DataFrame(shown).write_excel(workbook, worksheet="display", autofit=True)
            scenario = manifest["scenario"]
            workbook.set_properties({"title": scenario["name"], "comments": f"sha256 {scenario['sha256']}"})

    write_atomic(out, write)
