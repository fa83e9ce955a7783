"""The claims C1-C7 and the eight stylized facts of DESIGN.md, and a market where a claim fails.

The statistics live in :mod:`sim.analysis.claims` (the ``loyalty-sim claims`` audit); these tests
run that audit over 30 replications on the default market and on the bargain-hunter market.
Strategies that are compared share their seeds (common random numbers), so differences are
paired; a check holds when the 95% confidence interval of its mean lies inside the claimed
region (for example the baseline's five-year loss: interval above 0.5). Nothing here is
hard-coded in the model: the facts emerge from the mechanisms, and the bargain-hunter test shows
they can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import scenario as scenarios
from sim.analysis.claims import CHECK_IDS, audit
from sim.executors import make_executor
from sim.market import Market

pytestmark = pytest.mark.slow

REPLICATIONS = 30
CUSTOMERS = 4_000
MONTHS = 60
BARGAIN_HUNTERS = Path(__file__).parent.parent / "scenarios" / "bargain-hunters.toml"


@pytest.fixture(scope="module")
def default_market_audit() -> dict[str, dict]:
    with make_executor(workers=2) as executor:
        table = audit(
            Market(), customers=CUSTOMERS, months=MONTHS, replications=REPLICATIONS, executor=executor
        )
    return {row["check"]: row for row in table.iter_rows(named=True)}


@pytest.mark.parametrize("check", CHECK_IDS)
def test_every_claim_and_fact_holds_on_the_default_market(default_market_audit, check):
    row = default_market_audit[check]
    assert row["replications"] == REPLICATIONS
    assert row["verdict"] == "holds", row


def test_the_claims_can_fail_point_card_beats_appreciation_among_bargain_hunters():
    market = scenarios.load(BARGAIN_HUNTERS)
    table = audit(
        market.market,
        customers=market.customers,
        months=market.months,
        replications=REPLICATIONS,
        seed=market.seed,
        name=market.name,
        checks=["F2a"],
    )
    (row,) = table.iter_rows(named=True)
    # appreciation - point card: the whole interval above zero, the opposite of the claim
    assert row["verdict"] == "fails", row
    assert row["ci_low"] > 0.0
