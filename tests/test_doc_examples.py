"""Python code blocks in docs/ run, in order, so documentation examples cannot rot."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from sim.behaviours import BEHAVIOURS
from sim.programs import PROGRAMS

DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDES = ["extending.md", "customers.md"]


@pytest.mark.parametrize("guide", GUIDES)
def test_python_examples_in_guide_run(guide, monkeypatch, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / guide).read_text(), flags=re.S)
    assert blocks, f"no python examples in {guide}"
    # Examples register plugins; undo that so the registries stay as shipped.
    for registry in (PROGRAMS, BEHAVIOURS):
        registry.names()  # discover installed plugins first, so the copy holds them
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
    monkeypatch.chdir(tmp_path)  # examples write results/ like a user in a fresh folder
    # The blocks run as one script would: a module of their own, without this file's __future__.
    module = types.ModuleType("tutorial")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in blocks:
        exec(compile(block, f"docs/{guide}", "exec", dont_inherit=True), module.__dict__)
