"""The validation table (benchmarks/validation.py): produced for every figure, and able to fail."""

from __future__ import annotations

import math

import pytest

from benchmarks import validation
from sim.executors import SerialExecutor
from sim.market import Market
from sim.mechanisms.heterogeneity import HeterogeneityParams


def test_a_verdict_needs_the_whole_interval_inside_or_outside_the_region():
    region = (0.4, 0.6)
    assert validation.verdict(0.45, 0.55, region) == "holds"
    assert validation.verdict(0.61, 0.7, region) == "fails"
    assert validation.verdict(0.2, 0.3, region) == "fails"
    assert validation.verdict(0.55, 0.65, region) == "inconclusive"
    assert validation.verdict(math.nan, 0.5, region) == "inconclusive"
    assert validation.verdict(3.0, 4.0, (1.2, math.inf)) == "holds"


def _rows(market: Market) -> dict[str, validation.Row]:
    rows = validation.table(market, 400, 2, SerialExecutor(), contract_end=False)
    assert [r.figure for r in rows] == list(validation.FIGURES)
    return {r.figure.figure: r for r in rows}


@pytest.mark.slow
def test_the_table_has_every_figure_and_a_control_market_fails():
    """Two tiny tables (2 x 400 customers, without the fits and the contract-end runs): the
    default market, and a control where customers leave twenty times as fast, which must fail
    Reichheld's 'about half in five years'."""
    rows = _rows(Market())
    allowed = {"holds", "fails", "inconclusive", validation.NOT_ALIKE, "not modelled", "not run"}
    assert {r.verdict for r in rows.values()} <= allowed
    assert sum(r.verdict == "not modelled" for r in rows.values()) >= 3
    measured = [r for r in rows.values() if r.verdict not in ("not modelled", "not run")]
    assert len(measured) >= 12
    assert all(r.ci_low <= r.estimate <= r.ci_high for r in measured)
    assert "| figure | source | model [95% CI] | region | verdict |" in validation.render(list(rows.values()))

    control = _rows(Market(heterogeneity=HeterogeneityParams(propensity_mean=20.0)))
    half = control["the average firm loses about half its customers in five years"]
    assert half.verdict == "fails" and half.ci_low > 0.6
