"""The claims audit: verdicts from intervals, check selection, determinism across executors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sim.analysis.claims import AUDIT_SCHEMA, CHECKS, EXPERIMENTS, Check, ClaimsError, audit, select
from sim.executors import LocalPoolExecutor
from sim.market import Market


def _check(above=None, below=None) -> Check:
    return Check("X", "X", "claim", "effect", (), lambda runs: np.zeros(1), above=above, below=below)


@pytest.mark.parametrize(
    ("check", "interval", "verdict"),
    [
        (_check(above=0.0), (0.1, 0.2), "holds"),
        (_check(above=0.0), (-0.2, -0.1), "fails"),
        (_check(above=0.0), (-0.1, 0.1), "inconclusive"),
        (_check(below=0.3), (0.1, 0.2), "holds"),
        (_check(below=0.3), (0.31, 0.4), "fails"),
        (_check(above=0.65, below=0.85), (0.7, 0.8), "holds"),
        (_check(above=0.65, below=0.85), (0.6, 0.8), "inconclusive"),
        (_check(above=0.65, below=0.85), (0.86, 0.9), "fails"),
        (_check(above=0.65, below=0.85), (0.5, 0.6), "fails"),
        (_check(above=0.0), (float("nan"), float("nan")), "inconclusive"),
    ],
)
def test_verdict_follows_where_the_interval_lies(check, interval, verdict):
    assert check.verdict(*interval) == verdict


def test_the_interval_must_exclude_the_threshold_itself():
    assert _check(above=0.5).verdict(0.5, 0.6) == "inconclusive"


def test_every_check_names_known_experiments_and_a_region():
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    for check in CHECKS:
        assert set(check.experiments) <= set(EXPERIMENTS)
        assert check.above is not None or check.below is not None
    assert {c.claim for c in CHECKS} >= {f"C{i}" for i in range(1, 8)} | {f"F{i}" for i in range(1, 9)}


def test_select_by_claim_or_check_and_reject_unknown_ids():
    assert [c.id for c in select(["F2"])] == ["F2a", "F2b"]
    assert [c.id for c in select(["C4", "F2b", "C4"])] == ["C4", "F2b"]
    with pytest.raises(ClaimsError, match="unknown check 'F9'"):
        select(["F9"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"months": 24}, "at least 60 months"), ({"replications": 1}, "at least 2 replications")],
)
def test_audits_that_cannot_run_say_why(kwargs, message):
    options = {"customers": 100, "months": 60, "replications": 3} | kwargs
    with pytest.raises(ClaimsError, match=message):
        audit(Market(), **options)


SMALL_AUDIT = {"customers": 150, "months": 60, "replications": 3, "checks": ["F1", "F2"]}


def test_audit_table_has_its_schema():
    table = audit(Market(), **SMALL_AUDIT)
    assert table.schema == pl.Schema(AUDIT_SCHEMA)
    assert table["check"].to_list() == ["F1", "F2a", "F2b"]
    assert set(table["replications"]) == {3}
    assert set(table["verdict"]) <= {"holds", "fails", "inconclusive"}


@pytest.mark.slow  # starting worker processes costs seconds; the fast suite covers the pool in test_space
def test_audit_is_identical_for_any_executor():
    serial = audit(Market(), **SMALL_AUDIT)
    with LocalPoolExecutor(workers=2) as executor:
        pooled = audit(Market(), executor=executor, **SMALL_AUDIT)
    assert serial.equals(pooled)
