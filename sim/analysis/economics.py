"""Economics per strategy: customer lifetime value, the program cost split, return on spend.

Per run (from the monthly table, computed by ``sim.outcomes.run_economics`` with every run's
summary):

- ``clv``: the expected discounted profit of one initial customer over the horizon,
  ``sum_t m_t * S(t - 1) / (1 + d) ** (t / 12)``, where ``m_t`` is month ``t``'s profit per
  customer active at its start (gross margin of revenue minus program cost plus exit fees
  collected, over the base), ``S(t - 1)`` the share of the initial cohort active at the start of
  month ``t`` and ``d`` the yearly discount rate (Gupta, Lehmann & Stuart, "Valuing customers",
  J. Marketing Research 41(1), 2004, eq. 1, finite horizon, margin averaged over the base);
- ``cost_<category>``: the program cost split (``COST_CATEGORIES``), EUR over the horizon;
- ``exit_fees``: fees collected from customers leaving during a contract term, EUR;
- ``points_liability``: unredeemed points of active customers at the horizon, EUR; a debt the
  firm carries beyond the horizon, not part of program cost.

Across runs (a sweep's summary): ``return_on_spend`` of a strategy against the baseline of its
(grid point, replication) is the incremental profit per incremental EUR of program spend,
``(delta(margin + exit_fees)) / delta(program_cost)`` with paired differences (common random
numbers), so -1 means the extra spend bought nothing and 0 that it paid for itself. Its 95%
interval is a percentile bootstrap over replications. It is null unless the strategy clearly
spends more than the baseline (the bootstrap interval of the extra spend lies above zero): with
no extra spend the ratio is undefined, and with less spend its sign would mislead. A strategy
that spends only a little more can show a very large ratio; read it with the margin difference.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sim.outcomes import COST_CATEGORIES

BOOTSTRAP_RESAMPLES = 2_000


def return_on_spend(
    runs: pl.DataFrame, baseline: str, level: float = 0.95, seed: int = 0
) -> pl.DataFrame:
    """``return_on_spend`` (mean of paired ratios' numerator over denominator) with a bootstrap
    interval, per (strategy, point); see the module doc. Runs need ``strategy``, ``point``,
    ``replication``, ``status``, ``margin``, ``exit_fees`` and ``program_cost``."""
    done = runs.filter(pl.col("status") == "done").with_columns(
        (pl.col("margin") + pl.col("exit_fees").fill_null(0.0)).alias("_profit")
    )
    base = done.filter(pl.col("strategy") == baseline).select(
        "point",
        "replication",
        pl.col("_profit").alias("_profit_base"),
        pl.col("program_cost").alias("_cost_base"),
    )
    paired = done.join(base, on=["point", "replication"], how="inner").with_columns(
        (pl.col("_profit") - pl.col("_profit_base")).alias("_gain"),
        (pl.col("program_cost") - pl.col("_cost_base")).alias("_spend"),
    )
    rng = np.random.default_rng(seed)
    rows = []
    for (strategy, point), group in paired.group_by(["strategy", "point"], maintain_order=True):
        gain, spend = group["_gain"].to_numpy(), group["_spend"].to_numpy()
        row = {"strategy": strategy, "point": point, "return_on_spend_mean": None,
               "return_on_spend_ci_low": None, "return_on_spend_ci_high": None}
        if strategy != baseline and gain.size >= 2:
            picks = rng.integers(0, gain.size, size=(BOOTSTRAP_RESAMPLES, gain.size))
            spend_means = spend[picks].mean(axis=1)
            tail = (1.0 - level) / 2
            low_spend = np.quantile(spend_means, tail)
            if low_spend > 0:  # the strategy clearly spends more than the baseline
                ratios = gain[picks].mean(axis=1) / spend_means
                row["return_on_spend_mean"] = float(gain.mean() / spend.mean())
                row["return_on_spend_ci_low"], row["return_on_spend_ci_high"] = (
                    float(q) for q in np.quantile(ratios, [tail, 1 - tail])
                )
        rows.append(row)
    schema = {"strategy": pl.String, "point": pl.String, **{
        f"return_on_spend_{s}": pl.Float64 for s in ("mean", "ci_low", "ci_high")
    }}
    return pl.DataFrame(rows, schema=schema)


def table(summary: pl.DataFrame) -> pl.DataFrame:
    """A long table for reports: one row per (strategy, point, item) with mean and 95% CI.

    Items: ``clv``, each ``cost_<category>``, ``program_cost``, ``exit_fees``,
    ``points_liability``, ``margin`` and ``return_on_spend`` (EUR, except the ratio).
    """
    items = ["clv", *(f"cost_{c}" for c in COST_CATEGORIES), "program_cost", "exit_fees",
             "points_liability", "margin", "return_on_spend"]
    frames = [
        summary.select(
            "strategy", "point", pl.lit(item).alias("item"),
            pl.col(f"{item}_mean").alias("mean"),
            pl.col(f"{item}_ci_low").alias("ci_low"),
            pl.col(f"{item}_ci_high").alias("ci_high"),
        )
        for item in items
        if f"{item}_mean" in summary.columns
    ]
    return pl.concat(frames) if frames else pl.DataFrame()
