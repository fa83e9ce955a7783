"""Targeting and budget caps for every program, in the framework: whom a program reaches, and
how much it may spend per month or per year.

A scenario's program entry can carry ``target`` (whom it reaches) and ``budget`` (a cap); the
strategy builds a :class:`Reach` and sets it on the program (``Program.reach``), and
:func:`sim.plugins.call_hook` hands every hook call of such a program to :meth:`Reach.call`.
Programs need no code of their own:

* **Whom.** While a targeted program's hook runs, ``model.population`` is a view of the
  population in which only the reached customers are ``active`` (``pop.active``,
  ``pop.active_ids()``); every other column is the population's own array, so writes go
  through. Ids passed to ``onboard`` and ``term_end`` (and the arrays aligned with them) are
  cut to the reached customers. A change to the month's service level (the ``service`` hook)
  applies to the reached customers only (its fields become per-customer arrays), each on the
  level it already has: several service programs compose where their targets overlap, as
  untargeted ones do (:func:`_service`); in a strategy with a targeted service program, the
  untargeted service programs run through here too, reaching every active customer. The
  ``acquisition_multiplier`` concerns prospects, not customers: only ``share`` scales it
  (``1 + (m - 1) * share``).
* **How much.** With a ``budget``, each hook call runs as a transaction: the population, the
  service level, the program's own state and its charges are saved first; if the call's
  charges would take the period's spend above the cap, everything is restored and the call
  runs again on fewer customers (the first *k* in a fixed random order, *k* found by
  bisection) until it fits; what is left of the period's cap is then forfeited and the program
  rests until the next period (month, or year of 12 months counted from month 1). The cap is
  never exceeded. While it rests, its hooks do not run, except ``stop`` at the end of its
  window (within what is left of the budget).

Everything here is NumPy masks over all customer rows; no per-customer Python.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.params import ParamError
from sim.programs import Program

if TYPE_CHECKING:
    from sim.model import LoyaltyModel

CONTRACT_STATES = ("free", "under_contract", "term_ending")
BUDGET_PERIODS = {"month": 1, "year": 12}
# The hooks of the program's window, which targeting and budgets concern; any other program
# hook (state a program keeps for every customer, in and out of its window) runs as it is.
WINDOW_HOOKS = ("start", "stop", "service", "act", "term_end", "acquisition_multiplier", "onboard")
# Hooks whose first argument is customer ids (and whose further array arguments are aligned).
_ID_HOOKS = ("onboard", "term_end")
_VALUE_HOOKS = ("acquisition_multiplier",)


@dataclass(frozen=True)
class Target:
    """Whom a program reaches: all filters must hold (an unset filter holds for everyone).

    Bands are inclusive ``(low, high)``; ``share`` is a random share of the customers that pass
    the other filters, drawn once per customer from a stream of the program's own, so the same
    customers are chosen under every strategy of a seed (common random numbers).
    """

    segments: tuple[str, ...] | None = None
    tenure_months: tuple[float, float] | None = None  # months as a customer
    spend_per_month: tuple[float, float] | None = None  # EUR
    attention: tuple[float, float] | None = None  # current attention, 0..1
    contract: str | None = None  # one of CONTRACT_STATES
    churn_risk_top_share: float | None = None  # the riskiest share of the active customers, 0..1
    churn_risk_above: float | None = None  # churn score (probability per month) at least this
    share: float = 1.0  # random share of those passing the other filters, 0..1

    def __post_init__(self) -> None:
        for name in ("tenure_months", "spend_per_month", "attention"):
            band = getattr(self, name)
            if band is not None and not (len(band) == 2 and 0 <= band[0] <= band[1]):
                raise ParamError(name, f"must be [low, high] with 0 <= low <= high, got {list(band)}")
        if self.contract is not None and self.contract not in CONTRACT_STATES:
            raise ParamError(
                "contract", f"must be one of {', '.join(CONTRACT_STATES)}, got {self.contract!r}"
            )
        for name in ("churn_risk_top_share", "churn_risk_above", "share"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ParamError(name, f"must be in [0, 1], got {value}")

    def mask(self, model: LoyaltyModel, stream_key: str) -> np.ndarray:
        """Boolean mask over all customer rows: active customers this target reaches now."""
        pop = model.population
        reached = pop.active.copy()
        if self.segments is not None:
            names = [s.name for s in model.market.segments]
            codes = [names.index(s) for s in self.segments if s in names]
            reached &= np.isin(pop.segment, np.array(codes, dtype=np.int8))
        for name in ("tenure_months", "spend_per_month", "attention"):
            band = getattr(self, name)
            if band is not None:
                column = getattr(pop, name)
                reached &= (column >= band[0]) & (column <= band[1])
        if self.contract is not None:
            months_left = (
                pop.contract_months_left
                if "contract_months_left" in pop.columns
                else np.zeros(len(pop), dtype=np.int16)
            )
            state = {
                "free": months_left == 0,
                "under_contract": months_left > 0,
                "term_ending": months_left == 1,
            }
            reached &= state[self.contract]
        if self.churn_risk_top_share is not None or self.churn_risk_above is not None:
            reached &= _risky(model, churn_score(model), self.churn_risk_top_share, self.churn_risk_above)
        if self.share < 1.0:
            reached &= fixed_uniforms(model, f"target.{stream_key}") < self.share
        return reached


def _risky(
    model: LoyaltyModel, score: np.ndarray, top_share: float | None, above: float | None
) -> np.ndarray:
    active = model.population.active_ids()
    risky = np.zeros(score.size, dtype=bool)
    if top_share is not None:
        count = int(np.floor(top_share * active.size + 1e-9))
        risky[active[_top(score[active], count)]] = True
    else:
        risky[active] = True
    if above is not None:
        risky &= score >= above
    return risky


def _top(values: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` largest values, ties taken in row order so the count is
    exact (what a stable sort would pick), in linear time."""
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    if count >= values.size:
        return np.arange(values.size)
    kth = np.partition(values, values.size - count)[values.size - count]
    above = np.flatnonzero(values > kth)
    ties = np.flatnonzero(values == kth)[: count - above.size]
    return np.concatenate([above, ties])


