"""Claims audit: do the practitioners' claims (C1-C7) and the stylized facts (F1-F8) of
DESIGN.md hold in a given market?

Each *check* turns a claim into one number per replication (a paired difference, a share, a
ratio) and a region it must lie in (``> 0``, ``< 0.3``, ``in (0.65, 0.85)``). The strategies a
check compares run with the same seed per replication (common random numbers), so differences
are paired. The verdict comes from the 95% Student-t confidence interval of the mean over
replications:

* **holds**: the interval lies inside the claimed region;
* **fails**: the interval lies entirely outside it (the opposite is shown);
* **inconclusive**: otherwise (more replications may decide it).

The simulations a check needs are *experiments* (a strategy, optionally under a price war);
each runs once per replication on an executor of :mod:`sim.executors`, whatever number of
checks use it. Results are keyed by (experiment, replication), never by completion order, so
the audit is identical for any executor and worker count.

``AUDIT_SCHEMA`` is the table :func:`audit` returns (and ``claims.parquet`` holds):

=============  =======  ========================================================================
column         dtype    meaning
=============  =======  ========================================================================
check          String   check id: C1..C7 (practitioners' claims), F1a..F8b (stylized facts), S1
claim          String   the claim or fact it belongs to (C4, F2, ...)
statement      String   what the check claims, in words
effect         String   what is measured per replication (its unit is in the words)
estimate       Float64  mean over replications
ci_low         Float64  95% t confidence interval of the mean, low end
ci_high        Float64  high end
region         String   where the effect must lie for the claim to hold, e.g. ``< 0``
verdict        String   holds / fails / inconclusive
replications   Int64    replications used
=============  =======  ========================================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sim.analysis.statistics import t_interval
from sim.errors import UserError
from sim.executors import Executor, SerialExecutor
from sim.market import Market
from sim.model import LoyaltyModel
from sim.population import ExitReason
from sim.runs import run_strategies
from sim.seeds import Entropy, replication_seed
from sim.strategy import ProgramSpec, Strategy

VERDICTS: tuple[str, ...] = ("holds", "fails", "inconclusive")
AUDIT_SCHEMA: dict[str, type[pl.DataType]] = {
    "check": pl.String,
    "claim": pl.String,
    "statement": pl.String,
    "effect": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "region": pl.String,
    "verdict": pl.String,
    "replications": pl.Int64,
}
# The checks read months up to 60 (the five-year loss, year-5 retention).
MIN_MONTHS = 60
PRICE_WAR_START_MONTH = 13
# Fact 5 looks at service failures in the first two years.
FORGIVENESS_MONTHS = 24


class ClaimsError(UserError):
    """An audit that cannot run as asked (too short a horizon, an unknown check id)."""


# --- experiments: what is simulated ---------------------------------------------------------


def _strategy(*programs: str | ProgramSpec) -> Strategy:
    specs = tuple(p if isinstance(p, ProgramSpec) else ProgramSpec(p) for p in programs)
    return Strategy("+".join(s.name for s in specs), specs)


@dataclass(frozen=True)
class Experiment:
    """One strategy on the audited market, optionally under a price war from month 13."""

    strategy: Strategy
    price_war: bool = False
    # Step by step through the first FORGIVENESS_MONTHS months to measure forgiveness (fact 5).
    probe_forgiveness: bool = False


EXPERIMENTS: dict[str, Experiment] = {
    "baseline": Experiment(_strategy("rare_contact")),
    "appreciation": Experiment(_strategy("personal_appreciation")),
    "point_card": Experiment(_strategy("point_card")),
    "card_ends_month_25": Experiment(_strategy(ProgramSpec("point_card", end_month=25))),
    "lock_in": Experiment(_strategy("lock_in_contract")),  # 24-month terms signed in month 1
    "baseline_and_appreciation": Experiment(
        _strategy("rare_contact", "personal_appreciation"), probe_forgiveness=True
    ),
    "newsletter_2_per_year": Experiment(
        _strategy("rare_contact", ProgramSpec("mass_contact", {"contacts_per_year": 2.0}))
    ),
    "newsletter_12_per_year": Experiment(
        _strategy("rare_contact", ProgramSpec("mass_contact", {"contacts_per_year": 12.0}))
    ),
    "newsletter_24_per_year": Experiment(
        _strategy("rare_contact", ProgramSpec("mass_contact", {"contacts_per_year": 24.0}))
    ),
    "point_card_price_war": Experiment(_strategy("point_card"), price_war=True),
    "appreciation_price_war": Experiment(_strategy("personal_appreciation"), price_war=True),
    "new_customer_deals": Experiment(_strategy("rare_contact", "new_customer_deals")),
    "service_excellence": Experiment(_strategy("service_excellence")),
}


@dataclass(frozen=True)
class Task:
    """One experiment, one replication: what a worker needs."""

    experiment: str
    replication: int
    seed: Entropy  # shared by every experiment of a replication
    market: Market
    customers: int
    months: int


@dataclass(frozen=True)
class Measurement:
    """What the checks read from one run."""

    cohort_loss: float
    program_cost: float  # EUR over the horizon
    cohort_churn_rate: np.ndarray  # per month, index 0 = month 1
    mean_bond: np.ndarray  # per month, over active customers at month end
    active_initial: np.ndarray  # per month
    churn_by_reason: dict[str, int]
    forgiveness: float | None  # fact 5: churn share of high-bond minus low-bond failed customers


def run_task(task: Task) -> tuple[str, int, Measurement]:
    """Worker entry point: run one experiment for one replication."""
    experiment = EXPERIMENTS[task.experiment]
    market = task.market
    if experiment.price_war:
        market = dataclasses.replace(
            market, offers=dataclasses.replace(market.offers, price_war_start_month=PRICE_WAR_START_MONTH)
        )
    probes = {"forgiveness": Forgiveness} if experiment.probe_forgiveness else {}
    [run] = run_strategies(
        [experiment.strategy], market, task.customers, task.months, [task.seed], probes=probes
    )
    result = run.result
    forgiveness = run.probes.get("forgiveness")
    summary = result.summary()
    monthly = result.monthly
    return (
        task.experiment,
        task.replication,
        Measurement(
            cohort_loss=float(summary["cohort_loss"]),
            program_cost=float(summary["program_cost"]),
            cohort_churn_rate=monthly["cohort_churn_rate"].to_numpy(),
            mean_bond=monthly["mean_bond"].to_numpy(),
            active_initial=monthly["active_initial"].to_numpy(),
            churn_by_reason=dict(summary["churn_by_reason"]),
            forgiveness=forgiveness,
        ),
    )


class Forgiveness:
    """Probe (``sim.runs.Probe``): after a service failure, the churn share of the most bonded
    third of the failed customers minus that of the least bonded third, pooled over the first
    FORGIVENESS_MONTHS months."""

    def __init__(self) -> None:
        self.left = {"high": [0, 0], "low": [0, 0]}

    def observe(self, model: LoyaltyModel) -> None:
        if model.month > FORGIVENESS_MONTHS:
            return
        pop = model.population
        failed = np.flatnonzero(model.flows.service_failed_unrecovered)
        if failed.size == 0:
            return
        bond = pop.bond[failed]  # frozen for leavers, unchanged since the decision for stayers
        low_cut, high_cut = np.quantile(bond, [1 / 3, 2 / 3])
        gone = pop.exit_month[failed] == model.month
        for group, members in (("high", bond >= high_cut), ("low", bond <= low_cut)):
            self.left[group][0] += np.count_nonzero(gone & members)
            self.left[group][1] += np.count_nonzero(members)

    def value(self) -> float:
        high, low = self.left["high"], self.left["low"]
        if not (high[1] and low[1]):
            return float("nan")
        return high[0] / high[1] - low[0] / low[1]


# --- checks: what is claimed ----------------------------------------------------------------

Runs = dict[str, list[Measurement]]  # experiment name -> one measurement per replication


@dataclass(frozen=True)
class Check:
    """A claim as a number per replication and the region it must lie in."""

    id: str
    claim: str
    statement: str
    effect: str
    experiments: tuple[str, ...]
    measure: Callable[[Runs], np.ndarray]
    above: float | None = None  # the effect must exceed this ...
    below: float | None = None  # ... and/or stay under this

    @property
    def region(self) -> str:
        if self.above is not None and self.below is not None:
            return f"in ({self.above:.3g}, {self.below:.3g})"
        return f"> {self.above:g}" if self.above is not None else f"< {self.below:g}"

    def verdict(self, low: float, high: float) -> str:
        if not (np.isfinite(low) and np.isfinite(high)):
            return "inconclusive"
        inside = (self.above is None or low > self.above) and (self.below is None or high < self.below)
        outside = (self.above is not None and high < self.above) or (
            self.below is not None and low > self.below
        )
        return "holds" if inside else "fails" if outside else "inconclusive"


def _loss(runs: Runs, experiment: str) -> np.ndarray:
    return np.array([m.cohort_loss for m in runs[experiment]])


def _loss_difference(a: str, b: str) -> Callable[[Runs], np.ndarray]:
    return lambda runs: _loss(runs, a) - _loss(runs, b)


def _cohort_churn(runs: Runs, experiment: str, first: int, last: int) -> np.ndarray:
    """Mean monthly churn of the initial cohort over months first..last, per replication."""
    return np.array([m.cohort_churn_rate[first - 1 : last].mean() for m in runs[experiment]])


def _bond(runs: Runs, experiment: str, month: int = 24) -> np.ndarray:
    return np.array([m.mean_bond[month - 1] for m in runs[experiment]])


def _bond_gain(runs: Runs, experiment: str) -> np.ndarray:
    """Mean bond at month 24 relative to the baseline's."""
    return _bond(runs, experiment) - _bond(runs, "baseline")


