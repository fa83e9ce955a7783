"""Optimisation: the best settings of a strategy for one or two objectives under a budget.

The scenario's ``[optimise]`` table names the strategy to decide, its decision variables (any
path of the file, see :mod:`sim.analysis.decisions`) with their ranges, one or two objectives
and an optional budget (the mean program cost over the horizon, EUR)::

    [optimise]
    strategy = "mix"
    objectives = ["clv"]          # or two: ["retained", "cost"] (a Pareto front)
    budget = 400_000
    evaluations = 60              # candidates tried
    replications = 3              # runs per candidate, the same seeds for every candidate
    batch = 6                     # candidates per round (run in parallel; NSGA-II's population)
    finalists = 4                 # the best candidates (or the front) re-run with fresh seeds
    final_replications = 10

    [optimise.variables]
    "strategies.mix.programs[0].params.contacts_per_year" = [0.0, 12.0]   # a number in a range
    "strategies.mix.programs[1].end_month" = [12, 60]                     # whole numbers
    "strategies.mix.programs[1].enabled" = [false, true]                  # the program on or off
    "strategies.mix.programs[2].params.reward_share_of_spend" = { choices = [0.01, 0.02, 0.05] }

**Search.** Optuna's TPE sampler for one objective, NSGA-II for two, both with the budget as a
constraint (a candidate over budget is infeasible, however good). Candidates are asked in
rounds of ``batch``; a round's runs go to the sweep executor (process pool or Dask) together
and are told back in order. The sampler of each round is seeded from the scenario's seed and
the round's number, so the same file gives the same search on any executor, with any number
of workers, and after a resume.

**Common random numbers.** Every candidate runs with the same ``replications`` seeds, so the
differences between candidates come from their settings, not from noise.

**No winner's curse.** The best of many noisy candidates looks better than it is. The
finalists (the best ``finalists`` feasible candidates, or the feasible Pareto front) are chosen
on the search's numbers and then run again, with the baseline, on ``final_replications``
*fresh* seeds that the search never saw; only those runs give the reported means and 95%
intervals. The recommended strategy is the finalist that was best in the search.

**Resumable.** Every evaluated candidate is written at once (atomically) to
``optimise/trials/``; an interrupted run started again with ``--resume`` replays the stored
candidates into a new study and evaluates only what is missing, reaching the same result.
"""

from __future__ import annotations

import json
import math
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sim.analysis.decisions import (
    Objective,
    check_keys,
    did_you_mean,
    integer,
    objectives_of,
    prepare_store,
    relocatable,
    scenario_with,
    section,
    set_values,
    stored_records,
    write_json,
)
from sim.analysis.space import AnalysisError, run_indexed
from sim.analysis.statistics import t_interval
from sim.batch import Batch, BatchResult
from sim.defaults import MAX_REPLICATIONS
from sim.executors import Executor
from sim.i18n import display_name, in_every_language, strategy_words
from sim.io import write_atomic
from sim.scenario import Scenario
from sim.seeds import replication_seed
from sim.sweep import WriterLock

KEYS = (
    "strategy",
    "objectives",
    "budget",
    "evaluations",
    "replications",
    "batch",
    "finalists",
    "final_replications",
    "variables",
)
MAX_EVALUATIONS = 10_000
FRESH = (("optimise", "fresh seeds"),)  # the seed point of the finalists' runs: never searched


@dataclass(frozen=True)
class Variable:
    """A decision variable: a path and its range (``low``..``high``) or its ``choices``."""

    path: str
    low: float | int | None = None
    high: float | int | None = None
    choices: tuple[Any, ...] = ()

    @property
    def integer(self) -> bool:
        return not self.choices and isinstance(self.low, int) and isinstance(self.high, int)

    def distribution(self) -> Any:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.choices:
            return CategoricalDistribution(self.choices)
        if self.integer:
            return IntDistribution(int(self.low), int(self.high))
        return FloatDistribution(float(self.low), float(self.high))

    def corners(self) -> tuple[Any, Any]:
        return (self.choices[0], self.choices[-1]) if self.choices else (self.low, self.high)


