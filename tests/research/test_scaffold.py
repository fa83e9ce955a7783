"""``loyalty-sim new-plugin``: the package it writes passes its own test, its scenario validates
with the plugin registered, and a bad name or an existing folder is a one-line error."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sim.behaviours import BEHAVIOURS
from sim.programs import PROGRAMS


@pytest.mark.parametrize(("name", "kind"), [("habit_shield", "behaviour"), ("thank_you_call", "program")])
def test_the_scaffold_passes_its_own_test_and_its_scenario_validates(
    name, kind, cli, tmp_path: Path, monkeypatch, scratch_registries
):
    code, out, err = cli("new-plugin", name, "--kind", kind, "--dir", str(tmp_path))
    assert code == 0, err
    root = tmp_path / name
    assert f"uv add --editable {root}" in out
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == {
        "pyproject.toml", "README.md", f"src/{name}/__init__.py", f"tests/test_{name}.py", f"{name}.toml",
    }
    assert f'[project.entry-points."loyalty_sim.{kind}s"]' in (root / "pyproject.toml").read_text()
    # its own test, run here as pytest would: importing it registers the plugin (not installed)
    monkeypatch.syspath_prepend(str(root / "src"))
    spec = importlib.util.spec_from_file_location(f"test_{name}", root / "tests" / f"test_{name}.py")
    test_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(test_module)
    tests = [getattr(test_module, t) for t in dir(test_module) if t.startswith("test_")]
    assert len(tests) == 1
    tests[0]()
    registry = BEHAVIOURS if kind == "behaviour" else PROGRAMS
    assert name in registry
    code, out, err = cli("validate", str(root / f"{name}.toml"))
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Habit", "--kind", "behaviour"], "NAME: expected a lower-case Python identifier"),
        (["class", "--kind", "program"], "NAME: expected a lower-case Python identifier"),
    ],
)
def test_bad_names_are_one_line_errors(args, message, cli, tmp_path: Path):
    code, _, err = cli("new-plugin", *args, "--dir", str(tmp_path))
    assert code == 2 and message in err
    assert not any(tmp_path.iterdir())


def test_an_existing_folder_is_not_overwritten(cli, tmp_path: Path):
    (tmp_path / "habit").mkdir()
    code, _, err = cli("new-plugin", "habit", "--kind", "behaviour", "--dir", str(tmp_path))
    assert code == 2 and "exists already" in err


def test_an_unknown_plugin_name_hints_at_an_uninstalled_package(cli, tmp_path: Path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('behaviours = ["gossip_network"]\n[strategies]\nrare_contact = ["rare_contact"]\n')
    code, _, err = cli("validate", str(scenario))
    assert code == 2
    assert "unknown behaviour 'gossip_network'; if it is a plugin, is its package installed?" in err
    assert "uv add --editable PATH" in err
    with pytest.raises(KeyError, match="is its package installed"):
        PROGRAMS.get("loyalty_bonus_xyz")
