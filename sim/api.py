"""The public API for researchers who add firm programs and customer behaviours.

Import everything a plugin needs from here; the rest of ``sim`` may change without notice::

    from dataclasses import dataclass
    from sim.api import Behaviour, Column, param, register_behaviour

A **program** is what the firm does: parameters, cost (``model.charge``) and hooks named after
the phases of the monthly step it acts in. A **behaviour** is what customers do or feel: it runs
for the whole market in every strategy and may declare extra per-customer columns. Both work on
whole arrays of ``model.population`` and draw random numbers from ``model.uniforms(purpose)`` or
``model.stream(purpose)``. Register in-tree with the decorators, or out-of-tree through the
entry-point groups ``loyalty_sim.programs`` / ``loyalty_sim.behaviours`` of an installed
package. The tutorial is ``docs/extending.md``.
"""

from __future__ import annotations

from sim.behaviours import Behaviour, ExitHazards
from sim.behaviours import register as register_behaviour
from sim.mechanisms.service import ServiceLevel
from sim.params import ParamError, check_positive, check_range
from sim.plugins import NoParams, PluginError, PluginRunError, Reporter, param
from sim.population import Column
from sim.programs import Program, Terms
from sim.programs import register as register_program

__all__ = [
    "Behaviour",
    "Column",
    "ExitHazards",
    "NoParams",
    "ParamError",
    "PluginError",
    "PluginRunError",
    "Program",
    "Reporter",
    "ServiceLevel",
    "Terms",
    "check_positive",
    "check_range",
    "param",
    "register_behaviour",
    "register_program",
]