@dataclass(frozen=True)
class Settings:
    """The checked ``[optimise]`` table."""

    strategy: str
    objectives: tuple[Objective, ...]
    budget: float | None
    evaluations: int
    replications: int
    batch: int
    finalists: int
    final_replications: int
    variables: tuple[Variable, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "objectives": [o.name for o in self.objectives],
            "budget": self.budget,
            "evaluations": self.evaluations,
            "replications": self.replications,
            "batch": self.batch,
            "finalists": self.finalists,
            "final_replications": self.final_replications,
            "variables": {v.path: list(v.choices) if v.choices else [v.low, v.high] for v in self.variables},
        }


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _variable(path: str, spec: Any, where: str) -> Variable:
    at = f'{where}."{path}"'
    if isinstance(spec, dict) and set(spec) == {"choices"}:
        choices = spec["choices"]
        if (
            isinstance(choices, list)
            and len(choices) >= 2
            and all(isinstance(c, bool | str) or _number(c) for c in choices)
            and len({json.dumps(c) for c in choices}) == len(choices)
        ):
            return Variable(path, choices=tuple(choices))
        raise AnalysisError(
            f"{at}.choices: expected at least two different values, found {json.dumps(choices)}"
        )
    if (
        isinstance(spec, list)
        and len(spec) == 2
        and all(isinstance(v, bool) for v in spec)
        and spec[0] != spec[1]
    ):
        return Variable(path, choices=tuple(spec))
    if isinstance(spec, list) and len(spec) == 2 and all(_number(v) for v in spec):
        if spec[0] >= spec[1]:
            raise AnalysisError(
                f"{at}: expected [low, high] with low < high, found an empty range {json.dumps(spec)}"
            )
        return Variable(path, low=spec[0], high=spec[1])
    raise AnalysisError(
        f"{at}: expected [low, high] (numbers; whole numbers give integers), [false, true] or "
        f"{{ choices = [...] }}, found {json.dumps(spec)}"
    )


def settings_of(scenario: Scenario, evaluations: int | None = None) -> Settings:
    """Check the scenario's ``[optimise]`` table and its variables (each set at both ends of its
    range must give a valid scenario); every mistake is one line naming the file and key."""
    table = section(scenario, "optimise")
    where = f"{scenario.file}: optimise"
    check_keys(table, KEYS, "optimise", scenario.file)
    strategy = table.get("strategy")
    names = list(scenario.strategies)
    if strategy is None and len([n for n in names if n != scenario.baseline]) == 1:
        strategy = next(n for n in names if n != scenario.baseline)
    if strategy not in names:
        raise AnalysisError(
            f"{where}.strategy: expected the strategy to decide, one of {', '.join(names)}, "
            f"found {json.dumps(strategy)}{did_you_mean(str(strategy), names)}"
        )
    objectives = objectives_of(table.get("objectives", ["clv"]), f"{where}.objectives")
    budget = table.get("budget")
    if budget is not None and not (_number(budget) and budget > 0):
        raise AnalysisError(f"{where}.budget: expected a positive amount in EUR, found {json.dumps(budget)}")
    raw_variables = table.get("variables")
    if not isinstance(raw_variables, dict) or not raw_variables:
        raise AnalysisError(
            f"{where}.variables: expected a table of decision variables, e.g. "
            f'"strategies.{strategy}.programs[0].params.contacts_per_year" = [0.0, 12.0], '
            f"found {json.dumps(raw_variables)}"
        )
    variables = tuple(_variable(p, s, f"{where}.variables") for p, s in raw_variables.items())
    settings = Settings(
        strategy=strategy,
        objectives=objectives,
        budget=None if budget is None else float(budget),
        evaluations=evaluations or integer(table, "evaluations", 60, 2, MAX_EVALUATIONS, where),
        replications=integer(table, "replications", 3, 1, MAX_REPLICATIONS, where),
        batch=integer(table, "batch", 6, 2, 256, where),
        finalists=integer(table, "finalists", 4, 1, 100, where),
        final_replications=integer(table, "final_replications", 10, 2, MAX_REPLICATIONS, where),
        variables=variables,
    )
    _check_variables(scenario, settings)
    return settings


