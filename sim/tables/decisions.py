"""Tables of the decision analyses: the optimiser's finalists and the robustness of strategies.

Both read the JSON summaries the analyses write (``optimisation.json``, ``robustness.json``), so
the command line and the report show the same rows.
"""

from __future__ import annotations

from typing import Any

from sim.analysis.decisions import OBJECTIVES


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "EUR" and abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def _ci(row: dict[str, Any], prefix: str, unit: str) -> str:
    return (
        f"{_amount(row[prefix + '_mean'], unit)} "
        f"[{_amount(row[prefix + '_ci_low'], unit)}, {_amount(row[prefix + '_ci_high'], unit)}]"
    )


def finalist_rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    """One row per finalist: its settings, each objective with its 95% CI on fresh seeds, the
    paired difference to the baseline, and its cost."""
    rows = []
    winner = summary["winner"]["candidate"]
    for row in summary["finalists"]:
        shown = {"candidate": f"{row['candidate']}{' (recommended)' if row['candidate'] == winner else ''}"}
        for name in summary["settings"]["objectives"]:
            unit = OBJECTIVES[name].unit
            shown[f"{name} [95% CI]"] = _ci(row, name, unit)
            shown[f"vs {summary['baseline']}"] = _ci(row, f"{name}_diff", unit)
        shown["cost EUR [95% CI]"] = _ci(row, "cost", "EUR")
        prefix = f"strategies.{summary['strategy']}."
        shown["settings"] = ", ".join(
            f"{path.removeprefix(prefix)}={_value(v)}" for path, v in _params(row).items()
        )
        rows.append(shown)
    return rows


def _params(row: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(row["params"])


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def robustness_rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    """One row per strategy: regret (maximum, 90th percentile) and the share of markets where it
    meets the thresholds, most robust first."""
    objective = OBJECTIVES[summary["objective"]]
    rows = []
    for row in summary["strategies"]:
        rows.append(
            {
                "strategy": row["strategy"],
                f"{objective.name} mean": _amount(row["mean"], objective.unit),
                "regret p90": _amount(row["regret_p90"], objective.unit),
                "regret max": _amount(row["regret_max"], objective.unit),
                "meets thresholds": f"{row['satisficing']:.0%}",
                "best in": f"{row['best_share']:.0%}",
            }
        )
    return rows


__all__ = ["finalist_rows", "robustness_rows"]
