"""A market in shards combines into the whole market's run (sim.shards): counts, rates and
shares bit for bit, sums of money and mean states to rounding, on every executor."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.executors import DaskExecutor, LocalPoolExecutor, SerialExecutor
from sim.market import Market
from sim.mechanisms import acquisition
from sim.model import LoyaltyModel
from sim.programs.personal_appreciation import PersonalAppreciationParams
from sim.runs import run_sharded
from sim.shards import Shard, ShardError, plan
from sim.strategy import ProgramSpec, Strategy, builtin_strategies
from sim.targeting import Budget, Target

CUSTOMERS, SHARDS, MONTHS, SEED = 8_000, 4, 24, 7
STRATEGIES = builtin_strategies()  # every built-in program alone, and the mix
# Columns summed over customers in another order by the shards: equal to rounding only
# (float32 sums inside programs: relative 1.6e-7 at most over every program here).
ROUNDED = ("mean_", "revenue", "program_cost", "margin", "cost_", "exit_fees", "points_liability")


def assert_combines(whole, combined) -> None:
    assert combined.customers == whole.customers
    assert combined.monthly.schema == whole.monthly.schema
    for name in whole.monthly.columns:
        expected, got = whole.monthly[name].to_numpy(), combined.monthly[name].to_numpy()
        if name.startswith(ROUNDED):
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9, err_msg=name)
        else:  # counts, and the rates and shares made of them
            np.testing.assert_array_equal(got, expected, err_msg=name)
    np.testing.assert_array_equal(combined.horizon_plane, whole.horizon_plane)
    assert combined.cost_by_program.keys() == whole.cost_by_program.keys()
    for program, eur in whole.cost_by_program.items():
        assert combined.cost_by_program[program] == pytest.approx(eur, rel=1e-6)


def whole_run(strategy: Strategy, months: int = MONTHS):
    return LoyaltyModel(strategy, Market(), CUSTOMERS, months, rng=SEED).run()


def sharded(strategy: Strategy, executor, months: int = MONTHS):
    return run_sharded(strategy, Market(), CUSTOMERS, months, SEED, SHARDS, executor)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_shards_combine_into_the_whole_run_across_draw_blocks(name, monkeypatch):
    """Small draw blocks, so shards cut the cohort's and the joiners' blocks in their middle."""
    monkeypatch.setattr(acquisition, "COHORT_BLOCK", 1_500)
    monkeypatch.setattr(acquisition, "JOIN_BLOCK", 7)
    with SerialExecutor() as executor:
        assert_combines(whole_run(STRATEGIES[name]), sharded(STRATEGIES[name], executor))


EXECUTOR_MONTHS = 12  # workers get the same tasks as the serial runs above; a year keeps it cheap


@pytest.fixture(scope="module")
def wholes():
    return {name: whole_run(strategy, EXECUTOR_MONTHS) for name, strategy in STRATEGIES.items()}


@pytest.fixture(scope="module")
def in_process():
    """Shards run one after the other here: what every executor must reproduce bit for bit."""
    with SerialExecutor() as serial:
        return {name: sharded(strategy, serial, EXECUTOR_MONTHS) for name, strategy in STRATEGIES.items()}


def test_shards_combine_on_a_process_pool(wholes, in_process):
    with LocalPoolExecutor(workers=2) as pool:
        for name, strategy in STRATEGIES.items():
            combined = sharded(strategy, pool, EXECUTOR_MONTHS)
            assert_combines(wholes[name], combined)
            assert combined.monthly.equals(in_process[name].monthly)


def test_shards_combine_on_a_dask_cluster(wholes, in_process):
    with DaskExecutor("local", workers=2) as dask:
        assert dask.name.startswith("dask tcp://127.0.0.1:")
        for name, strategy in STRATEGIES.items():
            combined = sharded(strategy, dask, EXECUTOR_MONTHS)
            assert_combines(wholes[name], combined)
            assert combined.monthly.equals(in_process[name].monthly)


def test_a_shard_holds_the_same_customers_as_the_whole_run():
    whole = LoyaltyModel(STRATEGIES["point_card"], customers=CUSTOMERS, months=3, rng=SEED)
    shard = plan(CUSTOMERS, SHARDS)[2]
    part = LoyaltyModel(STRATEGIES["point_card"], customers=CUSTOMERS, months=3, rng=SEED, shard=shard)
    rows = slice(shard.first, shard.stop)
    for column in ("segment", "spend_per_month", "churn_propensity", "bond", "attentiveness"):
        np.testing.assert_array_equal(
            getattr(part.population, column), getattr(whole.population, column)[rows]
        )
    np.testing.assert_array_equal(part.uniforms("offers"), whole.uniforms("offers")[rows])


def test_shards_share_out_every_joiner_once():
    shards = plan(1_003, 7)
    for count in (0, 1, 6, 7, 1_000, 5_001):
        taken = [shard.joiners(count) for shard in shards]
        assert taken[0][0] == 0 and taken[-1][1] == count
        assert all(a[1] == b[0] for a, b in itertools.pairwise(taken))
    sizes = [s.stop - s.first for s in shards]
    assert sum(sizes) == 1_003 and max(sizes) - min(sizes) == 1


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        (ProgramSpec("point_card", budget=Budget(500.0)), "budget"),
        (ProgramSpec("point_card", target=Target(churn_risk_top_share=0.2)), "target.churn_risk_top_share"),
    ],
)
def test_couplings_across_customers_are_refused(spec, key):
    with SerialExecutor() as executor, pytest.raises(ShardError, match=key):
        sharded(Strategy("coupled", (spec,)), executor)


def test_a_binding_staff_capacity_is_refused_at_run_time():
    """Personal appreciation shares a staff capacity out over all customers when it binds."""
    assert PersonalAppreciationParams().capacity_per_1000_customers_month == 250.0
    tight = Strategy(
        "tight", (ProgramSpec("personal_appreciation", {"capacity_per_1000_customers_month": 20.0}),)
    )
    with (
        SerialExecutor() as executor,
        pytest.raises(ShardError, match=r"personal_appreciation\.capacity' in month 1"),
    ):
        sharded(tight, executor)
    LoyaltyModel(tight, customers=CUSTOMERS, months=2, rng=SEED).run()  # one whole run shares it out


def test_targeting_by_customer_is_exact():
    spec = ProgramSpec(
        "point_card", target=Target(share=0.5, churn_risk_above=0.002, segments=("bargain_hunters",))
    )
    strategy = Strategy("aimed", (spec,))
    with SerialExecutor() as executor:
        assert_combines(whole_run(strategy), sharded(strategy, executor))


def test_the_whole_market_is_one_shard():
    assert Shard(0, 10, 10).whole and not Shard(0, 5, 10).whole
    with pytest.raises(ShardError, match="--shards: expected 1 to 10"):
        plan(10, 11)


def test_run_with_shards_prints_the_whole_runs_table():
    runner = CliRunner()
    options = ["run", "--customers", "3000", "--months", "6", "-s", "point_card"]  # a table: rounded sums
    whole = runner.invoke(app, options)
    shards = runner.invoke(app, [*options, "--shards", "3", "--workers", "1"])
    assert whole.exit_code == 0 and shards.exit_code == 0, shards.output
    assert shards.stdout == whole.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--customers", "20000000"],
            "--customers: at most 10,000,000 in one process, got 20,000,000; use --shards",
        ),
        (["--workers", "2"], "--workers and --scheduler: a run uses them only with --shards"),
        (["--customers", "30000000", "--shards", "2"], "--shards: at most 10,000,000 customers a shard"),
        (["--customers", "5", "--shards", "6"], "--shards: expected 1 to 5"),
    ],
)
def test_run_refuses_bad_shard_options(options, message):
    result = CliRunner().invoke(app, ["run", "-s", "point_card", *options])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {message}")
