"""Survival of the initial cohort: Kaplan-Meier from monthly counts, the sBG fit, the CLI."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from sim.analysis.statistics import sweep_and_summarise
from sim.analysis.survival import analyse, cohort_counts, fit_sbg, kaplan_meier
from sim.cli import app
from sim.executors import SerialExecutor
from sim.scenario import loads

# Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing 21(1),
# Table 1: customers of two cohorts of 1,000 still active at years 0..7 (the calibration
# period), and their published maximum-likelihood estimates.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(("counts", "alpha", "beta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_sbg_fit_reproduces_the_published_estimates(counts, alpha, beta):
    fit = fit_sbg(counts)
    assert fit.alpha == pytest.approx(alpha, abs=0.0006)
    assert fit.beta == pytest.approx(beta, abs=0.0006)
    assert 0 < fit.alpha_se < 0.2 and 0 < fit.beta_se < 1.0


def _simulate_sbg(
    rng: np.random.Generator, alpha: float, beta: float, customers: int, years: int
) -> np.ndarray:
    churn = rng.beta(alpha, beta, customers)
    lifetime = rng.geometric(churn)  # the year a customer leaves in, 1, 2, ...
    return np.array([np.count_nonzero(lifetime > t) for t in range(years + 1)])


def test_sbg_fit_recovers_known_parameters_within_three_standard_errors():
    counts = _simulate_sbg(np.random.default_rng(4), 0.8, 2.5, 20_000, 8)
    fit = fit_sbg(counts)
    assert abs(fit.alpha - 0.8) < 3 * fit.alpha_se
    assert abs(fit.beta - 2.5) < 3 * fit.beta_se
    np.testing.assert_allclose(fit.survival(np.arange(9)) * 20_000, counts, rtol=0.03)


def test_sbg_fit_rejects_too_few_periods_and_rising_counts():
    with pytest.raises(ValueError, match="periods 0, 1 and 2"):
        fit_sbg([100, 80])
    with pytest.raises(ValueError, match="must not rise"):
        fit_sbg([100, 80, 90])


def test_kaplan_meier_of_uncensored_monthly_counts_is_the_share_still_active():
    active = np.array([1000, 900, 850, 850, 700])
    survival, low, high = kaplan_meier(active)
    np.testing.assert_allclose(survival, active / 1000)
    assert np.all(low <= survival) and np.all(survival <= high)
    assert low[1] == pytest.approx(0.9 - 1.96 * np.sqrt(0.9 * 0.1 / 1000), abs=0.003)  # binomial width
    with pytest.raises(ValueError, match="must not rise"):
        kaplan_meier(np.array([10, 9, 10]))


def _monthly(strategy: str, cohort: list[int], joiners: int = 5) -> pl.DataFrame:
    """A monthly table of one replication: the cohort shrinks as given, joiners add noise."""
    active = np.array(cohort[1:])
    return pl.DataFrame(
        {
            "strategy": strategy,
            "point": "{}",
            "replication": 0,
            "month": np.arange(1, len(cohort), dtype=np.int32),
            "active_initial": active,
            "churned_total": np.concatenate([[cohort[0] - cohort[1]], -np.diff(active) + 1]),
            "active_total": active + joiners,
        }
    )


def test_curves_pool_replications_and_give_hazard_median_and_yearly_retention():
    months = 30
    a = [1000 - 20 * m for m in range(months + 1)]  # 2% of the cohort leaves every month
    b = [1000 - 30 * m for m in range(months + 1)]
    monthly = pl.concat([_monthly("x", a), _monthly("x", b).with_columns(replication=pl.lit(1))])
    counts = cohort_counts(monthly)
    assert counts.filter(pl.col("month") == 0)["active_initial"].item() == 2000
    curve, summary = analyse(monthly)
    assert curve["month"].to_list() == list(range(months + 1))
    assert curve["survival"][10] == pytest.approx(1 - 500 / 2000)
    assert curve["hazard"][1] == pytest.approx(50 / 2000)
    assert curve["hazard"][2] == pytest.approx(50 / 1950)
    row = summary.row(0, named=True)
    assert row["replications"] == 2 and row["customers"] == 2000
    assert row["median_lifetime_months"] == 20  # 2000 - 50 * 20 = 1000
    assert row["median_ci_low"] <= 20 <= row["median_ci_high"]
    assert row["retention_year_1"] == pytest.approx(1 - 600 / 2000)
    assert row["retention_year_2"] == pytest.approx(1 - 1200 / 2000)
    assert "retention_year_3" not in summary.columns


SCENARIO = """\
name = "survival-small"
customers = 300
months = 36
replications = 2
seed = 2
[strategies]
rare_contact = ["rare_contact"]
personal_appreciation = ["personal_appreciation"]
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("survival") / "results"
    sweep_and_summarise(loads(SCENARIO), out, SerialExecutor())
    return out


