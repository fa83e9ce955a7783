"""Calibration: reading observed curves, fit paths, the likelihood and its intervals, common
random numbers, parameter recovery, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.analysis.calibration import (
    DEFAULT_FITS,
    CalibrationError,
    Curve,
    FitParameter,
    calibrate,
    calibrated_scenario_text,
    configure,
    deviance,
    fit_curve,
    parse_fit,
    parse_fits,
    read_curve,
    select_fit,
    simulate,
)
from sim.analysis.survival import SBGFit
from sim.cli import app
from sim.executors import SerialExecutor
from sim.params import ParamError
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


# --- curves ----------------------------------------------------------------------------------


def test_published_counts_become_shares_of_the_cohort():
    curve = read_curve(DATA / "fader-hardie-2007-regular.csv")
    assert curve.unit == "year" and curve.cohort == 1000
    assert curve.periods.tolist() == list(range(13))
    assert curve.share[1] == pytest.approx(0.631)
    assert curve.months[-1] == 144


def test_a_spreadsheet_saved_with_semicolons_and_decimal_commas_is_read_as_meant(tmp_path):
    curve = read_curve(_write(tmp_path, "year;share\n0;1\n1;0,63\n2;0,47\n"))
    assert curve.periods.tolist() == [0, 1, 2] and curve.share.tolist() == [1.0, 0.63, 0.47]


def test_monthly_shares_are_read_as_months(tmp_path):
    curve = read_curve(_write(tmp_path, "month,share\n3,0.9\n6,0.8\n12,0.7\n"))
    assert curve.unit == "month" and curve.months.tolist() == [3, 6, 12] and curve.cohort is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year,share\n0,1\n1,0.8\n2,0.85\n", "cannot rise, but share goes from 0.8 at year 1 to 0.85"),
        ("yr,share\n0,1\n1,0.9\n2,0.8\n", "expected columns 'year' or 'month' and 'share' or 'active'"),
        ("year,active\n1,900\n2,800\n", "need the cohort size (> 0) at year 0"),
        ("year,active\n0,0\n1,0\n2,0\n", "need the cohort size (> 0) at year 0"),
        ("year,share\n0,1\n1,abc\n2,0.8\n", "data row 3: expected numbers"),
        ("year,share\n0,1\n2,0.9\n1,0.8\n", "increasing order"),
        ("year,share\n0,1\n1,1.2\n2,0.8\n", "shares in [0, 1]"),
        ("year,share\n0,100\n1,63\n2,47\n", "(0.63, not 63%), found 100; counts of customers go in"),
        ("year,share\n0,1\n1,0.8\n", "at least two years after year 0"),
        ("# only a comment\n", "no data"),
    ],
)
def test_bad_curves_are_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(CalibrationError, match=message.replace("[", r"\[").replace("]", r"\]").replace(
        "(", r"\(").replace(")", r"\)")):
        read_curve(_write(tmp_path, text))


# --- fit paths -------------------------------------------------------------------------------


def test_fit_paths_are_checked_and_get_default_bounds():
    scenario = _scenario()
    (offers,) = parse_fit("market.offers.offer_rate_per_month", scenario, "rare_contact")
    rate = scenario.market.offers.offer_rate_per_month
    assert (offers.start, offers.low, offers.high) == (rate, rate / 4, rate * 4)
    (card,) = parse_fit("programs.point_card.reward_share_of_spend=0.01:0.1", scenario, "point_card")
    assert (card.start, card.low, card.high) == (0.03, 0.01, 0.1)
    (failures,) = parse_fit("service.failure_per_month", scenario, "rare_contact")
    assert failures.start == scenario.market.service.failure_per_month
    (share,) = parse_fit("segments.bargain_hunters.share", scenario, "rare_contact")
    assert (share.start, share.low, share.high) == (0.25, 0.0, 1.0)
    (sigma,) = parse_fit("segments.convenience_buyers.restlessness.sigma", scenario, "rare_contact")
    assert sigma.start == 0.8 and sigma.high == pytest.approx(3.2)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("market.offers.discont", "is not a parameter of strategy 'rare_contact'"),
        ("market.segment_shares.bargain_hunters", "segments.<segment>.share"),
        ("market.gross_margin_share.real", "is not a parameter"),
        ("programs.point_card.reward_share_of_spend", "is not a parameter of strategy 'rare_contact'"),
        ("market.offers.price_war_start_month", "not a number that can be fitted"),
        ("market.offers.discount=0.3:0.1", "expected finite bounds with low < high"),
        ("market.offers.discount=a:b", "path=low:high with two numbers"),
        ("market.offers.discount,market.offers.discount", "each parameter once"),
        ("market.offers.discount=0.1:1.5", "the bound 1.5 is not a valid value (market.offers"),
        ("segments.students.share", "its segments: bargain_hunters, relationship_seekers, convenience"),
        ("segments.bargain_hunters.height.mean", "a segment's traits: price_focus, bond_need"),
        ("segments.bargain_hunters.price_focus.median", "is a Beta distribution with the parameters mean, "
         "concentration, found 'median'"),
        ("segments.bargain_hunters.price_focus.mean=0:0.5", "the bound 0 is not a valid value (mean must be"),
        ("segments.bargain_hunters.share,segments.relationship_seekers.share,segments.convenience_buyers.share",
         "leave one segment's share unfitted"),
    ],
)
def test_bad_fit_paths_are_refused_with_the_reason(spec, message):
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_fit(spec, _scenario(), "rare_contact")


def test_an_unknown_strategy_and_a_single_segment_share_are_refused():
    with pytest.raises(CalibrationError, match="--strategy"):
        parse_fit("market.offers.discount", _scenario(), "nope")
    single = '\n[[market.segments]]\nname = "all"\nshare = 1.0\n'
    one = loads(SCENARIO.format(seed=1, relationship=0.02) + single)
    with pytest.raises(CalibrationError, match="only segment has share 1"):
        parse_fit("segments.all.share", one, "rare_contact")


def test_segment_values_reach_the_market_and_fitted_shares_leave_the_rest_in_proportion():
    scenario = _scenario()
    values = {"segments.bargain_hunters.share": 0.5, "segments.convenience_buyers.restlessness.sigma": 0.2}
    market, _, _ = configure(scenario, values)
    shares = {s.name: s.share for s in market.segments}
    # relationship_seekers 0.35 and convenience_buyers 0.40 share the other half as 35:40
    assert shares == pytest.approx({"bargain_hunters": 0.5, "relationship_seekers": 0.5 * 35 / 75,
                                    "convenience_buyers": 0.5 * 40 / 75})
    assert market.segments[2].restlessness.sigma == 0.2
    assert market.segments[2].restlessness.median == scenario.market.segments[2].restlessness.median
    with pytest.raises(ParamError, match=r"leave -0\.2 for the other segments"):
        configure(scenario, {f"segments.{n}.share": 0.6 for n in ("bargain_hunters", "relationship_seekers")})


# --- the likelihood and its intervals, on a curve with a known answer ------------------------

PERIODS = np.arange(13)


def _gamma_exponential(values: dict[str, float]) -> np.ndarray:
    """Survival of a cohort with Gamma-distributed constant hazards: mean ``h``, CV ``cv``."""
    h, cv = values["h"], values["cv"]
    return (1 + cv**2 * h * PERIODS) ** (-1 / cv**2)


def _cohort(rng: np.random.Generator, truth: dict[str, float], n: int = 1000) -> Curve:
    survival = _gamma_exponential(truth)
    lost = rng.multinomial(n, np.concatenate([-np.diff(survival), survival[-1:]]))
    active = n - np.concatenate([[0], np.cumsum(lost[:-1])])
    return Curve("synthetic", "year", PERIODS, active / n, float(n))


def _analytic_parameters() -> list[FitParameter]:
    return [FitParameter("h", 1.0, 0.05, 5.0), FitParameter("cv", 1.0, 0.0, 4.0)]


def test_the_deviance_is_zero_only_for_the_observed_curve():
    share = np.array([0.8, 0.6, 0.5])
    assert deviance(share, share, 1000) == pytest.approx(0.0)
    assert deviance(share, share * 0.98, 1000) > deviance(share, share * 0.99, 1000) > 0


def test_profile_intervals_cover_the_truth_about_95_percent_of_the_time():
    """40 cohorts of 1,000 drawn from a known model, each fitted on 7 of 12 years: the 95%
    profile intervals must cover the truth in 34..40 of them (at 95% coverage, the chance of
    fewer than 34 is 1.4%; intervals of +-1 SE, 68% coverage, would cover about 27)."""
    truth, rng = {"h": 0.5, "cv": 1.2}, np.random.default_rng(7)
    covered = {"h": 0, "cv": 0}
    for _ in range(40):
        fit = fit_curve(_cohort(rng, truth), _analytic_parameters(), _gamma_exponential, holdout=5)
        for estimate in fit.estimates:
            path = estimate.parameter.path
            covered[path] += estimate.ci_low <= truth[path] <= estimate.ci_high
            assert estimate.ci_low < estimate.value < estimate.ci_high
    assert covered["h"] >= 34 and covered["cv"] >= 34


def test_an_estimate_on_its_bound_and_confounded_parameters_are_warned_about():
    rng = np.random.default_rng(3)
    curve = _cohort(rng, {"h": 0.5, "cv": 1.2})
    narrow = [FitParameter("h", 1.0, 0.8, 5.0), FitParameter("cv", 1.0, 0.0, 4.0)]
    fit = fit_curve(curve, narrow, _gamma_exponential, holdout=5)
    assert any("h = 0.8 sits on its bound 0.8" in w for w in fit.warnings)

    def product(values: dict[str, float]) -> np.ndarray:  # only a * b matters, and b a little
        return _gamma_exponential({"h": values["a"] * values["b"], "cv": 1.0 + 0.01 * values["b"]})

    both = [FitParameter("a", 1.0, 0.1, 10.0), FitParameter("b", 1.0, 0.1, 10.0)]
    fit = fit_curve(curve, both, product, holdout=5, intervals=False)
    assert any("a and b are confounded" in w for w in fit.warnings)
    clean = fit_curve(curve, _analytic_parameters(), _gamma_exponential, holdout=5)
    assert clean.warnings == []


def test_a_share_curve_without_a_cohort_size_gets_intervals_from_its_residuals():
    rng = np.random.default_rng(5)
    counted = _cohort(rng, {"h": 0.5, "cv": 1.2}, n=1000)
    shares = Curve("synthetic", "year", PERIODS, counted.share)
    with_n = fit_curve(counted, _analytic_parameters(), _gamma_exponential)
    without = fit_curve(shares, _analytic_parameters(), _gamma_exponential)
    assert without.fitted == pytest.approx(with_n.fitted, rel=1e-3)
    # The dispersion estimate gives an effective size of the right order (1,000 here).
    assert 200 < without.effective_cohort < 5000
    assert np.isfinite([e.ci_low for e in without.estimates]).all()


# --- choosing the fit set that predicts ------------------------------------------------------


def _weibull_gamma(values: dict[str, float]) -> np.ndarray:
    """Gamma-mixed Weibull hazards: ``_gamma_exponential`` whose hazards change with tenure as
    ``t ** (d - 1)`` (d < 1: a customer's own hazard falls with tenure; d = 1: constant)."""
    h, cv, d = values["h"], values["cv"], values["d"]
    return (1 + cv**2 * h * PERIODS**d) ** (-1 / cv**2)


def _from_survival(rng: np.random.Generator, survival: np.ndarray, n: int = 1000) -> Curve:
    lost = rng.multinomial(n, np.concatenate([-np.diff(survival), survival[-1:]]))
    active = n - np.concatenate([[0], np.cumsum(lost[:-1])])
    return Curve("synthetic", "year", PERIODS, active / n, float(n))


def _fit_sets() -> list[list[FitParameter]]:
    level_and_spread = [FitParameter("h", 1.0, 0.05, 5.0), FitParameter("cv", 1.0, 0.05, 4.0)]
    return [level_and_spread, [*level_and_spread, FitParameter("d", 1.0, 0.2, 3.0)]]


def wide(values: dict[str, float]) -> np.ndarray:
    """Either fit set of ``_fit_sets``: without ``d``, constant hazards."""
    return _weibull_gamma({"d": 1.0, **values})


def _mean_absolute(fit, share: np.ndarray | None = None) -> float:
    return fit.errors(share, held=True)["mae_customers"]


def test_the_fit_set_that_predicts_the_last_fitted_years_is_chosen_and_predicts_the_held_out_ones():
    """A cohort whose own hazards fall with tenure (Weibull d = 0.5, little spread): the
    duration-dependent set is chosen on years 6-7 (fitted on 1-5) and, refitted on years 1-7,
    predicts years 8-12 within 1.5x the sBG's error (the acceptance of issue 12), far better
    than level and spread alone; the held-out years are never looked at."""
    curve = _from_survival(np.random.default_rng(11), _weibull_gamma({"h": 0.35, "cv": 0.3, "d": 0.5}))
    chosen, scores, validation = select_fit(curve, _fit_sets(), wide, holdout=5)
    assert validation == 2 and [c.chosen for c in scores] == [False, True]
    fit = fit_curve(curve, chosen, wide, holdout=5, intervals=False)
    simple = fit_curve(curve, _fit_sets()[0], wide, holdout=5, intervals=False)
    assert _mean_absolute(fit) <= 1.5 * _mean_absolute(fit, fit.sbg_share)
    assert _mean_absolute(fit) < _mean_absolute(simple) / 2
    # Changing the held-out years changes nothing in the choice.
    halved = np.where(PERIODS > 7, curve.share / 2, curve.share)
    altered = Curve(curve.file, curve.unit, PERIODS, halved, 1000.0)
    again, rescored, _ = select_fit(altered, _fit_sets(), wide, holdout=5)
    assert [c.validation_error for c in rescored] == [c.validation_error for c in scores]
    assert [p.start for p in again] == [p.start for p in chosen]


@pytest.mark.parametrize("alpha, beta", [(0.704, 1.182), (0.668, 3.806), (3.0, 12.0)])
def test_sbg_cohorts_are_predicted_within_one_and_a_half_times_the_sbgs_error(alpha, beta):
    """Cohorts drawn from sBGs: Fader & Hardie's (2007) fits of the 'regular' and 'high end'
    cohorts and a nearly homogeneous one (a shape neither of theirs has). The chosen fit set,
    refitted on years 1-7, predicts years 8-12 within 1.5x the error of the sBG fitted to the
    same years (issue 12's acceptance), although the model family is not the sBG."""
    sbg = SBGFit(alpha, beta, np.nan, np.nan, np.nan)
    curve = _from_survival(np.random.default_rng(int(10 * alpha + beta)), sbg.survival(PERIODS))
    chosen, _, _ = select_fit(curve, _fit_sets(), wide, holdout=5)
    fit = fit_curve(curve, chosen, wide, holdout=5, intervals=False)
    # The sBG is the true model here, so its error is the sampling noise alone; 2 customers of
    # 1,000 is the least asked for.
    assert _mean_absolute(fit) <= max(1.5 * _mean_absolute(fit, fit.sbg_share), 2.0)


def test_a_curve_observed_at_irregular_periods_gets_the_sbg_benchmark():
    """Published curves skip periods (Koper et al. 2002: years 0-5, then 10 and 15). Fitted on
    years 1-5, the held-out years 10 and 15 still get the sBG's prediction to compare with; a
    model that is the sBG itself predicts them exactly as well."""
    periods = np.array([0, 1, 2, 3, 4, 5, 10, 15], dtype=float)
    truth = SBGFit(0.5, 1.0, np.nan, np.nan, np.nan)
    lost = np.random.default_rng(3).multinomial(
        1000, np.concatenate([-np.diff(truth.survival(periods)), truth.survival(periods)[-1:]])
    )
    active = 1000 - np.concatenate([[0], np.cumsum(lost[:-1])])
    curve = Curve("gapped", "year", periods, active / 1000, 1000.0)

    def sbg(values: dict[str, float]) -> np.ndarray:
        return SBGFit(values["alpha"], values["beta"], np.nan, np.nan, np.nan).survival(periods)

    parameters = [FitParameter("alpha", 1.0, 0.05, 20.0), FitParameter("beta", 1.0, 0.05, 20.0)]
    fit = fit_curve(curve, parameters, sbg, holdout=2, intervals=False)
    assert fit.sbg_share is not None
    assert _mean_absolute(fit) == pytest.approx(_mean_absolute(fit, fit.sbg_share), abs=1.0)


# --- the model's curve -----------------------------------------------------------------------


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


def _generated_curve(truth: dict[str, float], customers: int, months: int = 36, step: int = 3) -> Curve:
    """A monthly curve of a cohort of ``customers`` simulated with ``truth`` under other seeds."""
    periods = np.arange(0, months + 1, step)
    share = simulate(_scenario(seed=99), "rare_contact", truth, months, 1, SerialExecutor(), customers)
    return Curve("generated", "month", periods, share[periods], float(customers))


def _recover(spec: str, truth: dict[str, float], intervals: bool):
    """Fit ``spec`` (default seeds) to a monthly curve of 4,000 customers simulated with ``truth``
    under other seeds, with 2 x 4,000 customers per evaluation (at most 40 for the optimiser);
    the last 9 months held out."""
    curve = _generated_curve(truth, customers=4000)
    fitting = _scenario(seed=1)
    return calibrate(
        fitting, curve, parse_fit(spec, fitting, "rare_contact"), SerialExecutor(), holdout=3,
        replications=2, customers=4000, intervals=intervals, max_evaluations=40,
    )


@pytest.mark.slow
def test_the_default_fit_recovers_a_known_propensity_mean_and_spread():
    """The two-parameter fit of docs/analysis.md: truth (2, 1.5), start (1, 1). Each estimate
    within 3 standard errors of the truth (observed seeds 99, 98, 97 gave z = 0.8 / -0.2,
    1.2 / 1.8 and 1.3 / 2.4), holdout error below 1 point, and no warning."""
    truth = {"market.heterogeneity.propensity_mean": 2.0, "market.heterogeneity.propensity_cv": 1.5}
    result = _recover(
        "market.heterogeneity.propensity_mean=0.2:20,market.heterogeneity.propensity_cv=0:4", truth, False
    )
    for estimate in result.estimates:
        assert abs(estimate.value - truth[estimate.parameter.path]) < 3 * estimate.standard_error
        assert estimate.standard_error < 0.1 * estimate.value  # and the errors are not vacuous
    assert result.errors(held=True)["mae"] < 0.01 and result.warnings == []


@pytest.mark.slow
def test_a_segment_trait_spread_is_recovered_within_its_interval():
    """A heterogeneity parameter of a segment: the spread of the convenience buyers' restlessness
    (truth 1.6, start 0.8) inside its 95% profile interval and within 3 standard errors, with a
    standard error below a quarter of the estimate. Restlessness scales only voluntary exits, a
    smaller share since bonds became durable, so a retention curve pins its spread down loosely
    (seed 1: 1.51 +- 0.35)."""
    path = "segments.convenience_buyers.restlessness.sigma"
    (estimate,) = _recover(f"{path}=0.1:3", {path: 1.6}, True).estimates
    assert estimate.ci_low < 1.6 < estimate.ci_high
    assert abs(estimate.value - 1.6) < 3 * estimate.standard_error < 0.75 * estimate.value


def test_the_calibrated_scenario_loads_with_the_fitted_values():
    scenario = _scenario()
    curve = _generated_curve({}, customers=300, months=24, step=6)
    parameters = parse_fit("market.decision.relationship_exit_per_month=0.005:0.08,"
                           "segments.bargain_hunters.share", scenario, "rare_contact")
    result = calibrate(scenario, curve, parameters, SerialExecutor(), replications=1, customers=300,
                       max_evaluations=6, intervals=False)
    calibrated = loads(calibrated_scenario_text(scenario, result))
    fitted = result.fitted
    assert calibrated.market.decision.relationship_exit_per_month == pytest.approx(
        fitted["market.decision.relationship_exit_per_month"], rel=1e-5)
    share = fitted["segments.bargain_hunters.share"]
    assert calibrated.market.segments[0].share == pytest.approx(share, rel=1e-5)
    assert calibrated.market.segments[1].bond_need == scenario.market.segments[1].bond_need
    assert calibrated.name == "calibration-test-calibrated"
    assert set(calibrated.strategies) == {"rare_contact", "point_card"}


# --- the command -----------------------------------------------------------------------------


def _arguments(tmp_path: Path, curve: str, *extra: str) -> list[str]:
    scenario = tmp_path / "market.toml"
    scenario.write_text(SCENARIO.format(seed=1, relationship=0.02))
    return ["calibrate", "--curve", str(_write(tmp_path, curve)), "--scenario", str(scenario), *extra]


def test_calibrate_command_prints_the_fit_writes_the_scenario_and_refuses_to_overwrite(tmp_path):
    arguments = _arguments(
        tmp_path, "year,active\n0,500\n1,375\n2,300\n3,250\n",
        "--fit", "market.decision.relationship_exit_per_month", "--holdout", "1",
        "--customers", "200", "--replications", "1", "--workers", "1", "--no-intervals",
    )
    outcome = CliRunner().invoke(app, arguments)
    assert outcome.exit_code == 0, outcome.output
    assert "95% interval (profile)" in outcome.stdout and "held out" in outcome.stdout
    assert "mean absolute error (model, held out years)" in outcome.stdout
    written = tmp_path / "market-calibrated.toml"
    assert loads(written.read_text()).name == "calibration-test-calibrated"
    again = CliRunner().invoke(app, arguments)
    assert again.exit_code == 2 and "exists; use --force" in again.output


def test_calibrate_command_prints_json_with_every_period(tmp_path):
    arguments = _arguments(
        tmp_path, "month,share\n0,1\n3,0.9\n6,0.82\n9,0.76\n12,0.7\n",
        "--fit", "market.decision.relationship_exit_per_month", "--holdout", "2", "--format", "json",
        "--customers", "200", "--replications", "1", "--workers", "1", "--no-intervals",
    )
    outcome = CliRunner().invoke(app, arguments)
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    assert data["unit"] == "month" and data["cohort"] is None
    assert [(p["period"], p["held_out"]) for p in data["periods"]] == [
        (0, False), (3, False), (6, False), (9, True), (12, True)
    ]
    assert [p["observed"] for p in data["periods"]] == [1, 0.9, 0.82, 0.76, 0.7]
    assert all(0 < p["predicted"] <= 1 for p in data["periods"]) and data["periods"][0]["predicted"] == 1
    assert data["parameters"][0]["path"] == "market.decision.relationship_exit_per_month"
    assert {"fit_error", "holdout_error", "warnings", "correlation"} <= set(data)


def test_the_default_fit_sets_are_valid_and_nested():
    first, others = parse_fits(DEFAULT_FITS, _scenario(), "rare_contact")
    paths = [p.path for p in first]
    assert paths == ["market.heterogeneity.propensity_mean", "market.heterogeneity.propensity_cv"]
    assert len(others) == 2 and all([p.path for p in other][:2] == paths for other in others)


def test_calibrate_command_without_fit_chooses_among_the_default_fit_sets(tmp_path, monkeypatch):
    """The command's wiring, with two cheap one-parameter sets standing in for DEFAULT_FITS."""
    monkeypatch.setattr(
        "sim.analysis.calibration.DEFAULT_FITS",
        ("market.decision.relationship_exit_per_month", "market.offers.offer_rate_per_month"),
    )
    curve = "month,share\n0,1\n2,0.9\n4,0.83\n6,0.78\n8,0.74\n10,0.71\n"
    options = ("--holdout", "1", "--customers", "100", "--replications", "1", "--workers", "1")
    options += ("--no-intervals",)
    outcome = CliRunner().invoke(app, _arguments(tmp_path, curve, *options, "--format", "json"))
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    assert [c["parameters"] for c in data["selection"]] == [
        ["market.decision.relationship_exit_per_month"], ["market.offers.offer_rate_per_month"]
    ]
    assert sum(c["chosen"] for c in data["selection"]) == 1 and data["validation_periods"] == 1
    chosen = next(c for c in data["selection"] if c["chosen"])
    assert [p["path"] for p in data["parameters"]] == chosen["parameters"]
    assert chosen["validation_mae"] == min(c["validation_mae"] for c in data["selection"])
    table = CliRunner().invoke(app, _arguments(tmp_path, curve, *options, "--force"))
    assert "fit sets compared" in table.stdout and "chosen" in table.stdout


@pytest.mark.parametrize(
    ("fit", "curve", "message"),
    [
        ("market.offers.discont", "year,share\n0,1\n1,0.8\n2,0.7\n", "is not a parameter"),
        ("segments.nobody.share", "year,share\n0,1\n1,0.8\n2,0.7\n", "its segments: bargain_hunters"),
        ("market.offers.discount", "year,share\n0,1\n1,0.8\n2,0.9\n", "cannot rise"),
        ("market.offers.discount", "year\n0\n1\n", "expected columns"),
    ],
)
def test_calibrate_command_exits_2_on_bad_input(tmp_path, fit, curve, message):
    outcome = CliRunner().invoke(app, _arguments(tmp_path, curve, "--fit", fit))
    assert outcome.exit_code == 2 and message in outcome.output
    assert not (tmp_path / "market-calibrated.toml").exists()


@pytest.mark.slow
def test_a_process_pool_gives_the_same_curve_as_one_process():
    from sim.executors import LocalPoolExecutor

    scenario, values = _scenario(), {"market.offers.discount": 0.2}
    serial = simulate(scenario, "rare_contact", values, 24, 3, SerialExecutor(), customers=300)
    with LocalPoolExecutor(2) as pool:
        pooled = simulate(scenario, "rare_contact", values, 24, 3, pool, customers=300)
    np.testing.assert_array_equal(serial, pooled)