def _check_variables(scenario: Scenario, settings: Settings) -> None:
    """Every variable must belong to the decided strategy or the market, and both ends of every
    range must build: unknown keys and out-of-range values are found before anything runs."""
    prefix = f"strategies.{settings.strategy}"
    for variable in settings.variables:
        if variable.path.startswith("strategies.") and not (
            variable.path.startswith(prefix + ".") or variable.path.startswith(prefix + "[")
        ):
            other = variable.path.split(".")[1].split("[")[0] if "." in variable.path else ""
            hint = did_you_mean(other, [settings.strategy])
            raise AnalysisError(
                f'{scenario.file}: optimise.variables."{variable.path}": expected a path of the decided '
                f"strategy '{settings.strategy}' ({prefix}...) or of the market, "
                f"found strategy '{other}'{hint}"
            )
        for end in variable.corners():
            candidate(scenario, settings, {variable.path: end}, f'optimise.variables."{variable.path}"')


def candidate(scenario: Scenario, settings: Settings, params: dict[str, Any], where: str) -> Scenario:
    """The scenario with a candidate's values set (its grid left out: the base market)."""
    raw = set_values(scenario.raw, params, scenario.file, "optimise.variables")
    raw.pop("grid", None)
    raw.pop("variants", None)
    return scenario_with(scenario, raw, where)


# --- storage -----------------------------------------------------------------------------------


def _prepare(out: Path, scenario: Scenario, settings: Settings, resume: bool, force: bool) -> Path:
    # --evaluations may grow on --resume: the stored candidates are the start of the longer search
    identity = {
        "scenario_sha256": scenario.hash(),
        "settings": {k: v for k, v in settings.to_json().items() if k != "evaluations"},
    }
    return prepare_store(out, "optimise", "an optimisation", identity, scenario, resume, force, "trials")


def _stored(trials: Path) -> dict[int, dict[str, Any]]:
    stored = {}
    for record in stored_records(trials).values():
        try:
            stored[int(record["number"])] = record
        except (KeyError, TypeError, ValueError):
            continue  # not a candidate's record: the candidate runs again
    return stored


# --- evaluation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """The runs of one candidate: per objective and replication, the cost per replication."""

    values: dict[str, list[float]]  # objective name -> one value per replication
    cost: list[float]
    baseline: dict[str, list[float]] | None = None  # the baseline's, on the same seeds (finalists)
    baseline_cost: list[float] | None = None


TASKS_PER_WORKER = 8  # tasks of a round per worker: few enough to amortise, enough to balance


def _groups(candidates: list[tuple[int, Scenario]], seeds: int, workers: int) -> list[list[int]]:
    """The candidates (positions in ``candidates``) that run together in one task, per seed.

    A task is one seed and several candidates with the same market (sim.batch.Batch runs each
    strategy on its own, so grouping never changes a result): few tasks per worker amortise
    what each task costs on its way to a worker and back (a Dask cluster's scheduler and
    transfers above all); at least ``TASKS_PER_WORKER`` per worker in a round keep the workers
    evenly busy up to the round's end.
    """
    by_market: dict[bytes, list[int]] = {}
    for position, (_, built) in enumerate(candidates):
        key = pickle.dumps((built.market, built.customers, built.months))
        by_market.setdefault(key, []).append(position)
    chunks = max(1, math.ceil(TASKS_PER_WORKER * workers / seeds))  # per seed, over all markets
    size = max(1, math.ceil(len(candidates) / chunks))
    return [members[i : i + size] for members in by_market.values() for i in range(0, len(members), size)]


