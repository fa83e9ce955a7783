"""One market in shards: parts of its customers simulated apart (on a process pool or a Dask
cluster), whose monthly tables combine into the table of the whole market's run.

A shard simulates a contiguous range of the initial customers' slots (``Shard.first`` to
``Shard.stop``) with the market's seed. Everything random about a customer is a function of
the seed and the customer's slot alone (``model.uniforms``; traits drawn by blocks of slots,
``sim.mechanisms.acquisition.cohort``), so a customer does in a shard exactly what it does in
the whole market's run. Joiners are the market's: every shard draws the month's number of
joiners of the whole market (one number, from the market's size and the acquisition
multipliers) and takes its share of them, the joiners ``k`` with
``count * first // total <= k < count * stop // total``; joiner ``k`` has the same slot and
traits in every shard plan.

**What combines exactly.** Every count of the monthly table (customers, joiners, exits by
reason, failures by path, term ends) is the sum of the shards' and equals the whole run's,
bit for bit; so do the rates and shares computed from them (``churn_rate``,
``cohort_churn_rate``, ``share_<type>``) and the bond x rational value plane. Sums of money
(``revenue``, costs, ``exit_fees``, ``points_liability``, ``margin``) and mean states
(``mean_bond``...) are sums of the same customers' values added in another order: they agree
with the whole run's to rounding (a relative difference below 1e-6; float32 sums inside
programs dominate it), never more.

**What is refused** (``ShardError``, one line, exit 2): anything that couples customers
across shards, where a shard would need the other shards' customers:

* a program's ``budget``: a firm-wide spending cap, spent in a random order over all
  customers;
* ``target.churn_risk_top_share``: the riskiest share of *all* active customers, by rank;
* the firm's own customers (``population``, ``run --population``): a table, not slots;
* market behaviours and plug-in programs: their hooks may read the whole population (a
  word-of-mouth multiplier, say) and are not audited here;
* at run time, any draw from a stream shared by the whole market (``model.stream``) other
  than the cohort's and the joiners': ``personal_appreciation`` draws one when its staff
  capacity binds (more contacts drawn than ``capacity_per_1000_customers_month`` allows),
  which the whole run would share out over all customers. If no shard's capacity binds, the
  whole market's does not either (the shards' capacities add up to at most the market's), so
  a sharded run that finishes is exact.

Targeting by segment, tenure, spend, attention, contract, ``churn_risk_above`` and ``share``
concerns each customer alone and is exact.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import UserError

if TYPE_CHECKING:
    from sim.market import Market
    from sim.model import RunResult
    from sim.strategy import Strategy

# Streams a shard may draw from: the cohort's blocks and the joiners' count and blocks, which
# every shard draws alike (``population``, ``population.<block>``, ``acquisition``, ...).
SHARED_STREAMS = ("population", "acquisition")


class ShardError(UserError):
    """A run that cannot be split into shards exactly: the message names the key or the draw."""


@dataclass(frozen=True)
class Shard:
    """Initial customers ``first..stop-1`` (slots) of a market of ``total``; shard ``index``."""

    first: int
    stop: int
    total: int
    index: int = 0

    @property
    def whole(self) -> bool:
        return self.first == 0 and self.stop == self.total

    def joiners(self, count: int) -> tuple[int, int]:
        """This shard's joiners ``first..stop-1`` of the market's ``count`` this month: the
        same share as of the initial slots, so shards' joiners add up to ``count``."""
        return count * self.first // self.total, count * self.stop // self.total

    def check_stream(self, purpose: str, month: int) -> None:
        """A draw from a stream of the whole market: allowed only where every shard draws it alike."""
        if self.whole or purpose.split(".", 1)[0] in SHARED_STREAMS:
            return
        raise ShardError(
            f"--shards: the run draws '{purpose}' in month {month} from one stream over the whole "
            f"market (shard {self.index}, customers {self.first:,}..{self.stop - 1:,}), which shards "
            "cannot share out as one run would (a staff capacity that binds, say); run without "
            "--shards, or with fewer, larger shards"
        )


