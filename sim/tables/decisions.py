"""Tables of the decision analyses: the optimiser's finalists and the robustness of strategies.

Both read the JSON summaries the analyses write (``optimisation.json``, ``robustness.json``), so
the command line and the report show the same rows.
"""

from __future__ import annotations

import re
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
            versus = (
                f"vs {summary['baseline']}"
                if len(summary["settings"]["objectives"]) == 1
                else f"{name} vs base"
            )
            shown[versus] = _ci(row, f"{name}_diff", unit)
        if "cost" not in summary["settings"]["objectives"]:
            shown["cost EUR [95% CI]"] = _ci(row, "cost", "EUR")
        shown["settings"] = settings_text(summary, _params(row), "=")
        rows.append(shown)
    return rows


def settings_text(summary: dict[str, Any], params: dict[str, Any], equals: str) -> str:
    """A candidate's values in words: ``programs[i]`` by its program's name, a program switched off
    as "off" (its parameters left out: they do nothing), other paths as written."""
    prefix = f"strategies.{summary['strategy']}."
    programs = summary.get("programs", [])

    def named(path: str) -> str:
        path = path.removeprefix(prefix)
        found = re.match(r"programs\[(\d+)\]\.(params\.)?", path)
        if found and int(found.group(1)) < len(programs):
            return f"{programs[int(found.group(1))]}.{path[found.end() :]}"
        return path

    off = [p.removesuffix("enabled") for p, v in params.items() if p.endswith(".enabled") and v is False]
    parts = []
    for path, value in params.items():
        if any(path.startswith(o) for o in off):
            if path.endswith(".enabled"):
                parts.append(f"{named(path).removesuffix('.enabled')} off")
            continue
        if path.endswith(".enabled"):
            parts.append(f"{named(path).removesuffix('.enabled')} on")
            continue
        parts.append(f"{named(path)}{equals}{_value(value)}")
    return ", ".join(parts)


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


def recommendation(optimisation: dict[str, Any] | None, robustness: dict[str, Any] | None) -> list[str]:
    """ "What should we do", in plain sentences computed from the numbers: the recommended
    strategy with its settings, its 95% CI on fresh seeds against the baseline, its cost against
    the budget, how it was found, how robust it is and where it fails."""
    sentences: list[str] = []
    name = None
    if optimisation:
        winner, settings = optimisation["winner"], optimisation["settings"]
        name = winner["name"]
        chosen = settings_text(optimisation, winner["params"], " = ")
        sentences.append(f"Recommended: {name}, that is {optimisation['strategy']} with {chosen}.")
        for objective in settings["objectives"]:
            spec = OBJECTIVES[objective]
            unit = f" {spec.unit}"
            sentences.append(
                f"{spec.meaning[0].upper()}{spec.meaning[1:]} ({objective}): "
                f"{_ci(winner, objective, spec.unit)}{unit} (mean [95% CI]), "
                f"{_ci(winner, objective + '_diff', spec.unit)}{unit} against "
                f"{optimisation['baseline']} on the same customers."
            )
        budget = settings["budget"]
        within = ""
        if budget is not None:
            within = (
                f", within the budget of {_amount(budget, 'EUR')} EUR"
                if winner["cost_ci_high"] <= budget
                else f"; the budget is {_amount(budget, 'EUR')} EUR, inside its interval: it may overrun"
                if winner["cost_mean"] <= budget
                else f", above the budget of {_amount(budget, 'EUR')} EUR on fresh runs"
            )
        sentences.append(
            f"Its programs cost {_ci(winner, 'cost', 'EUR')} EUR over {optimisation['months']} "
            f"months{within}."
        )
        sentences.append(
            f"It was the best of {optimisation['candidates']} candidates ({optimisation['feasible']} within "
            f"budget) searched on {settings['replications']} shared seeds; the figures above come from "
            f"{settings['final_replications']} fresh runs the search never saw, so they are not flattered "
            "by the search."
        )
    if robustness:
        rows = {r["strategy"]: r for r in robustness["strategies"]}
        row = rows.get(name) if name else None
        row = row or robustness["strategies"][0]
        markets = robustness["markets"]
        unit = OBJECTIVES[robustness["objective"]].unit
        met = round(row["satisficing"] * markets)
        targets = ", ".join(
            f"{k} {'at most' if k == 'cost' else 'at least'} {v:,g} {OBJECTIVES[k].unit}"
            for k, v in robustness["thresholds"].items()
        )
        lead = f"Across {markets} markets sampled from the uncertainty ranges, {row['strategy']}"
        if targets:
            sentences.append(f"{lead} meets the targets ({targets}) in {met} of them.")
        else:
            sentences.append(f"{lead} is the best strategy in {round(row['best_share'] * markets)} of them.")
        if row["regret_max"] <= 0.0:
            sentences.append("It is the best of the strategies tested in every one of them (no regret).")
        else:
            sentences.append(
                f"Its regret (the {robustness['objective']} it gives up against the best strategy of each "
                f"market) is at most {_amount(row['regret_max'], unit)} {unit}, and "
                f"{_amount(row['regret_p90'], unit)} {unit} or less in 9 markets of 10."
            )
        if row["fails_where"]:
            sentences.append(f"It falls short mostly where {' and '.join(row['fails_where'])}.")
        elif row["failing"]:
            sentences.append("Where it falls short follows no simple rule over the ranges.")
    return sentences


__all__ = ["finalist_rows", "recommendation", "robustness_rows"]
