"""Mesa's own tools for loyalty-sim: plain keyword parameters, a DataCollector, batch_run.

Mesa's ``batch_run`` and ``SolaraViz`` build a model as ``LoyaltyModel(**parameters)`` from
plain values, and read its results from ``model.datacollector``. This module is that bridge:

- :func:`from_keywords` turns ``strategy="point_card"`` and parameters such as
  ``offer_rate_per_month=0.1`` or ``**{"programs.point_card.reward_share_of_spend": 0.02}`` into
  the model's :class:`~sim.strategy.Strategy` and :class:`~sim.market.Market`, validated like a
  scenario file (a parameter's plain name works where it names one field only);
- :func:`outcome_collector` is the ``mesa.DataCollector`` every model carries: one model
  reporter per column of the monthly table (plugins' reporters included), collected at the end
  of each month, so ``model.datacollector.get_model_vars_dataframe()`` and ``mesa.batch_run``
  see the same numbers as ``RunResult.monthly``.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import mesa

from sim.errors import UserError
from sim.params import ParamError

if TYPE_CHECKING:
    from sim.market import Market
    from sim.model import LoyaltyModel
    from sim.strategy import Strategy


class KeywordError(UserError, ValueError):
    """A keyword parameter of ``LoyaltyModel`` that names no parameter, or names several."""


def from_keywords(
    strategy: str | Strategy, market: Market | None, parameters: Mapping[str, Any]
) -> tuple[Strategy, Market]:
    """The strategy and market of ``LoyaltyModel(strategy, **parameters)``.

    ``strategy`` is a strategy of ``loyalty-sim run`` (a program's name or
    ``appreciation_and_service``) or a :class:`Strategy`. ``parameters`` are scenario key paths
    (``market.offers.discount``, ``service.failure_per_month``, ``market.gross_margin_share``,
    ``programs.point_card.reward_share_of_spend``, ``behaviours.<name>.<field>``) or a field's
    plain name where only one section has it; ``behaviours`` lists behaviours to enable. Values
    are checked by the parameter classes, as a scenario's are.
    """
    from sim.behaviours import BehaviourSpec
    from sim.market import Market
    from sim.strategy import ProgramSpec, Strategy, builtin_strategies

    parameters = dict(parameters)
    behaviours = parameters.pop("behaviours", ())
    behaviours = [behaviours] if isinstance(behaviours, str) else list(behaviours)
    if market is not None and (parameters or behaviours):
        raise KeywordError("LoyaltyModel: pass either a Market or keyword parameters, not both")
    if isinstance(strategy, str):
        known = builtin_strategies()
        strategy = known[strategy] if strategy in known else Strategy(strategy, (ProgramSpec(strategy),))
    if market is not None:
        return strategy, market
    sections: dict[str, dict[str, Any]] = {}
    programs = {spec.name: dict(spec.params) for spec in strategy.programs}
    enabled: dict[str, dict[str, Any]] = {name: {} for name in behaviours}
    given: dict[str, str] = {}  # field -> path, to name the path in an error
    for name, value in parameters.items():
        path = _path(name, strategy, behaviours)
        given[path.rsplit(".", 1)[-1]] = path
        root, _, rest = path.partition(".")
        owner, _, field = rest.rpartition(".")
        if root == "programs" and owner in programs:
            programs[owner][field] = value
        elif root == "behaviours" and owner in enabled:
            enabled[owner][field] = value
        elif root in ("market", "service") and path in _paths(parameter_paths(strategy, behaviours)):
            sections.setdefault("service" if root == "service" else owner, {})[field] = value
        else:
            raise KeywordError(f"LoyaltyModel: {path}: expected a known parameter of the strategy or market")
    try:
        base = Market()
        fields = {
            section: dataclasses.replace(getattr(base, section), **values)
            for section, values in sections.items() if section
        }
        scalars = sections.get("", {})  # market.gross_margin_share
        specs = tuple(BehaviourSpec(n, p) for n, p in enabled.items())
        market = Market(**fields, **scalars, behaviours=specs)
        strategy = Strategy(strategy.name, tuple(
            dataclasses.replace(spec, params=programs[spec.name]) for spec in strategy.programs
        ))
        strategy.build()  # checks the programs' parameters now, not in the middle of a run
        for spec in market.behaviours:
            spec.build()
    except ParamError as error:
        raise KeywordError(f"LoyaltyModel: {given.get(error.field, error.field)}: {error.problem}") from None
    return strategy, market


def _paths(by_name: dict[str, list[str]]) -> set[str]:
    return {path for paths in by_name.values() for path in paths}


def parameter_paths(strategy: Strategy, behaviours: list[str]) -> dict[str, list[str]]:
    """Every parameter a keyword can name, by plain field name: the key paths that have it."""
    from sim.behaviours import BEHAVIOURS
    from sim.mechanisms import MECHANISMS
    from sim.programs import PROGRAMS

    sections: list[tuple[str, type]] = [
        ("service" if name == "service" else f"market.{name}", MECHANISMS.get(name)) for name in MECHANISMS
    ]
    sections += [(f"programs.{spec.name}", PROGRAMS.get(spec.name).Params) for spec in strategy.programs]
    sections += [(f"behaviours.{name}", BEHAVIOURS.get(name).Params) for name in behaviours]
    paths: dict[str, list[str]] = {"gross_margin_share": ["market.gross_margin_share"]}
    for prefix, params in sections:
        hints = typing.get_type_hints(params)
        for field in dataclasses.fields(params):
            if hints[field.name] in (int, float, bool, str, int | None, float | None):
                paths.setdefault(field.name, []).append(f"{prefix}.{field.name}")
    return paths


def _path(name: str, strategy: Strategy, behaviours: list[str]) -> str:
    if "." in name:
        return name
    found = parameter_paths(strategy, behaviours).get(name, [])
    if len(found) == 1:
        return found[0]
    if found:
        raise KeywordError(f"LoyaltyModel: '{name}' is a parameter of {', '.join(found)}; name one of them")
    close = difflib.get_close_matches(name, list(parameter_paths(strategy, behaviours)), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise KeywordError(
        f"LoyaltyModel: unknown parameter '{name}'; {hint}use a parameter's name or key path "
        "(market.<section>.<field>, service.<field>, programs.<program>.<field>, "
        "behaviours.<name>.<field>)"
    )


def outcome_collector(model: LoyaltyModel) -> mesa.DataCollector:
    """A ``mesa.DataCollector`` with one model reporter per monthly column, reading the row that
    phase 9 records (``model.monthly_row``)."""
    return mesa.DataCollector(
        model_reporters={name: functools.partial(_column, name=name) for name in model.monthly_columns}
    )


def _column(model: LoyaltyModel, name: str) -> float:
    """A model reporter: one column of the month's recorded row (a partial of it pickles)."""
    return model.monthly_row[name]


__all__ = ["KeywordError", "from_keywords", "outcome_collector", "parameter_paths"]