def plan(customers: int, shards: int) -> list[Shard]:
    """``shards`` contiguous ranges of the ``customers`` initial slots, as equal as can be."""
    if not 1 <= shards <= customers:
        raise ShardError(f"--shards: expected 1 to {customers:,} (the customers), got {shards}")
    bounds = [customers * i // shards for i in range(shards + 1)]
    return [Shard(bounds[i], bounds[i + 1], customers, i) for i in range(shards)]


def check(strategy: Strategy, market: Market) -> None:
    """Refuse a strategy and market whose customers are coupled beyond a shard (see the module)."""
    from sim.plugins import BUILT_IN, source_of
    from sim.programs import PROGRAMS

    if market.customer_base is not None:
        raise ShardError(
            "--shards: population: the firm's own customers (a customer table) cannot be sharded"
        )
    if market.behaviours:
        names = ", ".join(spec.name for spec in market.behaviours)
        raise ShardError(
            f"--shards: market behaviours ({names}) are not audited for shards; run without --shards"
        )
    for spec in strategy.programs:
        where = f"--shards: strategy '{strategy.name}', program '{spec.name}'"
        if source_of(PROGRAMS.get(spec.name)) != BUILT_IN:
            raise ShardError(f"{where}: a plug-in program is not audited for shards; run without --shards")
        if spec.budget is not None:
            raise ShardError(
                f"{where}: budget: a firm-wide spending cap couples all customers, not shardable"
            )
        if spec.target is not None and spec.target.churn_risk_top_share is not None:
            raise ShardError(
                f"{where}: target.churn_risk_top_share ranks all active customers, not shardable "
                "(churn_risk_above is)"
            )


def run_shard(
    task: tuple[Strategy, Market, int, int | np.random.SeedSequence, Shard],
) -> tuple[int, RunResult]:
    """Simulate one shard (in a worker): (strategy, market, months, model seed, shard) -> its
    index and its result; ``sim.runs.run_sharded`` hands these out."""
    from sim.model import LoyaltyModel

    strategy, market, months, seed, shard = task
    model = LoyaltyModel(strategy, market, shard.total, months, rng=seed, shard=shard)
    result = model.run()
    # The model sits in reference cycles (Mesa's model and its data collector): without a
    # collection its arrays would outlive it, and a worker would hold two shards at once.
    del model
    gc.collect()
    return shard.index, result


def combine(parts: Sequence[RunResult], gross_margin_share: float) -> RunResult:
    """The whole market's result from its shards' (in shard order): counts summed, rates,
    shares and means recomputed from the sums (see the module on what is exact)."""
    import polars as pl

    from sim.model import RunResult

    first = parts[0]
    customers = first.customers  # every shard's model holds the market's size
    columns = {
        name: np.sum([part.monthly[name].to_numpy() for part in parts], axis=0)
        for name in first.monthly.columns
        if name != "month" and not name.startswith(("mean_", "share_", "churn_rate", "cohort_churn_rate"))
    }
    active = columns["active_total"]
    each_active = [part.monthly["active_total"].to_numpy() for part in parts]
    for name in first.monthly.columns:
        if name.startswith("mean_"):  # weighted by the shards' active customers
            weighted = np.sum(
                [p.monthly[name].to_numpy() * n for p, n in zip(parts, each_active, strict=True)], axis=0
            )
            columns[name] = np.divide(weighted, active, out=np.zeros(active.size), where=active > 0)
        elif name.startswith("share_"):  # back to counts, which are whole numbers
            counts = np.sum(
                [np.rint(p.monthly[name].to_numpy() * n) for p, n in zip(parts, each_active, strict=True)],
                axis=0,
            )
            columns[name] = np.divide(counts, active, out=np.zeros(active.size), where=active > 0)
    # Customers at a month's start are those active at the end of the month before.
    at_start = np.concatenate([[customers], active[:-1]])
    initial = columns["active_initial"]
    initial_at_start = np.concatenate([[customers], initial[:-1]])
    columns["churn_rate"] = columns["churned_total"] / np.maximum(1, at_start)
    columns["cohort_churn_rate"] = (initial_at_start - initial) / np.maximum(1, initial_at_start)
    columns["margin"] = gross_margin_share * columns["revenue"] - columns["program_cost"]
    columns["month"] = first.monthly["month"].to_numpy()
    monthly = pl.DataFrame(
        {name: columns[name] for name in first.monthly.columns}, schema=first.monthly.schema
    )
    cost_by_program: dict[str, float] = {}
    for part in parts:
        for program, eur in part.cost_by_program.items():
            cost_by_program[program] = cost_by_program.get(program, 0.0) + eur
    planes = [part.horizon_plane for part in parts]
    plane = None if any(p is None for p in planes) else np.sum(planes, axis=0)
    return RunResult(first.strategy, customers, first.seed, monthly, cost_by_program, None, plane)
