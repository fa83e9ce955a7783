"""Customer lifetime as a report table: median lifetime with its 95% CI, retention after the
first and the last year, and the sBG fit, per strategy (``sim.analysis.survival``).

Chart 1 shows the survival curves; this table adds what the curves do not show as numbers: the
median's interval and the sBG parameters that extrapolate retention beyond the horizon.
"""

from __future__ import annotations

import polars as pl

from sim.analysis import survival
from sim.i18n import label, number, percent
from sim.tables import Cell, Html, table


def _plus_minus(value: float | None, error: float | None, lang: str) -> str:
    if value is None:
        return "-"
    shown = f"{value:.3g}" if lang == "en" else f"{value:.3g}".replace(".", ",")
    return shown if error is None else f"{shown} \u00b1 {number(error, lang, 2)}"


def _share(value: float | None, lang: str) -> str:
    return "-" if value is None else percent(value, lang, 1)


def lifetime_table(monthly: pl.DataFrame, lang: str, order: list[str]) -> Html | None:
    """From one grid point's rows of ``monthly.parquet``: one row per strategy, in ``order``."""
    if monthly.height == 0:
        return None
    _, summary = survival.analyse(monthly)
    summary = summary.sort(pl.col("strategy").replace_strict(
        {name: i for i, name in enumerate(order)}, default=len(order), return_dtype=pl.Int64
    ))
    years = sorted(int(c.rsplit("_", 1)[1]) for c in summary.columns if c.startswith("retention_year_"))
    shown_years = sorted({years[0], years[-1]}) if years else []
    separator = ", " if lang == "en" else "; "
    rows = []
    for r in summary.iter_rows(named=True):
        median = r["median_lifetime_months"]
        if median is None:
            lifetime = f"> {r['horizon_months']}"
        else:
            bounds = [("?" if b is None else f"{b:.0f}") for b in (r["median_ci_low"], r["median_ci_high"])]
            lifetime = f"{median:.0f} [{bounds[0]}{separator}{bounds[1]}]"
        rows.append(
            [
                Cell(r["strategy"], "key"),
                Cell(lifetime, "num"),
                *(Cell(_share(r[f"retention_year_{y}"], lang), "num") for y in shown_years),
                Cell(_plus_minus(r["sbg_alpha"], r["sbg_alpha_se"], lang), "num"),
                Cell(_plus_minus(r["sbg_beta"], r["sbg_beta_se"], lang), "num"),
                Cell(_share(r["sbg_mean_churn"], lang), "num"),
            ]
        )
    headers = [
        label(lang, "strategy"),
        label(lang, "table_lifetime_median"),
        *(label(lang, "table_retention_year", year=y) for y in shown_years),
        label(lang, "table_sbg_alpha"),
        label(lang, "table_sbg_beta"),
        label(lang, "table_sbg_churn"),
    ]
    months = int(summary["horizon_months"].max())
    return table(headers, rows, css="lifetime", note=label(lang, "lifetime_note", months=months))


__all__ = ["lifetime_table"]
