"""Firm programs: what the firm does, one module each, registered by the module's name.

A program subclasses :class:`Program`, names its frozen parameter dataclass in ``Params`` and
overrides only the hooks of the phases it acts in (see :meth:`sim.model.LoyaltyModel.step`).
Hooks run only in months where the program runs (``start_month <= month < end_month``);
``start`` and ``stop`` run once at those edges. Costs are booked with
``model.charge(name, eur, category)``, the category one of ``sim.outcomes.COST_CATEGORIES``.
Built-in programs use the same public API as plugins (:mod:`sim.api`); installed plugins of the
entry-point group ``loyalty_sim.programs`` are registered on the first lookup.
"""

from __future__ import annotations

import importlib
import pkgutil
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
    )

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


PROGRAMS: Registry[type[Program]] = Registry("program", discover(__name__, "loyalty_sim.programs", Program))


def register(name: str):
    """Class decorator: check a program class and register it under ``name`` (see sim.plugins)."""
    return register_into(PROGRAMS, Program, name)


def _load_builtin_programs() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_load_builtin_programs()
