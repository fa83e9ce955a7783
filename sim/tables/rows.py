"""Plain-text rows of a sweep's results for the command line: every cell a string, one dict per
strategy (and grid point). ``comparison_rows`` is the sweep's comparison table (the report's
summary paragraph reads it too), ``survival_rows`` the lifetime analysis, ``economics_rows`` the
economics; ``markdown`` writes rows as a Markdown table."""

from __future__ import annotations

import json

import polars as pl

from sim.outcomes import COST_CATEGORIES


def _interval(mean: float | None, low: float | None, high: float | None, scale: float, unit: str) -> str:
    if mean is None:
        return "-"
    if low is None or high is None:
        return f"{mean * scale:.1f}{unit}"
    return f"{mean * scale:.1f}{unit} [{low * scale:.1f}, {high * scale:.1f}]"


def comparison_rows(summary: pl.DataFrame) -> list[dict[str, str]]:
    """Rows of strings: cohort loss and its paired difference to the baseline with 95% CIs."""
    has_grid = summary["point"].n_unique() > 1
    rows = []
    for r in summary.iter_rows(named=True):
        is_baseline = r["strategy"] == r["baseline"]
        row = {"strategy": r["strategy"]}
        if has_grid:
            values = json.loads(r["point"]).items()
            row["grid point"] = ", ".join(f"{path.rsplit('.', 1)[-1]}={v:g}" for path, v in values)
        row.update(
            {
                "runs": str(r["replications"]),
                "cohort loss [95% CI]": _interval(
                    r["cohort_loss_mean"], r["cohort_loss_ci_low"], r["cohort_loss_ci_high"], 100, "%"
                ),
                f"vs {r['baseline']} (pp)": "baseline"
                if is_baseline
                else _interval(
                    r["cohort_loss_diff_mean"],
                    r["cohort_loss_diff_ci_low"],
                    r["cohort_loss_diff_ci_high"],
                    100,
                    "",
                ),
                "annual churn": _interval(r["annual_churn_mean"], None, None, 100, "%"),
                "program cost (kEUR)": _interval(r["program_cost_mean"], None, None, 1e-3, ""),
                "margin (kEUR) [95% CI]": _interval(
                    r["margin_mean"], r["margin_ci_low"], r["margin_ci_high"], 1e-3, ""
                ),
                "cost / retained (EUR)": _interval(r["cost_per_retained_customer_mean"], None, None, 1, ""),
            }
        )
        if "clv_mean" in r:  # results written before the economics columns have neither
            row["CLV (EUR)"] = _interval(r["clv_mean"], None, None, 1, "")
            row["return on spend [95% CI]"] = (
                "baseline"
                if is_baseline
                else _interval(
                    r.get("return_on_spend_mean"),
                    r.get("return_on_spend_ci_low"),
                    r.get("return_on_spend_ci_high"),
                    100,
                    "%",
                )
            )
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, str]]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row[h] for h in header) + " |" for row in rows]
    return "\n".join(lines) + "\n"


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
    """Rows of strings of a sweep summary's economics: lifetime value with its interval, the cost
    split, fees and liability (kEUR), return on spend."""
    has_grid = summary["point"].n_unique() > 1
    rows = []
    for r in summary.iter_rows(named=True):
        row = {"strategy": r["strategy"]}
        if has_grid:
            row["grid point"] = r["point"]
        row["CLV (EUR) [95% CI]"] = f"{r['clv_mean']:.1f} [{r['clv_ci_low']:.1f}, {r['clv_ci_high']:.1f}]"
        row.update({c: f"{r[f'cost_{c}_mean'] / 1e3:.1f}" for c in COST_CATEGORIES})
        row["exit fees"] = f"{r['exit_fees_mean'] / 1e3:.1f}"
        row["points liability"] = f"{r['points_liability_mean'] / 1e3:.1f}"
        ros = r.get("return_on_spend_mean")
        row["return on spend [95% CI]"] = (
            "baseline" if r["strategy"] == r["baseline"]
            else "-" if ros is None
            else f"{ros:.0%} [{r['return_on_spend_ci_low']:.0%}, {r['return_on_spend_ci_high']:.0%}]"
        )
        rows.append(row)
    return rows
