"""Helpers of the researcher-facing tests: the console script run in-process."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from sim.cli import main


@pytest.fixture
def cli(capsys, monkeypatch) -> Callable[..., tuple[int, str, str]]:
    """``cli(*args)`` runs ``loyalty-sim ARGS`` as the console script does: exit code, stdout, stderr."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["loyalty-sim", *args])
        with pytest.raises(SystemExit) as stopped:
            main()
        out, err = capsys.readouterr()
        return stopped.value.code or 0, out, err

    monkeypatch.delenv("LOYALTY_SIM_DEBUG", raising=False)  # a test may set it again
    return run
