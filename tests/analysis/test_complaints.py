"""Retention after each complaint path."""

from __future__ import annotations

import polars as pl
import pytest

from sim.analysis.complaints import retention_after_failure
from sim.mechanisms.service import FAILURE_PATHS


def _records(rows: list[tuple[str, bool, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"first_failure_path": pl.Utf8, "first_failure_large": pl.Boolean,
                "first_failure_month": pl.Int16, "exit_month": pl.Int16},
        orient="row",
    )


def test_retention_counts_only_customers_followed_for_the_whole_horizon():
    records = _records([
        ("silent", False, 3, -1),  # kept
        ("silent", False, 3, 10),  # left within 12 months
        ("silent", False, 3, 16),  # left after 13 months: kept at month 15
        ("fast", True, 5, -1),
        ("unresolved", True, 30, -1),  # failed too late to be followed 12 months in a 36-month run
        ("none", False, -1, -1),
    ])
    table = retention_after_failure(records, months=36)
    assert table["path"].to_list() == list(FAILURE_PATHS)
    silent = table.row(0, named=True)
    assert (silent["customers"], silent["retained"]) == (3, 2)
    assert silent["retained_share"] == pytest.approx(2 / 3)
    assert silent["ci_low"] < 2 / 3 < silent["ci_high"]
    unresolved = table.filter(pl.col("path") == "unresolved").row(0, named=True)
    assert unresolved["customers"] == 0
    only_large = retention_after_failure(records, months=36, large=True)
    assert only_large.filter(pl.col("path") == "fast")["customers"].item() == 1
    assert only_large.filter(pl.col("path") == "silent")["customers"].item() == 0


def test_a_run_gives_every_path_and_the_fast_path_keeps_more_than_the_unresolved(make_model):
    model = make_model(customers=4000, months=36, rng=3)
    records = model.run(customers=True).customer_records
    table = retention_after_failure(records, months=36)
    assert (table["customers"] > 30).all()
    share = dict(zip(table["path"], table["retained_share"], strict=True))
    assert share["fast"] > share["unresolved"]


def test_the_horizon_must_fit_the_run():
    with pytest.raises(ValueError, match="horizon_months"):
        retention_after_failure(_records([]), months=12, horizon_months=12)
