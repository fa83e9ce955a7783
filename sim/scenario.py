"""Scenario files: TOML describing a market, strategies, a sweep grid and replications.

:func:`load` reads and validates a file; every problem is reported with the file, the dotted
key path, what was expected and what was found, with a suggestion for misspelled names. The
format is documented in ``docs/scenarios.md``.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim import customer_table, defaults
from sim.behaviours import BEHAVIOURS, BehaviourSpec
from sim.customer_base import CustomerBase
from sim.defaults import (
    MAX_CUSTOMERS,
    MAX_DEPTH,
    MAX_GRID_POINTS,
    MAX_MONTHS,
    MAX_NAME_LENGTH,
    MAX_REPLICATIONS,
    MAX_RUNS,
)
from sim.distributions import Beta, LogNormal
from sim.errors import UserError
from sim.io import PathError, decode_text, read_input
from sim.market import Market
from sim.mechanisms import MECHANISMS
from sim.params import ParamError
from sim.plugins import plugin_hint
from sim.population import DEFAULT_SEGMENTS, Segment
from sim.programs import PROGRAMS
from sim.seeds import GridPoint, GridValue, point_id
from sim.strategy import BASELINE, ProgramSpec, Strategy
from sim.targeting import BUDGET_PERIODS, CONTRACT_STATES, Budget, Target

TOP_LEVEL_KEYS = (
    "name",
    "description",
    "customers",
    "months",
    "replications",
    "seed",
    "baseline",
    "market",
    "service",
    "strategies",
    "behaviours",
    "variants",
    "grid",
    "optimise",  # decision variables and objectives: sim.analysis.optimise checks this table
    "robustness",  # uncertainty ranges and thresholds: sim.analysis.robustness checks this table
    "population",
)
POPULATION_KEYS = ("file", "as_of", "sha256")
STRATEGY_ENTRY_KEYS = ("programs", "label", "description")
PROGRAM_ENTRY_KEYS = ("program", "start_month", "end_month", "params", "target", "budget")
TARGET_KEYS = tuple(f.name for f in dataclasses.fields(Target))
BUDGET_KEYS = tuple(f.name for f in dataclasses.fields(Budget))
BANDS = ("tenure_months", "spend_per_month", "attention")
BEHAVIOUR_ENTRY_KEYS = ("behaviour", "params")
DEFAULTS = {
    "customers": defaults.CUSTOMERS,
    "months": defaults.MONTHS,
    "replications": defaults.REPLICATIONS,
    "seed": defaults.SEED,
}

LIMITS = {"customers": MAX_CUSTOMERS, "months": MAX_MONTHS, "replications": MAX_REPLICATIONS}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file."""

    path: str
    expected: str
    found: str = ""
    hint: str = ""

    def render(self, file: str) -> str:
        found = f", found {self.found}" if self.found else ""
        hint = f"; {self.hint}" if self.hint else ""
        location = f"{file}: {self.path}: " if self.path else f"{file}: "
        return f"{location}expected {self.expected}{found}{hint}"


