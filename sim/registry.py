"""Name -> class registries with helpful errors for misspelled names."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator

from sim.errors import UserError


def _plugin_hint(kind: str) -> str:
    from sim.plugins import plugin_hint  # imported here: sim.plugins imports this module

    return plugin_hint(kind)


class UnknownNameError(UserError, KeyError):
    """A name that is not registered; the message lists the valid ones and the closest match."""

    def __init__(self, kind: str, name: str, valid: list[str]) -> None:
        close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
        hint = f", did you mean '{close[0]}'?" if close else ""
        if kind in ("program", "behaviour") and not close:
            hint = f" ({_plugin_hint(kind)})"
        self.kind, self.name, self.valid, self.suggestion = kind, name, valid, close[0] if close else None
        super().__init__(f"unknown {kind} '{name}'{hint} (valid: {', '.join(valid)})")

    def __str__(self) -> str:
        return self.args[0]


class Registry[T]:
    """A registry of classes by name; ``@registry.register("name")`` adds one.

    ``discover``, if given, is called with the registry once before the first lookup (``get``,
    ``names``, ``in``, iteration): it registers what is not imported eagerly, such as installed
    plugins.
    """

    def __init__(self, kind: str, discover: Callable[[Registry[T]], None] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._discover = discover

    def _ensure_discovered(self) -> None:
        discover, self._discover = self._discover, None  # once, even if it registers or looks up
        if discover is not None:
            discover(self)

    def register(self, name: str) -> Callable[[T], T]:
        def add(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            self._entries[name] = entry
            return entry

        return add

    def registered(self, name: str) -> T | None:
        """What is registered under ``name`` so far, without running discovery."""
        return self._entries.get(name)

    def get(self, name: str) -> T:
        self._ensure_discovered()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        self._ensure_discovered()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        self._ensure_discovered()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        self._ensure_discovered()
        return iter(self._entries)
