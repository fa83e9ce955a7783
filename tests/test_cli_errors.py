"""Exit codes that tell the truth: user mistakes exit 2 with one line, bugs exit 1 with one line
and a pointer to LOYALTY_SIM_DEBUG=1, which prints the traceback."""

from __future__ import annotations

import sys

import pytest

import sim.cli
import sim.runs
from sim.cli import main
from sim.errors import UserError


def _cli(args: list[str], capsys, monkeypatch, debug: bool = False) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["loyalty-sim", *args])
    if debug:
        monkeypatch.setenv("LOYALTY_SIM_DEBUG", "1")
    else:
        monkeypatch.delenv("LOYALTY_SIM_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main()
    return stopped.value.code, capsys.readouterr().err


def _raising(error: Exception):
    def run_strategies(*args, **kwargs):
        raise error

    return run_strategies


@pytest.mark.parametrize("bug", [ValueError("shape mismatch"), KeyError("bond"), RuntimeError("boom")])
def test_an_internal_error_is_a_bug_exit_1_one_line_with_the_debug_pointer(bug, capsys, monkeypatch):
    monkeypatch.setattr(sim.runs, "run_strategies", _raising(bug))
    code, err = _cli(["run", "--customers", "50", "--months", "2"], capsys, monkeypatch)
    assert code == 1
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"internal error: {type(bug).__name__}")
    assert "LOYALTY_SIM_DEBUG=1" in lines[0]


def test_a_user_error_exits_2_with_one_line(capsys, monkeypatch):
    monkeypatch.setattr(sim.runs, "run_strategies", _raising(UserError("scenario.toml: customers: expected")))
    code, err = _cli(["run", "--customers", "50", "--months", "2"], capsys, monkeypatch)
    assert code == 2
    assert err.strip() == "error: scenario.toml: customers: expected"


@pytest.mark.parametrize(("error", "code"), [(RuntimeError("boom"), 1), (UserError("bad key"), 2)])
def test_debug_prints_every_traceback_and_keeps_the_exit_code(error, code, capsys, monkeypatch):
    monkeypatch.setattr(sim.runs, "run_strategies", _raising(error))
    got, err = _cli(["run", "--customers", "50", "--months", "2"], capsys, monkeypatch, debug=True)
    assert got == code
    assert "Traceback (most recent call last)" in err
    assert "LOYALTY_SIM_DEBUG=1 shows" not in err
