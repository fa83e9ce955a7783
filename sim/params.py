"""Validation helpers for the frozen parameter dataclasses of mechanisms and programs."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sim.errors import UserError


class ParamError(UserError, ValueError):
    """An invalid parameter value; ``field`` names the parameter so callers can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.problem = message


def check_range(params: object, names: tuple[str, ...], low: float = 0.0, high: float = math.inf) -> None:
    """Raise ``ValueError`` naming the first field of ``names`` outside ``[low, high]``."""
    for name in names:
        value = getattr(params, name)
        if value is None:
            continue
        if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
            bounds = f"[{low:g}, {high:g}]" if high != math.inf else f">= {low:g}"
            raise ParamError(name, f"must be {'in ' if high != math.inf else ''}{bounds}, got {value}")


def check_positive(params: object, names: tuple[str, ...]) -> None:
    """Raise ``ValueError`` naming the first field of ``names`` that is not > 0."""
    for name in names:
        value = getattr(params, name)
        if not value > 0:
            raise ParamError(name, f"must be > 0, got {value}")


def param(default: Any, unit: str, doc: str) -> Any:
    """A parameter field with its unit and meaning, shown by ``loyalty-sim programs``/``behaviours``
    and ``loyalty-sim mechanisms``.

    ``unit`` is e.g. ``"EUR"``, ``"months"``, ``"share 0..1"``, ``"per customer-year"`` or ``"-"``
    for a flag or a pure number.
    """
    return dataclasses.field(default=default, metadata={"unit": unit, "doc": doc})
