"""A small scenario with declared ranges, shared by the analysis tests."""

from __future__ import annotations

import pytest

from sim import scenario as scenarios

# Offers drive churn; the gross margin share only turns revenue into margin, so no outcome
# about customers depends on it: the known answer of the sensitivity tests.
SPACE_SCENARIO = """\
name = "space-small"
customers = {customers}
months = {months}
replications = 1
seed = 3

[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]

[grid.latin_hypercube]
samples = {samples}
"market.offers.offer_rate_per_month" = [0.01, 0.3]
"market.gross_margin_share" = [0.1, 0.5]
"""


@pytest.fixture
def space_scenario(tmp_path):
    """``space_scenario(customers=..., months=..., samples=...)``: the loaded scenario."""

    def make(customers: int = 200, months: int = 12, samples: int = 10) -> scenarios.Scenario:
        path = tmp_path / "space-small.toml"
        path.write_text(SPACE_SCENARIO.format(customers=customers, months=months, samples=samples))
        return scenarios.load(path)

    return make
