"""Survival of the initial cohort: Kaplan-Meier curves, hazard by tenure, median lifetime and a
shifted-beta-geometric (sBG) fit of yearly retention.

Everything is computed from the monthly table of a sweep (``monthly.parquet``), pooled over the
replications of each (strategy, grid point): the initial cohort is a closed group whose members
leave in whole months and are censored at the horizon, so monthly counts are the exact data of a
Kaplan-Meier estimate and no per-customer records are needed.

``curves`` returns (and ``survival.parquet`` stores) one row per (strategy, point, month):

============  =======  ==========================================================================
column        dtype    meaning
============  =======  ==========================================================================
strategy      String   strategy name
point         String   grid point (JSON, ``{}`` without a grid)
month         Int32    tenure in months, 0..horizon (month 0: everyone active, survival 1)
at_risk       Int64    initial customers active at the start of the month, pooled over replications
exits         Int64    of those, customers who left in the month (0 in month 0)
survival      Float64  Kaplan-Meier estimate of P(still active after ``month`` months)
ci_low        Float64  95% pointwise confidence band, Greenwood's variance on the log(-log) scale
ci_high       Float64  likewise, upper limit
hazard        Float64  discrete monthly hazard exits / at_risk (null in month 0)
============  =======  ==========================================================================

``summaries`` returns (and ``survival_summary.parquet`` stores) one row per (strategy, point):

=========================  =======  ==============================================================
column                     dtype    meaning
=========================  =======  ==============================================================
strategy, point            String   as above
replications               Int64    runs pooled
customers                  Int64    initial customers pooled over those runs
horizon_months             Int64    months simulated
median_lifetime_months     Float64  first month with survival <= 0.5; null if censored (> horizon)
median_ci_low, _ci_high    Float64  the months where the band's lower / upper limit reach 0.5
retention_year_<k>         Float64  survival at month 12k, k = 1..horizon // 12
sbg_alpha, sbg_beta        Float64  sBG maximum-likelihood estimates from the yearly counts; null
                                    when retention does not rise with tenure (geometric limit)
sbg_alpha_se, sbg_beta_se  Float64  their standard errors (inverse observed information)
sbg_mean_churn             Float64  alpha / (alpha + beta): mean yearly churn probability in year 1
=========================  =======  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy import optimize, special, stats
from scipy.differentiate import hessian

CURVE_SCHEMA: dict[str, pl.DataType] = {
    "strategy": pl.String,
    "point": pl.String,
    "month": pl.Int32,
    "at_risk": pl.Int64,
    "exits": pl.Int64,
    "survival": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "hazard": pl.Float64,
}


def cohort_counts(monthly: pl.DataFrame) -> pl.DataFrame:
    """Initial-cohort counts per (strategy, point, month), pooled over replications.

    The size of each run's initial cohort is ``active_initial + churned_total`` of month 1:
    customers who join in a month are added after that month's exits (step phase 6 follows 5),
    so everyone who leaves in month 1 belongs to the initial cohort.
    """
    by = ["strategy", "point"]
    start = (
        monthly.filter(pl.col("month") == 1)
        .group_by(by, maintain_order=True)
        .agg(
            (pl.col("active_initial") + pl.col("churned_total")).sum().alias("active_initial"),
            pl.len().alias("replications"),
        )
        .with_columns(pl.lit(0, dtype=pl.Int32).alias("month"))
        .with_row_index("order")
    )
    later = monthly.group_by([*by, "month"], maintain_order=True).agg(pl.col("active_initial").sum())
    return (
        pl.concat(
            [start.drop("order", "replications"), later.with_columns(pl.col("month").cast(pl.Int32))],
            how="diagonal",
        )
        .join(start.select(*by, "order", "replications"), on=by, how="left")
        .sort(["order", "month"])  # strategies in the sweep's order
        .drop("order")
    )


def kaplan_meier(active: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Survival and its confidence band at months 0..M from counts still active (``active[0]`` = all).

    The estimate is scipy's Kaplan-Meier (:func:`scipy.stats.ecdf` on right-censored data) with
    the pointwise log(-log) Greenwood interval; customers active at month M are censored there.
    """
    active = np.asarray(active, dtype=np.int64)
    months = np.arange(active.size)
    exits = -np.diff(active)
    if np.any(exits < 0):
        raise ValueError("cohort counts must not rise")
    horizon = months[-1]
    data = stats.CensoredData(
        uncensored=np.repeat(months[1:], exits), right=np.full(int(active[-1]), max(horizon, 1))
    )
    if data.num_censored() == len(data):  # nobody left: survival 1, no interval to speak of
        ones = np.ones(active.size)
        return ones, ones, ones
    fit = stats.ecdf(data).sf
    band = fit.confidence_interval(level, method="log-log")
    with np.errstate(invalid="ignore"):
        return fit.evaluate(months), band.low.evaluate(months), band.high.evaluate(months)


