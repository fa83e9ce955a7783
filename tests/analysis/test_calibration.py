"""Calibration: reading observed curves, fit paths, common random numbers, parameter recovery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.analysis.calibration import (
    CalibrationError,
    Curve,
    calibrate,
    calibrated_scenario_text,
    parse_fit,
    read_curve,
    simulate,
)
from sim.cli import app
from sim.executors import SerialExecutor
from sim.scenario import loads

DATA = Path(__file__).resolve().parents[2] / "data"

SCENARIO = """\
name = "calibration-test"
customers = 1500
months = 36
replications = 2
seed = {seed}

[market.decision]
relationship_exit_per_month = {relationship}

[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]
"""


def _scenario(seed: int = 1, relationship: float = 0.02):
    return loads(SCENARIO.format(seed=seed, relationship=relationship), file="test.toml")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "curve.csv"
    path.write_text(text)
    return path


def test_published_counts_become_shares_of_the_cohort():
    curve = read_curve(DATA / "fader-hardie-2007-regular.csv")
    assert curve.unit == "year"
    assert curve.periods.tolist() == list(range(13))
    assert curve.share[1] == pytest.approx(0.631)
    assert curve.months[-1] == 144


def test_monthly_shares_are_read_as_months(tmp_path):
    curve = read_curve(_write(tmp_path, "month,share\n3,0.9\n6,0.8\n12,0.7\n"))
    assert curve.unit == "month" and curve.months.tolist() == [3, 6, 12]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year,share\n0,1\n1,0.8\n2,0.85\n", "cannot rise, but share goes from 0.8 at year 1 to 0.85"),
        ("yr,share\n0,1\n1,0.9\n2,0.8\n", "expected columns 'year' or 'month' and 'share' or 'active'"),
        ("year,active\n1,900\n2,800\n", "need the cohort size at year 0"),
        ("year,share\n0,1\n1,abc\n2,0.8\n", "data row 3: expected numbers"),
        ("year,share\n0,1\n2,0.9\n1,0.8\n", "increasing order"),
        ("year,share\n0,1\n1,1.2\n2,0.8\n", "shares in [0, 1]"),
        ("year,share\n0,1\n1,0.8\n", "at least two years after year 0"),
        ("# only a comment\n", "no data"),
    ],
)
def test_bad_curves_are_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(CalibrationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_curve(_write(tmp_path, text))


def test_fit_paths_are_checked_and_get_default_bounds():
    scenario = _scenario()
    (offers,) = parse_fit("market.offers.offer_rate_per_month", scenario, "rare_contact")
    rate = scenario.market.offers.offer_rate_per_month
    assert (offers.start, offers.low, offers.high) == (rate, rate / 4, rate * 4)
    (card,) = parse_fit("programs.point_card.reward_share_of_spend=0.01:0.1", scenario, "point_card")
    assert (card.start, card.low, card.high) == (0.03, 0.01, 0.1)
    (failures,) = parse_fit("service.failure_per_month", scenario, "rare_contact")
    assert failures.start == scenario.market.service.failure_per_month
    for spec, message in [
        ("market.offers.discont", "is not a parameter of strategy 'rare_contact'"),
        ("market.segment_shares.bargain_hunters", "cannot be fitted one by one"),
        ("market.gross_margin_share.real", "is not a parameter"),
        ("programs.point_card.reward_share_of_spend", "is not a parameter of strategy 'rare_contact'"),
        ("market.offers.price_war_start_month", "not a number that can be fitted"),
        ("market.offers.discount=0.3:0.1", "expected low < high"),
        ("market.offers.discount=a:b", "path=low:high with two numbers"),
        ("market.offers.discount,market.offers.discount", "each parameter once"),
    ]:
        with pytest.raises(CalibrationError, match=message):
            parse_fit(spec, scenario, "rare_contact")
    with pytest.raises(CalibrationError, match="--strategy"):
        parse_fit("market.offers.discount", scenario, "nope")


def test_every_evaluation_uses_the_same_random_numbers():
    scenario, executor = _scenario(), SerialExecutor()
    a = simulate(scenario, "rare_contact", {"market.offers.discount": 0.15}, 24, 2, executor, customers=300)
    b = simulate(scenario, "rare_contact", {"market.offers.discount": 0.15}, 24, 2, executor, customers=300)
    np.testing.assert_array_equal(a, b)
    assert a[0] == 1.0 and np.all(np.diff(a) <= 0)
    # A higher exit hazard loses at least as many customers, month by month, on the same draws.
    higher = simulate(
        scenario, "rare_contact", {"market.decision.relationship_exit_per_month": 0.05}, 24, 2, executor, 300
    )
    assert np.all(higher <= a) and higher[-1] < a[-1]


def _recover(true_value: float, customers: int, replications: int) -> tuple[float, object]:
    """Generate a monthly curve with known relationship exit hazard (other seeds) and fit it."""
    path = "market.decision.relationship_exit_per_month"
    truth = _scenario(seed=99, relationship=true_value)
    months = np.arange(0, 37, 3)
    share = simulate(truth, "rare_contact", {}, 36, replications, SerialExecutor(), customers)[months]
    curve = Curve("generated", "month", months, share)
    fitting = _scenario(seed=1)
    parameters = parse_fit(f"{path}=0.005:0.08", fitting, "rare_contact")
    result = calibrate(
        fitting, curve, parameters, SerialExecutor(), holdout=3, replications=replications,
        customers=customers,
    )
    return result.fitted[path], result


def test_a_known_exit_hazard_is_recovered_within_15_percent():
    fitted, result = _recover(0.035, customers=3000, replications=2)
    assert fitted == pytest.approx(0.035, rel=0.15)
    # 3,000 customers (twice the first version's: the churn propensity widens the noise); two
    # independent samples of 6,000 customers differ by about 0.01 in the share at 50%
    assert result.rmse_fit < 0.025 and result.rmse_holdout < 0.03
    assert 0 < result.standard_errors["market.decision.relationship_exit_per_month"] < 0.01


def test_the_calibrated_scenario_loads_with_the_fitted_values():
    _, result = _recover(0.035, customers=300, replications=1)
    text = calibrated_scenario_text(_scenario(), result)
    assert text.startswith("# Calibrated by `loyalty-sim calibrate`")
    calibrated = loads(text)
    fitted = result.fitted["market.decision.relationship_exit_per_month"]
    assert calibrated.market.decision.relationship_exit_per_month == pytest.approx(fitted, rel=1e-5)
    assert calibrated.name == "calibration-test-calibrated"
    assert set(calibrated.strategies) == {"rare_contact", "point_card"}


def test_calibrate_command_prints_the_fit_writes_the_scenario_and_refuses_to_overwrite(tmp_path):
    scenario = tmp_path / "market.toml"
    scenario.write_text(SCENARIO.format(seed=1, relationship=0.02))
    curve = _write(tmp_path, "year,share\n0,1\n1,0.75\n2,0.6\n3,0.5\n")
    arguments = [
        "calibrate", "--curve", str(curve), "--scenario", str(scenario),
        "--fit", "market.decision.relationship_exit_per_month", "--holdout", "1",
        "--customers", "200", "--replications", "1", "--workers", "1",
    ]
    outcome = CliRunner().invoke(app, arguments)
    assert outcome.exit_code == 0, outcome.output
    assert "fit error (RMSE" in outcome.stdout and "holdout error on the last 1 years" in outcome.stdout
    written = tmp_path / "market-calibrated.toml"
    assert loads(written.read_text()).name == "calibration-test-calibrated"
    again = CliRunner().invoke(app, arguments)
    assert again.exit_code == 2 and "exists; use --force" in again.output


@pytest.mark.parametrize(
    ("fit", "curve", "message"),
    [
        ("market.offers.discont", "year,share\n0,1\n1,0.8\n2,0.7\n", "is not a parameter"),
        ("market.offers.discount", "year,share\n0,1\n1,0.8\n2,0.9\n", "cannot rise"),
        ("market.offers.discount", "year\n0\n1\n", "expected columns"),
    ],
)
def test_calibrate_command_exits_2_on_bad_input(tmp_path, fit, curve, message):
    scenario = tmp_path / "market.toml"
    scenario.write_text(SCENARIO.format(seed=1, relationship=0.02))
    curve_file = _write(tmp_path, curve)
    arguments = ["calibrate", "--curve", str(curve_file), "--scenario", str(scenario), "--fit", fit]
    outcome = CliRunner().invoke(app, arguments)
    assert outcome.exit_code == 2 and message in outcome.output
    assert not (tmp_path / "market-calibrated.toml").exists()


@pytest.mark.slow
def test_a_known_exit_hazard_is_recovered_within_8_percent_from_a_larger_population():
    """Start 0.02, truth 0.05, 2 x 4,000 customers: the fit must travel and land close."""
    fitted, result = _recover(0.05, customers=4000, replications=2)
    assert fitted == pytest.approx(0.05, rel=0.08)
    assert result.rmse_holdout < 0.02


@pytest.mark.slow
def test_a_process_pool_gives_the_same_curve_as_one_process():
    from sim.executors import LocalPoolExecutor

    scenario, values = _scenario(), {"market.offers.discount": 0.2}
    serial = simulate(scenario, "rare_contact", values, 24, 3, SerialExecutor(), customers=300)
    with LocalPoolExecutor(2) as pool:
        pooled = simulate(scenario, "rare_contact", values, 24, 3, pool, customers=300)
    np.testing.assert_array_equal(serial, pooled)
