"""Fixed-seed regression: summary numbers of every built-in strategy match tests/baseline.json.

A change that moves them on purpose updates the file with ``tests/update_baseline.py``.
"""

from __future__ import annotations

import json

import pytest
from update_baseline import BASELINE_FILE, current


def test_fixed_seed_summaries_match_the_recorded_baseline():
    expected = json.loads(BASELINE_FILE.read_text())
    actual = current()
    assert sorted(actual) == sorted(expected)
    for strategy, numbers in expected.items():
        for key, value in numbers.items():
            got = actual[strategy][key]
            if isinstance(value, float):
                assert got == pytest.approx(value, rel=1e-9), f"{strategy}.{key}"
            else:
                assert got == value, f"{strategy}.{key}"
