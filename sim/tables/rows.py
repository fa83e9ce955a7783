"""Plain-text rows of a sweep's results for the command line: every cell a string, one dict per
strategy (and grid point): ``survival_rows`` the lifetime analysis, ``economics_rows`` the
economics. The sweep's comparison table is ``sim.tables.comparison``."""

from __future__ import annotations

import polars as pl

from sim.outcomes import COST_CATEGORIES
from sim.tables.comparison import in_result_order, return_on_spend


def survival_rows(summary: pl.DataFrame) -> list[dict[str, str]]:
    """Rows of strings of ``sim.analysis.survival``'s summary: median lifetime, yearly retention
    and the sBG fit."""

    def number(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    has_grid = summary["point"].n_unique() > 1
    years = sorted(int(c.rsplit("_", 1)[1]) for c in summary.columns if c.startswith("retention_year_"))
    rows = []
    for r in summary.iter_rows(named=True):
        row = {"strategy": r["strategy"]}
        if has_grid:
            row["grid point"] = r["point"]
        median = r["median_lifetime_months"]
        row["runs"] = str(r["replications"])
        row["median lifetime (mo) [95% CI]"] = (
            f"> {r['horizon_months']}" if median is None
            else f"{median:.0f} [{number(r['median_ci_low'], 0)}, {number(r['median_ci_high'], 0)}]"
        )
        row.update({f"year {y}": _share(r[f"retention_year_{y}"]) for y in years})
        for name in ("alpha", "beta"):
            value, error = r[f"sbg_{name}"], r[f"sbg_{name}_se"]
            row[f"sBG {name}"] = "-" if value is None else f"{value:.3g} ± {number(error)}"
        row["sBG mean churn / yr"] = _share(r["sbg_mean_churn"])
        rows.append(row)
    return rows


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def economics_rows(summary: pl.DataFrame) -> list[dict[str, str]]:
    """Rows of strings of a sweep summary's economics in result order: lifetime value with its
    interval, the cost split, fees and liability (kEUR), return on spend (as everywhere, see
    ``sim.tables.comparison``)."""
    has_grid = summary["point"].n_unique() > 1
    summary = in_result_order(summary)
    bases = {r["point"]: r for r in summary.iter_rows(named=True) if r["strategy"] == r["baseline"]}
    rows = []
    for r in summary.iter_rows(named=True):
        row = {"strategy": r["strategy"]}
        if has_grid:
            row["grid point"] = r["point"]
        row["CLV (EUR) [95% CI]"] = f"{r['clv_mean']:.1f} [{r['clv_ci_low']:.1f}, {r['clv_ci_high']:.1f}]"
        row.update({c: f"{r[f'cost_{c}_mean'] / 1e3:.1f}" for c in COST_CATEGORIES})
        row["exit fees"] = f"{r['exit_fees_mean'] / 1e3:.1f}"
        row["points liability"] = f"{r['points_liability_mean'] / 1e3:.1f}"
        row["return on spend [95% CI]"] = return_on_spend(r, bases.get(r["point"]))[0]
        rows.append(row)
    return rows
