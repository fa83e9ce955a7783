"""Python code blocks in docs/ run, so documentation examples cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.programs import PROGRAMS

DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDES = ["adding-a-program.md"]


@pytest.mark.parametrize("guide", GUIDES)
def test_python_examples_in_guide_run(guide, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / guide).read_text(), flags=re.S)
    assert blocks, f"no python examples in {guide}"
    # Examples register programs; undo that so the registry stays as shipped.
    monkeypatch.setattr(PROGRAMS, "_entries", dict(PROGRAMS._entries))
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, f"docs/{guide}", "exec"), namespace)
