"""Tables of the decision analyses: the optimiser's finalists and the robustness of strategies.

Both read the JSON summaries the analyses write (``optimisation.json``, ``robustness.json``), so
the command line and the report show the same rows.
"""

from __future__ import annotations

import re
from typing import Any

from sim.analysis.decisions import OBJECTIVES
from sim.i18n import label, number, range_words, short_number


def _amount(value: float | None, unit: str, lang: str = "en", scale: float | None = None) -> str:
    """A value for a table: EUR in thousands ("14k") from 10,000 on, one decimal below 1,000,
    both by ``scale`` (the largest of the figures shown together; default the value)."""
    if value is None:
        return "n/a"
    scale = abs(value if scale is None else scale)
    if unit == "EUR" and scale >= 10_000:
        return f"{number(value / 1000, lang)}k"
    return number(value, lang, 1 if scale < 1000 else 0)


def _ci(row: dict[str, Any], prefix: str, unit: str, lang: str = "en") -> str:
    """Mean [low, high], the three in one format (not "14k [8,030, 20k]")."""
    values = [row[f"{prefix}_{end}"] for end in ("mean", "ci_low", "ci_high")]
    scale = max((abs(v) for v in values if v is not None), default=0.0)
    mean, low, high = (_amount(v, unit, lang, scale) for v in values)
    return f"{mean} [{low}, {high}]"


def finalist_rows(summary: dict[str, Any], names: dict[str, str] | None = None) -> list[dict[str, str]]:
    """One row per finalist: its display name (the report's: "Mix A"), each objective with its
    95% CI on fresh seeds, the paired difference to the baseline (by its display name in
    ``names``), and its cost; ``settings`` (not a column) holds its settings in words."""
    names = names or {}
    rows = []
    winner = summary["winner"]["candidate"]
    baseline = names.get(summary["baseline"], summary["baseline"])
    for row in summary["finalists"]:
        shown_name = (row.get("label") or {}).get("en") or str(row["candidate"])
        recommended = " (recommended)" if row["candidate"] == winner else ""
        shown = {"candidate": f"{shown_name}{recommended}"}
        for name in summary["settings"]["objectives"]:
            unit = OBJECTIVES[name].unit
            shown[f"{name} [95% CI]"] = _ci(row, name, unit)
            versus = f"vs {baseline}" if len(summary["settings"]["objectives"]) == 1 else f"{name} vs base"
            shown[versus] = _ci(row, f"{name}_diff", unit)
        if "cost" not in summary["settings"]["objectives"]:
            shown["cost EUR [95% CI]"] = _ci(row, "cost", "EUR")
        shown["settings"] = (row.get("description") or {}).get("en") or settings_text(
            summary, _params(row), "="
        )
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


def robustness_rows(summary: dict[str, Any], names: dict[str, str] | None = None) -> list[dict[str, str]]:
    """One row per strategy (by its display name in ``names``): regret (maximum, 90th
    percentile) and the share of markets where it meets the thresholds, most robust first."""
    names = names or {}
    objective = OBJECTIVES[summary["objective"]]
    rows = []
    for row in summary["strategies"]:
        rows.append(
            {
                "strategy": names.get(row["strategy"], row["strategy"]),
                f"{objective.name} mean": _amount(row["mean"], objective.unit),
                "regret p90": _amount(row["regret_p90"], objective.unit),
                "regret max": _amount(row["regret_max"], objective.unit),
                "meets thresholds": f"{row['satisficing']:.0%}",
                "best in": f"{row['best_share']:.0%}",
            }
        )
    return rows


def where_it_fails(row: dict[str, Any], lang: str = "en") -> str | None:
    """Where a strategy of ``robustness.json`` falls short, in a sentence of ``lang`` (the
    parameters in words), or None where it never does."""
    if row.get("fails_box"):
        rules = [range_words(path, low, high, lang) for path, low, high in row["fails_box"]]
    else:  # a summary written before the words: the rules with the parameters' paths
        rules = row["fails_where"]
    if rules:
        return label(lang, "decision_fails_where", where=label(lang, "decision_and").join(rules))
    if not row["failing"]:
        return None
    everywhere = row["satisficing"] <= 0.0
    return label(lang, "decision_fails_everywhere" if everywhere else "decision_fails_anywhere")


