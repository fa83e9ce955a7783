"""Robustness: how strategies hold up across markets we cannot pin down.

The scenario's ``[robustness]`` table names the objective regret is measured on, the thresholds
a strategy must meet (satisficing), how many markets to sample and the uncertainty ranges::

    [robustness]
    objective = "clv"                  # clv, margin, retained or cost
    markets = 100                      # sampled by Latin hypercube, seeded by the file's seed
    replications = 5                   # per market and strategy, the same seeds for all
    strategies = ["mix_optimised_12", "personal_appreciation"]   # default: every strategy
    [robustness.thresholds]            # met when every one is (cost: at most; others: at least)
    clv = 500.0
    retained = 3000
    [robustness.ranges]                # default: the file's [grid.latin_hypercube] ranges
    "market.offers.offer_rate_per_month" = [0.02, 0.10]
    "market.offers.discount" = [0.10, 0.30]

Every strategy runs in every market on the same seeds (common random numbers), so their
differences in a market come from the strategies. Per strategy (the EMA Workbench's robustness
metrics, Kwakkel 2017; McPhail et al. 2018):

* **regret** in a market: how far it falls short of the best strategy *in that market* on the
  objective; its maximum (minimax regret, Savage) and 90th percentile over the markets;
* **satisficing**: the share of markets where it meets every threshold (Starr's domain
  criterion);
* **best in**: the share of markets where it is the best strategy.

The markets where a strategy misses a threshold are written as a scenario that
``loyalty-sim discover`` takes as it is (the same ranges, sample count, seed and name, so it
samples and simulates the very same markets), and the exact command is in ``robustness.json``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sim.analysis.decisions import (
    OBJECTIVES,
    Objective,
    check_keys,
    did_you_mean,
    integer,
    objectives_of,
    prepare_store,
    section,
    stored_records,
    write_json,
)
from sim.analysis.discovery import prim, restrictions, rules, sample
from sim.analysis.space import RANGES_SECTION, AnalysisError, Output, Space, evaluate
from sim.defaults import MAX_GRID_POINTS, MAX_REPLICATIONS
from sim.executors import Executor
from sim.io import write_atomic
from sim.scenario import Scenario, ScenarioError
from sim.sweep import WriterLock

KEYS = ("objective", "markets", "replications", "strategies", "thresholds", "ranges")
MARKETS_FILE = "robustness-markets.toml"


@dataclass(frozen=True)
class RobustnessSettings:
    objective: Objective
    markets: int
    replications: int
    strategies: tuple[str, ...]
    thresholds: dict[str, float]
    space: Space


def _ranges(scenario: Scenario, table: dict[str, Any]) -> Space:
    where = f"{scenario.file}: robustness.ranges"
    ranges = table.get("ranges")
    if ranges is None:
        ranges = {
            k: v
            for k, v in ((scenario.raw.get("grid") or {}).get("latin_hypercube") or {}).items()
            if k != "samples"
        }
        where = f"{scenario.file}: {RANGES_SECTION}"
    if not isinstance(ranges, dict) or not ranges:
        raise AnalysisError(
            f"{scenario.file}: robustness.ranges: expected uncertainty ranges, e.g. "
            f'"market.offers.discount" = [0.1, 0.3] (or ranges in [{RANGES_SECTION}]), found none'
        )
    names = tuple(sorted(ranges))  # sorted as discover's space is: the same samples
    for name in names:
        bounds = ranges[name]
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(isinstance(b, int | float) and not isinstance(b, bool) and np.isfinite(b) for b in bounds)
            and bounds[0] < bounds[1]
        ):
            raise AnalysisError(
                f'{where}."{name}": expected [low, high] with low < high, found {json.dumps(bounds)}'
            )
        for end in bounds:  # unknown paths and values out of range, before anything runs
            try:
                scenario.at(((name, float(end)),))
            except ScenarioError as error:
                problem = error.problems[0]
                raise AnalysisError(f'{where}."{name}": {problem.render("").removeprefix(": ")}') from None
    lows = np.array([ranges[n][0] for n in names], dtype=float)
    highs = np.array([ranges[n][1] for n in names], dtype=float)
    return Space(names, lows, highs, 0)


def robustness_settings(scenario: Scenario, markets: int | None = None) -> RobustnessSettings:
    """Check the ``[robustness]`` table; every mistake is one line naming the file and key."""
    table = section(scenario, "robustness")
    where = f"{scenario.file}: robustness"
    check_keys(table, KEYS, "robustness", scenario.file)
    objective = objectives_of(table.get("objective", "clv"), f"{where}.objective", most=1)[0]
    names = list(scenario.strategies)
    chosen = table.get("strategies", names)
    if not isinstance(chosen, list) or len(chosen) < 2 or not all(isinstance(n, str) for n in chosen):
        raise AnalysisError(
            f"{where}.strategies: expected at least two strategy names, found {json.dumps(chosen)}"
        )
    for name in chosen:
        if name not in names:
            raise AnalysisError(
                f"{where}.strategies: expected strategies of the file ({', '.join(names)}), "
                f"found '{name}'{did_you_mean(name, names)}"
            )
    thresholds = table.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise AnalysisError(
            f"{where}.thresholds: expected a table objective = value, found {json.dumps(thresholds)}"
        )
    for key, value in thresholds.items():
        objectives_of(key, f"{where}.thresholds", most=1)
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise AnalysisError(f"{where}.thresholds.{key}: expected a number, found {json.dumps(value)}")
    return RobustnessSettings(
        objective=objective,
        markets=markets or integer(table, "markets", 100, 2, MAX_GRID_POINTS, where),
        replications=integer(table, "replications", 3, 1, MAX_REPLICATIONS, where),
        strategies=tuple(dict.fromkeys(chosen)),
        thresholds={k: float(v) for k, v in thresholds.items()},
        space=_ranges(scenario, table),
    )


def _meets(objective: Objective, values: np.ndarray, threshold: float) -> np.ndarray:
    return values >= threshold if objective.maximise else values <= threshold


@dataclass(frozen=True)
class Robustness:
    table: pl.DataFrame  # one row per (market, strategy): the ranges' values, outcomes, regret, meets
    summary: dict[str, Any]


def robustness(
    scenario: Scenario,
    out: Path,
    executor: Executor,
    markets: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    resume: bool = False,
    force: bool = False,
) -> Robustness:
    """Evaluate the strategies over the sampled markets; write ``robustness.parquet``,
    ``robustness.json`` and, when a strategy misses a threshold somewhere, the markets as a
    scenario for ``loyalty-sim discover``.

    Every market's replication is stored as it finishes (atomically) in
    ``robustness/markets/``; ``resume`` completes an interrupted run from them (the same file
    and settings, else refused; ``force`` starts over), with the result an uninterrupted run
    gives. ``out`` is locked while this writes: a second writer is refused."""
    settings = robustness_settings(scenario, markets)
    out.mkdir(parents=True, exist_ok=True)
    with WriterLock(out):
        return _robustness(scenario, out, executor, settings, on_progress, resume, force)


def _identity(
    scenario: Scenario, settings: RobustnessSettings, outputs: tuple[Output, ...]
) -> dict[str, Any]:
    """What the stored evaluations belong to: a resume with anything else is refused."""
    space = settings.space
    bounds = zip(space.names, space.lows, space.highs, strict=True)
    return {
        "scenario_sha256": scenario.hash(),
        "markets": settings.markets,
        "replications": settings.replications,
        "outputs": [[o.outcome, o.strategy] for o in outputs],
        "ranges": [[n, float(lo), float(hi)] for n, lo, hi in bounds],
    }


def _robustness(
    scenario: Scenario,
    out: Path,
    executor: Executor,
    settings: RobustnessSettings,
    on_progress: Callable[[int, int], None] | None,
    resume: bool,
    force: bool,
) -> Robustness:
    space = settings.space
    points = sample(space, settings.markets, scenario.seed)
    scored = [settings.objective, *(OBJECTIVES[name] for name in settings.thresholds)]
    scored = list(dict.fromkeys(scored))
    outputs = tuple(Output(o.outcome, s) for s in settings.strategies for o in scored)
    identity = _identity(scenario, settings, outputs)
    what = "a robustness run"
    folder = prepare_store(out, "robustness", what, identity, scenario, resume, force, "markets")
    stored = {
        int(record["slot"]): record["values"]
        for record in stored_records(folder).values()
        if isinstance(record, dict) and "slot" in record and len(record.get("values", ())) == len(outputs)
    }

    def store(slot: int, row: list[float]) -> None:
        market, replication = divmod(slot, settings.replications)
        record = {"slot": slot, "market": market, "replication": replication, "values": row}
        write_json(folder / f"market-{market:05d}-{replication:03d}.json", record)

    values = evaluate(
        scenario, space, points, outputs, executor, settings.replications, on_progress, stored, store
    )
    column = {(o.outcome, o.strategy): values[:, i] for i, o in enumerate(outputs)}

    def score(objective: Objective, strategy: str) -> np.ndarray:
        raw = column[(objective.outcome, strategy)]
        return (1.0 - raw) * scenario.customers if objective.name == "retained" else raw

    objective = settings.objective
    scores = np.column_stack([score(objective, s) for s in settings.strategies])
    best = scores.max(axis=1) if objective.maximise else scores.min(axis=1)
    regret = (best[:, None] - scores) if objective.maximise else (scores - best[:, None])
    meets = np.ones_like(scores, dtype=bool)
    failing: dict[str, dict[str, int]] = {s: {} for s in settings.strategies}
    for name, threshold in settings.thresholds.items():
        for j, strategy in enumerate(settings.strategies):
            ok = _meets(OBJECTIVES[name], score(OBJECTIVES[name], strategy), threshold)
            meets[:, j] &= ok
            if not ok.all():
                failing[strategy][name] = int((~ok).sum())
    frames = []
    for j, strategy in enumerate(settings.strategies):
        frames.append(
            pl.DataFrame(
                {
                    "market": np.arange(len(points)),
                    **{n: points[:, i] for i, n in enumerate(space.names)},
                    "strategy": [strategy] * len(points),
                    objective.name: scores[:, j],
                    "regret": regret[:, j],
                    "meets": meets[:, j],
                    "best": regret[:, j] <= 0.0,
                }
            )
        )
    table = pl.concat(frames)
    rows = []
    for j, strategy in enumerate(settings.strategies):
        rows.append(
            {
                "strategy": strategy,
                "mean": float(scores[:, j].mean()),
                "regret_max": float(regret[:, j].max()),
                "regret_p90": float(np.quantile(regret[:, j], 0.9)),
                "satisficing": float(meets[:, j].mean()),
                "best_share": float((regret[:, j] <= 0.0).mean()),
                "failing": failing[strategy],
                "discover": _discover_commands(scenario, settings, strategy, failing[strategy], out),
                **_where(points, ~meets[:, j], space),
            }
        )
    rows.sort(key=lambda r: (-r["satisficing"], r["regret_p90"]))
    summary = {
        "scenario": scenario.file,
        "scenario_sha256": scenario.hash(),
        "objective": objective.name,
        "markets": settings.markets,
        "replications": settings.replications,
        "thresholds": settings.thresholds,
        "ranges": {
            n: [float(lo), float(hi)] for n, lo, hi in zip(space.names, space.lows, space.highs, strict=True)
        },
        "strategies": rows,
    }
    if any(r["failing"] for r in rows):
        text = markets_text(scenario, settings)
        write_atomic(out / MARKETS_FILE, lambda tmp: tmp.write_text(text))
    write_atomic(out / "robustness.parquet", table.write_parquet)
    write_json(out / "robustness.json", summary)
    return Robustness(table, summary)


def _where(points: np.ndarray, cases: np.ndarray, space: Space) -> dict[str, list]:
    """Where a strategy misses, by PRIM (both empty when it never or always does):
    ``fails_where``, the rules with the parameters' paths, and ``fails_box``, each restricted
    parameter as [path, low, high] (None: not restricted on that side), for words in any
    language (sim.tables.decisions)."""
    if not 0 < cases.sum() < len(cases):
        return {"fails_where": [], "fails_box": []}
    box = prim(points, cases, space.lows, space.highs)
    return {"fails_where": rules(box, space), "fails_box": [list(r) for r in restrictions(box, space)]}


def _discover_commands(
    scenario: Scenario, settings: RobustnessSettings, strategy: str, failing: dict[str, int], out: Path
) -> list[str]:
    """The ``loyalty-sim discover`` command that finds where each missed threshold fails."""
    commands = []
    for name in failing:
        objective = OBJECTIVES[name]
        threshold = settings.thresholds[name]
        if objective.name == "retained":  # retained >= T  <=>  cohort loss <= 1 - T / customers
            threshold, below = 1.0 - threshold / scenario.customers, False
        else:
            below = objective.maximise
        command = [
            "loyalty-sim",
            "discover",
            str(out / MARKETS_FILE),
            "--outcome",
            f"{objective.outcome}:{strategy}",
            "--threshold",
            f"{threshold:g}",
            *(["--below"] if below else []),
            "--replications",
            str(settings.replications),
        ]
        commands.append(shlex.join(command))
    return commands


def markets_text(scenario: Scenario, settings: RobustnessSettings) -> str:
    """The scenario with the uncertainty ranges as ``[grid.latin_hypercube]`` (sample count,
    seed and name kept, so ``discover`` samples the same markets) and only the tested strategies."""
    import tomli_w

    from sim.analysis.decisions import relocatable, scenario_with

    raw = {k: v for k, v in scenario.raw.items() if k not in ("optimise", "robustness", "grid", "variants")}
    raw["strategies"] = {name: scenario.raw["strategies"][name] for name in settings.strategies}
    if raw.get("baseline") not in settings.strategies:
        raw["baseline"] = settings.strategies[0]
    space = settings.space
    raw["grid"] = {
        "latin_hypercube": {
            "samples": settings.markets,
            **{
                n: [float(lo), float(hi)]
                for n, lo, hi in zip(space.names, space.lows, space.highs, strict=True)
            },
        }
    }
    raw["name"] = scenario.name
    raw = relocatable(raw, scenario.file)
    text = (
        f"# Written by `loyalty-sim robustness` from {scenario.file}: "
        f"the {settings.markets} sampled markets,\n"
        "# for `loyalty-sim discover` (robustness.json lists the commands).\n" + tomli_w.dumps(raw)
    )
    scenario_with(scenario, raw, "the markets file", drop=())
    return text


__all__ = [
    "MARKETS_FILE",
    "Robustness",
    "RobustnessSettings",
    "markets_text",
    "robustness",
    "robustness_settings",
]
