"""service_excellence: fewer failures, better recovery and quality, staff who build bond."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.service import ServiceLevel
from sim.programs.service_excellence import ServiceExcellenceParams
from sim.strategy import ProgramSpec

N = 2000


def test_the_service_hook_improves_this_months_service_level(make_model, begin_month):
    model = make_model("service_excellence", customers=N)
    program = model.programs[0]
    p: ServiceExcellenceParams = program.params
    base = model.market.service
    level = ServiceLevel.from_params(base)
    model.population.deactivate(np.arange(100))
    begin_month(model)
    program.service(model, level)
    assert level.failure_per_month == pytest.approx(base.failure_per_month * (1 - p.failure_reduction))
    assert level.recovery_share == max(base.recovery_share, p.recovery_share_excellent)
    assert level.quality == pytest.approx(min(1.0, base.quality + p.quality_gain))
    assert level.staff_bond_gain == pytest.approx(p.staff_bond_gain)
    assert model.flows.costs["service_excellence"] == pytest.approx(p.cost_per_customer_month * (N - 100))


def test_quality_is_capped_at_one(make_model, begin_month):
    model = make_model(ProgramSpec("service_excellence", {"quality_gain": 0.9}), customers=10)
    level = ServiceLevel(failure_per_month=0.1, recovery_share=0.9, quality=0.8)
    begin_month(model)
    model.programs[0].service(model, level)
    assert level.quality == 1.0
    assert level.recovery_share == 0.9  # already better than the programme's target


def test_fewer_failures_and_more_satisfaction_than_the_same_model_without_it(make_model):
    def failures_and_run(*programs):
        model = make_model(*programs, customers=N, months=12, rng=10)
        failed = 0
        for _ in range(12):
            model.step()
            flows = model.flows
            failed += int(np.count_nonzero(flows.service_failed_unrecovered | flows.service_recovered))
        return failed, model.result().monthly

    failed_excellent, excellent = failures_and_run("rare_contact", "service_excellence")
    failed_plain, plain = failures_and_run("rare_contact")
    assert failed_excellent < 0.7 * failed_plain
    assert excellent["churned_service"].sum() < plain["churned_service"].sum()
    assert np.all(excellent["mean_satisfaction"].to_numpy() > plain["mean_satisfaction"].to_numpy())
    assert excellent["mean_bond"][-1] > plain["mean_bond"][-1]
