"""The Mesa model: population, firm strategy, market, one random generator, the step order."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import mesa
import numpy as np
import polars as pl

from sim.behaviours import Behaviour
from sim.defaults import CUSTOMERS, MONTHS
from sim.flows import MonthFlows
from sim.market import Market
from sim.mechanisms import acquisition, adaptation, decision, offers, service
from sim.outcomes import (
    COST_CATEGORIES,
    LOYALTY_TYPES,
    MonthlyRecorder,
    bond_value_plane,
    customer_frame,
    loyalty_type_shares,
    run_summary,
)
from sim.plugins import call_hook
from sim.population import EXIT_REASONS, Column, ExitReason, Population
from sim.programs import Program
from sim.strategy import Strategy

_STATE_BOUNDS = (
    ("bond", 0.0, 1.0),
    ("satisfaction", 0.0, 1.0),
    ("rational_value", 0.0, 1.0),
    ("resentment", 0.0, 1.0),
)


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
        strategy: the firm's programs.
        market: segments, competitors, behavioural parameters (defaults: the default market).
        customers: size of the initial cohort.
        months: horizon; :meth:`run` steps this many months.
        rng: seed (int or ``numpy.random.SeedSequence``) of the run. Every random draw comes
            from a stream derived from it, the month and the purpose of the draw (see
            :meth:`stream`), with one number per customer row, so strategies run with the same
            seed start from the same customers and share their random numbers customer by
            customer, month by month (common random numbers).
    """

    def __init__(
        self,
        strategy: Strategy,
        market: Market | None = None,
        customers: int = CUSTOMERS,
        months: int = MONTHS,
        rng: int | np.random.SeedSequence | None = None,
    ) -> None:
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
        self.behaviours: list[Behaviour] = [spec.build() for spec in self.market.behaviours]
        self.initial_customers = customers
        self.months = months
        self.month = 0
        self.seed = int(rng) if isinstance(rng, int | np.integer) else None
        self.population = Population(
            capacity=acquisition.capacity(self.market.acquisition, customers, months),
            extra_columns=self._plugin_columns(),
        )
        self.population.add(self.stream("population"), customers, self.market.segments, month=0)
        self.slots = acquisition.Slots(self.market.acquisition, customers, months)
        self._behaviour_hooks("setup")
        self.flows = MonthFlows.start(0, self.population.active)
        self._recorder = MonthlyRecorder(months)
        self.cost_by_program: dict[str, float] = {}
        self._running: set[int] = set()

    def stream(self, purpose: str) -> np.random.Generator:
        """The random generator for one purpose (``"offers"``, a program's name...) this month.

        It depends only on the run's seed, the month and ``purpose``: what other mechanisms or
        programs draw does not shift it. Draw one number per customer row and index by id
        (see :meth:`uniforms`), so customer ``i`` gets the same numbers under every strategy.
        """
        key = int.from_bytes(hashlib.blake2b(purpose.encode(), digest_size=4).digest(), "little")
        spawn_key = (*self.seed_sequence.spawn_key, self.month, key)
        return np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(self.seed_sequence.entropy, spawn_key=spawn_key))
        )

    def uniforms(self, purpose: str) -> np.ndarray:
        """One uniform number in [0, 1) per customer row, from :meth:`stream` of ``purpose``.

        Customer rows read the number of their slot (``sim.mechanisms.acquisition.Slots``), so
        a customer gets the same numbers under every strategy, joiners included.
        """
        return self._by_slot(lambda n: self.stream(purpose).random(n, dtype=np.float32))

    def normals(self, purpose: str) -> np.ndarray:
        """One standard normal number per customer row, by slot as in :meth:`uniforms`."""
        return self._by_slot(lambda n: self.stream(purpose).standard_normal(n, dtype=np.float32))

    def _by_slot(self, draw: Callable[[int], np.ndarray]) -> np.ndarray:
        slots = self.slots.rows(len(self.population))
        numbers = draw(self.slots.end)
        return numbers if self.slots.end == self.slots.customers else numbers[slots]

    def charge(self, program: str, eur: float, category: str = "other") -> None:
        """Book a program's cost for this month, under one of ``COST_CATEGORIES``."""
        if category not in COST_CATEGORIES:
            raise ValueError(f"unknown cost category {category!r}; expected one of {COST_CATEGORIES}")
        self.flows.costs[program] = self.flows.costs.get(program, 0.0) + float(eur)
        self.flows.cost_by_category[category] = self.flows.cost_by_category.get(category, 0.0) + float(eur)

    def step(self) -> None:
        """Advance one month. The order is fixed:

        ====  ====================  ==========================================================
        #     phase                 what happens
        ====  ====================  ==========================================================
        0     program edges         ``start``/``stop`` hooks of programs entering/leaving window
        1     service encounters    programs' ``service`` hooks shape the service level; then
                                    failures, complaints, recoveries; satisfaction, bond
        2     programs act          programs' ``act`` hooks: contacts, rewards, contracts
        3     decay and adaptation  bond decay in silence, expectations, disappointment,
                                    rational value, resentment fades when free; states are
                                    clamped to their ranges
        4     competitor offers     offers arrive; switch probability per customer
        5     stay or leave         competing exit hazards, lock-in, breakouts, term ends;
                                    states clamped again
        6     new customers         programs' ``acquisition_multiplier``; joiners; ``onboard``
        7     record                one row of the monthly table
        ====  ====================  ==========================================================

        The market's behaviours (``sim.behaviours``) run their hook of the same phase after the
        programs': ``service`` (1), ``act`` (2), ``adapt`` (3, before clamping), ``offers`` (4,
        may change the switch probabilities), ``stay_or_leave`` (5, with the leavers),
        ``acquisition_multiplier`` and ``onboard`` (6); ``setup`` runs once before month 1.
        """
        self.month += 1
        pop = self.population
        self.flows = MonthFlows.start(self.month, pop.active)
        pop.reward_received[:] = 0.0
        running = self._update_program_windows()

        level = service.ServiceLevel.from_params(self.market.service)
        for program in running:
            call_hook("program", program, "service", self, level)
        self._behaviour_hooks("service", level)
        service.encounters(self, level)

        for program in running:
            call_hook("program", program, "act", self)
        self._behaviour_hooks("act")

        adaptation.decay_and_adapt(self)
        self._behaviour_hooks("adapt")
        self._clamp_states()
        switch = offers.competitor_offers(self)
        self._behaviour_hooks("offers", switch)
        leavers = decision.stay_or_leave(self, switch)
        self._behaviour_hooks("stay_or_leave", leavers)
        self._clamp_states()

        multiplier = math.prod(call_hook("program", p, "acquisition_multiplier", self) for p in running)
        multiplier *= math.prod(self._behaviour_hooks("acquisition_multiplier"))
        u = float(self.stream("acquisition").random())
        joiners = acquisition.poisson_quantile(u, acquisition.expected_joiners(self, multiplier))
        if joiners:
            ids = acquisition.join(self, joiners)
            for program in running:
                call_hook("program", program, "onboard", self, ids)
            self._behaviour_hooks("onboard", ids)
        self.flows.acquired = joiners
        self._record()

    def _behaviour_hooks(self, hook: str, *args: object) -> list:
        return [call_hook("behaviour", b, hook, self, *args) for b in self.behaviours]

    def _plugin_columns(self) -> tuple[Column, ...]:
        """Columns declared by the strategy's programs and the market's behaviours, each once."""
        owners: dict[str, tuple[str, Column]] = {}
        plugins = [("program", p) for p in self.programs] + [("behaviour", b) for b in self.behaviours]
        for kind, plugin in plugins:
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

    def _clamp_states(self) -> None:
        pop = self.population
        for name, low, high in _STATE_BOUNDS:
            column = getattr(pop, name)
            np.clip(column, low, high, out=column)

    def _record(self) -> None:
        pop, flows = self.population, self.flows
        active = pop.active
        n_active = int(np.count_nonzero(active))
        start_active = flows.active_at_start
        initial = pop.join_month == 0
        exited = flows.exited if flows.exited is not None else np.empty(0, dtype=np.int64)
        reasons = np.bincount(pop.exit_reason[exited], minlength=len(ExitReason))
        initial_at_start = int(np.count_nonzero(start_active & initial[: start_active.size]))
        initial_churned = int(np.count_nonzero(initial[exited]))
        revenue = float(pop.spend_per_month[np.flatnonzero(start_active)].sum())
        cost = sum(flows.costs.values())
        for program, eur in flows.costs.items():
            self.cost_by_program[program] = self.cost_by_program.get(program, 0.0) + eur

        active_ids = np.flatnonzero(active)  # gathers by id are several times faster than by mask

        def mean(column: np.ndarray) -> float:
            return float(column[active_ids].mean()) if n_active else 0.0

        row = {
            "month": self.month,
            "active_initial": int(np.count_nonzero(active & initial)),
            "active_total": n_active,
            "acquired": flows.acquired,
            "churned_total": int(exited.size),
            **{f"churned_{r}": int(reasons[i + 1]) for i, r in enumerate(EXIT_REASONS)},
            "churn_rate": exited.size / max(1, int(np.count_nonzero(start_active))),
            "cohort_churn_rate": initial_churned / max(1, initial_at_start),
            "mean_bond": mean(pop.bond),
            "mean_rational_value": mean(pop.rational_value),
            "mean_satisfaction": mean(pop.satisfaction),
            "mean_resentment": mean(pop.resentment),
            "revenue": revenue,
            "program_cost": cost,
            "margin": self.market.gross_margin_share * revenue - cost,
            **{f"cost_{c}": flows.cost_by_category.get(c, 0.0) for c in COST_CATEGORIES},
            "exit_fees": flows.exit_fees,
            "points_liability": float(pop.points[active_ids].sum()),
        }
        row.update(
            {
                f"share_{kind}": share
                for kind, share in zip(
                    LOYALTY_TYPES,
                    loyalty_type_shares(pop),
                    strict=True,
                )
            }
        )
        self._recorder.record(row)

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
