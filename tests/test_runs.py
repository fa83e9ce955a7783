"""The one run API (sim.runs): strategies x seeds, probes, failures."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import LoyaltyModel
from sim.runs import run_strategies
from sim.seeds import replication_seed
from sim.strategy import builtin_strategies

STRATEGIES = builtin_strategies()


class _ActiveCount:
    def __init__(self) -> None:
        self.counts: list[int] = []

    def observe(self, model: LoyaltyModel) -> None:
        self.counts.append(int(np.count_nonzero(model.population.active)))

    def value(self) -> list[int]:
        return self.counts


def test_runs_come_in_seed_then_strategy_order_and_match_the_model():
    picked = [STRATEGIES["rare_contact"], STRATEGIES["point_card"]]
    runs = run_strategies(picked, customers=300, months=6, seeds=[3, 4])
    assert [(r.seed, r.strategy.name) for r in runs] == [
        (3, "rare_contact"), (3, "point_card"), (4, "rare_contact"), (4, "point_card")
    ]
    direct = LoyaltyModel(picked[1], customers=300, months=6, rng=4).run()
    assert runs[3].result.monthly.equals(direct.monthly)


def test_probes_observe_every_month_and_change_nothing():
    strategy = [STRATEGIES["point_card"]]
    seed = replication_seed("s", 1, (), 0)
    [plain] = run_strategies(strategy, customers=300, months=8, seeds=[seed])
    probes = {"active": _ActiveCount}
    [probed] = run_strategies(strategy, customers=300, months=8, seeds=[seed], probes=probes)
    assert probed.result.monthly.equals(plain.result.monthly)
    assert probed.probes["active"] == plain.result.monthly["active_total"].to_list()


def test_a_failing_run_propagates_or_is_recorded():
    with pytest.raises(ValueError, match="customers"):
        run_strategies([STRATEGIES["rare_contact"]], customers=0, months=3)
    [failed] = run_strategies([STRATEGIES["rare_contact"]], customers=0, months=3, keep_going=True)
    assert failed.result is None and isinstance(failed.error, ValueError)
