"""What the decision analyses share: objectives, scenario sections, paths into a scenario.

``loyalty-sim optimise`` (:mod:`sim.analysis.optimise`) searches a strategy's settings and
``loyalty-sim robustness`` (:mod:`sim.analysis.robustness`) tests strategies over uncertain
markets. Both read a table of the scenario file (``[optimise]``, ``[robustness]``), score runs
by the same *objectives*, and set values at dotted *paths* of the scenario.

A path names any value of the scenario file: tables by name, arrays by ``[index]``, e.g.
``strategies.mix.programs[1].params.contacts_per_year``, ``strategies.mix.programs[0].end_month``
or ``market.offers.discount``. A key a program does not know is reported by the scenario's own
checks, with a suggestion; so a key that programs gain later (targeting thresholds, say) is a
decision variable without any change here.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis.space import AnalysisError
from sim.io import write_atomic
from sim.scenario import Scenario, ScenarioError, loads


@dataclass(frozen=True)
class Objective:
    """A per-run outcome scored for a decision, and whether more of it is better."""

    name: str
    outcome: str  # the key of sim.batch.RUN_OUTCOMES it is read from
    maximise: bool
    unit: str
    meaning: str

    def value(self, run: Mapping[str, Any], customers: int) -> float:
        """The objective of one run's row (``sim.batch.run_batch``)."""
        value = run[self.outcome]
        if value is None:
            return float("nan")
        return (1.0 - float(value)) * customers if self.name == "retained" else float(value)


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective(
            "clv", "clv", True, "EUR", "discounted lifetime value per initial customer over the horizon"
        ),
        Objective("margin", "margin", True, "EUR", "margin over the horizon, program cost deducted"),
        Objective(
            "retained", "cohort_loss", True, "customers", "initial customers still active at the horizon"
        ),
        Objective("cost", "program_cost", False, "EUR", "program cost over the horizon"),
    )
}


