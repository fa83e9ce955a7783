"""The layer contract (pyproject.toml, [tool.importlinter]): core -> io -> runs -> analysis ->
tables and charts -> report and CLI; no module imports a layer above its own, and every module
of ``sim`` belongs to a layer (``exhaustive``)."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_no_module_imports_a_higher_layer(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0
