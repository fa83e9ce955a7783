"""Customer behaviours: what customers do or feel beyond the core mechanisms, registered by name.

A behaviour subclasses :class:`Behaviour`, names its frozen parameter dataclass in ``Params``,
may declare extra per-customer ``columns`` that the population then carries (allocated, grown
when customers join, exported with the customer records), and overrides only the hooks of the
phases it acts in (the table in :meth:`sim.model.LoyaltyModel.step`). Unlike a program, a
behaviour belongs to the market: it runs in every month of every strategy of a scenario
(``[[behaviours]]`` in the scenario file). Installed plugins of the entry-point group
``loyalty_sim.behaviours`` are registered on the first lookup.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.plugins import NoParams, PluginRunError, Reporter, build_params, call_hook, discover, register_into
from sim.population import Column
from sim.registry import Registry

if TYPE_CHECKING:
    from sim.mechanisms.service import ServiceLevel
    from sim.model import LoyaltyModel


class Behaviour:
    """Base class of customer behaviours; every hook is a no-op by default."""

    Params: ClassVar[type] = NoParams
    name: ClassVar[str] = ""
    # Extra per-customer arrays the behaviour owns; the population carries them (sim.api.Column).
    columns: ClassVar[tuple[Column, ...]] = ()
    # Monthly results the plugin reports into monthly.parquet (sim.api.Reporter).
    reporters: ClassVar[tuple[Reporter, ...]] = ()
    HOOKS: ClassVar[tuple[str, ...]] = (
        "setup", "service", "act", "adapt", "offers", "exit_hazards", "stay_or_leave",
        "acquisition_multiplier", "onboard",
    )

    def __init__(self, params: Any = None) -> None:
        self.params = params if params is not None else self.Params()

    def setup(self, model: LoyaltyModel) -> None:
        """Before month 1: the initial cohort exists (initialise columns, build a network)."""

    def service(self, model: LoyaltyModel, level: ServiceLevel) -> None:
        """Phase 1: change this month's service level, after the programs' ``service`` hooks."""

    def act(self, model: LoyaltyModel) -> None:
        """Phase 2: act on customers, after the programs' ``act`` hooks."""

    def adapt(self, model: LoyaltyModel) -> None:
        """Phase 3: after decay and adaptation, before states are clamped to their ranges."""

    def offers(self, model: LoyaltyModel, switch: np.ndarray) -> None:
        """Phase 4: change ``switch`` in place: each customer's probability (per row) of leaving
        for a competitor this month."""

    def exit_hazards(self, model: LoyaltyModel, ids: np.ndarray, hazards: ExitHazards) -> None:
        """Phase 5, before the draw: scale each exit reason's hazard of the active customers
        ``ids`` in place (``hazards.relationship *= ...``; see :class:`ExitHazards`)."""

    def stay_or_leave(self, model: LoyaltyModel, leavers: np.ndarray) -> None:
        """Phase 5: react to this month's exits; ``leavers`` are the ids of customers who left."""

    def acquisition_multiplier(self, model: LoyaltyModel) -> float:
        """Phase 6: factor on the number of new customers this month."""
        return 1.0

    def onboard(self, model: LoyaltyModel, ids: np.ndarray) -> None:
        """Phase 6: act on customers who joined this month (after the programs' ``onboard``)."""


@dataclass
class ExitHazards:
    """Factors on this month's exit hazards, one float64 per active customer (aligned with the
    ``ids`` the hook receives), all 1.0 when the hook is called. Behaviours multiply them in
    place; the model then multiplies each reason's probability by its factor (capped at 1)
    before the competing-risks draw. Contract-end and breakout exits follow from the scaled
    pull of ``price``, ``service`` and ``relationship``.
    """

    price: np.ndarray  # accepting a competitor's offer (phase 4's switch probability)
    service: np.ndarray  # unrecovered failures and lasting dissatisfaction
    relationship: np.ndarray  # neglect: a bond-hungry customer without a bond
    background: np.ndarray  # life events

    REASONS: ClassVar[tuple[str, ...]] = ("price", "service", "relationship", "background")

    @classmethod
    def ones(cls, size: int) -> ExitHazards:
        return cls(*(np.ones(size) for _ in cls.REASONS))


def _scaling(model: LoyaltyModel) -> list[Behaviour]:
    return [b for b in model.behaviours if type(b).exit_hazards is not Behaviour.exit_hazards]


def scales_exit_hazards(model: LoyaltyModel) -> bool:
    """Whether a behaviour of the market scales exit hazards (has an ``exit_hazards`` hook)."""
    return bool(_scaling(model))


def exit_hazard_factors(model: LoyaltyModel, ids: np.ndarray) -> ExitHazards | None:
    """The factors of every behaviour that scales exit hazards, multiplied; None if none does
    (then the model skips the multiplication)."""
    scaling = _scaling(model)
    if not scaling:
        return None
    hazards = ExitHazards.ones(ids.size)
    for behaviour in scaling:
        call_hook("behaviour", behaviour, "exit_hazards", model, ids, hazards)
        for reason in ExitHazards.REASONS:
            factor = getattr(hazards, reason)
            if factor.shape != ids.shape or not np.all(np.isfinite(factor) & (factor >= 0)):
                raise PluginRunError(
                    f"behaviour '{behaviour.name}' failed in hook 'exit_hazards' in month {model.month}: "
                    f"hazards.{reason} must stay an array of {ids.size} finite factors >= 0 "
                    f"(multiply it in place: hazards.{reason} *= ...)"
                )
    return hazards


BEHAVIOURS: Registry[type[Behaviour]] = Registry(
    "behaviour", discover(__name__, "loyalty_sim.behaviours", Behaviour)
)


def register(name: str):
    """Class decorator: check a behaviour class and register it under ``name`` (see sim.plugins)."""
    return register_into(BEHAVIOURS, Behaviour, name)


@dataclass(frozen=True)
class BehaviourSpec:
    """A behaviour in a market: its registered name and parameter overrides."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        BEHAVIOURS.get(self.name)  # unknown names fail early, with a suggestion
        object.__setattr__(self, "params", dict(self.params))  # a copy; plain dicts pickle for workers

    def build(self) -> Behaviour:
        cls = BEHAVIOURS.get(self.name)
        return cls(build_params("behaviour", cls, self.params))


def _load_builtin_behaviours() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_load_builtin_behaviours()