def curves(monthly: pl.DataFrame, level: float = 0.95) -> pl.DataFrame:
    """Kaplan-Meier curve, band and monthly hazard per (strategy, point); see the module doc."""
    counts = cohort_counts(monthly)
    frames = []
    for (strategy, point), group in counts.group_by(["strategy", "point"], maintain_order=True):
        active = group["active_initial"].to_numpy()
        survival, low, high = kaplan_meier(active, level)
        at_risk = np.concatenate([[active[0]], active[:-1]])
        exits = np.concatenate([[0], -np.diff(active)])
        hazard = np.where(np.arange(active.size) > 0, exits / np.maximum(at_risk, 1), np.nan)
        frames.append(
            pl.DataFrame(
                {
                    "strategy": strategy,
                    "point": point,
                    "month": group["month"],
                    "at_risk": at_risk,
                    "exits": exits,
                    "survival": survival,
                    "ci_low": low,
                    "ci_high": high,
                    "hazard": hazard,
                },
                schema=CURVE_SCHEMA,
            ).with_columns(pl.col("hazard").fill_nan(None))
        )
    return pl.concat(frames) if frames else pl.DataFrame(schema=CURVE_SCHEMA)


# --- shifted-beta-geometric ------------------------------------------------------------------


@dataclass(frozen=True)
class SBGFit:
    """A shifted-beta-geometric fit: churn probability per period ~ Beta(alpha, beta)."""

    alpha: float
    beta: float
    alpha_se: float
    beta_se: float
    log_likelihood: float

    def survival(self, periods: np.ndarray) -> np.ndarray:
        """P(still active after t periods) = B(alpha, beta + t) / B(alpha, beta)."""
        t = np.asarray(periods, dtype=float)
        return np.exp(special.betaln(self.alpha, self.beta + t) - special.betaln(self.alpha, self.beta))


def _sbg_log_likelihood(
    log_params: np.ndarray, lost: np.ndarray, survivors: float, periods: np.ndarray
) -> np.ndarray:
    """Fader & Hardie (2007), eq. (5)-(7), with the churn of each interval between observed
    periods in place of P(T = t): lost_i log(S(t_i-1) - S(t_i)) + survivors log S(t_last). With
    consecutive periods the interval's probability is P(T = t), as in the paper.

    Vectorised over trailing axes of ``log_params`` (shape (2, ...)), for the Hessian.
    """
    a, b = np.exp(log_params[0])[..., None], np.exp(log_params[1])[..., None]
    log_alive = special.betaln(a, b + periods) - special.betaln(a, b)  # log S(t) at every period
    churn_between = log_alive[..., :-1] + np.log(-np.expm1(log_alive[..., 1:] - log_alive[..., :-1]))
    return (lost * churn_between).sum(axis=-1) + survivors * log_alive[..., -1]


def fit_sbg(active: np.ndarray, periods: np.ndarray | None = None) -> SBGFit:
    """Maximum-likelihood sBG fit of counts still active at ``periods`` (default 0..T;
    ``active[0]``: the cohort at period 0). Periods may skip (years 0-5, 10, 15): a gap's churn
    is the survival lost over it, so a curve observed at irregular times is fitted as it is.

    Needs at least two intervals (two parameters). Standard errors come from the observed
    information (scipy's numerical Hessian of the log-likelihood in log parameters) by the
    delta method.
    """
    active = np.asarray(active, dtype=float)
    periods = np.arange(active.size, dtype=float) if periods is None else np.asarray(periods, dtype=float)
    if active.size < 3:
        raise ValueError("an sBG fit needs counts at periods 0, 1 and 2 at least")
    if periods.shape != active.shape or periods[0] != 0 or np.any(np.diff(periods) <= 0):
        raise ValueError("an sBG fit needs periods that start at 0 and increase, one per count")
    lost, survivors = -np.diff(active), active[-1]
    if np.any(lost < 0):
        raise ValueError("cohort counts must not rise")

    def log_likelihood(x: np.ndarray) -> np.ndarray:
        return _sbg_log_likelihood(x, lost, survivors, periods)

    def negative(x: np.ndarray) -> float:
        return -float(log_likelihood(x))

    best = optimize.minimize(
        negative, x0=np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10}
    )
    best = optimize.minimize(negative, x0=best.x, method="L-BFGS-B", bounds=[(-10.0, 20.0)] * 2)
    information = -hessian(log_likelihood, best.x).ddf
    alpha, beta = np.exp(best.x)
    try:
        variance = np.diag(np.linalg.inv(information))
        alpha_se, beta_se = np.sqrt(np.where(variance > 0, variance, np.nan)) * (alpha, beta)
    except np.linalg.LinAlgError:
        alpha_se = beta_se = np.nan
    return SBGFit(float(alpha), float(beta), float(alpha_se), float(beta_se), -float(best.fun))