def churn_score(model: LoyaltyModel) -> np.ndarray:
    """Each customer row's churn score: the probability of leaving in a quiet month (no
    service failure, no competitor offer, no contract) from its current state and the same
    parameters as phase 5 (``sim.mechanisms.decision``): background, relationship and
    dissatisfaction hazards. What a firm's churn model would estimate from the model's own
    hazard; 0 for customers who left."""
    params = model.market.decision
    pop = model.population
    bond = pop.bond.astype(np.float64)
    propensity = pop.restlessness * pop.churn_propensity
    hold = propensity * np.exp(
        -params.rational_hold * pop.price_focus * pop.rational_value - params.emotional_hold * bond
    )
    discontent = np.maximum(0.0, 1.0 - pop.satisfaction / params.content_level)
    stay = (
        (1.0 - np.minimum(1.0, pop.background_exit_per_month * pop.churn_propensity))
        * (
            1.0
            - np.minimum(1.0, params.relationship_exit_per_month * pop.bond_need * (1.0 - bond) ** 2 * hold)
        )
        * (1.0 - np.minimum(1.0, params.dissatisfaction_exit_per_month * discontent * hold))
    )
    return np.where(pop.active, 1.0 - stay, 0.0)


def fixed_uniforms(model: LoyaltyModel, purpose: str) -> np.ndarray:
    """One uniform number per customer row that does not change from month to month: the
    model's counter-based stream of ``purpose`` in month 0 (``model.uniforms``), by slot, so a
    customer's number depends on nothing but the seed, ``purpose`` and the customer's slot."""
    return model.uniforms(purpose, month=0)


@dataclass(frozen=True)
class Budget:
    """A cap on a program's spend: ``eur`` per ``per`` (``month`` or ``year``)."""

    eur: float
    per: str = "month"

    def __post_init__(self) -> None:
        if not self.eur >= 0.0:
            raise ParamError("eur", f"must be >= 0, got {self.eur}")
        if self.per not in BUDGET_PERIODS:
            raise ParamError("per", f"must be one of {', '.join(BUDGET_PERIODS)}, got {self.per!r}")

    def period(self, month: int) -> int:
        return (month - 1) // BUDGET_PERIODS[self.per]


