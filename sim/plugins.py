"""Plugin machinery shared by programs and behaviours: checks at registration, installed plugins,
descriptions for the CLI listings, and errors that name the plugin.

Researchers import what they need from :mod:`sim.api`; this module is how it works. A plugin is
a class (a :class:`sim.programs.Program` or :class:`sim.behaviours.Behaviour`) registered by
name. Registration checks it at once, so a mistake is reported when the plugin is loaded, with
the plugin's name and source, not deep inside a run:

- the name is a Python identifier (it is used in scenario files and grid paths);
- ``Params`` is a frozen dataclass, every field has a default and a type a scenario file can
  give (``float``, ``int``, ``bool``, ``str``, or one of those ``| None``);
- every overridden hook has the base class's signature, and no method is a near-miss of a
  hook's name (``onbord`` would silently never run);
- declared population columns have new names and valid NumPy dtypes;
- declared monthly reporters (:class:`Reporter`) have new names and a function to call;
- the name is not taken by another plugin or a built-in.

Installed plugins are found through the entry-point groups ``loyalty_sim.programs`` and
``loyalty_sim.behaviours`` (``name = "package.module:Class"``), loaded once, on the first lookup.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib
import importlib.metadata
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.errors import UserError
from sim.params import (
    ParamError,
    param,  # noqa: F401  (re-exported: plugins declare parameters with it)
)
from sim.population import SCHEMA, Column
from sim.registry import Registry
from sim.shards import ShardError

BUILT_IN = "built-in"
PARAM_TYPES = (float, int, bool, str)


class PluginError(UserError, ValueError):
    """A plugin that cannot be registered; the message names the plugin and the problem."""


class PluginRunError(RuntimeError):
    """A plugin's hook raised during a run; the message names the plugin, the hook and the error."""


@dataclass(frozen=True)
class NoParams:
    """A plugin without parameters."""


@dataclass(frozen=True)
class Reporter:
    """A monthly result of a plugin: one number per month, a column of ``monthly.parquet``.

    ``function`` is called at the end of every month (phase 9, record) with the model, or, if it is a
    string, names a method of the plugin called as ``plugin.method(model)`` (for results that
    need the plugin's own state). It returns one number (NaN where it is undefined, e.g. a mean
    over no customers). Declared in a plugin's ``reporters``; shown by ``loyalty-sim programs``
    / ``behaviours``. Like Starsim's ``define_results`` or a Mesa ``DataCollector``'s model
    reporters.
    """

    name: str  # the column name; prefix it with the plugin's name: word_of_mouth_referrals
    unit: str  # "customers", "EUR", "share 0..1", ...
    function: Callable[[Any], float] | str
    doc: str = ""