def _evaluate(
    scenario: Scenario,
    settings: Settings,
    candidates: list[tuple[int, Scenario]],
    seeds: list[tuple[int, ...]],
    executor: Executor,
    with_baseline: bool = False,
) -> dict[int, Evaluation]:
    """Run every candidate (key, scenario) on every seed, in tasks of several candidates that
    share a seed and a market (:func:`_groups`), the baseline once per task when asked for;
    results by key, whatever the order or the grouping."""
    tasks, slots = [], []
    for group in _groups(candidates, len(seeds), executor.workers):
        built = candidates[group[0]][1]
        strategies = [candidates[i][1].strategies[settings.strategy] for i in group]
        if with_baseline:  # the baseline in the candidates' market, as each of them would run it
            strategies.append(scenario.strategies[scenario.baseline])
        for replication, seed in enumerate(seeds):
            batch = Batch(
                (("candidates", ",".join(str(candidates[i][0]) for i in group)),),
                replication,
                seed,
                built.market,
                tuple(strategies),
                built.customers,
                built.months,
            )
            tasks.append((len(tasks), batch))
            slots.append(([candidates[i][0] for i in group], replication))
    rows: dict[int, dict[int, dict[str, Any]]] = {key: {} for key, _ in candidates}
    baselines: dict[int, dict[int, dict[str, Any]]] = {key: {} for key, _ in candidates}
    for index, result in executor.run(run_indexed, tasks):
        keys, replication = slots[index]
        runs = _checked(result)
        for key, run in zip(keys, runs[: len(keys)], strict=True):
            rows[key][replication] = run
            if with_baseline:
                baselines[key][replication] = runs[-1]
    customers = {key: built.customers for key, built in candidates}
    out = {}
    for key, by_replication in rows.items():
        ordered = [by_replication[r] for r in range(len(seeds))]
        base = [baselines[key][r] for r in range(len(seeds))] if with_baseline else []
        out[key] = Evaluation(
            {o.name: [o.value(run, customers[key]) for run in ordered] for o in settings.objectives},
            [float(run["program_cost"]) for run in ordered],
            {o.name: [o.value(run, customers[key]) for run in base] for o in settings.objectives}
            if with_baseline
            else None,
            [float(run["program_cost"]) for run in base] if with_baseline else None,
        )
    return out


def _checked(result: BatchResult) -> list[dict[str, Any]]:
    for run in result.runs:
        if run["status"] != "done":
            raise RuntimeError(f"a run of strategy '{run['strategy']}' failed: {run['error']}")
    return result.runs


def search_seeds(scenario: Scenario, replications: int) -> list[tuple[int, ...]]:
    """The seeds every candidate runs on (common random numbers)."""
    return [replication_seed(scenario.name, scenario.seed, (), r) for r in range(replications)]


def fresh_seeds(scenario: Scenario, replications: int) -> list[tuple[int, ...]]:
    """Seeds the search never used: the finalists' honest estimates."""
    return [replication_seed(scenario.name, scenario.seed, FRESH, r) for r in range(replications)]


# --- the search ----------------------------------------------------------------------------------


def _sampler(settings: Settings, seed: int, round_number: int) -> Any:
    import optuna

    round_seed = int(np.random.SeedSequence([seed, round_number]).generate_state(1)[0])
    if len(settings.objectives) == 1:
        with warnings.catch_warnings():  # optuna marks multivariate TPE experimental: not news to users
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                seed=round_seed, n_startup_trials=max(10, settings.batch), multivariate=True
            )
    return optuna.samplers.NSGAIISampler(population_size=settings.batch, seed=round_seed)


def _constrain(trial: Any, settings: Settings, cost: float) -> None:
    """The budget as a constraint the samplers respect (feasible when <= 0)."""
    if settings.budget is not None:
        trial.set_constraint("budget", cost - settings.budget)


def _replay(study: Any, record: dict[str, Any], distributions: dict[str, Any]) -> None:
    import optuna

    state = optuna.trial.TrialState.COMPLETE if record["values"] is not None else optuna.trial.TrialState.FAIL
    study.add_trial(
        optuna.trial.create_trial(
            state=state,
            values=record["values"],
            params=record["params"],
            distributions={k: distributions[k] for k in record["params"]},
            user_attrs=record["user_attrs"],
            system_attrs=record["system_attrs"],
        )
    )


