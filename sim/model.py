"""The Mesa model: population, firm strategy, market, one random generator, the step order."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import polars as pl

from sim import kernels
from sim.behaviours import Behaviour, ExitHazards, exit_hazard_factors
from sim.defaults import CUSTOMERS, MONTHS
from sim.flows import MonthFlows
from sim.market import Market
from sim.mechanisms import acquisition, adaptation, ageing, attention, decision, offers, service
from sim.mechanisms.decision import TERM_END_ACTIONS
from sim.mechanisms.service import FAILURE_PATHS
from sim.mesa_tools import from_keywords, outcome_collector
from sim.outcomes import (
    COST_CATEGORIES,
    LOYALTY_TYPES,
    LoyaltyTypes,
    MonthlyRecorder,
    bond_value_plane,
    customer_frame,
    loyalty_type_counts,
    run_summary,
)
from sim.plugins import call_hook, report, reporter_names
from sim.population import EXIT_REASONS, Column, Population
from sim.programs import Program, Terms, under_contract
from sim.shards import Shard
from sim.strategy import Strategy

_THRESHOLDS = np.array(dataclasses.astuple(LoyaltyTypes()), dtype=np.float32)  # sim.compiled.record_compiled
_MEAN_COLUMNS = ("bond", "rational_value", "satisfaction", "resentment", "attention")
_MEANS = tuple(f"mean_{column}" for column in _MEAN_COLUMNS)  # monthly columns, in the kernel's order
STATE_SCALE = 2.0**32  # the monthly means sum the states in fixed point (LoyaltyModel._state_summary)
_STATE_BOUNDS = (  # sim.kernels.clamp_compiled clamps the same columns to [0, 1]
    ("bond", 0.0, 1.0),
    ("satisfaction", 0.0, 1.0),
    ("rational_value", 0.0, 1.0),
    ("resentment", 0.0, 1.0),
)


@dataclass(frozen=True)
class Phase:
    """One phase of the monthly step: its name, the model method that runs it, what it does."""

    name: str
    method: str
    does: str
    hooks: str  # the program (and behaviour) hooks that run in it


PHASES: tuple[Phase, ...] = (
    Phase("program edges", "_program_edges", "programs entering or leaving their window", "start, stop"),
    Phase(
        "service encounters", "_service_encounters",
        "service level; failures (small/large), complaints and their paths; satisfaction, bond",
        "service",
    ),
    Phase("programs act", "_programs_act", "contacts, rewards, contracts, notices", "act"),
    Phase(
        "decay and adaptation", "_decay_and_adapt",
        "bond decay, expectations, disappointment, rational value, resentment fades, attention "
        "fades; states clamped",
        "adapt (behaviours); reads terms, balance (programs)",
    ),
    Phase(
        "competitor offers", "_competitor_offers", "offers arrive; switch probability per customer", "offers"
    ),
    Phase(
        "stay or leave", "_stay_or_leave",
        "competing exit hazards, lock-in, breakouts, term-end decisions; states clamped",
        "exit_hazards, stay_or_leave (behaviours); reads terms (programs)",
    ),
    Phase(
        "ageing", "_ageing",
        "tenure and months since personal contact of stayers; programs' own clocks (contract terms)",
        "age (programs, every month)",
    ),
    Phase(
        "contract ends", "_contract_ends", "renewal or re-contract of customers whose term ended", "term_end"
    ),
    Phase(
        "new customers", "_new_customers", "acquisition multiplier; joiners draw traits; onboarding",
        "acquisition_multiplier, onboard",
    ),
    Phase("record", "_record", "one row of the monthly table", "reads terms, balance (programs)"),
)


_NO_ROWS = np.zeros(0, dtype=np.float32)


def _row_numbers(ids: np.ndarray | None) -> np.ndarray | None:
    """``ids`` as int64 row numbers; a boolean mask is a mistake (it would index rows 0 and 1)."""
    if ids is None:
        return None
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be customer row numbers (np.flatnonzero(mask)), got dtype {ids.dtype}")
    return ids.astype(np.int64, copy=False)


class _NotTheStream:
    """Stands in for Mesa's ``model.rng`` and ``model.random``: every use raises."""

    def __getattr__(self, name: str):
        raise RuntimeError(
            f"model.rng / model.random ({name}) are not the model's random streams: draw from "
            "model.uniforms(purpose) (one number per customer) or model.stream(purpose), so that "
            "strategies run with the same seed keep common random numbers"
        )


