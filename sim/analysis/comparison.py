"""The comparison table of a sweep: one row per strategy (and grid point), display-ready."""

from __future__ import annotations

import json

import polars as pl

from sim.seeds import point_text


def _interval(mean: float | None, low: float | None, high: float | None, scale: float, unit: str) -> str:
    if mean is None:
        return "-"
    if low is None or high is None:
        return f"{mean * scale:.1f}{unit}"
    return f"{mean * scale:.1f}{unit} [{low * scale:.1f}, {high * scale:.1f}]"


def _reference_text(summary: pl.DataFrame) -> str | None:
    """What paired differences are taken against (``variant=with_wom``): the values that every
    reference point shares, which are the paired axes' reference values; None without variants."""
    if "reference_point" not in summary.columns:
        return None
    references = [json.loads(p) for p in summary["reference_point"].drop_nulls().unique(maintain_order=True)]
    if not references:
        return None
    common = {k: v for k, v in references[0].items() if all(r.get(k) == v for r in references)}
    return point_text(json.dumps(common))


def _paired_column(r: dict, reference: str | None) -> dict[str, str]:
    """The paired difference in cohort loss to the reference point (variants), if any."""
    if reference is None:
        return {}
    header = f"vs {reference} (pp)"
    if r["reference_point"] is None:
        return {header: "reference"}
    diff = (r["cohort_loss_paired_diff_mean"], r["cohort_loss_paired_diff_ci_low"],
            r["cohort_loss_paired_diff_ci_high"])
    return {header: _interval(*diff, 100, "")}


def comparison_rows(summary: pl.DataFrame) -> list[dict[str, str]]:
    """Rows of strings: cohort loss and its paired difference to the baseline with 95% CIs."""
    has_grid = summary["point"].n_unique() > 1
    reference = _reference_text(summary)
    rows = []
    for r in summary.iter_rows(named=True):
        is_baseline = r["strategy"] == r["baseline"]
        row = {"strategy": r["strategy"]}
        if has_grid:
            row["grid point"] = point_text(r["point"])
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
                **_paired_column(r, reference),
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