@dataclass(frozen=True)
class Optimisation:
    """What :func:`optimise` found: every candidate, the finalists re-run with fresh seeds, the
    recommended one, and where it is written."""

    settings: Settings
    trials: pl.DataFrame  # one row per candidate: its values, means over replications, feasible, front
    finalists: pl.DataFrame  # fresh-seed means and 95% CIs, the baseline's, the paired difference
    winner: int  # the recommended candidate's number
    evaluated: int  # candidates evaluated by this call (the rest were stored)
    summary: dict[str, Any]


def optimise(
    scenario: Scenario,
    out: Path,
    executor: Executor,
    resume: bool = False,
    force: bool = False,
    evaluations: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Optimisation:
    """Search the ``[optimise]`` variables of ``scenario`` (see the module doc); write every
    candidate, the tables, ``optimisation.json``, ``winner.toml`` and ``front.toml`` to ``out``,
    which is locked meanwhile (a second writer is refused)."""
    settings = settings_of(scenario, evaluations)
    if settings.budget is not None and not resume:
        _check_budget_reachable(scenario, settings, settings.budget, executor)
    out.mkdir(parents=True, exist_ok=True)
    with WriterLock(out):
        return _optimise(scenario, settings, out, executor, resume, force, on_progress)


def _check_budget_reachable(
    scenario: Scenario, settings: Settings, budget: float, executor: Executor
) -> None:
    """Before anything is written: run the cheapest settings (every variable at the low end of
    its range, the first of its choices, so programs off and least intensive: the cheapest when
    more of a program costs more) on the search's seeds; over the budget, no candidate can meet
    it and the search would only find that out at its end."""
    cheapest = {v.path: v.corners()[0] for v in settings.variables}
    built = candidate(scenario, settings, cheapest, "optimise.variables (every one at its low end)")
    seeds = search_seeds(scenario, settings.replications)
    (pilot,) = _evaluate(scenario, settings, [(0, built)], seeds, executor).values()
    cost = float(np.mean(pilot.cost))
    if cost > budget:
        raise AnalysisError(
            f"{scenario.file}: optimise.budget: expected a budget some candidate can meet, found "
            f"{budget:,.0f} EUR below the cheapest settings' {cost:,.0f} EUR (every variable "
            f"at the low end of its range or its first choice); raise the budget or widen the ranges"
        )


def _optimise(
    scenario: Scenario,
    settings: Settings,
    out: Path,
    executor: Executor,
    resume: bool,
    force: bool,
    on_progress: Callable[[int, int], None] | None,
) -> Optimisation:
    import optuna

    trials_folder = _prepare(out, scenario, settings, resume, force)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = ["maximize" if o.maximise else "minimize" for o in settings.objectives]
    study = optuna.create_study(directions=directions, sampler=_sampler(settings, scenario.seed, 0))
    distributions = {v.path: v.distribution() for v in settings.variables}
    stored = _stored(trials_folder)
    seeds = search_seeds(scenario, settings.replications)
    evaluated = 0
    total = settings.evaluations
    for start in range(0, total, settings.batch):
        numbers = range(start, min(start + settings.batch, total))
        if on_progress:  # in runs, as every analysis reports: candidates x replications
            on_progress(start * settings.replications, total * settings.replications)
        if all(n in stored for n in numbers):
            for n in numbers:
                _replay(study, stored[n], distributions)
            continue
        study.sampler = _sampler(settings, scenario.seed, start // settings.batch)
        trials = [study.ask(distributions) for _ in numbers]
        built, failed = [], {}
        for trial in trials:
            if trial.number in stored:
                continue
            try:
                built.append(
                    (trial.number, candidate(scenario, settings, trial.params, f"candidate {trial.number}"))
                )
            except AnalysisError as error:  # a combination of values the scenario does not allow
                failed[trial.number] = str(error)
        results = _evaluate(scenario, settings, built, seeds, executor)
        evaluated += len(results)
        for trial in trials:
            record = stored.get(trial.number)
            if record is not None:
                _tell_stored(study, settings, trial, record)
                continue
            record = _tell(study, settings, trial, results.get(trial.number), failed.get(trial.number))
            write_json(trials_folder / f"trial-{trial.number:05d}.json", record)
    if on_progress:
        on_progress(total * settings.replications, total * settings.replications)
    return _finish(scenario, settings, study, out, executor, evaluated)


def _tell(study: Any, settings: Settings, trial: Any, result: Evaluation | None, error: str | None) -> dict:
    import optuna

    if result is None:
        trial.set_user_attr("error", error)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        values = None
    else:
        trial.set_user_attr("cost", float(np.mean(result.cost)))
        _constrain(trial, settings, float(np.mean(result.cost)))
        trial.set_user_attr("replications", {**result.values, "cost": result.cost})
        values = [float(np.mean(result.values[o.name])) for o in settings.objectives]
        study.tell(trial, values)
    frozen = study.trials[trial.number]
    return {
        "number": trial.number,
        "params": trial.params,
        "values": values,
        "user_attrs": frozen.user_attrs,
        "system_attrs": frozen.system_attrs,
    }


def _tell_stored(study: Any, settings: Settings, trial: Any, record: dict[str, Any]) -> None:
    """A candidate of an interrupted round that was stored: told from its record, not re-run."""
    import optuna

    if record["params"] != trial.params:
        raise RuntimeError(f"stored candidate {trial.number} differs from the search's; use --force")
    for key, value in record["user_attrs"].items():
        trial.set_user_attr(key, value)
    if record["values"] is None:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    else:
        _constrain(trial, settings, record["user_attrs"]["cost"])
        study.tell(trial, record["values"])


# --- finalists, the winner, the files -------------------------------------------------------------


def _trials_table(settings: Settings, study: Any) -> pl.DataFrame:
    rows = []
    for trial in study.trials:
        values = trial.values or [None] * len(settings.objectives)
        cost = trial.user_attrs.get("cost")
        rows.append(
            {
                "candidate": trial.number,
                **{f"{o.name}_mean": v for o, v in zip(settings.objectives, values, strict=True)},
                "cost_mean": cost,
                "feasible": trial.values is not None
                and (settings.budget is None or (cost is not None and cost <= settings.budget)),
                "error": trial.user_attrs.get("error"),
                "params": json.dumps(trial.params),
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def pareto_front(settings: Settings, trials: pl.DataFrame) -> list[int]:
    """The feasible candidates no other feasible candidate beats on every objective, ordered by
    the first objective (with one objective: the best)."""
    # a candidate asked twice (NSGA-II can) counts once, as its first evaluation
    feasible = trials.filter(pl.col("feasible")).unique("params", keep="first", maintain_order=True)
    first = settings.objectives[0]
    ordered = feasible.sort(f"{first.name}_mean", descending=first.maximise, maintain_order=True)
    signs = np.array([1.0 if o.maximise else -1.0 for o in settings.objectives])
    points = ordered.select([f"{o.name}_mean" for o in settings.objectives]).to_numpy() * signs
    front = [i for i, p in enumerate(points) if not any(np.all(q >= p) and np.any(q > p) for q in points)]
    return [int(ordered["candidate"][i]) for i in front]


def _finalists(settings: Settings, trials: pl.DataFrame) -> list[int]:
    """The best ``finalists`` feasible candidates (one objective), or members of the Pareto front
    (two), evenly spread along it when it has more."""
    if len(settings.objectives) == 1:
        feasible = trials.filter(pl.col("feasible")).unique("params", keep="first", maintain_order=True)
        first = settings.objectives[0]
        ordered = feasible.sort(f"{first.name}_mean", descending=first.maximise, maintain_order=True)
        return ordered["candidate"].head(settings.finalists).to_list()
    chosen = pareto_front(settings, trials)
    if len(chosen) > settings.finalists:
        picks = np.unique(np.round(np.linspace(0, len(chosen) - 1, settings.finalists)).astype(int))
        chosen = [chosen[i] for i in picks]
    return chosen


def _interval(values: list[float]) -> tuple[float, float, float]:
    array = np.asarray(values, dtype=float)
    low, high = t_interval(array.mean(), array.std(ddof=1), len(array))
    return float(array.mean()), float(low), float(high)


def _finish(
    scenario: Scenario, settings: Settings, study: Any, out: Path, executor: Executor, evaluated: int
) -> Optimisation:
    trials = _trials_table(settings, study)
    trials = trials.with_columns(pl.col("candidate").is_in(pareto_front(settings, trials)).alias("front"))
    finalists = _finalists(settings, trials)
    if not finalists:
        cheapest = trials["cost_mean"].min()
        found = (
            "no candidate ran" if cheapest is None else f"the cheapest candidate costs {cheapest:,.0f} EUR"
        )
        raise AnalysisError(
            f"{scenario.file}: optimise.budget: expected a budget some candidate can meet, found none "
            f"within {settings.budget:,.0f} EUR ({found}); raise the budget or widen the ranges "
            f"(the {len(trials)} candidates are stored in {out / 'optimise'})"
        )
    params = {n: study.trials[n].params for n in finalists}
    built = [(n, candidate(scenario, settings, params[n], f"candidate {n}")) for n in finalists]
    fresh = _evaluate(
        scenario,
        settings,
        built,
        fresh_seeds(scenario, settings.final_replications),
        executor,
        with_baseline=True,
    )
    rows = []
    for n in finalists:
        evaluation = fresh[n]
        row: dict[str, Any] = {"candidate": n, "params": json.dumps(params[n])}
        for o in settings.objectives:
            row[f"{o.name}_mean"], row[f"{o.name}_ci_low"], row[f"{o.name}_ci_high"] = _interval(
                evaluation.values[o.name]
            )
            row[f"{o.name}_baseline_mean"] = float(np.mean(evaluation.baseline[o.name]))
            difference = np.subtract(evaluation.values[o.name], evaluation.baseline[o.name])
            row[f"{o.name}_diff_mean"], row[f"{o.name}_diff_ci_low"], row[f"{o.name}_diff_ci_high"] = (
                _interval(list(difference))
            )
        row["cost_mean"], row["cost_ci_low"], row["cost_ci_high"] = _interval(evaluation.cost)
        row["baseline_cost_mean"] = float(np.mean(evaluation.baseline_cost))
        row["within_budget"] = settings.budget is None or row["cost_mean"] <= settings.budget
        rows.append(row)
    table = pl.DataFrame(rows)
    winner = finalists[0]
    display = _display(scenario, settings, finalists, params)
    summary = _summary(scenario, settings, trials, table, winner, params, display)
    write_atomic(out / "optimisation.parquet", trials.write_parquet)
    write_atomic(out / "finalists.parquet", table.write_parquet)
    write_json(out / "optimisation.json", summary)
    for name, chosen in (("winner.toml", [winner]), ("front.toml", finalists)):
        text = strategies_text(scenario, settings, {n: params[n] for n in chosen}, summary, display)
        write_atomic(out / name, lambda tmp, text=text: tmp.write_text(text))
    return Optimisation(settings, trials, table, winner, evaluated, summary)


def _summary(
    scenario: Scenario,
    settings: Settings,
    trials: pl.DataFrame,
    finalists: pl.DataFrame,
    winner: int,
    params: dict[int, dict[str, Any]],
    display: dict[int, dict[str, dict[str, str]]],
) -> dict[str, Any]:
    best = finalists.filter(pl.col("candidate") == winner).row(0, named=True)
    return {
        "scenario": scenario.file,
        "scenario_sha256": scenario.hash(),
        "strategy": settings.strategy,
        "programs": [spec.name for spec in scenario.strategies[settings.strategy].programs],
        "baseline": scenario.baseline,
        "settings": settings.to_json(),
        "candidates": trials.height,
        "feasible": int(trials["feasible"].sum()),
        "front": int(trials["front"].sum()),
        "winner": {**best, "name": _name(settings, winner), "params": params[winner], **display[winner]},
        "finalists": [
            {**row, "name": _name(settings, row["candidate"]), **display[row["candidate"]]}
            for row in finalists.to_dicts()
        ],
        "customers": scenario.customers,
        "months": scenario.months,
    }


def _name(settings: Settings, number: int) -> str:
    return f"{settings.strategy}_optimised_{number}"


def _display(
    scenario: Scenario, settings: Settings, finalists: list[int], params: dict[int, dict[str, Any]]
) -> dict[int, dict[str, dict[str, str]]]:
    """Each finalist's ``label`` (the decided strategy's display name and a letter in the order
    of the finalists, the recommended one first: "Mix A") and ``description`` (its programs and
    settings in words), in every language of the report."""
    own = scenario.display.get(settings.strategy, {}).get("label")
    display = {}
    for rank, number in enumerate(finalists):
        letter = chr(ord("A") + rank) if rank < 26 else str(rank + 1)
        applied = set_values(scenario.raw, params[number], scenario.file, "optimise.variables")
        strategy = applied["strategies"][settings.strategy]
        display[number] = {
            "label": in_every_language(
                lambda lang, letter=letter: f"{display_name(settings.strategy, lang, own)} {letter}"
            ),
            "description": in_every_language(lambda lang, strategy=strategy: strategy_words(strategy, lang)),
        }
    return display


def strategies_text(
    scenario: Scenario,
    settings: Settings,
    chosen: dict[int, dict[str, Any]],
    summary: dict[str, Any],
    display: dict[int, dict[str, dict[str, str]]],
) -> str:
    """A scenario file with the baseline and each chosen candidate as a strategy of its own, with
    its ``label`` and ``description`` from ``display`` (the ``[optimise]`` table left out, every
    other table as in the file); checked by loading it."""
    import tomli_w

    raw = dict(scenario.raw)
    strategies = {scenario.baseline: raw["strategies"][scenario.baseline]}
    for number, values in chosen.items():
        applied = set_values(scenario.raw, values, scenario.file, "optimise.variables")
        strategy = applied["strategies"][settings.strategy]
        programs = strategy.get("programs", []) if isinstance(strategy, dict) else strategy
        strategies[_name(settings, number)] = {
            **(strategy if isinstance(strategy, dict) else {}),
            "programs": programs,
            **display[number],
        }
    # values outside the strategy (the market, service) are shared: the first candidate's (the winner's)
    market_paths = {
        p: v
        for values in reversed(list(chosen.values()))
        for p, v in values.items()
        if not p.startswith("strategies")
    }
    raw = set_values({**raw, "strategies": strategies}, market_paths, scenario.file, "optimise.variables")
    raw.pop("optimise", None)
    raw["baseline"] = scenario.baseline
    raw["name"] = f"{scenario.name}-optimised"
    objectives = ", ".join(o.name for o in settings.objectives)
    lines = [
        f"# Written by `loyalty-sim optimise` from {scenario.file}: {settings.strategy} searched for "
        f"{objectives}",
        f"# over {summary['candidates']} candidates x {settings.replications} replications "
        "(common random numbers)"
        + (f", budget {settings.budget:,.0f} EUR" if settings.budget is not None else "")
        + ";",
        f"# finalists re-run on {settings.final_replications} fresh seeds (optimisation.json).",
        *(
            f"# {_name(settings, n)}: " + ", ".join(f"{p} = {v}" for p, v in values.items())
            for n, values in chosen.items()
        ),
        "",
    ]
    raw = relocatable(raw, scenario.file)
    text = "\n".join(lines) + tomli_w.dumps(raw)
    scenario_with(scenario, raw, "the written strategies", drop=("optimise",))
    return text


__all__ = [
    "FRESH",
    "Evaluation",
    "Optimisation",
    "Settings",
    "Variable",
    "candidate",
    "fresh_seeds",
    "optimise",
    "pareto_front",
    "search_seeds",
    "settings_of",
    "strategies_text",
]
