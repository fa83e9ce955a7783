"""Property-based fuzzing of the two kinds of input file (issue 14, item 5): Hypothesis mutates
valid scenario files and retention curves (hostile numbers, deleted, doubled or truncated lines,
random text, flipped bytes). Whatever comes out, reading it either succeeds within the limits or
raises the one bad-input error; and the command line then exits 2 with one line per problem
naming the file, no traceback, and writes nothing.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_inputs import run_cli

from sim import scenario as scenarios
from sim.analysis.calibration import CalibrationError, read_curve

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((REPO / "scenarios").glob("*.toml"))
CURVE = REPO / "data" / "fader-hardie-2007-high-end.csv"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE = [
    "nan", "inf", "-inf", "-1", "0", "1e308", "-1e308", "99999999999999999999999", "40000", "1.5",
    '"x"', "true", "[]", "{}", "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]", '"' + "n" * 300 + '"', "",
]
NUMBER = re.compile(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?")


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """``base`` with one to three mutations."""
    data = base
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["number", "delete", "double", "insert", "truncate", "flip"]))
        lines = data.split(b"\n")
        if kind == "number" and NUMBER.search(data):
            spans = [m.span() for m in NUMBER.finditer(data)]
            start, end = draw(st.sampled_from(spans))
            data = data[:start] + draw(st.sampled_from(HOSTILE)).encode() + data[end:]
        elif kind == "delete" and len(lines) > 1:
            del lines[draw(st.integers(0, len(lines) - 1))]
            data = b"\n".join(lines)
        elif kind == "double":
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[index])
            data = b"\n".join(lines)
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.text(max_size=20)).encode() + data[at:]
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data


def assert_refused(result: tuple[int, str, str], file: Path) -> None:
    rc, out, err = result
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert lines and all(line.startswith(f"error: {file}") for line in lines), err


@FUZZ
@given(data=st.data())
def test_a_mutated_scenario_loads_within_limits_or_is_refused_cleanly(tmp_path_factory, data):
    base = data.draw(st.sampled_from(SCENARIOS), label="base")
    text = data.draw(mutated(base.read_bytes()), label="mutated")
    directory = tmp_path_factory.mktemp("fuzz")
    file = directory / "mutant.toml"
    file.write_bytes(text)
    try:
        loaded = scenarios.load(file)
    except scenarios.ScenarioError:
        out = directory / "results"
        assert_refused(run_cli("sweep", file, "--out", out, "--workers", "1", "--no-report"), file)
        assert sorted(p.name for p in directory.iterdir()) == ["mutant.toml"]  # nothing written
        return
    assert loaded.months <= scenarios.MAX_MONTHS and loaded.customers <= scenarios.MAX_CUSTOMERS
    assert len(loaded.grid) <= scenarios.MAX_GRID_POINTS and loaded.runs <= scenarios.MAX_RUNS


SMALL = """\
name = "fuzz"
customers = 200
months = 6
[strategies]
rare_contact = ["rare_contact"]
"""


@FUZZ
@given(text=mutated(CURVE.read_bytes()))
def test_a_mutated_curve_is_read_or_refused_cleanly(tmp_path_factory, text):
    directory = tmp_path_factory.mktemp("curve")
    curve, scenario = directory / "curve.csv", directory / "small.toml"
    curve.write_bytes(text)
    scenario.write_text(SMALL)
    try:
        read = read_curve(curve)
    except CalibrationError:
        out = directory / "calibrated.toml"
        args = ["--curve", curve, "--scenario", scenario, "--fit", "market.offers.offer_rate_per_month"]
        assert_refused(run_cli("calibrate", *args, "--out", out), curve)
        assert not out.exists()
        return
    assert read.share.min() >= 0 and read.share.max() <= 1 and len(read.periods) >= 3


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_many_mutated_scenarios_load_or_raise_the_one_error(data):
    """The same property over many more mutants, without the command line (fast per example)."""
    base = data.draw(st.sampled_from(SCENARIOS))
    text = data.draw(mutated(base.read_bytes()))
    with contextlib.suppress(scenarios.ScenarioError, UnicodeDecodeError):
        scenarios.loads(text.decode("utf-8"), "mutant.toml")