@dataclass
class Reach:
    """A program's target and budget, and what it has spent in the current budget period."""

    target: Target | None = None
    budget: Budget | None = None
    spent: float = 0.0
    period: int = -1
    exhausted: bool = False
    spent_by_month: dict[int, float] = field(default_factory=dict)

    def call(self, program: Any, hook: str, model: LoyaltyModel, *args: Any) -> Any:
        """Run ``program.hook(model, *args)`` on the reached customers within the budget."""
        if hook not in WINDOW_HOOKS:
            return getattr(program, hook)(model, *args)
        if self.budget is not None:
            period = self.budget.period(max(model.month, 1))
            if period != self.period:
                self.period, self.spent, self.exhausted = period, 0.0, False
            if self.exhausted and hook != "stop":  # resting; its end (cards end, tiers go) still happens
                return 1.0 if hook in _VALUE_HOOKS else None
        if getattr(type(program), hook) is getattr(Program, hook):  # a no-op: nothing to aim or cap
            return getattr(program, hook)(model, *args)
        if hook in _VALUE_HOOKS:
            value = getattr(program, hook)(model, *args)
            share = self.target.share if self.target else 1.0
            return value if share == 1.0 or not _is_number(value) else 1.0 + (value - 1.0) * share
        mask = self.target.mask(model, program.stream_key) if self.target else model.population.active.copy()
        if self.budget is None:
            return _run_on(program, hook, model, args, mask)
        return self._within_budget(program, hook, model, args, mask)

    def _within_budget(
        self, program: Any, hook: str, model: LoyaltyModel, args: tuple, mask: np.ndarray
    ) -> Any:
        left = self.budget.eur - self.spent

        def fits_in(cost: float) -> bool:  # the sum that is kept, compared with the cap itself
            return self.spent + cost <= self.budget.eur

        saved = _Saved(model, program, args)
        cost = saved.attempt(lambda: _run_on(program, hook, model, args, mask))
        if fits_in(cost):
            return self._commit(saved, model, cost)
        # Too dear: find the most customers (in a fixed random order) whose call fits.
        reached = np.flatnonzero(mask)
        priority = reached[
            np.argsort(fixed_uniforms(model, f"budget.{program.stream_key}")[reached], kind="stable")
        ]
        # The largest k that fits: guesses from the cost per customer (costs are about
        # proportional to the customers reached, so two or three calls usually do), and
        # bisection whenever a guess falls outside what is still open.
        low, high, fits = 0, reached.size - 1, None
        guess = int(reached.size * left / cost) if cost > 0 else high
        while low < high:  # k = low fits (or is 0), k > high does not
            k = guess if low < guess <= high else (low + high + 1) // 2
            saved.restore()
            subset = np.zeros_like(mask)
            subset[priority[:k]] = True
            cost = saved.attempt(lambda subset=subset: _run_on(program, hook, model, args, subset))
            if fits_in(cost):
                low, fits = k, saved.take()
                per_customer = cost / k if k else 0.0
                guess = k + max(1, int((left - cost) / per_customer)) if per_customer > 0 else high
            else:
                high = k - 1
                guess = int(k * left / cost)
        saved.restore()
        self.exhausted = True
        if fits is None:  # not even one customer fits: the call does not happen
            return None
        fits.reapply()
        return self._commit(fits, model, fits.cost)

    def _commit(self, saved: _Saved, model: LoyaltyModel, cost: float) -> None:
        saved.book()
        self.spent += cost
        self.spent_by_month[model.month] = self.spent_by_month.get(model.month, 0.0) + cost


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)


def _run_on(program: Any, hook: str, model: LoyaltyModel, args: tuple, mask: np.ndarray) -> Any:
    """Call the hook with ``model.population`` seen through ``mask`` and ids cut to it."""
    if hook in _ID_HOOKS and args:
        keep = mask[args[0]]
        args = tuple(a[keep] if isinstance(a, np.ndarray) and a.shape[:1] == keep.shape else a for a in args)
    if hook == "service":
        return _service(program, model, args[0], mask)
    with _seen_through(model, mask):
        return getattr(program, hook)(model, *args)


@contextlib.contextmanager
def _seen_through(model: LoyaltyModel, mask: np.ndarray) -> Iterator[None]:
    """``model.population`` as a view in which only ``mask`` is active, for the duration."""
    population = model.population
    model.population = _TargetedPopulation(population, mask)
    try:
        yield
    finally:
        model.population = population