def test_survival_command_writes_the_tables_and_prints_one_row_per_strategy(results):
    outcome = CliRunner().invoke(app, ["survival", str(results), "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    curve = pl.read_parquet(results / "survival.parquet")
    summary = pl.read_parquet(results / "survival_summary.parquet")
    assert summary["strategy"].to_list() == ["rare_contact", "personal_appreciation"]
    assert curve.height == 2 * 37
    assert '"sbg_mean_churn"' in outcome.stdout
    # The pooled Kaplan-Meier curve is the runs' summed active_initial over the summed cohort.
    runs = pl.read_parquet(results / "runs.parquet").filter(pl.col("strategy") == "rare_contact")
    at_horizon = curve.filter((pl.col("strategy") == "rare_contact") & (pl.col("month") == 36))
    assert at_horizon["survival"].item() == pytest.approx(1 - runs["cohort_loss"].mean())
    table = CliRunner().invoke(app, ["survival", str(results)])
    assert "personal_appreciation" in table.stdout and "year 3" in table.stdout


def test_survival_command_on_a_folder_without_results_exits_2(tmp_path):
    outcome = CliRunner().invoke(app, ["survival", str(tmp_path)])
    assert outcome.exit_code == 2
    assert "no sweep results" in outcome.output


@pytest.mark.slow
def test_sbg_standard_errors_give_nominal_coverage():
    """Over 200 simulated cohorts of 2,000, the 95% Wald interval of alpha covers the truth in
    90-99% of them (a binomial 99.9% range around 95% for 200 trials is about 89-99%)."""
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(200):
        fit = fit_sbg(_simulate_sbg(rng, 0.7, 1.2, 2_000, 7))
        covered += abs(fit.alpha - 0.7) < 1.96 * fit.alpha_se
    assert 180 <= covered <= 198


def test_sbg_fit_of_a_curve_observed_at_irregular_periods_recovers_the_same_parameters():
    # Real curves skip periods (police staff retention, Koper et al. 2002: years 0-5, 10, 15).
    # The churn over a gap is the survival lost over it, so dropping periods loses precision,
    # not the estimate; with every period the fit is the paper's.
    counts = _simulate_sbg(np.random.default_rng(11), 0.6, 1.5, 20_000, 15)
    periods = np.array([0, 1, 2, 3, 4, 5, 10, 15])
    full, gapped = fit_sbg(counts), fit_sbg(counts[periods], periods)
    assert abs(gapped.alpha - 0.6) < 3 * gapped.alpha_se and abs(gapped.beta - 1.5) < 3 * gapped.beta_se
    assert gapped.alpha == pytest.approx(full.alpha, rel=0.1)
    assert gapped.beta == pytest.approx(full.beta, rel=0.1)
    np.testing.assert_allclose(gapped.survival(periods) * 20_000, counts[periods], rtol=0.03)
    with pytest.raises(ValueError, match="start at 0 and increase"):
        fit_sbg(counts[periods], periods[::-1])
