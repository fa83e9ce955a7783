"""The plugin API: checks at registration, installed plugins through entry points, the CLI
listings, and a plugin that raises during a run.

The installed-plugin tests write a throw-away package into a temporary directory together with
a ``.dist-info`` folder holding its ``entry_points.txt`` (what an installer writes), put that
directory on the path (``sys.path`` here, ``PYTHONPATH`` for spawned sweep workers) and run the
CLI's ``main``, so the package is found exactly as an installed one is.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from sim.api import (
    Behaviour,
    Column,
    PluginError,
    PluginRunError,
    Program,
    param,
    register_behaviour,
    register_program,
)
from sim.behaviours import BEHAVIOURS, BehaviourSpec
from sim.cli import main
from sim.market import Market
from sim.model import LoyaltyModel
from sim.plugins import BUILT_IN, describe, discover, source_of
from sim.programs import PROGRAMS
from sim.strategy import ProgramSpec, Strategy

# --- checks at registration ---------------------------------------------------------------------


@dataclass(frozen=True)
class GoodParams:
    gain: float = param(0.1, "share", "a gain")


def test_a_wrong_hook_signature_is_rejected_naming_plugin_and_hook(scratch_registries):
    with pytest.raises(PluginError) as caught:

        @register_program("bad_hook")
        class BadHook(Program):
            Params = GoodParams

            def act(self, model, month) -> None:
                pass

    message = str(caught.value)
    assert message.startswith("program 'bad_hook' (from module test_plugins): ")
    assert "hook act(self, model, month) does not match Program.act(self, model)" in message
    assert "bad_hook" not in PROGRAMS


def test_a_parameter_without_default_is_rejected(scratch_registries):
    @dataclass(frozen=True)
    class NoDefault:
        gain: float
        rate: float = 0.1

    with pytest.raises(PluginError, match=r"behaviour 'no_default' .*parameter 'gain' has no default"):

        @register_behaviour("no_default")
        class NoDefaultBehaviour(Behaviour):
            Params = NoDefault


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        (dataclass(type("Mutable", (), {"__annotations__": {"x": float}, "x": 1.0})), "must be frozen"),
        (type("Plain", (), {}), "Params must be a dataclass"),
        (
            dataclass(frozen=True)(type("Listy", (), {"__annotations__": {"x": list}, "x": None})),
            "parameter 'x' has type <class 'list'>; expected float, int, bool, str",
        ),
    ],
)
def test_params_must_be_a_frozen_dataclass_of_scenario_types(scratch_registries, params, problem):
    with pytest.raises(PluginError, match=problem):
        register_program("odd_params")(type("OddParams", (Program,), {"Params": params}))


def test_a_name_taken_by_a_builtin_is_rejected_naming_both(scratch_registries):
    with pytest.raises(PluginError) as caught:

        @register_program("point_card")
        class MyCard(Program):
            Params = GoodParams

    message = str(caught.value)
    assert "program 'point_card' (from module test_plugins)" in message
    assert "already taken by the program 'point_card' (sim.programs.point_card.PointCard)" in message
    assert PROGRAMS.get("point_card").__module__ == "sim.programs.point_card"


def test_a_near_miss_of_a_hook_name_is_rejected(scratch_registries):
    near_miss = "method 'onbord' is not a hook and would never run; did you mean 'onboard'"
    with pytest.raises(PluginError, match=near_miss):

        @register_behaviour("typo")
        class Typo(Behaviour):
            def onbord(self, model, ids) -> None:
                pass


def test_columns_must_not_reuse_core_names(scratch_registries):
    with pytest.raises(PluginError, match="column 'bond' is a core population column"):

        @register_behaviour("second_bond")
        class SecondBond(Behaviour):
            columns = (Column("bond", "float32", 0.0, "a second bond"),)


def test_names_must_be_identifiers(scratch_registries):
    with pytest.raises(PluginError, match="must be a Python identifier"):
        register_behaviour("word-of-mouth")(type("Dashed", (Behaviour,), {}))


def test_builtins_document_every_parameter_with_unit_and_meaning():
    for registry, base in ((PROGRAMS, Program), (BEHAVIOURS, Behaviour)):
        for info in describe(registry, base):
            if info.source != BUILT_IN:
                continue
            assert info.summary, info.name
            for field in info.params:
                assert field.unit and field.doc, f"{info.kind} {info.name}: {field.name} needs unit and doc"


# --- running plugins in-process -----------------------------------------------------------------


def test_a_behaviour_column_is_carried_and_a_raising_hook_names_the_plugin(scratch_registries):
    @register_behaviour("counter")
    class Counter(Behaviour):
        columns = (Column("months_seen", "int16", 0, "months the customer was active"),)

        def act(self, model) -> None:
            model.population.months_seen[model.population.active] += 1

    market = Market(behaviours=(BehaviourSpec("counter"),))
    rare = Strategy("rare", (ProgramSpec("rare_contact"),))
    run = LoyaltyModel(rare, market, customers=200, months=5, rng=1)
    records = run.run(customers=True).customer_records
    pop = run.population
    still = pop.active & (pop.join_month == 0)
    assert (pop.months_seen[still] == 5).all()
    assert records["months_seen"].to_list() == pop.months_seen.tolist()

    @register_behaviour("broken")
    class Broken(Behaviour):
        def stay_or_leave(self, model, leavers) -> None:
            raise ZeroDivisionError("no leavers to divide by")

    market = Market(behaviours=(BehaviourSpec("broken"),))
    with pytest.raises(PluginRunError) as caught:
        LoyaltyModel(rare, market, customers=100, months=3, rng=1).run()
    assert str(caught.value) == (
        "behaviour 'broken' (from module test_plugins) failed in hook 'stay_or_leave' in month 1: "
        "ZeroDivisionError: no leavers to divide by"
    )


def test_without_behaviours_the_model_is_unchanged():
    """The default market has no behaviours, so every built-in strategy runs as before (the
    regression baseline checks the numbers; here, no plugin column is allocated)."""
    run = LoyaltyModel(Strategy("rare", (ProgramSpec("rare_contact"),)), customers=50, months=1, rng=1)
    assert run.behaviours == []
    assert "months_seen" not in run.population.columns
    assert source_of(PROGRAMS.get("rare_contact")) == BUILT_IN


# --- an installed throw-away package, through the CLI -------------------------------------------

PLUGIN = '''
"""Throw-away plugin for tests."""
from dataclasses import dataclass

from sim.api import Behaviour, Column, Program, param


@dataclass(frozen=True)
class LoyaltyBonusParams:
    bonus: float = param(0.2, "share of gap", "bond gained by every customer, once")
    explode_month: int = param(0, "month", "month in which the program raises; 0 = never")


class LoyaltyBonus(Program):
    """A one-off bonus that builds bond."""

    Params = LoyaltyBonusParams

    def start(self, model) -> None:
        pop = model.population
        pop.bond[:] += self.params.bonus * (1.0 - pop.bond)

    def act(self, model) -> None:
        if model.month == self.params.explode_month:
            raise RuntimeError("the bonus budget ran out")


@dataclass(frozen=True)
class GossipParams:
    loss: float = param(0.01, "satisfaction", "satisfaction lost to gossip each month")


class Gossip(Behaviour):
    """Customers talk; satisfaction drifts down a little."""

    Params = GossipParams
    columns = (Column("gossip_heard", "int16", 0, "months of gossip heard"),)

    def adapt(self, model) -> None:
        pop = model.population
        pop.satisfaction[pop.active] -= self.params.loss
        pop.gossip_heard[pop.active] += 1
'''

BROKEN = '''
from sim.api import Program


class Sloppy(Program):
    def act(self, model, extra) -> None:
        pass
'''


def _install(root: Path, distribution: str, module: str, source: str, entry_points: str) -> Path:
    """Write ``module`` and the ``.dist-info`` an installer would write into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    return root


