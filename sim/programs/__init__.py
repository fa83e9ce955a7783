"""Firm programs: what the firm does, one module each, registered by the module's name.

A program subclasses :class:`Program`, names its frozen parameter dataclass in ``Params`` and
overrides only the hooks of the phases it acts in (see :meth:`sim.model.LoyaltyModel.step`).
Hooks run only in months where the program runs (``start_month <= month < end_month``);
``start`` and ``stop`` run once at those edges.

A program owns the per-customer state it changes: it declares it as ``columns`` and keeps it with
its *state hooks*, which run in every month, inside and outside the window (a contract signed
while the program ran still binds after it stopped), once per program class in a strategy
(instances of one class share its columns):

- ``age(model)``: advance the program's clocks for the customers who stayed (phase 6);
- ``terms(model, ids)``: the contract that binds customers (:class:`Terms`), which the core reads
  for the lock-in (exit fee, resentment, break-outs, the term-end decision, attention at a term's
  end, the "hostage" loyalty type) without knowing the program's columns;
- ``balance(model, ids)``: rewards customers hold with the program and lose when they leave
  (points): rational value (phase 3) and the monthly ``points_liability``.
 Costs are booked with
``model.charge(name, eur, category)``, the category one of ``sim.outcomes.COST_CATEGORIES``.
Built-in programs use the same public API as plugins (:mod:`sim.api`); installed plugins of the
entry-point group ``loyalty_sim.programs`` are registered on the first lookup.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.mechanisms.attention import raise_attention
from sim.params import ParamError
from sim.plugins import NoParams, Reporter, discover, register_into
from sim.population import Column
from sim.registry import Registry

if TYPE_CHECKING:
    from sim.mechanisms.service import ServiceLevel
    from sim.model import LoyaltyModel
    from sim.targeting import Reach


@dataclass(frozen=True)
class Terms:
    """The contract binding customers ``ids``, aligned with them (a program's ``terms``).

    A customer is free where ``months_left == 0``; under contract where it is > 0, and the term
    ends this month (a decision, phase 5) where it is 1. ``exit_fee_months`` is read only where
    the customer is under contract.
    """

    months_left: np.ndarray  # integer: months of the term left, this month included; 0 = free
    exit_fee_months: np.ndarray  # float32: fee for leaving during the term, months of spend

    @staticmethod
    def combine(terms: list[Terms]) -> Terms:
        """Several programs' contracts as one: bound until the last term ends, and leaving
        early costs the fee of every contract still running."""
        if len(terms) == 1:
            return terms[0]
        months_left = np.maximum.reduce([t.months_left for t in terms])
        fees = [np.where(t.months_left > 0, t.exit_fee_months, 0.0) for t in terms]
        return Terms(months_left, np.add.reduce(fees).astype(np.float32))


_NOBODY = np.zeros(0, dtype=bool)


def under_contract(terms: Terms | None, size: int | None = None) -> np.ndarray:
    """Which customers ``terms`` bind (bool, aligned with them). Without terms, nobody: ``size``
    False values, or with no ``size`` an empty mask (which the compiled passes read as nobody)."""
    if terms is not None:
        return terms.months_left > 0
    return _NOBODY if size is None else np.zeros(size, dtype=bool)


class Program:
    """Base class of firm programs; every hook is a no-op by default."""

    Params: ClassVar[type] = NoParams
    name: ClassVar[str] = ""
    # Extra per-customer arrays the program owns; the population carries them (sim.api.Column).
    columns: ClassVar[tuple[Column, ...]] = ()
    # Monthly results the plugin reports into monthly.parquet (sim.api.Reporter).
    reporters: ClassVar[tuple[Reporter, ...]] = ()
    # Whether the program's contacts remind customers of their deal and so raise their attention
    # (sim.mechanisms.attention); programs report contacts with :meth:`contacted`.
    contacts_raise_attention: ClassVar[bool] = False
    HOOKS: ClassVar[tuple[str, ...]] = (
        "start", "stop", "service", "act", "term_end", "acquisition_multiplier", "onboard",
        "age", "terms", "balance",
    )
    # Hooks that run every month, inside and outside the window, once per program class.
    STATE_HOOKS: ClassVar[tuple[str, ...]] = ("age", "terms", "balance")

    def __init__(self, params: Any = None, start_month: int = 1, end_month: int | None = None):
        self.params = params if params is not None else self.Params()
        if start_month < 1:
            raise ParamError("start_month", f"must be >= 1, got {start_month}")
        if end_month is not None and end_month <= start_month:
            raise ParamError("end_month", f"must be after start_month ({start_month}), got {end_month}")
        self.start_month, self.end_month = start_month, end_month
        # Purpose of this instance's random streams (``model.uniforms(self.stream_key)``): the
        # name, plus ``#k`` for the k-th repeat of a program in one strategy (set by the model).
        self.stream_key = self.name
        # Whom the program reaches and its budget cap (sim.targeting.Reach; set by the
        # strategy from the scenario's ``target`` and ``budget``); None: every active customer.
        self.reach: Reach | None = None

    def runs_in(self, month: int) -> bool:
        return self.start_month <= month and (self.end_month is None or month < self.end_month)

    def start(self, model: LoyaltyModel) -> None:
        """Called at the beginning of the first month the program runs."""

    def stop(self, model: LoyaltyModel) -> None:
        """Called at the beginning of the first month the program no longer runs."""

    def service(self, model: LoyaltyModel, level: ServiceLevel) -> None:
        """Phase 1: change this month's service level before encounters are drawn."""

    def act(self, model: LoyaltyModel) -> None:
        """Phase 2: act on customers (contacts, rewards, contracts)."""

    def term_end(self, model: LoyaltyModel, ids: np.ndarray, recontracted: np.ndarray) -> None:
        """Phase 7: customers ``ids`` stayed at the end of their contract term this month;
        ``recontracted`` marks those who chose to sign again (the others rolled on)."""

    def contacted(self, model: LoyaltyModel, ids: np.ndarray) -> None:
        """Report that the program contacted customers ``ids`` this month: raises their
        attention if ``contacts_raise_attention`` (not a hook; call it, do not override it)."""
        if self.contacts_raise_attention:
            raise_attention(model, ids, model.market.attention.contact_gain)

    def acquisition_multiplier(self, model: LoyaltyModel) -> float:
        """Phase 8: factor on the number of new customers this month."""
        return 1.0

    def onboard(self, model: LoyaltyModel, ids: np.ndarray) -> None:
        """Phase 8: act on customers who joined this month."""

    def age(self, model: LoyaltyModel) -> None:
        """Phase 6, every month (state hook): advance the clocks in the program's columns for
        the customers who stayed (``model.population.active``), e.g. a contract's term."""

    def terms(self, model: LoyaltyModel, ids: np.ndarray) -> Terms | None:
        """Every month (state hook): the contract binding customers ``ids`` (:class:`Terms`,
        aligned with ``ids``), or None if the program binds nobody."""
        return None

    def balance(self, model: LoyaltyModel, ids: np.ndarray) -> np.ndarray | None:
        """Every month (state hook): rewards, EUR, that customers ``ids`` hold with the program
        and lose when they leave (points), aligned with ``ids``; None if the program holds none."""
        return None


PROGRAMS: Registry[type[Program]] = Registry("program", discover(__name__, "loyalty_sim.programs", Program))


def register(name: str):
    """Class decorator: check a program class and register it under ``name`` (see sim.plugins)."""
    return register_into(PROGRAMS, Program, name)


def _load_builtin_programs() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_load_builtin_programs()
