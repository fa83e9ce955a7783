"""The comparison table of a sweep: one row per strategy (and grid point), display-ready."""

from __future__ import annotations

import json

import polars as pl


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