class LoyaltyModel(mesa.Model):
    """Customers tied to a firm rationally and emotionally, one step per month.

    Args:
        strategy: the firm's programs, or the name of a strategy of ``loyalty-sim run`` (a
            program's name, ``appreciation_and_service``).
        market: segments, competitors, behavioural parameters (defaults: the default market).
        customers: size of the initial cohort.
        months: horizon; :meth:`run` steps this many months.
        rng: seed (int or ``numpy.random.SeedSequence``) of the run. Every random draw comes
            from a stream derived from it, the month and the purpose of the draw (see
            :meth:`stream`), with one number per customer row, so strategies run with the same
            seed start from the same customers and share their random numbers customer by
            customer, month by month (common random numbers).
        shard: simulate only this part of the market's customers (``sim.shards``): the same
            customers, numbers and joiners as the whole market's run, so shards' tables combine
            into that run's; default: the whole market.
        **parameters: plain keyword parameters, as ``mesa.batch_run`` and ``SolaraViz`` pass
            them: a parameter's name (``offer_rate_per_month=0.1``) or key path
            (``**{"programs.point_card.reward_share_of_spend": 0.02}``), and ``behaviours``
            (names) to enable; see :func:`sim.mesa_tools.from_keywords`.

    ``datacollector`` is a ``mesa.DataCollector`` with every column of the monthly table.
    """

    def __init__(
        self,
        strategy: Strategy | str,
        market: Market | None = None,
        customers: int = CUSTOMERS,
        months: int = MONTHS,
        rng: int | np.random.SeedSequence | None = None,
        shard: Shard | None = None,
        **parameters: Any,
    ) -> None:
        if isinstance(strategy, str) or parameters:
            strategy, market = from_keywords(strategy, market, parameters)
        if customers < 1:
            raise ValueError(f"customers must be >= 1, got {customers}")
        if months < 1:
            raise ValueError(f"months must be >= 1, got {months}")
        self.seed_sequence = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(rng)
        super().__init__(rng=np.random.default_rng(self.seed_sequence))
        # Mesa's own generators are not the project's streams: a draw from them would depend on
        # what was drawn before and silently break common random numbers, so any use raises.
        self.rng = self.random = _NotTheStream()
        self.strategy = strategy
        self.market = market or Market()
        self.programs: list[Program] = strategy.build()
        for index, program in enumerate(self.programs):
            repeats = sum(p.name == program.name for p in self.programs[:index])
            program.stream_key = f"{program.name}#{repeats}" if repeats else program.name
        # The first instance of each program class keeps the class's columns (state hooks).
        owners: dict[type, Program] = {}
        for program in self.programs:
            owners.setdefault(type(program), program)
        self._state_owners = tuple(owners.values())
        self.behaviours: list[Behaviour] = [spec.build() for spec in self.market.behaviours]
        base = self.market.customer_base  # the firm's own customers (sim.customer_base), if given
        customers = len(base) if base is not None else customers
        self.initial_customers = customers  # the whole market's, whatever part of it runs here
        self.shard = shard or Shard(0, customers, customers)
        held = range(self.shard.first, self.shard.stop)
        self.months = months
        self.month = 0
        self.seed = int(rng) if isinstance(rng, int | np.integer) else None
        self.population = Population(
            capacity=acquisition.capacity(self.market.acquisition, len(held), months),
            extra_columns=self._plugin_columns(),
        )
        if base is None:
            acquisition.cohort(self, held)
            # a drawn cohort has just been won; the firm's own customers were won long ago
            acquisition.court(self, np.arange(len(held)))
        else:
            traits = self.market.customer_traits()
            base.populate(self.population, self.stream("population"), self.market.segments, traits)
        self._start_attention(np.arange(len(held)))
        self._cohort_rows = len(self.population)  # joiners' rows follow (join_month >= 1)
        self.slots = acquisition.Slots(self.market.acquisition, customers, months, held)
        self._behaviour_hooks("setup")
        self.flows = MonthFlows.start(0, self.population.active)
        self._recorder = MonthlyRecorder(months, reporter_names(self._plugins()))
        self.monthly_columns = self._recorder.columns
        self.monthly_row: dict[str, float] = {}  # the last month's recorded row
        self.datacollector = outcome_collector(self)
        self.cost_by_program: dict[str, float] = {}
        self._running: set[int] = set()
        self._running_now: list[Program] = []
        self._switch = np.zeros(0, dtype=np.float32)

    def stream(self, purpose: str) -> np.random.Generator:
        """The random generator for one purpose (``"offers"``, a program's name...) this month.

        It depends only on the run's seed, the month and ``purpose``: what other mechanisms or
        programs draw does not shift it. Draw one number per customer row and index by id
        (see :meth:`uniforms`), so customer ``i`` gets the same numbers under every strategy.
        """
        self.shard.check_stream(purpose, self.month)
        key = int.from_bytes(hashlib.blake2b(purpose.encode(), digest_size=4).digest(), "little")
        spawn_key = (*self.seed_sequence.spawn_key, self.month, key)
        return np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(self.seed_sequence.entropy, spawn_key=spawn_key))
        )

    def uniforms(self, purpose: str, ids: np.ndarray | None = None, month: int | None = None) -> np.ndarray:
        """One float32 uniform number in [0, 1) per customer of ``ids`` (default: every row),
        from the counter-based stream of ``purpose`` this month (``sim.kernels``), or of
        ``month`` (0: numbers a customer keeps for the whole run, ``sim.targeting``).

        A customer's number is a function of the seed, the month, ``purpose`` and the customer's
        slot (``sim.mechanisms.acquisition.Slots``) alone, so a customer gets the same numbers
        under every strategy, joiners included, and only the customers asked about cost a draw:
        pass ``ids`` rather than indexing the numbers of every row.
        """
        return kernels.uniforms(self._counter_key(purpose, month), self.slot_of_rows(), _row_numbers(ids))

    def normals(self, purpose: str, ids: np.ndarray | None = None) -> np.ndarray:
        """One float32 standard normal number per customer of ``ids``, by slot as in :meth:`uniforms`."""
        return kernels.normals(self._counter_key(purpose), self.slot_of_rows(), _row_numbers(ids))

    def below(
        self, purpose: str, probability: float | np.ndarray, ids: np.ndarray | None = None
    ) -> np.ndarray:
        """The customers of ``ids`` (default: the active ones) whose number of :meth:`uniforms`
        for ``purpose`` is below ``probability`` (one value, or one float32 per row): the same
        customers as ``ids[model.uniforms(purpose, ids) < probability]``, in one compiled pass."""
        ids = self.population.active_ids() if ids is None else _row_numbers(ids)
        # The compiled pass compares in float32, as NumPy does with a Python number or float32 rows.
        per_row = isinstance(probability, np.ndarray)
        rows = probability if per_row else _NO_ROWS
        in_float32 = type(probability) in (float, int) or (per_row and rows.dtype == np.float32)
        if not (kernels.COMPILED and in_float32):
            return ids[self.uniforms(purpose, ids) < (probability[ids] if per_row else probability)]
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.population)):  # unchecked in the pass
            raise IndexError(f"customer rows must be in 0..{len(self.population) - 1}")
        one = np.float32(0.0 if rows.size else probability)
        key = np.uint64(self._counter_key(purpose))
        return kernels.below_compiled(key, self.slot_of_rows(), ids, one, rows)

    def stream_keys(self, *purposes: str) -> np.ndarray:
        """The uint64 keys of the counter-based streams of ``purposes`` this month, for compiled
        passes that draw customers' numbers inline (``sim.compiled``): the numbers of :meth:`uniforms`."""
        return np.array([self._counter_key(purpose) for purpose in purposes], dtype=np.uint64)

    def slot_of_rows(self) -> np.ndarray:
        """The slot (``sim.mechanisms.acquisition.Slots``) of every customer row, int64."""
        n = len(self.population)
        return self.slots.rows(n)[:n]

    def _counter_key(self, purpose: str, month: int | None = None) -> int:
        """The 64-bit key of the counter-based stream of ``purpose`` this month (or ``month``)."""
        key = int.from_bytes(hashlib.blake2b(f"counter:{purpose}".encode(), digest_size=4).digest(), "little")
        spawn_key = (*self.seed_sequence.spawn_key, self.month if month is None else month, key)
        sequence = np.random.SeedSequence(self.seed_sequence.entropy, spawn_key=spawn_key)
        return int(sequence.generate_state(1, np.uint64)[0])

    def terms(self, ids: np.ndarray) -> Terms | None:
        """The contracts binding customers ``ids`` (programs' ``terms`` hooks, combined by
        :meth:`Terms.combine`), or None when no program of the strategy binds anyone."""
        found = [
            terms for program in self._state_owners
            if (terms := call_hook("program", program, "terms", self, ids)) is not None
        ]
        return Terms.combine(found) if found else None

    def locked(self, ids: np.ndarray) -> np.ndarray:
        """Which of customers ``ids`` are under contract this month (bool, aligned with ``ids``)."""
        return under_contract(self.terms(ids), ids.size)

    def balance(self, ids: np.ndarray) -> np.ndarray | None:
        """Rewards, EUR, customers ``ids`` hold and lose when they leave (programs' ``balance``
        hooks, summed), or None when no program of the strategy holds any."""
        found = [
            balance for program in self._state_owners
            if (balance := call_hook("program", program, "balance", self, ids)) is not None
        ]
        if not found:
            return None
        return found[0] if len(found) == 1 else np.add.reduce(found)

    def exit_hazard_factors(self, ids: np.ndarray) -> ExitHazards | None:
        """Phase 5: the behaviours' factors on each exit reason's hazard (``exit_hazards`` hook)."""
        return exit_hazard_factors(self, ids)

    def charge(self, program: str, eur: float, category: str = "other") -> None:
        """Book a program's cost for this month, under one of ``COST_CATEGORIES``."""
        if category not in COST_CATEGORIES:
            raise ValueError(f"unknown cost category {category!r}; expected one of {COST_CATEGORIES}")
        self.flows.costs[program] = self.flows.costs.get(program, 0.0) + float(eur)
        self.flows.cost_by_category[category] = self.flows.cost_by_category.get(category, 0.0) + float(eur)

    def step(self) -> None:
        """Advance one month: the phases of :data:`PHASES`, in that order (``loyalty-sim phases``).

        The market's behaviours (``sim.behaviours``) run their hook of the same phase after the
        programs': ``service`` (1), ``act`` (2), ``adapt`` (3, before clamping), ``offers`` (4,
        may change the switch probabilities), ``exit_hazards`` (5, scales each exit reason's
        hazard per customer before the draw), ``stay_or_leave`` (5, with the leavers),
        ``acquisition_multiplier`` and ``onboard`` (8); ``setup`` runs once before month 1.
        """
        self.month += 1
        self.flows = MonthFlows.start(self.month, self.population.active)
        self.population.reward_received[:] = 0.0
        for phase in PHASES:
            getattr(self, phase.method)()

    def _program_edges(self) -> None:
        self._running_now = self._update_program_windows()

    def _service_encounters(self) -> None:
        level = service.ServiceLevel.from_params(self.market.service)
        for program in self._running_now:
            call_hook("program", program, "service", self, level)
        self._behaviour_hooks("service", level)
        service.encounters(self, level)

    def _programs_act(self) -> None:
        for program in self._running_now:
            call_hook("program", program, "act", self)
        self._behaviour_hooks("act")

    def _decay_and_adapt(self) -> None:
        # Without behaviours nothing writes the states between adaptation and the clamp, so a
        # compiled pass clamps as it goes (attention's fade writes no clamped state).
        clamped = adaptation.decay_and_adapt(self, clamp=not self.behaviours)
        attention.fade(self)
        self._behaviour_hooks("adapt")
        if not clamped:
            self.clamp_states()

    def _competitor_offers(self) -> None:
        self._switch = offers.competitor_offers(self)
        self._behaviour_hooks("offers", self._switch)

    def _stay_or_leave(self) -> None:
        leavers = decision.stay_or_leave(self, self._switch)
        self._behaviour_hooks("stay_or_leave", leavers)
        if self.behaviours:  # phase 5 itself clamps the only states it moves (trapped bonds)
            self.clamp_states()

    def _contract_ends(self) -> None:
        ended, recontracted = self.flows.term_ended, self.flows.recontracted
        if ended.size:
            for program in self._running_now:
                call_hook("program", program, "term_end", self, ended, recontracted)

    def _ageing(self) -> None:
        ageing.age(self)
        for program in self._state_owners:
            call_hook("program", program, "age", self)

    def _new_customers(self) -> None:
        running = self._running_now
        multiplier = math.prod(call_hook("program", p, "acquisition_multiplier", self) for p in running)
        multiplier *= math.prod(self._behaviour_hooks("acquisition_multiplier"))
        u = float(self.stream("acquisition").random())
        joiners = acquisition.poisson_quantile(u, acquisition.expected_joiners(self, multiplier))
        first, stop = self.shard.joiners(joiners)  # the market's joiners, this shard's share
        if stop > first:
            ids = acquisition.join(self, stop - first, first, joiners)
            acquisition.court(self, ids)
            self._start_attention(ids)
            for program in running:
                call_hook("program", program, "onboard", self, ids)
            self._behaviour_hooks("onboard", ids)
        self.flows.acquired = stop - first

    def _start_attention(self, ids: np.ndarray) -> None:
        """New customers start at their resting attention (``sim.mechanisms.attention``)."""
        self.population.attention[ids] = self.population.attentiveness[ids]

    def _behaviour_hooks(self, hook: str, *args: object) -> list:
        return [call_hook("behaviour", b, hook, self, *args) for b in self.behaviours]

    def _plugins(self) -> list[tuple[str, Program | Behaviour]]:
        """The strategy's programs and the market's behaviours, with their kind."""
        return [("program", p) for p in self.programs] + [("behaviour", b) for b in self.behaviours]

    def _plugin_columns(self) -> tuple[Column, ...]:
        """Columns declared by the strategy's programs and the market's behaviours, each once."""
        owners: dict[str, tuple[str, Column]] = {}
        for kind, plugin in self._plugins():
            for column in plugin.columns:
                owner = owners.setdefault(column.name, (f"{kind} '{plugin.name}'", column))
                if owner[1] != column:
                    raise ValueError(
                        f"column '{column.name}' is declared differently by {owner[0]} and "
                        f"{kind} '{plugin.name}'; rename one of them"
                    )
        return tuple(column for _, column in owners.values())

    def _update_program_windows(self) -> list[Program]:
        running = []
        for index, program in enumerate(self.programs):
            runs = program.runs_in(self.month)
            if runs and index not in self._running:
                call_hook("program", program, "start", self)
                self._running.add(index)
            elif not runs and index in self._running:
                call_hook("program", program, "stop", self)
                self._running.discard(index)
            if runs:
                running.append(program)
        return running

    def _state_summary(
        self, active: np.ndarray, exited: np.ndarray
    ) -> tuple[dict[str, float], int, np.ndarray, float, int]:
        """Over the active customers (rows ``active``), in compiled passes (or their NumPy
        twins): mean states, the initial cohort's count, the loyalty type shares; the revenue
        (spend of the customers at the month's start: those still active below
        ``flows.active_at_start.size``, this month's joiners being the rows above, and the
        leavers ``exited``) and the count of those still active.

        A mean is an integer sum of the states in fixed point (each truncated to a multiple of
        1 / ``STATE_SCALE``, 2**-32, finer than float32 near 1) divided by the count: the same
        in any order of addition, so the compiled pass reads every row in order on vector
        registers and equals the twin bit for bit. Revenue is the float64 sum in row order of
        the stayers' spend plus NumPy's sum of the leavers', as before; the compiled pass sums
        the spend in fixed point instead where that is provably the same number
        (``sim.compiled.revenue_compiled``)."""
        pop, n, flows = self.population, active.size, self.flows
        rows_at_start = flows.active_at_start.size
        stayers = int(np.searchsorted(active, rows_at_start))  # active rows are ascending
        terms = self.terms(active)
        locked = np.zeros(0, dtype=bool)
        if terms is not None:  # one flag per row, as the pass reads every row
            locked = np.zeros(len(pop), dtype=bool)
            locked[active[under_contract(terms)]] = True
        states = [getattr(pop, column) for column in _MEAN_COLUMNS]
        revenue = None
        if kernels.COMPILED:
            sums, types = np.zeros(len(_MEAN_COLUMNS), dtype=np.int64), np.zeros(4, dtype=np.int64)
            scale = np.float32(STATE_SCALE)
            kernels.record_compiled(pop.active, locked, *states, _THRESHOLDS, scale, sums, types)
            initial = int(np.searchsorted(active, self._cohort_rows))  # the cohort's rows come first
            high, low, outside = kernels.revenue_compiled(flows.active_at_start, pop.spend_per_month)
            units = (high << 32) + low
            if not outside and units < 2**53:
                revenue = units / float(kernels.SPEND_SCALE)
        else:
            sums = [(s[active].astype(np.float64) * STATE_SCALE).astype(np.int64).sum() for s in states]
            initial = int(np.count_nonzero(pop.join_month[active] == 0))
            types = loyalty_type_counts(pop, locked if locked.size else np.zeros(len(pop), dtype=bool))
        if revenue is None:  # the stayers' spend added in row order, then NumPy's sum of the leavers'
            spend = pop.spend_per_month
            if kernels.COMPILED:
                revenue = kernels.revenue_in_order_compiled(active, spend, rows_at_start)
            else:  # cumsum adds in order
                revenue = float(np.cumsum(spend[active[:stayers]], dtype=np.float64)[-1]) if stayers else 0.0
            revenue += float(spend[exited].sum(dtype=np.float64))
        shares = np.append(types, n - types.sum()) / n if n else np.zeros(len(LOYALTY_TYPES))
        means = {
            name: float(total) / STATE_SCALE / n if n else 0.0
            for name, total in zip(_MEANS, sums, strict=True)
        }
        return means, initial, shares, revenue, stayers

    def clamp_states(self, ids: np.ndarray | None = None) -> None:
        """Clamp the states of customers ``ids`` (default: those active at the start of the
        month, this month's leavers included) to their ranges; earlier leavers' states were
        clamped then and stay."""
        pop = self.population
        active = np.flatnonzero(self.flows.active_at_start) if ids is None else ids
        if kernels.COMPILED:
            kernels.clamp_compiled(active, pop.bond, pop.satisfaction, pop.rational_value, pop.resentment)
            return
        for name, low, high in _STATE_BOUNDS:
            column = getattr(pop, name)
            column[active] = np.clip(column[active], low, high)

    def _record(self) -> None:
        pop, flows = self.population, self.flows
        exited = flows.exited if flows.exited is not None else np.empty(0, dtype=np.int64)
        reasons = flows.exits_by_reason  # leavers by ExitReason code, counted in phase 5
        initial_churned = int(np.searchsorted(exited, self._cohort_rows))  # leavers ascending, cohort first
        cost = sum(flows.costs.values())
        for program, eur in flows.costs.items():
            self.cost_by_program[program] = self.cost_by_program.get(program, 0.0) + eur

        active_ids = pop.active_ids()  # gathers by id are several times faster than by mask
        n_active = active_ids.size
        points = self.balance(active_ids)  # the programs' reward balances (point card's points)
        summary = self._state_summary(active_ids, exited)
        means, active_initial, type_shares, revenue, stayers_at_start = summary
        initial_at_start = active_initial + initial_churned

        row = {
            "month": self.month,
            "active_initial": active_initial,
            "active_total": n_active,
            "acquired": flows.acquired,
            "churned_total": int(exited.size),
            **{f"churned_{r}": int(reasons[i + 1]) for i, r in enumerate(EXIT_REASONS)},
            "churn_rate": exited.size / max(1, stayers_at_start + exited.size),
            "cohort_churn_rate": initial_churned / max(1, initial_at_start),
            **means,
            "revenue": revenue,
            "program_cost": cost,
            "margin": self.market.gross_margin_share * revenue - cost,
            **{f"cost_{c}": flows.cost_by_category.get(c, 0.0) for c in COST_CATEGORIES},
            "exit_fees": flows.exit_fees,
            "points_liability": float(points.sum()) if points is not None else 0.0,
            "failures": int(flows.failures_by_path[1:].sum()),
            "failures_large": flows.failures_large,
            **{f"failures_{p}": int(flows.failures_by_path[i + 1]) for i, p in enumerate(FAILURE_PATHS)},
            "slow_resolutions_arrived": flows.resolved_slowly,
            **{f"term_ends_{a}": flows.term_end_actions.get(a, 0) for a in TERM_END_ACTIONS},
        }
        row.update({f"share_{kind}": share for kind, share in zip(LOYALTY_TYPES, type_shares, strict=True)})
        row.update(report(self._plugins(), self))  # plugins' monthly reporters
        self._recorder.record(row)
        self.monthly_row = row
        self.datacollector.collect(self)
        self.running = self.month < self.months  # mesa.batch_run and SolaraViz stop at the horizon

    def run(self, customers: bool = False) -> RunResult:
        """Step to the horizon and return the outcome tables (with customer records if asked)."""
        while self.month < self.months:
            self.step()
        return self.result(customers)

    def result(self, customers: bool = False) -> RunResult:
        monthly = self._recorder.frame()
        per_customer = (
            customer_frame(self.population, [s.name for s in self.market.segments], self._plugin_columns())
            if customers
            else None
        )
        return RunResult(
            self.strategy.name,
            self.initial_customers,
            self.seed,
            monthly,
            dict(self.cost_by_program),
            per_customer,
            bond_value_plane(self.population),
        )


@dataclass(frozen=True)
class RunResult:
    """Outcomes of one run: the monthly table, the per-run summary, optional customer records."""

    strategy: str
    customers: int
    seed: int | None  # None when the run was seeded with a SeedSequence
    monthly: pl.DataFrame
    cost_by_program: dict[str, float]
    customer_records: pl.DataFrame | None = None
    # active customers at the horizon on a bond x rational value grid (outcomes.bond_value_plane)
    horizon_plane: np.ndarray | None = None

    def summary(self) -> dict[str, object]:
        return {
            "strategy": self.strategy,
            "customers": self.customers,
            "months": self.monthly.height,
            "seed": self.seed,
            **run_summary(self.monthly, self.customers),
            "cost_by_program": self.cost_by_program,
        }