def _service(program: Any, model: LoyaltyModel, level: Any, mask: np.ndarray) -> Any:
    """Run a ``service`` hook for the reached customers (``mask``) on the level each of them
    already has, and write what it gives to them alone, so that several targeted programs
    compose as untargeted ones do (each changes the level its customers have).

    A hook sees scalar values; the reached customers hold one combination of values per set of
    earlier programs that reached them (fields that are per-customer arrays; scalar fields are
    the same for all). The hook runs once on the customers for real (their charges and effects,
    on the combination most of them hold), and once more per other combination to read what it
    makes of those values: with nobody active, the population, the program's state and the
    charges restored afterwards (:class:`_Saved`). Each customer gets the result for its own
    combination: a per-customer ``float32`` array where any differs from the month's value.
    """
    arrays = [f.name for f in fields(level) if isinstance(getattr(level, f.name), np.ndarray)]
    reached = np.flatnonzero(mask)
    if arrays and reached.size:
        held = np.stack([getattr(level, name)[reached] for name in arrays], axis=1)
        combos, which = np.unique(held, axis=0, return_inverse=True)
        which = which.reshape(-1)
    else:  # no per-customer field yet (or nobody reached): the level's own values, or the market's
        base = type(level).from_params(model.market.service)
        combos = np.array([[getattr(base, name) for name in arrays]], dtype=np.float32)
        which = np.zeros(reached.size, dtype=np.intp)
    real = int(np.bincount(which, minlength=len(combos)).argmax())
    names = [f.name for f in fields(level)]
    given = [_scalar(level, arrays, combo) for combo in combos]
    after = [copy.copy(scalar) for scalar in given]
    nobody = np.zeros_like(mask)
    for k, scalar in enumerate(after):
        if k != real:  # what the hook makes of these values; nothing else of it is kept
            saved = _Saved(model, program, ())
            saved.attempt(lambda scalar=scalar: _hook_on(program, model, scalar, nobody))
            saved.restore()
    result = _hook_on(program, model, after[real], mask)
    for name in names:
        old = np.array([getattr(scalar, name) for scalar in given])
        new = np.array([getattr(scalar, name) for scalar in after])
        if name not in arrays and (new == old).all():
            continue
        # float32 like the customers' arrays, so reached customers compare as with a scalar
        values = np.asarray(getattr(level, name), dtype=np.float32)
        values = np.array(np.broadcast_to(values, mask.shape))
        values[reached] = new.astype(np.float32)[which]
        setattr(level, name, values)
    return result


def _scalar(level: Any, arrays: list[str], combo: np.ndarray) -> Any:
    """A copy of ``level`` with the per-customer fields ``arrays`` set to the values ``combo``."""
    scalar = copy.copy(level)
    for name, value in zip(arrays, combo, strict=True):
        setattr(scalar, name, float(value))
    return scalar


def _hook_on(program: Any, model: LoyaltyModel, level: Any, mask: np.ndarray) -> Any:
    with _seen_through(model, mask):
        return program.service(model, level)


class _TargetedPopulation:
    """The population as a targeted program sees it: only reached customers are active."""

    def __init__(self, population: Any, mask: np.ndarray) -> None:
        object.__setattr__(self, "_population", population)
        object.__setattr__(self, "_mask", mask)

    def __getattr__(self, name: str) -> Any:
        if name == "active":
            return self._population.active & self._mask
        return getattr(self._population, name)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"update population columns in place, e.g. pop.{name}[:] = ...")

    def __len__(self) -> int:
        return len(self._population)

    def active_ids(self) -> np.ndarray:
        return np.flatnonzero(self._population.active & self._mask)


class _Saved:
    """What a budgeted hook call may change, saved so that the call can be undone."""

    def __init__(self, model: LoyaltyModel, program: Any, args: tuple) -> None:
        self.model, self.program = model, program
        pop = model.population
        # every column a hook can write (``active`` is read-only: only leaving changes it)
        self.columns = {name: getattr(pop, name).copy() for name in pop.columns if name != "active"}
        self.state = copy.deepcopy({k: v for k, v in vars(program).items() if k != "reach"})
        self.level = copy.copy(args[0]) if args and hasattr(args[0], "failure_per_month") else None
        self.level_target = args[0] if self.level is not None else None
        self.flows = model.flows
        self.costs: dict[str, float] = {}
        self.by_category: dict[str, float] = {}
        self.cost = 0.0
        self.after: _Saved | None = None

    def attempt(self, call: Callable[[], Any]) -> float:
        """Run ``call`` with its charges caught apart; return what it charged."""
        flows = self.flows
        outer = flows.costs, flows.cost_by_category
        flows.costs, flows.cost_by_category = {}, {}
        try:
            call()
            self.costs, self.by_category = flows.costs, flows.cost_by_category
        finally:
            flows.costs, flows.cost_by_category = outer
        self.cost = float(sum(self.costs.values()))
        return self.cost

    def take(self) -> _Saved:
        """A record of the state after the last attempt (to re-apply it later)."""
        after = _Saved(self.model, self.program, (self.level_target,) if self.level is not None else ())
        after.costs, after.by_category, after.cost = self.costs, self.by_category, self.cost
        return after

    def restore(self) -> None:
        pop = self.model.population
        for name, values in self.columns.items():
            getattr(pop, name)[:] = values
        state = copy.deepcopy(self.state)
        vars(self.program).update(state)
        if self.level is not None:
            vars(self.level_target).update(vars(copy.copy(self.level)))

    reapply = restore

    def book(self) -> None:
        flows = self.flows
        for name, eur in self.costs.items():
            flows.costs[name] = flows.costs.get(name, 0.0) + eur
        for category, eur in self.by_category.items():
            flows.cost_by_category[category] = flows.cost_by_category.get(category, 0.0) + eur