def _churn_share(runs: Runs, experiment: str, reasons: tuple[ExitReason, ...]) -> np.ndarray:
    out = []
    for m in runs[experiment]:
        total = sum(m.churn_by_reason.values())
        out.append(sum(m.churn_by_reason[r.label] for r in reasons) / total if total else np.nan)
    return np.array(out)


def _price_exits(runs: Runs, experiment: str) -> np.ndarray:
    return np.array([m.churn_by_reason[ExitReason.PRICE.label] for m in runs[experiment]], dtype=float)


def _churn_after_card_ends(runs: Runs) -> np.ndarray:
    return _cohort_churn(runs, "card_ends_month_25", 25, 30) - _cohort_churn(runs, "baseline", 25, 30)


def _forgiveness_values(runs: Runs) -> np.ndarray:
    return np.array([m.forgiveness for m in runs["baseline_and_appreciation"]], dtype=float)


def _yearly_retention(m: Measurement, year: int) -> float:
    return m.active_initial[12 * year - 1] / m.active_initial[12 * (year - 1) - 1]


CHECKS: tuple[Check, ...] = (
    # The practitioners' claims (DESIGN.md §1), one headline check each.
    Check(
        "C1", "C1", "without personal contact the bond decays (the one-night brand)",
        "rare_contact: mean bond month 24 - month 1", ("baseline",),
        lambda r: _bond(r, "baseline", 24) - _bond(r, "baseline", 1), below=0.0,
    ),
    Check(
        "C2", "C2", "a point card disappoints when it stops: churn rises above doing nothing",
        "cohort churn/month, months 25-30, card ended month 25 - rare_contact",
        ("card_ends_month_25", "baseline"),
        _churn_after_card_ends, above=0.0,
    ),
    Check(
        "C3", "C3", "lock-in does not bind: over five years it loses more customers than appreciation",
        "5-year cohort loss, lock_in_contract - personal_appreciation", ("lock_in", "appreciation"),
        _loss_difference("lock_in", "appreciation"), above=0.0,
    ),
    Check(
        "C4", "C4", "personal appreciation builds more bond than a monthly newsletter",
        "mean bond month 24, +personal_appreciation - +mass_contact(12/year)",
        ("baseline_and_appreciation", "newsletter_12_per_year"),
        lambda r: _bond(r, "baseline_and_appreciation") - _bond(r, "newsletter_12_per_year"), above=0.0,
    ),
    Check(
        "C5", "C5", "bonded customers forgive service failures",
        "churn share after a failure, top - bottom bond third", ("baseline_and_appreciation",),
        _forgiveness_values, below=0.0,
    ),
    Check(
        "C6", "C6", "deals for new customers drive existing customers away",
        "5-year cohort loss, +new_customer_deals - rare_contact", ("new_customer_deals", "baseline"),
        _loss_difference("new_customer_deals", "baseline"), above=0.0,
    ),
    Check(
        "C7", "C7", "service quality keeps more customers than a point card",
        "5-year cohort loss, service_excellence - point_card", ("service_excellence", "point_card"),
        _loss_difference("service_excellence", "point_card"), below=0.0,
    ),
    # The stylized facts the default calibration must show (DESIGN.md §2).
    Check(
        "F1", "F1", "the rare_contact baseline loses more than half its customers in five years",
        "5-year cohort loss, rare_contact", ("baseline",), lambda r: _loss(r, "baseline"), above=0.5,
    ),
    Check(
        "F2a", "F2", "personal appreciation loses fewer customers than a point card",
        "5-year cohort loss, personal_appreciation - point_card", ("appreciation", "point_card"),
        _loss_difference("appreciation", "point_card"), below=0.0,
    ),
    Check(
        "F2b", "F2", "... at a comparable cost (within a factor of 1.5 either way)",
        "program cost, personal_appreciation / point_card", ("appreciation", "point_card"),
        lambda r: np.array(
            [a.program_cost / c.program_cost for a, c in zip(r["appreciation"], r["point_card"], strict=True)]
        ),
        above=2 / 3, below=3 / 2,
    ),
    Check(
        "F3a", "F3", "a point card keeps churn low while it runs",
        "cohort churn/month, months 2-24, card (ends month 25) - rare_contact",
        ("card_ends_month_25", "baseline"),
        lambda r: _cohort_churn(r, "card_ends_month_25", 2, 24) - _cohort_churn(r, "baseline", 2, 24),
        below=0.0,
    ),
    Check(
        "F3b", "F3", "ending the card raises churn above the baseline in the following months",
        "cohort churn/month, months 25-30, card ended month 25 - rare_contact",
        ("card_ends_month_25", "baseline"),
        _churn_after_card_ends, above=0.0,
    ),
    Check(
        "F4a", "F4", "a lock-in keeps churn near zero during the term",
        "cohort churn months 1-12, lock_in_contract / rare_contact", ("lock_in", "baseline"),
        lambda r: _cohort_churn(r, "lock_in", 1, 12) / _cohort_churn(r, "baseline", 1, 12), below=0.3,
    ),
    Check(
        "F4b", "F4", "... with a spike when the terms end",
        "lock_in_contract churn month 24 / mean of months 13-23", ("lock_in",),
        lambda r: _cohort_churn(r, "lock_in", 24, 24) / _cohort_churn(r, "lock_in", 13, 23), above=5.0,
    ),
    Check(
        "F4c", "F4", "... and over five years does not beat personal appreciation",
        "5-year cohort loss, lock_in_contract - personal_appreciation", ("lock_in", "appreciation"),
        _loss_difference("lock_in", "appreciation"), above=0.0,
    ),
    Check(
        "F5", "F5", "after a service failure, strongly bonded customers churn less",
        "churn share after a failure, top - bottom bond third", ("baseline_and_appreciation",),
        _forgiveness_values, below=0.0,
    ),
    Check(
        "F6a", "F6", "mass contact (2 a year) barely moves the bond",
        "mean bond month 24, +mass_contact(2/year) - rare_contact", ("newsletter_2_per_year", "baseline"),
        lambda r: _bond_gain(r, "newsletter_2_per_year"), above=-0.02, below=0.02,
    ),
    Check(
        "F6b", "F6", "... compared with personal appreciation",
        "|bond gain of mass_contact(2/year)| / bond gain of personal_appreciation",
        ("newsletter_2_per_year", "baseline_and_appreciation", "baseline"),
        lambda r: np.abs(_bond_gain(r, "newsletter_2_per_year")) / _bond_gain(r, "baseline_and_appreciation"),
        below=0.2,
    ),
    Check(
        "F6c", "F6", "above the customers' tolerance (24 a year) it lowers the bond",
        "mean bond month 24, +mass_contact(24/year) - rare_contact", ("newsletter_24_per_year", "baseline"),
        lambda r: _bond_gain(r, "newsletter_24_per_year"), below=0.0,
    ),
    Check(
        "F7a", "F7", "in a price war, reward-tied customers churn more than bond-tied ones",
        "5-year cohort loss in a price war from month 13, point_card - personal_appreciation",
        ("point_card_price_war", "appreciation_price_war"),
        _loss_difference("point_card_price_war", "appreciation_price_war"), above=0.0,
    ),
    Check(
        "F7b", "F7", "... and the price war adds more price exits to the card than to the bond",
        "extra price exits (war - no war), point_card - personal_appreciation",
        ("point_card_price_war", "point_card", "appreciation_price_war", "appreciation"),
        lambda r: (_price_exits(r, "point_card_price_war") - _price_exits(r, "point_card"))
        - (_price_exits(r, "appreciation_price_war") - _price_exits(r, "appreciation")),
        above=0.0,
    ),
    Check(
        "F8a", "F8", "about three quarters of baseline churn is for relationship or service reasons",
        "share of rare_contact exits for relationship or service", ("baseline",),
        lambda r: _churn_share(r, "baseline", (ExitReason.RELATIONSHIP, ExitReason.SERVICE)),
        above=0.65, below=0.85,
    ),
    Check(
        "F8b", "F8", "... and little of it for price",
        "share of rare_contact exits for price", ("baseline",),
        lambda r: _churn_share(r, "baseline", (ExitReason.PRICE,)), below=0.3,
    ),
    Check(
        "S1", "S1", "yearly retention rises with tenure (Fader & Hardie 2007)",
        "rare_contact retention, year 5 - year 2", ("baseline",),
        lambda r: np.array([_yearly_retention(m, 5) - _yearly_retention(m, 2) for m in r["baseline"]]),
        above=0.0,
    ),
)
CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)