@pytest.fixture
def installed(monkeypatch):
    """``installed(path)``: make the packages in ``path`` installed for this test: on the path of
    this process and of spawned workers, with the registries set to discover them afresh."""

    def install(path: Path) -> None:
        monkeypatch.syspath_prepend(str(path))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")]))
        for registry, base, group in (
            (PROGRAMS, Program, "loyalty_sim.programs"),
            (BEHAVIOURS, Behaviour, "loyalty_sim.behaviours"),
        ):
            builtins = {n: c for n, c in registry._entries.items() if source_of(c) == BUILT_IN}
            monkeypatch.setattr(registry, "_entries", builtins)
            monkeypatch.setattr(registry, "_discover", discover(base.__module__, group, base))

    return install


def _cli(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """Run ``loyalty-sim ARGS`` as the console script does; exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["loyalty-sim", *args])
    monkeypatch.delenv("LOYALTY_SIM_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main()
    out, err = capsys.readouterr()
    return stopped.value.code or 0, out, err


@pytest.fixture
def plugin_path(tmp_path, installed) -> Path:
    path = _install(
        tmp_path / "site",
        "throwaway-plugin",
        "throwaway_plugin",
        PLUGIN,
        """
        [loyalty_sim.programs]
        loyalty_bonus = throwaway_plugin:LoyaltyBonus

        [loyalty_sim.behaviours]
        gossip = throwaway_plugin:Gossip
        """,
    )
    installed(path)
    return path


def test_installed_plugins_are_listed_with_their_source_and_parameters(plugin_path, capsys, monkeypatch):
    code, out, err = _cli(["programs", "--format", "json"], capsys, monkeypatch)
    assert code == 0, err
    programs = {p["name"]: p for p in json.loads(out)}
    assert programs["loyalty_bonus"]["source"] == "throwaway-plugin"
    assert programs["point_card"]["source"] == BUILT_IN
    assert programs["loyalty_bonus"]["params"][0] == {
        "name": "bonus", "type": "float", "default": 0.2, "unit": "share of gap",
        "doc": "bond gained by every customer, once",
    }
    assert programs["loyalty_bonus"]["hooks"] == ["start", "act"]
    code, out, err = _cli(["behaviours"], capsys, monkeypatch)
    assert code == 0, err
    assert "gossip (throwaway-plugin): Customers talk; satisfaction drifts down a little." in out
    assert "gossip_heard (int16)" in out


def test_a_sweep_uses_installed_plugins_by_name_and_records_a_plugin_that_raises(
    plugin_path, tmp_path, capsys, monkeypatch
):
    """Two worker processes, spawned: they find the plugins through their entry points too."""
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "plugged.toml"
    scenario.write_text(textwrap.dedent("""
        name = "plugged"
        customers = 300
        months = 6
        replications = 2

        [[behaviours]]
        behaviour = "gossip"
        params = { loss = 0.005 }

        [strategies]
        rare_contact = ["rare_contact"]
        bonus = ["rare_contact", { program = "loyalty_bonus", params = { bonus = 0.3 } }]
        exploding = ["rare_contact", { program = "loyalty_bonus", params = { explode_month = 4 } }]
    """))
    arguments = ["sweep", str(scenario), "--workers", "2", "--customer-records", "--format", "json"]
    code, out, err = _cli(arguments, capsys, monkeypatch)
    assert code == 1, err  # some runs failed
    assert "4 runs done, 2 failed" in err
    runs = pl.read_parquet(tmp_path / "results" / "plugged" / "runs.parquet")
    failed = runs.filter(pl.col("status") == "failed")
    assert failed["strategy"].to_list() == ["exploding", "exploding"]
    for error in failed["error"]:
        assert error.startswith(
            "PluginRunError: program 'loyalty_bonus' (from throwaway-plugin) failed in hook 'act' in month "
            "4: RuntimeError: the bonus budget ran out (throwaway_plugin.py:"
        )
    code, _, err = _cli(["run", str(scenario), "-s", "exploding"], capsys, monkeypatch)
    assert code == 1
    assert err.startswith(
        "error: strategy 'exploding': program 'loyalty_bonus' (from throwaway-plugin) failed in hook "
        "'act' in month 4: RuntimeError: the bonus budget ran out"
    )
    customers = pl.read_parquet(tmp_path / "results" / "plugged" / "customers.parquet")
    assert customers["gossip_heard"].max() == 6
    summary = {row["strategy"]: row for row in json.loads(out)}
    assert summary["bonus"]["cohort_loss"] < summary["rare_contact"]["cohort_loss"]


def test_a_scenario_parameter_of_a_plugin_is_validated_like_a_builtin_one(
    plugin_path, tmp_path, capsys, monkeypatch
):
    scenario = tmp_path / "typo.toml"
    scenario.write_text(textwrap.dedent("""
        [[behaviours]]
        behaviour = "gossip"
        params = { los = 0.005 }

        [strategies]
        rare_contact = ["rare_contact"]
    """))
    code, _, err = _cli(["validate", str(scenario)], capsys, monkeypatch)
    assert code == 2
    assert err.strip() == (
        f"error: {scenario}: behaviours[0].params.los: expected a known parameter (loss), "
        "found unknown parameter 'los'; did you mean 'loss'?"
    )


def test_an_installed_plugin_with_a_wrong_hook_fails_at_registration_in_one_line(
    tmp_path, installed, capsys, monkeypatch
):
    installed(_install(
        tmp_path / "site", "sloppy-plugin", "sloppy_plugin", BROKEN,
        "[loyalty_sim.programs]\nsloppy = sloppy_plugin:Sloppy\n",
    ))
    code, _, err = _cli(["programs"], capsys, monkeypatch)
    assert code == 2
    assert err.strip() == (
        "error: program 'sloppy' (from sloppy-plugin): hook act(self, model, extra) does not match "
        "Program.act(self, model)"
    )
    assert "Traceback" not in err


def test_param_keeps_the_default_and_records_unit_and_meaning():
    (field,) = dataclasses.fields(GoodParams)
    assert GoodParams().gain == 0.1
    assert dict(field.metadata) == {"unit": "share", "doc": "a gain"}


def test_two_plugins_declaring_one_column_differently_is_an_error(scratch_registries):
    @register_behaviour("mood_a")
    class MoodA(Behaviour):
        columns = (Column("mood", "float32", 0.0, "a mood"),)

    @register_behaviour("mood_b")
    class MoodB(Behaviour):
        columns = (Column("mood", "int8", 0, "another mood"),)

    rare = Strategy("rare", (ProgramSpec("rare_contact"),))
    market = Market(behaviours=(BehaviourSpec("mood_a"), BehaviourSpec("mood_b")))
    with pytest.raises(ValueError, match="column 'mood' is declared differently by behaviour 'mood_a' and "
                                         "behaviour 'mood_b'; rename one of them"):
        LoyaltyModel(rare, market, customers=10, months=1, rng=1)