def did_you_mean(name: str, valid: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean 'x'?"`` for the closest valid name, or nothing."""
    close = difflib.get_close_matches(str(name), list(valid), n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str, file: str) -> None:
    """An unknown key of a decision table: one line, with a suggestion."""
    for key in table:
        if key not in allowed:
            raise AnalysisError(
                f"{file}: {where}.{key}: expected a known key ({', '.join(allowed)}), "
                f"found unknown key '{key}'{did_you_mean(key, allowed)}"
            )


def section(scenario: Scenario, name: str) -> dict[str, Any]:
    """The scenario's table ``[name]``; an error naming it when it is missing or not a table."""
    table = scenario.raw.get(name)
    if not isinstance(table, dict):
        found = "nothing" if table is None else f"a {type(table).__name__}"
        raise AnalysisError(
            f"{scenario.file}: {name}: expected a table [{name}], found {found} (see docs/analysis.md)"
        )
    return table


def integer(table: Mapping[str, Any], key: str, default: int, low: int, high: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AnalysisError(
            f"{where}.{key}: expected an integer in {low}..{high:,}, found {json.dumps(value)}"
        )
    return value


def objectives_of(value: Any, where: str, most: int = 2) -> tuple[Objective, ...]:
    """``["clv"]`` or ``["clv", "cost"]``: known objectives, each once."""
    names = [value] if isinstance(value, str) else value
    if (
        not isinstance(names, list)
        or not 1 <= len(names) <= most
        or not all(isinstance(n, str) for n in names)
    ):
        raise AnalysisError(
            f"{where}: expected 1 to {most} objective names ({', '.join(OBJECTIVES)}), "
            f"found {json.dumps(value)}"
        )
    for name in names:
        if name not in OBJECTIVES:
            hint = did_you_mean(name, list(OBJECTIVES))
            raise AnalysisError(
                f"{where}: expected a known objective ({', '.join(OBJECTIVES)}), "
                f"found unknown objective '{name}'{hint}"
            )
    if len(set(names)) != len(names):
        raise AnalysisError(f"{where}: expected each objective once, found {json.dumps(names)}")
    return tuple(OBJECTIVES[n] for n in names)


# --- paths into the scenario's TOML ----------------------------------------------------------

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
ENABLED = "enabled"  # a program entry's on/off switch: the entry is left out when it is false


def tokens(path: str) -> list[str | int]:
    """``a.b[1].c`` -> ``["a", "b", 1, "c"]``; a malformed path raises ValueError."""
    out: list[str | int] = []
    position = 0
    for match in _TOKEN.finditer(path):
        gap = path[position : match.start()]
        if gap not in ("", ".") or (gap == "" and position and match.group(1)):
            raise ValueError(path)
        out.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not out or position != len(path) or not isinstance(out[0], str):
        raise ValueError(path)
    return out


def set_values(raw: dict[str, Any], values: Mapping[str, Any], file: str, where: str) -> dict[str, Any]:
    """A deep copy of ``raw`` with every ``path = value`` set; program entries switched off
    (``...programs[i].enabled = false``) are left out. Errors name ``where."path"``."""
    out = copy.deepcopy(raw)
    dropped: list[tuple[list, dict]] = []
    for path, value in values.items():
        try:
            parts = tokens(path)
        except ValueError:
            raise AnalysisError(
                f'{file}: {where}."{path}": expected a key path such as '
                f"strategies.NAME.programs[0].params.FIELD or market.SECTION.FIELD, found '{path}'"
            ) from None
        container: Any = out
        parent: Any = None
        for depth, part in enumerate(parts[:-1]):
            parent = container
            container = _step(container, part, parts[depth + 1], parts[: depth + 1], file, where, path)
        last = parts[-1]
        if last == ENABLED and isinstance(container, dict) and "program" in container:
            if not isinstance(value, bool):
                raise AnalysisError(
                    f'{file}: {where}."{path}": expected true or false, found {json.dumps(value)}'
                )
            if not value:
                dropped.append((parent, container))
            continue
        # a key of a table, or an element of an array the file has (one end of a band: [0])
        if isinstance(last, int) and isinstance(container, list) and last < len(container):
            container[last] = value
            continue
        if not isinstance(container, dict) or isinstance(last, int):
            raise AnalysisError(
                f'{file}: {where}."{path}": expected a path to a key or to an element of an array '
                f"of the file, found '{path}'"
            )
        container[last] = value
    for entries, entry in dropped:
        entries[:] = [e for e in entries if e is not entry]
    return out


def _step(
    container: Any,
    part: str | int,
    following: str | int,
    seen: list[str | int],
    file: str,
    where: str,
    path: str,
) -> Any:
    at = _render(seen)
    if part == "programs" and isinstance(container, list):  # a strategy written as its array
        return container
    if isinstance(part, int):
        if not isinstance(container, list) or part >= len(container):
            size = len(container) if isinstance(container, list) else 0
            raise AnalysisError(
                f'{file}: {where}."{path}": expected an index below {size} at {_render(seen[:-1])}, '
                f"found [{part}]"
            )
        if isinstance(container[part], str) and seen[-2:-1] == ["programs"]:
            container[part] = {"program": container[part]}  # the short form of a program entry
        return container[part]
    if not isinstance(container, dict):
        raise AnalysisError(f'{file}: {where}."{path}": expected a table at {_render(seen[:-1])}')
    if part not in container:
        if (len(seen) == 2 and seen[0] == "strategies") or seen[-1:] == ["programs"]:
            names = list(container)
            hint = did_you_mean(str(part), names)
            raise AnalysisError(
                f'{file}: {where}."{path}": expected one of {", ".join(names) or "nothing"} at '
                f"{_render(seen[:-1])}, found '{part}'{hint}"
            )
        container[part] = [] if isinstance(following, int) else {}
    if isinstance(container[part], list) and not isinstance(following, int) and following != "programs":
        raise AnalysisError(f'{file}: {where}."{path}": expected an index [N] after {at}, found .{following}')
    return container[part]


def _render(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the top level"


def relocatable(raw: dict[str, Any], file: str) -> dict[str, Any]:
    """``raw`` to be written elsewhere than ``file``: a customer table (``population``) named
    relative to the scenario file is named by its absolute path."""
    population = raw.get("population")
    table = {"file": population} if isinstance(population, str) else population
    if (
        not isinstance(table, dict)
        or not isinstance(table.get("file"), str)
        or Path(table["file"]).is_absolute()
    ):
        return raw
    path = Path(file).parent / table["file"] if Path(file).is_file() else Path(table["file"])
    return {**raw, "population": {**table, "file": str(path.resolve())}}


def scenario_with(
    scenario: Scenario, raw: dict[str, Any], where: str, drop: tuple[str, ...] = ("optimise", "robustness")
) -> Scenario:
    """A scenario built from modified TOML (``raw``), without the decision tables; a problem is
    reported naming ``where`` (the decision variable or strategy that caused it)."""
    import tomli_w

    text = tomli_w.dumps({k: v for k, v in raw.items() if k not in drop})
    try:
        return loads(text, scenario.file, default_name=scenario.name)
    except ScenarioError as error:
        problem = error.problems[0]
        raise AnalysisError(f"{scenario.file}: {where}: {problem.render('').removeprefix(': ')}") from None


# --- stored evaluations ----------------------------------------------------------------------


def write_json(path: Path, data: dict[str, Any]) -> None:
    """``data`` as JSON at ``path``, atomically (a crash leaves the old file or the new one)."""
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=1, default=str) + "\n"))


def stored_records(folder: Path) -> dict[str, dict[str, Any]]:
    """The JSON records in ``folder`` by file stem; an unreadable one is removed (run again)."""
    stored = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            stored[path.stem] = json.loads(path.read_text())
        except (ValueError, OSError):
            path.unlink(missing_ok=True)
    return stored


def prepare_store(
    out: Path,
    kind: str,
    what: str,
    identity: dict[str, Any],
    scenario: Scenario,
    resume: bool,
    force: bool,
    records: str = "records",
) -> Path:
    """The folder ``out/kind/records`` where every evaluation of an analysis is stored as it
    finishes, with ``out/kind/settings.json`` saying what they belong to (``identity``). A
    folder that holds ``what`` already is refused unless ``--resume`` (the same file and
    settings) or ``--force`` (its records deleted)."""
    header = out / kind / "settings.json"
    folder = out / kind / records
    if header.exists():
        if force:
            for path in folder.glob("*.json"):
                path.unlink()
        elif not resume:
            raise AnalysisError(
                f"{out} already holds {what}; use --resume to complete it or --force to start over"
            )
        else:
            previous = json.loads(header.read_text())
            if {k: previous.get(k) for k in identity} != identity:
                raise AnalysisError(
                    f"{out} holds {what} of another version of {scenario.file}; "
                    "use --force to start over or --out to write elsewhere"
                )
    folder.mkdir(parents=True, exist_ok=True)
    write_json(header, identity)
    return folder


__all__ = [
    "ENABLED",
    "OBJECTIVES",
    "Objective",
    "check_keys",
    "did_you_mean",
    "integer",
    "objectives_of",
    "prepare_store",
    "relocatable",
    "scenario_with",
    "section",
    "set_values",
    "stored_records",
    "tokens",
    "write_json",
]
