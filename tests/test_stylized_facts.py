"""The claims C1-C7, the eight stylized facts of DESIGN.md and the real-cohort checks S1-S2, each
with a control that must fail.

The statistics live in :mod:`sim.analysis.claims` (the ``loyalty-sim claims`` audit); this test
runs that audit once on the default market, controls included. Every check must hold (its 95%
interval clears the minimum effect), and every control, the same measure without the claimed
mechanism or in a market where the claim should not hold (bargain hunters for F2a), must fail:
a check that held anyway would not be measuring its claim. Strategies that are compared share
their seeds (common random numbers), which keeps the audit small: 4,000 customers, 10
replications, about 30 experiments (less CPU time than the 13 experiments x 30 replications
without controls it replaces).
"""

from __future__ import annotations

import pytest

from sim.analysis.claims import CHECK_IDS, audit
from sim.executors import make_executor
from sim.market import Market

pytestmark = pytest.mark.slow

# Checks the default market does not pass (a strict xfail, so that the mark must go once the model
# passes them). Not rescued by tuning: reported.
FAILS_NOW = {
    "S2": "bonded customers stay about 1.4x as long (months 13-60), under the 1.5x that Motista (2018) "
    "reports; relationship proneness (proneness_correlation 0.5) raised it from 1.17x, and 0.75 would "
    "pass it but spoils calibrate's prediction of the regular Fader-Hardie cohort (docs/validation.md)",
}
REPLICATIONS = 10
CUSTOMERS = 4_000
MONTHS = 60


@pytest.fixture(scope="module")
def default_market_audit() -> dict[str, dict]:
    with make_executor(workers=2) as executor:
        table = audit(
            Market(), customers=CUSTOMERS, months=MONTHS, replications=REPLICATIONS, executor=executor
        )
    return {row["check"]: row for row in table.iter_rows(named=True)}


@pytest.mark.parametrize(
    "check",
    [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=FAILS_NOW[c])) if c in FAILS_NOW else c
     for c in CHECK_IDS],
)
def test_every_claim_and_fact_holds_on_the_default_market(default_market_audit, check):
    row = default_market_audit[check]
    assert row["replications"] == REPLICATIONS
    assert row["verdict"] == "holds", row


@pytest.mark.parametrize("check", CHECK_IDS)
def test_every_control_fails(default_market_audit, check):
    row = default_market_audit[check]
    assert row["control_verdict"] == "fails", row