def build_params(kind: str, cls: type, overrides: Mapping[str, Any]) -> Any:
    """``cls.Params(**overrides)``, with an error listing the valid names for unknown ones."""
    known = {f.name for f in dataclasses.fields(cls.Params)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ParamError(
            f"{kind} '{cls.name}'",
            f"has unknown parameter(s) {unknown} (valid: {', '.join(sorted(known))})",
        )
    return cls.Params(**overrides)


def source_of(cls: type) -> str:
    """Where a plugin class comes from: ``built-in``, its distribution, or its module."""
    source = getattr(cls, "__dict__", {}).get("source")
    if source:
        return source
    module = cls.__module__
    if module == "sim" or module.startswith("sim."):
        return BUILT_IN
    distributions = _distributions_by_package().get(module.split(".")[0])
    return distributions[0] if distributions else f"module {module}"


@functools.cache
def _distributions_by_package() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def plugin_hint(kind: str) -> str:
    """For a name that is not registered: maybe a plugin whose package is not installed."""
    return (
        f"if it is a plugin, is its package installed? `loyalty-sim {kind}s` lists what is; "
        "`uv add --editable PATH` installs one so that `uv sync` keeps it"
    )


def label(kind: str, name: str, cls: type) -> str:
    """``behaviour 'word_of_mouth' (from loyalty-sim-word-of-mouth)``: how errors name a plugin."""
    source = source_of(cls)
    return f"{kind} '{name}'" + ("" if source == BUILT_IN else f" (from {source})")


def register_into(
    registry: Registry, base: type, name: str, source: str | None = None
) -> Callable[[type], type]:
    """Class decorator: check a plugin class against ``base`` and register it as ``name``."""

    def add(cls: type) -> type:
        if source is not None:
            cls.source = source
        problems = _problems(registry, base, name, cls)
        if problems:
            raise PluginError(f"{label(registry.kind, name, cls)}: {'; '.join(problems)}")
        cls.name = name
        return registry.register(name)(cls)

    return add


def _problems(registry: Registry, base: type, name: str, cls: type) -> list[str]:
    if not isinstance(name, str) or not name.isidentifier():
        return [f"the name must be a Python identifier (letters, digits, '_'), got {name!r}"]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        return [f"must be a subclass of {base.__module__}.{base.__name__}, got {cls!r}"]
    taken = registry.registered(name)
    if taken is not None and taken is not cls:
        return [
            f"the name is already taken by the {label(registry.kind, name, taken)} "
            f"({taken.__module__}.{taken.__qualname__}); choose another name"
        ]
    return (
        _params_problems(cls.Params)
        + _hook_problems(base, cls)
        + _column_problems(cls.columns)
        + _reporter_problems(cls)
    )


def _params_problems(params: Any) -> list[str]:
    if not (isinstance(params, type) and dataclasses.is_dataclass(params)):
        return [f"Params must be a dataclass, got {params!r}"]
    problems = []
    if not params.__dataclass_params__.frozen:
        problems.append(f"Params {params.__name__} must be frozen: @dataclass(frozen=True)")
    try:
        hints = typing.get_type_hints(params)
    except Exception as error:  # an annotation that does not resolve
        return [*problems, f"Params {params.__name__} has an unresolvable type hint: {error}"]
    for field in dataclasses.fields(params):
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            problems.append(f"parameter '{field.name}' has no default (every parameter needs one)")
        if _scalar_type(hints[field.name]) is None:
            problems.append(
                f"parameter '{field.name}' has type {hints[field.name]!r}; "
                "expected float, int, bool, str or one of those | None"
            )
    return problems


def _scalar_type(hint: Any) -> type | None:
    """The scalar type of a parameter's hint (``int | None`` -> ``int``), or None if unsupported."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [t for t in typing.get_args(hint) if t is not type(None)]
        hint = inner[0] if len(inner) == 1 else None
    return hint if hint in PARAM_TYPES else None


def _hook_problems(base: type, cls: type) -> list[str]:
    problems = []
    kind = base.__name__.lower()
    for hook, other in _foreign_hooks(base).items():
        if hook in vars(cls) and not hasattr(base, hook):
            problems.append(
                f"method '{hook}' is a {other} hook and never runs in a {kind} "
                f"(a {kind}'s hooks: {', '.join(base.HOOKS)}); move it to a {other}"
            )
    for hook in base.HOOKS:
        mine, theirs = getattr(cls, hook), getattr(base, hook)
        if mine is theirs:
            continue
        expected = _positional(theirs)
        if not callable(mine) or _positional(mine) != expected:
            got = _parameters(mine) if callable(mine) else f" = {mine!r}"
            problems.append(f"hook {hook}{got} does not match {base.__name__}.{hook}{_parameters(theirs)}")
    for attribute in vars(cls):
        if attribute.startswith("_") or attribute in base.HOOKS or not callable(vars(cls)[attribute]):
            continue
        close = difflib.get_close_matches(attribute, base.HOOKS, n=1, cutoff=0.8)
        if close and not hasattr(base, attribute):
            problems.append(
                f"method '{attribute}' is not a hook and would never run; did you mean '{close[0]}'?"
            )
    return problems


def _foreign_hooks(base: type) -> dict[str, str]:
    """Hook names of the other plugin kinds, with their kind: a program's ``offers`` never runs."""
    # Imported here: both kinds import this module. Their base classes exist before anything
    # registers, so this works while either package is still being imported.
    from sim.behaviours import Behaviour
    from sim.programs import Program

    others = [other for other in (Program, Behaviour) if other is not base]
    return {hook: other.__name__.lower() for other in others for hook in other.HOOKS}


def _parameters(function: Callable) -> str:
    """``(self, model, ids)``: a signature without annotations, for messages."""
    parameters = inspect.signature(function).parameters.values()
    return f"({', '.join(str(p.replace(annotation=p.empty)) for p in parameters)})"


def _positional(function: Callable) -> int | None:
    """Number of positional parameters (self included); None if it takes ``*args`` or requires
    keyword-only arguments, which hook calls cannot supply."""
    count = 0
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            return None
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            return None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def _column_problems(columns: Any) -> list[str]:
    if not isinstance(columns, tuple):
        return [f"columns must be a tuple of sim.api.Column, got {type(columns).__name__}"]
    problems, core = [], {c.name for c in SCHEMA}
    names = [c.name for c in columns if isinstance(c, Column)]
    for column in columns:
        if not isinstance(column, Column):
            problems.append(f"columns must hold sim.api.Column entries, got {column!r}")
            continue
        if column.name in core:
            problems.append(f"column '{column.name}' is a core population column; choose another name")
        elif not column.name.isidentifier():
            problems.append(f"column name {column.name!r} must be a Python identifier")
        try:
            np.array(column.initial, dtype=column.dtype)
        except (TypeError, ValueError):
            problems.append(f"column '{column.name}' has dtype {column.dtype!r} or initial value "
                            f"{column.initial!r} that NumPy cannot use")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"columns declared twice: {', '.join(duplicates)}")
    return problems


