"""One way to run the model: strategies x seeds on one market, with optional probes.

Every entry point that simulates goes through :func:`run_strategies`: ``loyalty-sim run``, a
sweep's batches (``sim.batch``), ``explore``, the claims audit, calibration and scenario
analyses (through batches), and the sweep's time estimate. Strategies run with the same seed
start from the same customers and share their random numbers (common random numbers).

A *probe* measures what a run's tables do not hold (the claims audit's forgiveness, say): a
fresh probe is made for every run, ``observe(model)`` is called after every month and
``value()`` once at the horizon. Probes read the model; they must not draw random numbers or
change state, so a run with probes gives the same results as one without.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sim.defaults import CUSTOMERS, MONTHS, SEED
from sim.market import Market
from sim.model import LoyaltyModel, RunResult
from sim.seeds import Entropy
from sim.shards import check, combine, plan, run_shard
from sim.strategy import Strategy

if TYPE_CHECKING:
    from sim.executors import Executor

# An int (recorded as the run's seed), the entropy of a SeedSequence (as sim.seeds derives it)
# or a SeedSequence.
Seed = int | Entropy | np.random.SeedSequence


class Probe(Protocol):
    """Measures a quantity during a run: ``observe`` after every month, ``value`` at the end."""

    def observe(self, model: LoyaltyModel) -> None: ...

    def value(self) -> Any: ...


@dataclass(frozen=True)
class StrategyRun:
    """One strategy run with one seed: its result (None when it failed) and its probes' values."""

    strategy: Strategy
    seed: Seed
    result: RunResult | None
    probes: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None


def model_seed(seed: Seed) -> int | np.random.SeedSequence:
    """What ``LoyaltyModel(rng=...)`` takes: an int stays an int, entropy becomes a SeedSequence."""
    if isinstance(seed, tuple | list):
        return np.random.SeedSequence(list(seed))
    return seed


def run_strategies(
    strategies: Iterable[Strategy],
    market: Market | None = None,
    customers: int = CUSTOMERS,
    months: int = MONTHS,
    seeds: Iterable[Seed] = (SEED,),
    *,
    probes: Mapping[str, Callable[[], Probe]] | None = None,
    record_customers: bool = False,
    keep_going: bool = False,
) -> list[StrategyRun]:
    """Run every strategy with every seed on ``market``; runs in (seed, strategy) order.

    Args:
        probes: name -> factory of a :class:`Probe`; each run gets fresh probes.
        record_customers: keep the per-customer records (``RunResult.customer_records``).
        keep_going: record a failing run (``error`` set, ``result`` None) and go on; by
            default the error propagates.
    """
    strategies = tuple(strategies)
    runs = []
    for seed in seeds:
        for strategy in strategies:
            try:
                run = _run_one(strategy, market, customers, months, seed, probes or {}, record_customers)
                runs.append(run)
            except Exception as error:
                if not keep_going:
                    raise
                runs.append(StrategyRun(strategy, seed, None, error=error))
    return runs


def _run_one(
    strategy: Strategy,
    market: Market | None,
    customers: int,
    months: int,
    seed: Seed,
    probes: Mapping[str, Callable[[], Probe]],
    record_customers: bool,
) -> StrategyRun:
    model = LoyaltyModel(strategy, market, customers, months, rng=model_seed(seed))
    active = {name: make() for name, make in probes.items()}
    if active:
        while model.month < model.months:
            model.step()
            for probe in active.values():
                probe.observe(model)
    result = model.run(customers=record_customers)
    return StrategyRun(strategy, seed, result, {name: p.value() for name, p in active.items()})


def run_sharded(
    strategy: Strategy,
    market: Market,
    customers: int,
    months: int,
    seed: Seed,
    shards: int,
    executor: Executor,
    finished: Callable[[], object] | None = None,
) -> RunResult:
    """The whole market's run of ``strategy`` with ``seed``, simulated in ``shards`` shards
    (``sim.shards``) on ``executor``; ``finished`` is called as each shard finishes. Same
    seed, same result, whatever the executor and its workers: shards combine in shard order."""
    check(strategy, market)
    tasks = [(strategy, market, months, model_seed(seed), shard) for shard in plan(customers, shards)]
    parts = {}
    for index, result in executor.run(run_shard, tasks):
        parts[index] = result
        if finished is not None:
            finished()
    return combine([parts[i] for i in range(shards)], market.gross_margin_share)


__all__ = ["Probe", "Seed", "StrategyRun", "model_seed", "run_sharded", "run_strategies"]