# --- per-strategy summary --------------------------------------------------------------------


# alpha + beta beyond this: the Beta distribution of churn probabilities has a standard deviation
# below about 1/sqrt(1000) of its mean's scale, indistinguishable from one churn probability.
GEOMETRIC_LIMIT = 1_000.0


def _first_month_at_or_below(values: np.ndarray, months: np.ndarray, level: float = 0.5) -> float | None:
    below = np.flatnonzero(values <= level)
    return float(months[below[0]]) if below.size else None


def summaries(curve: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """Median lifetime with its interval, yearly retention and the sBG fit per (strategy, point).

    ``curve`` is :func:`curves`' table and ``counts`` :func:`cohort_counts`' one.
    """
    rows = []
    replications = {
        (r["strategy"], r["point"]): r["replications"]
        for r in counts.filter(pl.col("month") == 0).iter_rows(named=True)
    }
    for (strategy, point), group in curve.group_by(["strategy", "point"], maintain_order=True):
        months = group["month"].to_numpy()
        survival = group["survival"].to_numpy()
        at_risk = group["at_risk"].to_numpy()
        active = at_risk - group["exits"].to_numpy()  # at the end of each month
        row: dict[str, object] = {
            "strategy": strategy,
            "point": point,
            "replications": replications[(strategy, point)],
            "customers": int(at_risk[0]),
            "horizon_months": int(months[-1]),
            "median_lifetime_months": _first_month_at_or_below(survival, months),
            "median_ci_low": _first_month_at_or_below(group["ci_low"].to_numpy(), months),
            "median_ci_high": _first_month_at_or_below(group["ci_high"].to_numpy(), months),
        }
        yearly = active[months % 12 == 0]
        for year in range(1, yearly.size):
            row[f"retention_year_{year}"] = float(survival[months == 12 * year][0])
        fit = fit_sbg(yearly) if yearly.size >= 3 and yearly[-1] < yearly[0] else None
        # Retention that does not rise with tenure has no heterogeneity to estimate: the
        # likelihood keeps growing as alpha, beta -> infinity at a fixed mean (the geometric
        # limit), so only the mean churn is reported.
        spread = fit is not None and fit.alpha + fit.beta < GEOMETRIC_LIMIT
        row.update(
            {
                "sbg_alpha": fit.alpha if spread else None,
                "sbg_beta": fit.beta if spread else None,
                "sbg_alpha_se": fit.alpha_se if spread else None,
                "sbg_beta_se": fit.beta_se if spread else None,
                "sbg_mean_churn": fit.alpha / (fit.alpha + fit.beta) if fit else None,
            }
        )
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("^(median|sbg|retention).*$").cast(pl.Float64)
    )


def analyse(monthly: pl.DataFrame, level: float = 0.95) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The curve table and the summary table of a sweep's monthly table."""
    curve = curves(monthly, level)
    return curve, summaries(curve, cohort_counts(monthly))


def write(results_dir: str | Path, level: float = 0.95) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Analyse a sweep's results and write ``survival.parquet`` and ``survival_summary.parquet``
    next to them (atomically); return both tables."""
    from sim.io import write_atomic
    from sim.results import load

    results = load(results_dir)
    curve, summary = analyse(results.monthly, level)
    write_atomic(results.path / "survival.parquet", curve.write_parquet)
    write_atomic(results.path / "survival_summary.parquet", summary.write_parquet)
    return curve, summary