def _reporter_problems(cls: type) -> list[str]:
    reporters = cls.reporters
    if reporters == ():
        return []  # most plugins: and `validate` need not load polars (sim.outcomes) for them
    from sim.outcomes import MONTHLY_SCHEMA  # imported here: outcomes loads polars

    if not isinstance(reporters, tuple) or not all(isinstance(r, Reporter) for r in reporters):
        return [f"reporters must be a tuple of sim.api.Reporter, got {reporters!r}"]
    problems = []
    names = [r.name for r in reporters]
    for reporter in reporters:
        if not (isinstance(reporter.name, str) and reporter.name.isidentifier()):
            problems.append(f"reporter name {reporter.name!r} must be a Python identifier")
        elif reporter.name in MONTHLY_SCHEMA:
            problems.append(
                f"reporter '{reporter.name}' is a column of the monthly table; choose another name"
            )
        function = reporter.function
        if isinstance(function, str):
            if not callable(getattr(cls, function, None)):
                problems.append(
                    f"reporter '{reporter.name}' names method '{function}', which {cls.__name__} lacks"
                )
        elif not callable(function):
            problems.append(f"reporter '{reporter.name}' needs a function of the model, got {function!r}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"reporters declared twice: {', '.join(duplicates)}")
    return problems


def reporter_names(plugins: list[tuple[str, Any]]) -> tuple[str, ...]:
    """The monthly columns the plugins of a run report, in order; a name reported by two of
    them is an error naming both."""
    owners: dict[str, str] = {}
    for kind, plugin in plugins:
        for reporter in plugin.reporters:
            owner = owners.setdefault(reporter.name, f"{kind} '{plugin.name}'")
            if owner != f"{kind} '{plugin.name}'":
                raise PluginError(
                    f"reporter '{reporter.name}' is declared by {owner} and {kind} '{plugin.name}'; "
                    "rename one"
                )
    return tuple(owners)


def reporter_units(*registries: Registry) -> dict[str, str]:
    """The unit of every reporter of the plugins registered in ``registries``, by column name."""
    classes = [registry.get(name) for registry in registries for name in registry.names()]
    return {reporter.name: reporter.unit for cls in classes for reporter in cls.reporters}


def report(plugins: list[tuple[str, Any]], model: Any) -> dict[str, float]:
    """This month's value of every reporter of ``plugins``; an error names plugin, reporter and month."""
    values = {}
    for kind, plugin in plugins:
        for reporter in plugin.reporters:
            function = reporter.function
            try:
                value = getattr(plugin, function)(model) if isinstance(function, str) else function(model)
                values[reporter.name] = float(value)
            except Exception as error:
                where = f"{label(kind, plugin.name, type(plugin))} failed in reporter '{reporter.name}'"
                raise PluginRunError(
                    f"{where} in month {model.month}: {type(error).__name__}: {error}"
                ) from error
    return values


def discover(builtin_package: str, group: str, base: type) -> Callable[[Registry], None]:
    """A registry's discovery: import the built-in package, then load the installed entry points."""

    def run(registry: Registry) -> None:
        importlib.import_module(builtin_package)
        for entry in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
            distribution = entry.dist.name if entry.dist is not None else f"entry point {entry.value}"
            try:
                loaded = entry.load()
            except Exception as error:
                raise PluginError(
                    f"{registry.kind} '{entry.name}' (from {distribution}): cannot load "
                    f"'{entry.value}': {type(error).__name__}: {error}"
                ) from error
            if isinstance(loaded, type):
                register_into(registry, base, entry.name, source=distribution)(loaded)
            elif not isinstance(loaded, types.ModuleType):  # a module registers with decorators
                raise PluginError(
                    f"{registry.kind} '{entry.name}' (from {distribution}): entry point "
                    f"'{entry.value}' must name a class or a module, got {type(loaded).__name__}"
                )

    return run


# --- descriptions for the CLI listings ----------------------------------------------------------


@dataclass(frozen=True)
class ParamInfo:
    name: str
    type: str
    default: Any
    unit: str
    doc: str


@dataclass(frozen=True)
class ReporterInfo:
    name: str
    unit: str
    doc: str


@dataclass(frozen=True)
class PluginInfo:
    kind: str
    name: str
    source: str
    summary: str
    hooks: tuple[str, ...]
    columns: tuple[Column, ...]
    params: tuple[ParamInfo, ...]
    reporters: tuple[ReporterInfo, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def describe(registry: Registry, base: type) -> list[PluginInfo]:
    """Every registered plugin of one kind with its parameters, for ``loyalty-sim programs``."""
    return [_info(registry.kind, name, registry.get(name), base) for name in registry.names()]


def _info(kind: str, name: str, cls: type, base: type) -> PluginInfo:
    hints = typing.get_type_hints(cls.Params)
    params = []
    for field in dataclasses.fields(cls.Params):
        scalar = _scalar_type(hints[field.name])
        optional = scalar is not hints[field.name]
        params.append(
            ParamInfo(
                field.name,
                f"{scalar.__name__}{' | None' if optional else ''}" if scalar else str(hints[field.name]),
                field.default,
                field.metadata.get("unit", ""),
                field.metadata.get("doc", ""),
            )
        )
    # The class's own docstring, else its module's (built-ins document the science there).
    doc = inspect.cleandoc(cls.__doc__ or inspect.getmodule(cls).__doc__ or "")
    hooks = tuple(h for h in base.HOOKS if getattr(cls, h) is not getattr(base, h))
    reporters = tuple(ReporterInfo(r.name, r.unit, r.doc) for r in cls.reporters)
    summary = doc.split("\n")[0]
    return PluginInfo(kind, name, source_of(cls), summary, hooks, cls.columns, tuple(params), reporters)


# --- running hooks --------------------------------------------------------------------------------


# Hooks that return a value; every other hook acts in place and returns None.
VALUE_HOOKS: tuple[str, ...] = ("acquisition_multiplier",)
# State hooks that return per-customer arrays aligned with their ``ids`` argument, or None:
# the arrays each hook returns (``terms`` a sim.programs.Terms).
ARRAY_HOOKS: dict[str, tuple[str, ...]] = {"balance": ("",), "terms": ("months_left", "exit_fee_months")}


def call_hook(kind: str, plugin: Any, hook: str, model: Any, *args: Any) -> Any:
    """Call ``plugin.hook(model, *args)``. An exception becomes a :class:`PluginRunError` that
    names the plugin, the hook and the month; so does a hook that breaks its contract: a value
    returned by an in-place hook (``return switch * 0.5`` would be ignored), or a multiplier
    that is not a finite number >= 0, or per-customer arrays that do not match the ids."""
    try:
        reach = getattr(plugin, "reach", None)  # a program's targeting and budget (sim.targeting)
        if reach is not None:
            result = reach.call(plugin, hook, model, *args)
        else:
            result = getattr(plugin, hook)(model, *args)
    except (PluginRunError, ShardError):  # a shard's refusal is the user's to fix, not the plugin's
        raise
    except Exception as error:
        where = _where(kind, plugin, hook, model)
        raise PluginRunError(f"{where}: {type(error).__name__}: {error}") from error
    if hook in VALUE_HOOKS:
        number = isinstance(result, int | float | np.floating | np.integer) and not isinstance(result, bool)
        if not (number and 0.0 <= result < float("inf")):
            where = _where(kind, plugin, hook, model)
            raise PluginRunError(f"{where}: expected a number >= 0, got {result!r}")
    elif hook in ARRAY_HOOKS:
        if result is not None:
            _check_arrays(kind, plugin, hook, model, result, len(args[0]))
    elif result is not None:
        raise PluginRunError(
            f"{_where(kind, plugin, hook, model)}: returned {type(result).__name__}, which would be ignored; "
            "hooks change arrays in place (switch *= ..., pop.bond[ids] += ..., "
            "see 'Hook reference' in docs/extending.md)"
        )
    return result


def _check_arrays(kind: str, plugin: Any, hook: str, model: Any, result: Any, size: int) -> None:
    for field in ARRAY_HOOKS[hook]:
        array = getattr(result, field, None) if field else result
        if not (isinstance(array, np.ndarray) and array.shape == (size,)):
            what = f"{field} " if field else ""
            raise PluginRunError(
                f"{_where(kind, plugin, hook, model)}: expected {what}an array with one entry per id "
                f"({size}), got {type(array).__name__} {getattr(array, 'shape', '')}".rstrip()
            )


def _where(kind: str, plugin: Any, hook: str, model: Any) -> str:
    month = getattr(model, "month", 0)
    when = f"in month {month}" if month else "before month 1"
    return f"{label(kind, plugin.name, type(plugin))} failed in hook '{hook}' {when}"
