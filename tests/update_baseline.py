"""Rewrite tests/baseline.json after a deliberate change of the model's numbers.

Run ``uv run python tests/update_baseline.py`` and commit the new file with a message that
says why the numbers moved; ``tests/test_baseline.py`` fails until then.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.model import LoyaltyModel
from sim.strategy import builtin_strategies

BASELINE_FILE = Path(__file__).with_name("baseline.json")
CUSTOMERS, MONTHS, SEED = 2_000, 36, 7
KEYS = ("cohort_loss", "annual_churn", "half_life_months", "churn_by_reason", "revenue", "program_cost")


def current() -> dict[str, dict]:
    out = {}
    for name, strategy in builtin_strategies().items():
        summary = LoyaltyModel(strategy, customers=CUSTOMERS, months=MONTHS, rng=SEED).run().summary()
        out[name] = {key: summary[key] for key in KEYS}
    return out


if __name__ == "__main__":
    BASELINE_FILE.write_text(json.dumps(current(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {BASELINE_FILE}")