class ScenarioError(UserError):
    """A scenario file that cannot be used; ``problems`` lists every finding."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: what to run, how often, and the text it came from."""

    name: str
    description: str
    customers: int
    months: int
    replications: int
    seed: int
    baseline: str
    market: Market
    strategies: dict[str, Strategy]
    grid: tuple[GridPoint, ...]
    text: str
    raw: dict[str, Any]
    file: str
    # [variants]: name -> (path, value) overrides; the variants are the grid axis "variant"
    variants: dict[str, tuple[tuple[str, Any], ...]] = dataclasses.field(default_factory=dict)
    # Paired axes ("variant" and [grid] paired = [...]) and their reference (first) values:
    # points that differ only in paired axes share their seeds (common random numbers).
    paired: dict[str, GridValue | str] = dataclasses.field(default_factory=dict)
    # Per strategy, its own ``label`` and ``description`` by language (``sim.i18n.display_name``).
    display: dict[str, dict[str, dict[str, str]]] = dataclasses.field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.strategies) * len(self.grid) * self.replications

    def at(self, point: GridPoint) -> tuple[Market, dict[str, Strategy], int, int]:
        """Market, strategies, customers and months with a grid point's values applied."""
        if not point:
            return self.market, self.strategies, self.customers, self.months
        built = _build(_with_point(self.raw, point, self.variants), self.file)
        return built["market"], built["strategies"], built["customers"], built["months"]

    def seed_point(self, point: GridPoint) -> GridPoint:
        """The part of ``point`` its seeds derive from: without the paired axes, so that points
        differing only in paired values (variants) run on the same random numbers."""
        return tuple((path, value) for path, value in point if path not in self.paired)

    def hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def load(path: str | Path, population: str | Path | None = None, as_of: str | None = None) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` listing every problem.

    ``population`` (and ``as_of``) start the model from a customer table, as the scenario key
    ``population`` does (``--population`` of ``run`` and ``sweep``); it is written into the
    scenario's text, so that results record it."""
    file = str(path)
    try:
        text = decode_text(read_input(path, "scenario file"), path)
    except PathError as error:
        raise ScenarioError(file, [Problem("", error.expected, error.found)]) from None
    if population is not None:
        text = with_population(text, file, population, as_of)
    return loads(text, file, default_name=Path(path).stem)


def with_population(text: str, file: str, population: str | Path, as_of: str | None = None) -> str:
    """Scenario text with a top-level ``population`` key (an absolute path, and the table's
    SHA-256, so that a changed table is a changed scenario) in front."""
    try:
        raw = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError:
        raw = {}  # reported when the text is validated
    if "population" in raw:
        problem = Problem("population", "one customer table", "one in the file and one from --population")
        raise ScenarioError(file, [problem])
    table = {"file": str(Path(population).resolve()), **({"as_of": as_of} if as_of is not None else {})}
    digest = customer_table.sha256(population)  # so that the text, and the results, name the contents
    table.update({"sha256": digest} if digest else {})
    entries = ", ".join(f"{key} = {json.dumps(value)}" for key, value in table.items())
    return f"population = {{ {entries} }}\n" + text.removeprefix("\ufeff")


def loads(text: str, file: str = "<scenario>", default_name: str = "scenario") -> Scenario:
    """Validate scenario text (TOML); a leading UTF-8 byte order mark (Windows editors) is skipped."""
    try:
        raw = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as error:
        # The message carries "(at line L, column C)".
        raise ScenarioError(file, [Problem("", "valid TOML", str(error))]) from None
    except RecursionError:
        problem = Problem("", f"tables and arrays nested at most {MAX_DEPTH} deep", "deeper nesting")
        raise ScenarioError(file, [problem]) from None
    if _depth(raw) > MAX_DEPTH:
        problem = Problem("", f"tables and arrays nested at most {MAX_DEPTH} deep", "deeper nesting")
        raise ScenarioError(file, [problem])
    built = _build(raw, file)
    variants = _variants(raw.get("variants"), file)
    grid, paired = _grid(raw.get("grid", {}), built["seed"], file, variants)
    runs = len(built["strategies"]) * len(grid) * built["replications"]
    if runs > MAX_RUNS:
        found = f"{len(built['strategies'])} x {len(grid)} x {built['replications']} = {runs:,}"
        expected = f"at most {MAX_RUNS:,} runs (strategies x grid points x replications)"
        problem = Problem("replications", expected, found, "fewer replications or grid points")
        raise ScenarioError(file, [problem])
    problems = []
    for point in grid:
        try:
            _build(_with_point(raw, point, variants), file)
        except ScenarioError as error:
            where = f"at grid point {point_id(point)}"
            for problem in error.problems:
                hint = f"{problem.hint} ({where})" if problem.hint else where
                problems.append(dataclasses.replace(problem, hint=hint))
            break
    if problems:
        raise ScenarioError(file, problems)
    return Scenario(
        name=built["name"] or default_name,
        description=built["description"],
        customers=built["customers"],
        months=built["months"],
        replications=built["replications"],
        seed=built["seed"],
        baseline=built["baseline"],
        market=built["market"],
        strategies=built["strategies"],
        grid=grid,
        text=text,
        raw=raw,
        file=file,
        variants=variants,
        paired=paired,
        display=strategy_display(raw.get("strategies")),
    )


def _depth(raw: Any) -> int:
    """How deeply tables and arrays nest, counted up to MAX_DEPTH + 1 (iteratively: the
    structure may be deeper than Python's recursion limit)."""
    deepest, stack = 0, [(raw, 1)]
    while stack:
        value, level = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
    return deepest


# --- building validated objects from the parsed TOML ------------------------------------------


def _build(raw: dict[str, Any], file: str) -> dict[str, Any]:
    problems: list[Problem] = []
    _unknown_keys(raw, TOP_LEVEL_KEYS, "", problems)
    out: dict[str, Any] = {
        "name": _typed(raw, "name", str, "", problems, ""),
        "description": _typed(raw, "description", str, "", problems, ""),
    }
    name = out["name"]
    if (
        isinstance(name, str)
        and name
        and (
            name in (".", "..")
            or any(c in name for c in "/\\")
            or not name.isprintable()
            or len(name) > MAX_NAME_LENGTH
        )
    ):
        # The name is the default result directory results/<name>/: one plain folder name.
        problems.append(
            Problem(
                "name",
                f"a name usable as a folder name (at most {MAX_NAME_LENGTH} characters; no '/', '\\', "
                "control characters; not '.' or '..')",
                _describe(name),
            )
        )
    for key, minimum in (("customers", 1), ("months", 1), ("replications", 1), ("seed", 0)):
        value = _typed(raw, key, int, "", problems, DEFAULTS[key])
        if isinstance(value, int) and value < minimum:
            problems.append(Problem(key, f"an integer >= {minimum}", repr(value)))
        elif isinstance(value, int) and key in LIMITS and value > LIMITS[key]:
            problems.append(Problem(key, f"an integer <= {LIMITS[key]:,}", repr(value)))
        out[key] = value
    behaviours = _behaviours(raw.get("behaviours", []), problems)
    out["market"] = _market(raw.get("market", {}), raw.get("service"), behaviours, problems)
    if "population" in raw and out["market"] is not None:
        base = _population(raw["population"], file, tuple(s.name for s in out["market"].segments), problems)
        if base is not None:  # the firm's own customers; the table sets their number
            out["market"] = dataclasses.replace(out["market"], customer_base=base)
            out["customers"] = len(base)
    segment_names = [s.name for s in out["market"].segments] if out["market"] is not None else None
    out["strategies"] = _strategies(raw.get("strategies"), out["months"], problems, segment_names)
    baseline = _typed(raw, "baseline", str, "", problems, None)
    names = list(out["strategies"] or {})
    if baseline is None:
        baseline = BASELINE if BASELINE in names else (names[0] if names else "")
    elif names and baseline not in names:
        problems.append(_unknown("baseline", "strategy", baseline, names))
    out["baseline"] = baseline
    if "grid" in raw and not isinstance(raw["grid"], dict):
        problems.append(Problem("grid", "a table", _describe(raw["grid"])))
    if problems:
        raise ScenarioError(file, problems)
    return out


def _market(
    raw: Any, service: Any, behaviours: tuple[BehaviourSpec, ...] | None, problems: list[Problem]
) -> Market | None:
    if not isinstance(raw, dict):
        problems.append(Problem("market", "a table", _describe(raw)))
        return None
    sections = {name: MECHANISMS.get(name) for name in MECHANISMS if name != "service"}
    allowed = (*sections, "segments", "segment_shares", "gross_margin_share")
    _unknown_keys(raw, allowed, "market", problems, renamed={"service": "service (a top-level table)"})
    kwargs: dict[str, Any] = {}
    for name, params_class in sections.items():
        if name in raw:
            kwargs[name] = _params(params_class, raw[name], f"market.{name}", problems)
    if service is not None:
        kwargs["service"] = _params(MECHANISMS.get("service"), service, "service", problems)
    if "gross_margin_share" in raw:
        kwargs["gross_margin_share"] = _typed(raw, "gross_margin_share", float, "market", problems, 0.3)
    segments = _segments(raw.get("segments"), problems) if "segments" in raw else DEFAULT_SEGMENTS
    if "segment_shares" in raw and segments is not None:
        segments = _reweight(segments, raw["segment_shares"], problems)
    if segments is not None:
        kwargs["segments"] = segments
    kwargs["behaviours"] = behaviours
    if any(v is None for v in kwargs.values()) or problems:
        return None
    try:
        return Market(**kwargs)
    except ParamError as error:
        problems.append(_param_problem("market", error))
        return None


def _segments(raw: Any, problems: list[Problem]) -> tuple[Segment, ...] | None:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem("market.segments", "a non-empty array of tables", _describe(raw)))
        return None
    segments = []
    for index, entry in enumerate(raw):
        path = f"market.segments[{index}]"
        if not isinstance(entry, dict):
            problems.append(Problem(path, "a table", _describe(entry)))
            continue
        for required in ("name", "share"):
            if required not in entry:
                problems.append(Problem(f"{path}.{required}", "a value (required)", "nothing"))
        segment = _params(Segment, entry, path, problems) if "name" in entry and "share" in entry else None
        if segment is not None:
            segments.append(segment)
    return tuple(segments) if len(segments) == len(raw) else None


def _reweight(segments: tuple[Segment, ...], raw: Any, problems: list[Problem]) -> tuple[Segment, ...] | None:
    path = "market.segment_shares"
    if not isinstance(raw, dict):
        problems.append(Problem(path, "a table of segment name = share", _describe(raw)))
        return None
    names = [s.name for s in segments]
    shares = {}
    for name, value in raw.items():
        if name not in names:
            problems.append(_unknown(f"{path}.{name}", "segment", name, names))
            continue
        share = _coerce(value, float, f"{path}.{name}", problems)
        if share is not None and not 0.0 <= share <= 1.0:
            problems.append(Problem(f"{path}.{name}", "a value in [0, 1]", repr(share)))
            share = None
        shares[name] = share
    if len(shares) != len(raw) or any(v is None for v in shares.values()):
        return None
    total = sum(shares.get(s.name, 0.0) for s in segments)
    if abs(total - 1.0) > 1e-6:
        # Segments left out get share 0, so the listed shares alone must sum to 1.
        problems.append(Problem(path, "shares that sum to 1 (unlisted segments get 0)", f"{total:g}"))
        return None
    return tuple(dataclasses.replace(s, share=shares.get(s.name, 0.0)) for s in segments)


def _strategies(
    raw: Any, months: Any, problems: list[Problem], segments: list[str] | None = None
) -> dict[str, Strategy] | None:
    if raw is None:
        problems.append(Problem("strategies", "a table of at least one strategy", "nothing"))
        return None
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem("strategies", "a table of at least one strategy", _describe(raw)))
        return None
    strategies = {}
    for name, entry in raw.items():
        path = f"strategies.{name}"
        if len(name) > MAX_NAME_LENGTH:
            expected = f"a strategy name of at most {MAX_NAME_LENGTH} characters"
            problems.append(Problem(path, expected, f"{len(name)} characters"))
            continue
        programs = entry.get("programs") if isinstance(entry, dict) else entry
        if isinstance(entry, dict):
            _unknown_keys(entry, STRATEGY_ENTRY_KEYS, path, problems)
            for key in ("label", "description"):
                _check_text(entry.get(key), f"{path}.{key}", problems)
        if not isinstance(programs, list) or not programs:
            problems.append(Problem(f"{path}.programs", "a non-empty array of programs", _describe(programs)))
            continue
        specs = [
            _program(item, f"{path}.programs[{i}]", months, problems, segments)
            for i, item in enumerate(programs)
        ]
        if all(spec is not None for spec in specs):
            strategies[name] = Strategy(name, tuple(specs))
    return strategies if len(strategies) == len(raw) else None


def _check_text(value: Any, path: str, problems: list[Problem]) -> None:
    """A strategy's ``label`` or ``description``: a string, or a table of strings by language."""
    from sim.i18n import LANGUAGES

    if value is None or (isinstance(value, str) and value.strip()):
        return
    expected = f"a non-empty string or a table of them by language ({', '.join(LANGUAGES)})"
    if not isinstance(value, dict) or not value:
        problems.append(Problem(path, expected, _describe(value)))
        return
    for lang, text in value.items():
        if lang not in LANGUAGES:
            problems.append(_unknown(f"{path}.{lang}", "language", lang, list(LANGUAGES)))
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem(f"{path}.{lang}", "a non-empty string", _describe(text)))


def strategy_display(raw: Any) -> dict[str, dict[str, dict[str, str]]]:
    """The ``label`` and ``description`` of each strategy of a scenario's (checked) ``strategies``
    table, as ``{lang: text}``."""
    display: dict[str, dict[str, dict[str, str]]] = {}
    for name, entry in (raw or {}).items():
        if isinstance(entry, dict):
            own = {key: entry[key] for key in ("label", "description") if key in entry}
            display[name] = {k: v if isinstance(v, dict) else {"en": v} for k, v in own.items()}
    return display


def _program(
    raw: Any, path: str, months: Any, problems: list[Problem], segments: list[str] | None = None
) -> ProgramSpec | None:
    if isinstance(raw, str):
        raw = {"program": raw}
    if not isinstance(raw, dict):
        problems.append(Problem(path, "a program name or a table with 'program'", _describe(raw)))
        return None
    _unknown_keys(raw, PROGRAM_ENTRY_KEYS, path, problems)
    name = raw.get("program")
    if not isinstance(name, str):
        problems.append(Problem(f"{path}.program", "a program name", _describe(name)))
        return None
    if name not in PROGRAMS:
        problems.append(_unknown(f"{path}.program", "program", name, PROGRAMS.names()))
        return None
    start = _typed(raw, "start_month", int, path, problems, 1)
    end = _typed(raw, "end_month", int, path, problems, None)
    if isinstance(start, int) and start < 1:
        problems.append(Problem(f"{path}.start_month", "a month >= 1", repr(start)))
        return None
    if isinstance(start, int) and isinstance(months, int) and start > months:
        horizon = f"a month within the horizon (1..{months})"
        problems.append(Problem(f"{path}.start_month", horizon, repr(start)))
        return None
    if isinstance(end, int) and isinstance(start, int) and end <= start:
        problems.append(Problem(f"{path}.end_month", f"a month after start_month ({start})", repr(end)))
        return None
    params_raw = raw.get("params", {})
    params = _params(PROGRAMS.get(name).Params, params_raw, f"{path}.params", problems)
    before = len(problems)
    target = _target(raw["target"], f"{path}.target", problems, segments) if "target" in raw else None
    budget = _budget(raw["budget"], f"{path}.budget", problems) if "budget" in raw else None
    if params is None or start is None or len(problems) > before:
        return None
    return ProgramSpec(name, _overrides(params, params_raw), start, end, target, budget)


def _population(
    raw: Any, file: str, segments: tuple[str, ...], problems: list[Problem]
) -> CustomerBase | None:
    """``population``: a customer table (CSV) as the initial cohort, by its path (relative to
    the scenario file) or as ``{ file = ..., as_of = "YYYY-MM-DD" }``."""
    table = {"file": raw} if isinstance(raw, str) else raw
    if not isinstance(table, dict) or not isinstance(table.get("file"), str):
        expected = 'a CSV path, or { file = "customers.csv", as_of = "YYYY-MM-DD" }'
        problems.append(Problem("population", expected, _describe(raw)))
        return None
    before = len(problems)
    _unknown_keys(table, POPULATION_KEYS, "population", problems)
    as_of = _typed(table, "as_of", str, "population", problems, None)
    pinned = _typed(table, "sha256", str, "population", problems, None)
    if len(problems) > before:
        return None
    path = Path(table["file"])
    if not path.is_absolute() and Path(file).is_file():
        path = Path(file).parent / path
    try:
        base = customer_table.load(path, segments, as_of)
    except customer_table.CustomerTableError as error:
        for p in error.problems:
            where = f"{error.file}: {p.where}" if p.where else error.file
            problems.append(Problem(f"population: {where}", p.expected, p.found))
        return None
    if pinned is not None and pinned != base.sha256:
        expected = f"the table whose SHA-256 is {pinned[:12]}... (the file has changed)"
        problems.append(Problem("population.sha256", expected, f"{base.sha256[:12]}..."))
        return None
    return base


def _target(raw: Any, path: str, problems: list[Problem], segments: list[str] | None) -> Target | None:
    """A program's ``target``: whom it reaches (sim.targeting.Target)."""
    if not isinstance(raw, dict):
        problems.append(Problem(path, "a table of targeting keys", _describe(raw)))
        return None
    before = len(problems)
    _unknown_keys(raw, TARGET_KEYS, path, problems)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"{path}.{key}"
        if key == "segments":
            if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                problems.append(Problem(where, "a non-empty array of segment names", _describe(value)))
                continue
            for index, name in enumerate(value):
                if segments is not None and name not in segments:
                    problems.append(_unknown(f"{where}[{index}]", "segment", name, segments))
            values[key] = tuple(value)
        elif key in BANDS:
            if not (isinstance(value, list) and len(value) == 2 and all(_finite(v) for v in value)
                    and 0 <= value[0] <= value[1]):
                problems.append(Problem(where, "[low, high] with 0 <= low <= high", _describe(value)))
                continue
            values[key] = (float(value[0]), float(value[1]))
        elif key == "contract":
            if value not in CONTRACT_STATES:
                problems.append(Problem(where, f"one of {', '.join(CONTRACT_STATES)}", _describe(value)))
                continue
            values[key] = value
        elif key in TARGET_KEYS:
            number = _coerce(value, float, where, problems)
            if number is not None and not 0.0 <= number <= 1.0:
                problems.append(Problem(where, "a value in [0, 1]", repr(number)))
                continue
            values[key] = number
    if len(problems) > before:
        return None
    return Target(**values)


def _budget(raw: Any, path: str, problems: list[Problem]) -> Budget | None:
    """A program's ``budget``: ``{ eur = ..., per = "month" | "year" }`` (sim.targeting.Budget)."""
    if not isinstance(raw, dict):
        problems.append(Problem(path, 'a table { eur = ..., per = "month" or "year" }', _describe(raw)))
        return None
    before = len(problems)
    _unknown_keys(raw, BUDGET_KEYS, path, problems)
    if "eur" not in raw:
        problems.append(Problem(f"{path}.eur", "a cap in EUR (a number >= 0)", "nothing"))
    eur = _typed(raw, "eur", float, path, problems, None)
    if eur is not None and eur < 0:
        problems.append(Problem(f"{path}.eur", "a number >= 0 (EUR)", repr(eur)))
    per = raw.get("per", "month")
    if per not in BUDGET_PERIODS:
        problems.append(_unknown(f"{path}.per", "budget period", str(per), list(BUDGET_PERIODS)))
    if len(problems) > before:
        return None
    return Budget(eur, per)


def _behaviours(raw: Any, problems: list[Problem]) -> tuple[BehaviourSpec, ...] | None:
    """``[[behaviours]]``: customer behaviours of the market, each by name once, with parameters."""
    if not isinstance(raw, list):
        problems.append(Problem("behaviours", "an array of behaviour names or tables", _describe(raw)))
        return None
    specs, seen = [], set()
    for index, entry in enumerate(raw):
        path = f"behaviours[{index}]"
        entry = {"behaviour": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict):
            problems.append(Problem(path, "a behaviour name or a table with 'behaviour'", _describe(entry)))
            continue
        _unknown_keys(entry, BEHAVIOUR_ENTRY_KEYS, path, problems)
        name = entry.get("behaviour")
        if not isinstance(name, str):
            problems.append(Problem(f"{path}.behaviour", "a behaviour name", _describe(name)))
            continue
        if name not in BEHAVIOURS:
            problems.append(_unknown(f"{path}.behaviour", "behaviour", name, BEHAVIOURS.names()))
            continue
        if name in seen:
            problems.append(Problem(f"{path}.behaviour", "each behaviour once", f"'{name}' again"))
            continue
        seen.add(name)
        params_raw = entry.get("params", {})
        params = _params(BEHAVIOURS.get(name).Params, params_raw, f"{path}.params", problems)
        if params is not None:
            specs.append(BehaviourSpec(name, _overrides(params, params_raw)))
    return tuple(specs) if len(specs) == len(raw) else None


def _overrides(params: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """The validated values of the fields a scenario set (only those: defaults stay in code)."""
    return {f.name: getattr(params, f.name) for f in dataclasses.fields(params) if f.name in raw}


def _params(cls: type, raw: Any, path: str, problems: list[Problem]) -> Any:
    """Build a frozen params dataclass from a TOML table, checking names, types and ranges."""
    if not isinstance(raw, dict):
        problems.append(Problem(path, "a table", _describe(raw)))
        return None
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    before = len(problems)
    _unknown_keys(raw, fields, path, problems, kind="parameter")
    values = {}
    for key, value in raw.items():
        if key in fields:
            values[key] = _coerce(value, hints[key], f"{path}.{key}", problems)
    if len(problems) > before:
        return None
    try:
        return cls(**values)
    except ParamError as error:
        problems.append(_param_problem(path, error))
        return None


def _coerce(value: Any, expected: Any, path: str, problems: list[Problem]) -> Any:
    """Check a TOML value against a type hint (float, int, bool, str, Beta, LogNormal, optional)."""
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        inner = [t for t in typing.get_args(expected) if t is not type(None)]
        expected = inner[0] if len(inner) == 1 else expected
    if expected in (Beta, LogNormal):
        return _params(expected, value, path, problems)
    ok = False
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and "." in path and path.endswith(("month", "months")) and value > MAX_MONTHS:
            # Months and terms are stored as int16 (contract_months_left, tenure_months, ...).
            problems.append(Problem(path, f"an integer <= {MAX_MONTHS:,} (months)", repr(value)))
            return None
    elif expected is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
        if ok and not math.isfinite(value):
            # TOML allows inf and nan; no parameter means them (nan would poison every customer).
            problems.append(Problem(path, "a finite number", repr(value)))
            return None
    elif expected is str:
        ok = isinstance(value, str)
    if not ok:
        problems.append(Problem(path, _type_name(expected), _describe(value)))
        return None
    return value


def _typed(raw: dict, key: str, expected: type, section: str, problems: list[Problem], default: Any) -> Any:
    if key not in raw:
        return default
    return _coerce(raw[key], expected, f"{section}.{key}" if section else key, problems)


def _type_name(expected: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(expected, str(expected))


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}
    return f"{kind.get(type(value), type(value).__name__)} {json.dumps(value, default=str)[:60]}"


def _param_problem(section: str, error: ParamError) -> Problem:
    """'must be in [0, 1], got 1.5' -> expected 'a value in [0, 1]', found '1.5';
    'names must be unique, got [...]' -> expected 'unique names';
    'shares must sum to 1, got 0.9' -> expected 'shares that sum to 1'."""
    head, _, found = error.problem.partition(", got ")
    subject, must, rest = head.partition("must ")
    if must and subject:
        subject = subject.strip()
        head = f"{rest.removeprefix('be ')} {subject}" if rest.startswith("be ") else f"{subject} that {rest}"
        return Problem(f"{section}.{error.field}", head, found)
    head = head.removeprefix("must be ")
    expected = f"a value {head}" if head[:1] in "<>[(" or head.startswith("in ") else head
    return Problem(f"{section}.{error.field}", expected, found)


def _unknown(path: str, kind: str, name: str, valid: list[str]) -> Problem:
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'?" if close else ""
    if kind in ("program", "behaviour") and not close:
        hint = plugin_hint(kind)
    return Problem(path, f"a known {kind} ({', '.join(valid)})", f"unknown {kind} '{name}'", hint)


def _unknown_keys(
    raw: dict,
    allowed: tuple[str, ...] | list[str],
    section: str,
    problems: list[Problem],
    kind: str = "key",
    renamed: dict[str, str] | None = None,
) -> None:
    for key in raw:
        if key not in allowed:
            path = f"{section}.{key}" if section else key
            problem = _unknown(path, kind, key, list(allowed))
            if renamed and key in renamed:
                problem = dataclasses.replace(problem, hint=f"'{key}' belongs in {renamed[key]}")
            problems.append(problem)


# --- grid -----------------------------------------------------------------------------------


VARIANT = "variant"  # the grid axis of [variants]; its values are the variants' names


def _variants(raw: Any, file: str) -> dict[str, tuple[tuple[str, Any], ...]]:
    """``[variants]``: named markets that run on the same seeds; each a table of overrides
    (grid paths, or ``behaviours`` = a new list). Checked when each grid point is built."""
    if raw is None:
        return {}
    problems = []
    if not isinstance(raw, dict) or len(raw) < 2:
        problems.append(Problem("variants", "a table of at least two named variants", _describe(raw)))
    else:
        for name, overrides in raw.items():
            if not isinstance(overrides, dict):
                problems.append(Problem(f"variants.{name}", "a table of overrides", _describe(overrides)))
            elif any(isinstance(v, dict) for v in overrides.values()):
                hint = 'quote dotted paths: { "market.offers.discount" = 0.2 }'
                found = _describe(overrides)
                problems.append(Problem(f"variants.{name}", "overrides path = value", found, hint))
    if problems:
        raise ScenarioError(file, problems)
    return {name: tuple(overrides.items()) for name, overrides in raw.items()}


def _grid(
    raw: Any, seed: int, file: str, variants: dict[str, tuple[tuple[str, Any], ...]]
) -> tuple[tuple[GridPoint, ...], dict[str, GridValue | str]]:
    """The grid points and the paired axes with their reference values."""
    problems: list[Problem] = []
    axes: list[tuple[str, list[GridValue | str]]] = [(VARIANT, list(variants))] if variants else []
    raw = raw or {}
    for path, spec in raw.items():
        if path in ("latin_hypercube", "paired"):
            continue
        values = _axis(spec, f'grid."{path}"', problems)
        if values is not None:
            axes.append((path, values))
    paired = {VARIANT: next(iter(variants))} if variants else {}
    marked = raw.get("paired", [])
    if not (isinstance(marked, list) and all(isinstance(p, str) for p in marked)):
        problems.append(Problem("grid.paired", "an array of grid paths", _describe(marked)))
        marked = []
    for path in marked:
        values = dict(axes).get(path)
        if values is None:
            problems.append(Problem("grid.paired", "paths of [grid] axes", repr(path)))
        else:
            paired[path] = values[0]
    if not axes and "latin_hypercube" not in raw:
        if problems:
            raise ScenarioError(file, problems)
        return ((),), paired
    samples = _latin_hypercube(raw.get("latin_hypercube"), seed, problems)
    sampled = {path for path, _ in samples[0]}
    for path, _ in axes:
        if path in sampled:
            problems.append(
                Problem(
                    f'grid."{path}"',
                    "each parameter in the grid once",
                    "it is also a grid.latin_hypercube range",
                    "keep it in one of the two",
                )
            )
    points = math.prod(len(values) for _, values in axes) * len(samples)
    if points > MAX_GRID_POINTS and not problems:
        sizes = " x ".join([*(str(len(v)) for _, v in axes), *([str(len(samples))] if samples[0] else [])])
        problems.append(Problem("grid", f"at most {MAX_GRID_POINTS:,} grid points", f"{sizes} = {points:,}"))
    if problems:
        raise ScenarioError(file, problems)
    factorial = [
        tuple(zip([a for a, _ in axes], combo, strict=True))
        for combo in itertools.product(*(v for _, v in axes))
    ]
    points = [tuple(sorted(f + s)) for f in factorial for s in samples]
    return tuple(dict.fromkeys(points)), paired


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _axis(spec: Any, path: str, problems: list[Problem]) -> list[GridValue] | None:
    if isinstance(spec, list) and spec and all(isinstance(v, bool) or _finite(v) for v in spec):
        return list(spec)
    if isinstance(spec, dict) and set(spec) == {"linspace"}:
        args = spec["linspace"]
        if (
            isinstance(args, list)
            and len(args) == 3
            and all(_finite(a) for a in args)
            and isinstance(args[2], int)
            and 2 <= args[2] <= MAX_GRID_POINTS
        ):
            return [float(v) for v in np.linspace(args[0], args[1], args[2])]
        expected = f"[start, stop, count >= 2] with count <= {MAX_GRID_POINTS:,}"
        problems.append(Problem(f"{path}.linspace", expected, _describe(args)))
        return None
    hint = ""
    if isinstance(spec, dict) and "linspace" not in spec:
        # `market.offers.discount = [...]` unquoted is a nested table in TOML.
        hint = 'quote dotted paths in [grid]: "market.offers.discount" = [0.1, 0.2]'
    problems.append(
        Problem(
            path, "a non-empty array of values or { linspace = [start, stop, count] }", _describe(spec), hint
        )
    )
    return None


def _latin_hypercube(raw: Any, seed: int, problems: list[Problem]) -> list[GridPoint]:
    if raw is None:
        return [()]
    path = "grid.latin_hypercube"
    if not isinstance(raw, dict):
        problems.append(Problem(path, "a table with 'samples' and ranges", _describe(raw)))
        return [()]
    samples = raw.get("samples")
    if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= MAX_GRID_POINTS:
        below = isinstance(samples, int) and samples < 1
        expected = "an integer >= 1" if below else f"an integer in 1..{MAX_GRID_POINTS:,}"
        problems.append(Problem(f"{path}.samples", expected, _describe(samples)))
        return [()]
    # Sorted, so that the samples do not depend on the order of the ranges in the file.
    ranges = {k: raw[k] for k in sorted(raw) if k != "samples"}
    for key, bounds in ranges.items():
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(_finite(b) for b in bounds)
            and bounds[0] < bounds[1]
        ):
            hint = 'quote dotted paths: "market.offers.discount" = [0.1, 0.3]'
            problems.append(
                Problem(
                    f'{path}."{key}"',
                    "[low, high] with low < high",
                    _describe(bounds),
                    hint if isinstance(bounds, dict) else "",
                )
            )
    if not ranges:
        problems.append(Problem(path, "at least one parameter range", "none"))
    if problems:
        return [()]
    # Imported here: sweep workers import this module, and scipy.stats costs them a second.
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(ranges), rng=np.random.default_rng(seed)).random(samples)
    lows = np.array([b[0] for b in ranges.values()], dtype=float)
    highs = np.array([b[1] for b in ranges.values()], dtype=float)
    scaled = qmc.scale(unit, lows, highs)
    return [tuple(zip(ranges, (float(v) for v in row), strict=True)) for row in scaled]


def _set_path(raw: dict[str, Any], path: str, value: GridValue) -> None:
    """Apply a grid value: ``customers``, ``months``, ``market.<section>.<field>``,
    ``market.gross_margin_share``, ``service.<field>``, ``programs.<program>.<field>`` or
    ``programs.<program>.target.<key>`` / ``.budget.<key>`` (in every strategy that runs the
    program) or ``behaviours.<behaviour>.<field>``."""
    parts = path.split(".")
    if parts[0] == "behaviours" and len(parts) == 3:
        for index, entry in enumerate(raw.get("behaviours") or []):
            entry = {"behaviour": entry} if isinstance(entry, str) else entry
            if isinstance(entry, dict) and entry.get("behaviour") == parts[1]:
                entry.setdefault("params", {})[parts[2]] = value
                raw["behaviours"][index] = entry
        return
    if parts[0] == "programs" and len(parts) in (3, 4):
        # programs.<program>.<parameter>, or programs.<program>.target|budget.<key>
        section, key = ("params", parts[2]) if len(parts) == 3 else (parts[2], parts[3])
        for strategy in (raw.get("strategies") or {}).values():
            entries = strategy.get("programs") if isinstance(strategy, dict) else strategy
            for index, entry in enumerate(entries or []):
                entry = {"program": entry} if isinstance(entry, str) else entry
                if isinstance(entry, dict) and entry.get("program") == parts[1]:
                    entry.setdefault(section, {})[key] = value
                    entries[index] = entry
        return
    target = raw
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _with_point(
    raw: dict[str, Any], point: GridPoint, variants: dict[str, tuple[tuple[str, Any], ...]]
) -> dict[str, Any]:
    """``raw`` with a grid point applied: its variant's overrides first, then the other values."""
    out = copy.deepcopy(raw)
    values = dict(point)
    for path in values:
        if path != VARIANT:
            _check_grid_path(out, path)
    for path, value in variants.get(values.get(VARIANT), ()):
        if path == "behaviours":
            out["behaviours"] = copy.deepcopy(value)
            continue
        try:
            _check_grid_path(out, path)
        except ScenarioError as error:
            where = f"variants.{values[VARIANT]}"
            raise ScenarioError("", [dataclasses.replace(p, path=where) for p in error.problems]) from None
        _set_path(out, path, value)
    for path, value in point:
        if path != VARIANT:
            _set_path(out, path, value)
    return out


def _check_grid_path(raw: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    grid_path = f'grid."{path}"'
    if parts[0] == "programs":
        used = {
            (e if isinstance(e, str) else e.get("program"))
            for s in (raw.get("strategies") or {}).values()
            for e in ((s.get("programs") if isinstance(s, dict) else s) or [])
            if isinstance(e, str | dict)
        }
        targeting = len(parts) == 4 and parts[2] in ("target", "budget")
        if not (len(parts) == 3 or targeting) or parts[1] not in used:
            expected = "programs.<program run by a strategy>.<parameter> (or .target.<key>, .budget.<key>)"
            raise ScenarioError("", [Problem(grid_path, expected, repr(path))])
    elif parts[0] == "behaviours":
        used = {e if isinstance(e, str) else e.get("behaviour") for e in raw.get("behaviours") or []
                if isinstance(e, str | dict)}
        if len(parts) != 3 or parts[1] not in used:
            expected = "behaviours.<behaviour the scenario enables>.<parameter>"
            raise ScenarioError("", [Problem(grid_path, expected, repr(path))])
    elif parts[0] in ("customers", "months") and len(parts) == 1:
        return
    elif not ((parts[0] == "market" and len(parts) in (2, 3)) or (parts[0] == "service" and len(parts) == 2)):
        raise ScenarioError(
            "",
            [
                Problem(
                    grid_path,
                    "a parameter path: customers, months, market.<section>.<field>, service.<field>, "
                    "programs.<program>.<field> or behaviours.<behaviour>.<field>",
                    repr(path),
                )
            ],
        )