def _unit(objective: str, lang: str) -> str:
    unit = OBJECTIVES[objective].unit
    return label(lang, "unit_customers") if unit == "customers" else unit


def recommendation(
    optimisation: dict[str, Any] | None,
    robustness: dict[str, Any] | None,
    lang: str = "en",
    names: dict[str, str] | None = None,
) -> list[str]:
    """ "What should we do", in plain sentences computed from the numbers, in ``lang``: the
    recommended strategy by its display name with its settings in words, its 95% CI on fresh
    seeds against the baseline, its cost against the budget, how it was found, how robust it is
    and where it fails. ``names``: display names of strategies by code name (the report's)."""
    names = names or {}
    sentences: list[str] = []
    code = None
    if optimisation:
        winner, settings = optimisation["winner"], optimisation["settings"]
        code = winner["name"]
        what = (winner.get("description") or {}).get(lang) or settings_text(
            optimisation, winner["params"], " = "
        )
        shown = (winner.get("label") or {}).get(lang) or names.get(code, code)
        sentences.append(label(lang, "decision_recommended", name=shown, what=what))
        baseline = names.get(optimisation["baseline"], optimisation["baseline"])
        for objective in settings["objectives"]:
            unit = _unit(objective, lang)
            sentences.append(
                label(
                    lang,
                    "decision_objective",
                    meaning=label(lang, f"meaning_{objective}"),
                    value=_ci(winner, objective, OBJECTIVES[objective].unit, lang),
                    diff=_ci(winner, objective + "_diff", OBJECTIVES[objective].unit, lang),
                    unit=unit,
                    baseline=baseline,
                )
            )
        budget = settings["budget"]
        within = ""
        if budget is not None:
            key = (
                "decision_within"
                if winner["cost_ci_high"] <= budget
                else "decision_may_overrun"
                if winner["cost_mean"] <= budget
                else "decision_over"
            )
            within = label(lang, key, budget=_amount(budget, "EUR", lang))
        sentences.append(
            label(
                lang,
                "decision_cost",
                cost=_ci(winner, "cost", "EUR", lang),
                months=optimisation["months"],
                within=within,
            )
        )
        sentences.append(
            label(
                lang,
                "decision_search",
                candidates=optimisation["candidates"],
                feasible=optimisation["feasible"],
                replications=settings["replications"],
                fresh=settings["final_replications"],
            )
        )
    if robustness:
        sentences += _robust_sentences(robustness, code, lang, names)
    return sentences


def _robust_sentences(
    robustness: dict[str, Any], code: str | None, lang: str, names: dict[str, str]
) -> list[str]:
    rows = {r["strategy"]: r for r in robustness["strategies"]}
    row = (rows.get(code) if code else None) or robustness["strategies"][0]
    markets = robustness["markets"]
    objective = robustness["objective"]
    unit = _unit(objective, lang)
    shown = names.get(row["strategy"], row["strategy"])
    targets = ", ".join(
        label(
            lang,
            "decision_at_most" if k == "cost" else "decision_at_least",
            objective=label(lang, f"objective_{k}"),
            value=short_number(v, lang),
            unit=_unit(k, lang),
        )
        for k, v in robustness["thresholds"].items()
    )
    sentences = []
    if targets:
        met = round(row["satisficing"] * markets)
        sentences.append(label(lang, "decision_meets", markets=markets, name=shown, targets=targets, met=met))
    else:
        count = round(row["best_share"] * markets)
        sentences.append(label(lang, "decision_best_in", markets=markets, name=shown, count=count))
    if row["regret_max"] <= 0.0:
        sentences.append(label(lang, "decision_no_regret"))
    else:
        sentences.append(
            label(
                lang,
                "decision_regret",
                objective=label(lang, f"objective_{objective}"),
                most=_amount(row["regret_max"], OBJECTIVES[objective].unit, lang),
                p90=_amount(row["regret_p90"], OBJECTIVES[objective].unit, lang),
                unit=unit,
            )
        )
    where = where_it_fails(row, lang)
    if where:
        sentences.append(where)
    return sentences


__all__ = ["finalist_rows", "recommendation", "robustness_rows", "settings_text", "where_it_fails"]