def select(ids: Iterable[str] | None = None) -> tuple[Check, ...]:
    """Checks by id (``F2a``) or by claim (``F2`` selects F2a and F2b); all when ``ids`` is None."""
    if ids is None:
        return CHECKS
    chosen = []
    for wanted in ids:
        matched = [c for c in CHECKS if wanted in (c.id, c.claim)]
        if not matched:
            raise ClaimsError(f"unknown check '{wanted}'; expected one of {', '.join(CHECK_IDS)}")
        chosen += [c for c in matched if c not in chosen]
    return tuple(chosen)


# --- the audit ------------------------------------------------------------------------------


def audit(
    market: Market,
    *,
    customers: int,
    months: int,
    replications: int,
    seed: int = 1,
    name: str = "default",
    checks: Iterable[str] | None = None,
    executor: Executor | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Run the experiments the chosen checks need and return one row per check (``AUDIT_SCHEMA``).

    Replication ``r`` of every experiment uses the seed of (``name``, ``seed``, ``r``), as a sweep
    of a scenario called ``name`` does, so experiments are paired replication by replication.
    """
    chosen = select(checks)
    if months < MIN_MONTHS:
        raise ClaimsError(f"the claims audit needs a horizon of at least {MIN_MONTHS} months, got {months}")
    if replications < 2:
        raise ClaimsError(f"the claims audit needs at least 2 replications, got {replications}")
    needed = list(dict.fromkeys(e for c in chosen for e in c.experiments))
    seeds = [replication_seed(name, seed, (), r) for r in range(replications)]
    tasks = [Task(e, r, seeds[r], market, customers, months) for e in needed for r in range(replications)]
    runs: dict[str, list[Any]] = {e: [None] * replications for e in needed}
    executor = executor or SerialExecutor()
    if on_progress:
        on_progress(0, len(tasks))
    for done, (experiment, replication, measurement) in enumerate(executor.run(run_task, tasks), start=1):
        runs[experiment][replication] = measurement
        if on_progress:
            on_progress(done, len(tasks))
    return evaluate(chosen, runs)


def evaluate(checks: Iterable[Check], runs: Runs) -> pl.DataFrame:
    """The audit table of ``checks`` over measured ``runs``."""
    rows = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for check in checks:
            values = np.asarray(check.measure(runs), dtype=float)
            values = values[np.isfinite(values)]
            mean = float(values.mean()) if values.size else float("nan")
            std = float(values.std(ddof=1)) if values.size > 1 else float("nan")
            low, high = (float(v) for v in t_interval(mean, std, values.size))
            rows.append(
                {
                    "check": check.id,
                    "claim": check.claim,
                    "statement": check.statement,
                    "effect": check.effect,
                    "estimate": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "region": check.region,
                    "verdict": check.verdict(low, high),
                    "replications": values.size,
                }
            )
    return pl.DataFrame(rows, schema=AUDIT_SCHEMA)


__all__ = [
    "AUDIT_SCHEMA", "CHECKS", "CHECK_IDS", "EXPERIMENTS", "VERDICTS", "Check", "ClaimsError", "Experiment",
    "Measurement", "Task", "audit", "evaluate", "run_task", "select",
]
