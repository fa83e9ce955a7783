"""A scenario's parameter space: its declared ranges, outputs named on the command line, and
evaluation of many points of the space on a sweep executor.

Sensitivity analysis and scenario discovery both sample the ranges a scenario declares in
``[grid.latin_hypercube]`` (``"market.offers.discount" = [0.1, 0.3]``; the ``samples`` count
there is the default sample size of discovery). Every point runs with the same seeds, replication
by replication (common random numbers), so differences between points come from the parameters,
not from the noise of different random draws.

An *output* names a per-run outcome (``cohort_loss``, ``margin``, ... see ``RUN_OUTCOMES``) and
the strategy it is read from:

* ``cohort_loss``: of every strategy of the scenario (one output each);
* ``cohort_loss:point_card``: of one strategy;
* ``cohort_loss:lock_in_contract-personal_appreciation``: the paired difference of two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sim.batch import RUN_OUTCOMES, Batch, BatchResult, run_batch
from sim.errors import UserError
from sim.executors import Executor
from sim.scenario import Scenario, ScenarioError
from sim.seeds import GridPoint, replication_seed

RANGES_SECTION = "grid.latin_hypercube"


class AnalysisError(UserError):
    """Input an analysis cannot use; the message is one line naming the file or option."""


@dataclass(frozen=True)
class Space:
    """The parameter ranges of a scenario, in sorted order of their dotted paths."""

    names: tuple[str, ...]
    lows: np.ndarray
    highs: np.ndarray
    samples: int  # the scenario's own sample count

    @property
    def dimensions(self) -> int:
        return len(self.names)

    def points(self, unit: np.ndarray) -> np.ndarray:
        """Scale samples of the unit cube (rows) to the ranges."""
        return self.lows + np.asarray(unit) * (self.highs - self.lows)


def space_of(scenario: Scenario) -> Space:
    """The ranges declared in ``[grid.latin_hypercube]``; an error when there are none.

    ``scenario.load`` has already checked every range (two finite numbers, low < high). Other
    grid axes (lists of values) are not part of the space: they keep the file's base values.
    """
    grid = scenario.raw.get("grid") or {}
    ranges = grid.get("latin_hypercube") or {}
    names = tuple(sorted(k for k in ranges if k != "samples"))
    if not names:
        raise AnalysisError(
            f"{scenario.file}: {RANGES_SECTION}: expected parameter ranges to analyse, "
            f'e.g. "market.offers.discount" = [0.1, 0.3], found none'
        )
    lows = np.array([ranges[n][0] for n in names], dtype=float)
    highs = np.array([ranges[n][1] for n in names], dtype=float)
    return Space(names, lows, highs, int(ranges.get("samples", 1)))


@dataclass(frozen=True)
class Output:
    """An outcome of one strategy, or the paired difference ``strategy - minus``."""

    outcome: str
    strategy: str
    minus: str | None = None

    @property
    def label(self) -> str:
        of = f"{self.strategy}-{self.minus}" if self.minus else self.strategy
        return f"{self.outcome}:{of}"

    @property
    def strategies(self) -> tuple[str, ...]:
        return (self.strategy, self.minus) if self.minus else (self.strategy,)


def parse_outputs(text: str, scenario: Scenario, option: str = "--outputs") -> tuple[Output, ...]:
    """Outputs from a comma-separated list (see the module docstring for the forms)."""
    outputs: list[Output] = []
    names = list(scenario.strategies)
    for item in (part.strip() for part in text.split(",")):
        outcome, _, of = item.partition(":")
        if outcome not in RUN_OUTCOMES:
            raise AnalysisError(
                f"{option}: unknown outcome '{outcome}'; expected one of {', '.join(RUN_OUTCOMES)}"
            )
        if not of:
            outputs += [Output(outcome, name) for name in names]
            continue
        if of in names:
            outputs.append(Output(outcome, of))
            continue
        pairs = [(of[:i], of[i + 1 :]) for i, c in enumerate(of) if c == "-"]
        known = [(a, b) for a, b in pairs if a in names and b in names]
        if not known:
            raise AnalysisError(
                f"{option}: '{item}' names no strategy of {scenario.file}; expected OUTCOME, "
                f"OUTCOME:STRATEGY or OUTCOME:STRATEGY-STRATEGY with strategies {', '.join(names)}"
            )
        outputs.append(Output(outcome, *known[0]))
    if not outputs:
        raise AnalysisError(f"{option}: expected at least one output")
    return tuple(dict.fromkeys(outputs))


def _point(space: Space, row: np.ndarray) -> GridPoint:
    return tuple(zip(space.names, (float(v) for v in row), strict=True))


def run_indexed(task: tuple[int, Batch]) -> tuple[int, BatchResult]:
    """Worker entry point: a batch, tagged with its position so results can be put in order."""
    index, batch = task
    return index, run_batch(batch)


TASKS_PER_WORKER = 4  # at the start of an evaluation; tasks shrink towards its end (:func:`groups`)
MOST_RUNS_PER_TASK = 40  # what an interruption can lose of one task, and a task's memory


def groups(count: int, workers: int, runs_per_item: int = 1) -> list[range]:
    """Consecutive slices of ``count`` items (each ``runs_per_item`` model runs) that run
    together in one task, from the number of workers.

    Guided self-scheduling: a task takes a ``TASKS_PER_WORKER * workers``-th of what is left
    (at most ``MOST_RUNS_PER_TASK`` runs, at least one item), so tasks are few while much is
    left (each costs its trip to a worker and back: a Dask cluster's scheduler above all) and
    shrink to one item at the end, when a worker that finishes early would otherwise wait for a
    large task of another. Which items share a task never changes a result (every batch runs
    on its own seeds).
    """
    most = max(1, MOST_RUNS_PER_TASK // max(1, runs_per_item))
    out, start = [], 0
    while start < count:
        size = min(most, max(1, -(-(count - start) // (TASKS_PER_WORKER * max(1, workers)))))
        out.append(range(start, start + size))
        start += size
    return out


def run_outputs(
    task: tuple[tuple[tuple[int, Batch], ...], tuple[Output, ...]],
) -> list[tuple[int, list[float]]]:
    """Worker entry point: several (slot, batch), each reduced to its outputs there (a few
    numbers travel back, not the runs' monthly tables)."""
    batches, outputs = task
    out = []
    for slot, batch in batches:
        by_strategy = {run["strategy"]: run for run in run_batch(batch).runs}
        out.append((slot, [_value(by_strategy, output) for output in outputs]))
    return out


def evaluate(
    scenario: Scenario,
    space: Space,
    points: np.ndarray,
    outputs: tuple[Output, ...],
    executor: Executor,
    replications: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
    stored: Mapping[int, list[float]] | None = None,
    on_slot: Callable[[int, list[float]], None] | None = None,
) -> np.ndarray:
    """The outputs (columns) at every point (rows), averaged over ``replications``.

    Replication ``r`` uses the same seed at every point (common random numbers); results are
    placed by index, so they do not depend on the executor, on the order runs finish in or on
    how slots are grouped into tasks (:func:`groups`). A slot is
    ``point * replications + replication``: the slots of ``stored`` (the outputs of an earlier,
    interrupted call) are not run again; ``on_slot`` gets each new slot's outputs as its task
    finishes (to store them).
    """
    stored = stored or {}
    wanted = {name for output in outputs for name in output.strategies}
    todo = []
    for replication in range(replications):
        seed = replication_seed(scenario.name, scenario.seed, (), replication)
        for index, row in enumerate(points):
            point = _point(space, row)
            try:
                market, strategies, customers, months = scenario.at(point)
            except ScenarioError as error:
                where = ", ".join(f"{k} = {v:.4g}" for k, v in point)
                raise AnalysisError(f"{scenario.file}: at {where}: {error.problems[0].render('')}") from None
            if index * replications + replication in stored:
                continue
            chosen = tuple(s for name, s in strategies.items() if name in wanted)
            batch = Batch(point, replication, seed, market, chosen, customers, months)
            todo.append((index * replications + replication, batch))
    runs = len(todo[0][1].strategies) if todo else 1
    tasks = [
        (tuple(todo[i] for i in group), outputs) for group in groups(len(todo), executor.workers, runs)
    ]
    values = np.full((len(points) * replications, len(outputs)), np.nan)
    for slot, row in stored.items():
        values[slot] = row
    total = len(points) * replications
    done = len(stored)
    if on_progress:
        on_progress(done, total)
    for finished in executor.run(run_outputs, tasks):
        for slot, row in finished:
            values[slot] = row
            if on_slot:
                on_slot(slot, [float(v) for v in row])
            done += 1
            if on_progress:
                on_progress(done, total)
    missing = ~np.isfinite(values).all(axis=0)
    if missing.any():
        names = ", ".join(o.label for o, bad in zip(outputs, missing, strict=True) if bad)
        raise AnalysisError(
            f"{scenario.file}: {names} undefined in some runs (a failed run, or a cohort half-life "
            "beyond the horizon); choose another output"
        )
    return values.reshape(len(points), replications, len(outputs)).mean(axis=1)


def _value(runs: dict[str, dict], output: Output) -> float:
    def read(strategy: str) -> float:
        run = runs[strategy]
        value = run.get(output.outcome) if run["status"] == "done" else None
        return float("nan") if value is None else float(value)

    value = read(output.strategy)
    return value - read(output.minus) if output.minus else value


__all__ = [
    "AnalysisError",
    "Output",
    "Space",
    "evaluate",
    "groups",
    "parse_outputs",
    "run_indexed",
    "run_outputs",
    "space_of",
]
