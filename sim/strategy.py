"""Strategies: named combinations of programs, each with parameters and a running window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.plugins import BUILT_IN, build_params, source_of
from sim.programs import PROGRAMS, Program
from sim.targeting import Budget, Reach, Target


@dataclass(frozen=True)
class ProgramSpec:
    """One program in a strategy: its registered name, parameter overrides and window.

    The program runs in months ``start_month <= month < end_month`` (``None``: to the end).
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    start_month: int = 1
    end_month: int | None = None
    target: Target | None = None  # whom it reaches (sim.targeting); None: every active customer
    budget: Budget | None = None  # its spending cap; None: no cap

    def __post_init__(self) -> None:
        PROGRAMS.get(self.name)  # unknown names fail early, with a suggestion
        object.__setattr__(self, "params", dict(self.params))  # a copy; plain dicts pickle for workers

    def build(self) -> Program:
        cls = PROGRAMS.get(self.name)
        program = cls(build_params("program", cls, self.params), self.start_month, self.end_month)
        if self.target is not None or self.budget is not None:
            program.reach = Reach(self.target, self.budget)
        return program


@dataclass(frozen=True)
class Strategy:
    """A firm's strategy: a name and the programs it runs."""

    name: str
    programs: tuple[ProgramSpec, ...]

    def __post_init__(self) -> None:
        if not self.programs:
            raise ValueError(f"strategy '{self.name}' has no programs")

    def build(self) -> list[Program]:
        programs = [spec.build() for spec in self.programs]
        if any(program.reach is not None and _serves(program) for program in programs):
            # The service level becomes per-customer arrays; an untargeted program's change to
            # it then applies to every active customer's own level, as a targeted one's does.
            for program in programs:
                if program.reach is None and _serves(program):
                    program.reach = Reach()
        return programs


def _serves(program: Program) -> bool:
    """Whether ``program`` changes the month's service level (has a ``service`` hook)."""
    return type(program).service is not Program.service


BASELINE = "rare_contact"
MIXED = "appreciation_and_service"


def builtin_strategies() -> dict[str, Strategy]:
    """One single-program strategy per built-in program, plus one mixed strategy.

    Installed plugins are left out, so the default comparison does not depend on what is installed.
    """
    strategies = {
        name: Strategy(name, (ProgramSpec(name),))
        for name in PROGRAMS.names()
        if source_of(PROGRAMS.get(name)) == BUILT_IN
    }
    strategies[MIXED] = Strategy(
        MIXED, (ProgramSpec("personal_appreciation"), ProgramSpec("service_excellence"))
    )
    return strategies
