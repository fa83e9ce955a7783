"""Claims audit: do the practitioners' claims (C1-C7) and the stylized facts (F1-F8, S1, S2) of
DESIGN.md hold in a given market, by a margin that matters, and would the audit notice if not?

Each *check* turns a claim into one number per replication (a paired difference, a ratio, a
share) and a region it must lie in. The region's threshold is a **minimum effect**: a loss
difference must exceed two percentage points, not merely be positive, so that effects of a few
thousandths do not pass. Each threshold states its ``source`` (DESIGN.md §4, the literature, or
"assumption"). Programs are compared like with like: every program runs *on top of* the
``rare_contact`` baseline (which pitches), so a difference to the baseline is the program's own.

Each check has a **control**: the same measure where the claimed mechanism is removed (a
program's key parameter at zero) or in a market where the claim should not hold. A control must
*fail*; a check whose control holds measures something other than its claim.

The strategies a check compares run with the same seed per replication (common random numbers),
so differences are paired. The verdict comes from the 95% Student-t confidence interval of the
mean over replications:

* **holds**: the interval lies inside the claimed region;
* **fails**: the interval lies entirely outside it;
* **inconclusive**: otherwise (more replications may decide it).

The simulations are *experiments* (a strategy, optionally under a price war or in a changed
market); each runs once per replication on an executor of :mod:`sim.executors`, whatever number
of checks use it. Results are keyed by (experiment, replication), never by completion order, so
the audit is identical for any executor and worker count.

``AUDIT_SCHEMA`` is the table :func:`audit` returns (and ``claims.parquet`` holds):

=================  =======  ====================================================================
column             dtype    meaning
=================  =======  ====================================================================
check              String   check id: C1, C4, C6, C7 (claims), F1..F8b (facts), S1, S2
claim              String   the claims and facts it tests, space-separated (``F3 C2``)
statement          String   what the check claims, in words
effect             String   what is measured per replication (its unit is in the words)
estimate           Float64  mean over replications
ci_low             Float64  95% t confidence interval of the mean, low end
ci_high            Float64  high end
region             String   where the effect must lie; its bounds are minimum effects
source             String   where the minimum effect comes from (or "assumption")
verdict            String   holds / fails / inconclusive
control            String   what the control removes or changes
control_estimate   Float64  the same measure in the control, mean over replications
control_ci_low     Float64  its 95% interval, low end (NaN when controls were not run)
control_ci_high    Float64  high end
control_verdict    String   holds / fails / inconclusive, or "not run"; it must be "fails"
replications       Int64    replications used
=================  =======  ====================================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sim.analysis.statistics import t_interval
from sim.distributions import Beta, LogNormal
from sim.errors import UserError
from sim.executors import Executor, SerialExecutor
from sim.market import Market
from sim.model import LoyaltyModel
from sim.population import ExitReason, Segment
from sim.runs import run_strategies
from sim.seeds import Entropy, replication_seed
from sim.strategy import ProgramSpec, Strategy

VERDICTS: tuple[str, ...] = ("holds", "fails", "inconclusive")
NOT_RUN = "not run"
AUDIT_SCHEMA: dict[str, type[pl.DataType]] = {
    "check": pl.String,
    "claim": pl.String,
    "statement": pl.String,
    "effect": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "region": pl.String,
    "source": pl.String,
    "verdict": pl.String,
    "control": pl.String,
    "control_estimate": pl.Float64,
    "control_ci_low": pl.Float64,
    "control_ci_high": pl.Float64,
    "control_verdict": pl.String,
    "replications": pl.Int64,
}
# The checks read months up to 60 (the five-year loss, year-5 retention).
MIN_MONTHS = 60
PRICE_WAR_START_MONTH = 13
# C1 follows failure-free customers' bond to the end of the second year.
BOND_DECAY_MONTH = 24
# S2 splits the initial cohort by its bond at the end of the first year.
BOND_SPLIT_MONTH = 12
BASELINE = "rare_contact"


class ClaimsError(UserError):
    """An audit that cannot run as asked (too short a horizon, an unknown check id)."""


# --- experiments: what is simulated ---------------------------------------------------------


def _on_baseline(*programs: str | ProgramSpec, baseline: ProgramSpec | None = None) -> Strategy:
    """``rare_contact`` (or ``baseline``, a variant of it) plus ``programs``: a program is
    compared with the baseline it adds to."""
    added = (p if isinstance(p, ProgramSpec) else ProgramSpec(p) for p in programs)
    specs = (baseline or ProgramSpec(BASELINE), *added)
    return Strategy("+".join(s.name for s in specs), specs)


def _replace(obj: Any, path: str, value: Any) -> Any:
    head, _, rest = path.partition(".")
    return dataclasses.replace(obj, **{head: _replace(getattr(obj, head), rest, value) if rest else value})


def _alike(segment: Segment, share: float) -> Segment:
    """``segment`` with every trait at its centre (no spread within it), at ``share``."""
    changes: dict[str, Any] = {"share": share}
    for f in dataclasses.fields(segment):
        value = getattr(segment, f.name)
        if isinstance(value, Beta):
            changes[f.name] = Beta(value.mean, 1e6)
        elif isinstance(value, LogNormal):
            changes[f.name] = LogNormal(value.median, 0.0)
    return dataclasses.replace(segment, **changes)


def _identical_customers(market: Market) -> Market:
    """One segment, the market's largest, with no spread in any trait and no spread in the
    propensity to leave: nobody is likelier to leave than anybody else, so retention cannot rise
    with tenure."""
    largest = max(market.segments, key=lambda s: s.share)
    market = _replace(market, "heterogeneity.propensity_cv", 0.0)
    return dataclasses.replace(market, segments=(_alike(largest, 1.0),))


def _changed(paths: Mapping[str, Any]) -> Callable[[Market], Market]:
    """A market change: each dotted path of :class:`Market` (``decision.forgiveness``) set."""

    def change(market: Market) -> Market:
        for path, value in paths.items():
            market = _replace(market, path, value)
        return market

    return change


# scenarios/bargain-hunters.toml: points beat bonds among bargain hunters (a test keeps them equal)
BARGAIN_HUNTERS: dict[str, Any] = {
    "segments": (
        Segment(
            "bargain_hunters", 1.0, price_focus=Beta(0.85, 10.0), bond_need=Beta(0.1, 10.0),
            initial_bond=Beta(0.15, 8.0), attentiveness=Beta(0.7, 4.0),
        ),
    ),
    "adaptation.bond_decay_per_month": 0.06,
    "adaptation.satisfaction_bond_share": 0.1,
    "offers.offer_rate_per_month": 0.2,
    "offers.discount": 0.2,
}


def _bond_free(market: Market) -> Market:
    """No exit hazard depends on the bond: no relationship exits, failures not softened by a
    bond, offers not shielded by one (the shield's exponent must stay positive), and, where the
    model has it, no emotional hold on voluntary exits (durable bonds, issue 12 item 2)."""
    paths: dict[str, Any] = {
        "decision.relationship_exit_per_month": 0.0, "decision.forgiveness": 0.0, "offers.bond_shield": 1e-6,
    }
    if hasattr(market.decision, "emotional_hold"):
        paths["decision.emotional_hold"] = 0.0
    return _changed(paths)(market)


@dataclass(frozen=True)
class Experiment:
    """One strategy on the audited market, optionally under a price war from month 13 and in a
    changed market (a control's)."""

    strategy: Strategy
    price_war: bool = False
    market_change: Callable[[Market], Market] | None = None


_CARD_ENDS = ProgramSpec("point_card", end_month=25)
_NO_REWARD = ProgramSpec("point_card", {"reward_share_of_spend": 0.0})
_NO_BOND_GAIN = ProgramSpec("personal_appreciation", {"bond_gain": 0.0})
_LOCK_IN = "lock_in_contract"  # 24-month terms signed in month 1


_NO_ANNOYANCE = {"annoyance_bond_loss": 0.0, "annoyance_satisfaction_loss": 0.0}


def _newsletter(per_year: float, **params: float) -> ProgramSpec:
    return ProgramSpec("mass_contact", {"contacts_per_year": per_year, **params})


EXPERIMENTS: dict[str, Experiment] = {
    "baseline": Experiment(_on_baseline()),
    "appreciation": Experiment(_on_baseline("personal_appreciation")),
    "point_card": Experiment(_on_baseline("point_card")),
    "card_ends_month_25": Experiment(_on_baseline(_CARD_ENDS)),
    "lock_in": Experiment(_on_baseline(_LOCK_IN)),
    "newsletter_2_per_year": Experiment(_on_baseline(_newsletter(2.0))),
    "newsletter_12_per_year": Experiment(_on_baseline(_newsletter(12.0))),
    "newsletter_24_per_year": Experiment(_on_baseline(_newsletter(24.0))),
    "point_card_price_war": Experiment(_on_baseline("point_card"), price_war=True),
    "appreciation_price_war": Experiment(_on_baseline("personal_appreciation"), price_war=True),
    "new_customer_deals": Experiment(_on_baseline("new_customer_deals")),
    "service_excellence": Experiment(_on_baseline("service_excellence")),
    # --- controls: the mechanism removed, or a market where the claim should not hold
    "baseline_no_decay": Experiment(
        _on_baseline(baseline=ProgramSpec(BASELINE, {"pitch_after_silence_bond_loss": 0.0})),
        market_change=_changed({
            "adaptation.bond_decay_per_month": 0.0, "adaptation.transient_bond_fade_per_month": 0.0,
        }),
    ),
    "baseline_no_relationship_or_service_exits": Experiment(
        _on_baseline(),
        market_change=_changed({
            "decision.relationship_exit_per_month": 0.0, "decision.failure_exit_share": 0.0,
            "decision.dissatisfaction_exit_per_month": 0.0,
        }),
    ),
    "baseline_price_war_from_month_1": Experiment(
        _on_baseline(), market_change=_changed({"offers.price_war_start_month": 1})
    ),
    "baseline_identical_customers": Experiment(_on_baseline(), market_change=_identical_customers),
    "baseline_bond_free": Experiment(_on_baseline(), market_change=_bond_free),
    "appreciation_bond_free": Experiment(
        _on_baseline("personal_appreciation"), market_change=_bond_free
    ),
    "appreciation_no_bond_gain": Experiment(_on_baseline(_NO_BOND_GAIN)),
    "card_no_reward": Experiment(_on_baseline(_NO_REWARD)),
    "new_customer_deals_fair": Experiment(
        _on_baseline(
            ProgramSpec(
                "new_customer_deals", {"unfairness_bond_loss": 0.0, "unfairness_satisfaction_loss": 0.0}
            )
        )
    ),
    "service_excellence_no_change": Experiment(
        _on_baseline(
            ProgramSpec(
                "service_excellence",
                {"failure_reduction": 0.0, "recovery_share_excellent": 0.0, "quality_gain": 0.0,
                 "staff_bond_gain": 0.0},
            )
        )
    ),
    "lock_in_no_exit_fee": Experiment(_on_baseline(ProgramSpec(_LOCK_IN, {"exit_fee_months": 0.0}))),
    "lock_in_no_term_end_exits": Experiment(
        _on_baseline(_LOCK_IN),
        market_change=_changed(
            {"decision.term_end_resentment_weight": 0.0, "decision.term_end_window_months": 0.0}
        ),
    ),
    "lock_in_binding": Experiment(
        _on_baseline(ProgramSpec(_LOCK_IN, {"auto_renewal_share": 1.0})),
        market_change=_changed({
            "decision.term_end_resentment_weight": 0.0, "decision.term_end_window_months": 0.0,
            "decision.breakout_share": 0.0,
        }),
    ),
    "newsletter_2_per_year_bonding": Experiment(_on_baseline(_newsletter(2.0, bond_gain_per_contact=0.1))),
    "newsletter_12_per_year_no_annoyance": Experiment(_on_baseline(_newsletter(12.0, **_NO_ANNOYANCE))),
    "newsletter_24_per_year_no_annoyance": Experiment(_on_baseline(_newsletter(24.0, **_NO_ANNOYANCE))),
    "appreciation_bargain_hunters": Experiment(
        _on_baseline("personal_appreciation"), market_change=_changed(BARGAIN_HUNTERS)
    ),
    "point_card_bargain_hunters": Experiment(
        _on_baseline("point_card"), market_change=_changed(BARGAIN_HUNTERS)
    ),
    "appreciation_price_war_bond_free": Experiment(
        _on_baseline("personal_appreciation"), price_war=True, market_change=_bond_free
    ),
    "point_card_price_war_bond_free": Experiment(
        _on_baseline("point_card"), price_war=True, market_change=_bond_free
    ),
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

    customers: int
    cohort_loss: float
    cost_by_program: dict[str, float]  # EUR over the horizon
    cohort_churn_rate: np.ndarray  # per month, index 0 = month 1
    mean_bond: np.ndarray  # per month, over active customers at month end
    active_initial: np.ndarray  # per month
    churn_by_reason: dict[str, int]
    forgiveness: float  # F5: churn share with a failure minus without one
    bond_decay: float  # C1: failure-free customers' bond, month 24 / month 1 - 1
    bond_lifetime_ratio: float  # S2: mean lifetime after month 12, top / bottom bond third then


def _market(experiment: Experiment, market: Market) -> Market:
    if experiment.market_change:
        market = experiment.market_change(market)
    if experiment.price_war:
        market = _replace(market, "offers.price_war_start_month", PRICE_WAR_START_MONTH)
    return market


def run_task(task: Task) -> tuple[str, int, Measurement]:
    """Worker entry point: run one experiment for one replication."""
    experiment = EXPERIMENTS[task.experiment]
    [run] = run_strategies(
        [experiment.strategy], _market(experiment, task.market), task.customers, task.months, [task.seed],
        probes=PROBES,
    )
    result, probes = run.result, run.probes
    summary = result.summary()
    monthly = result.monthly
    return (
        task.experiment,
        task.replication,
        Measurement(
            customers=task.customers,
            cohort_loss=float(summary["cohort_loss"]),
            cost_by_program=dict(result.cost_by_program),
            cohort_churn_rate=monthly["cohort_churn_rate"].to_numpy(),
            mean_bond=monthly["mean_bond"].to_numpy(),
            active_initial=monthly["active_initial"].to_numpy(),
            churn_by_reason=dict(summary["churn_by_reason"]),
            forgiveness=probes["forgiveness"],
            bond_decay=probes["bond_decay"],
            bond_lifetime_ratio=probes["bond_lifetime_ratio"],
        ),
    )


class ForgivenessProbe:
    """The churn a service failure causes (F5), pooled over months 2 to the horizon: among the
    initial cohort active at the start of a month, the churn share of those with an unrecovered
    failure that month minus that of those without one. Failures strike at random, so the
    difference is the failure's own effect on these customers.

    A probe of ``sim.runs``: ``observe`` after every month, ``value`` at the end.
    """

    def __init__(self) -> None:
        self.counts = np.zeros((2, 2))  # failed (yes, no) x (left, all)
        self.ids: np.ndarray | None = None  # the initial cohort active at the start of the next month

    def observe(self, model: LoyaltyModel) -> None:
        pop = model.population
        if self.ids is not None:
            failed = model.flows.service_failed_unrecovered[self.ids]
            left = pop.exit_month[self.ids] == model.month
            for row, group in enumerate((failed, ~failed)):
                self.counts[row] += (np.count_nonzero(group & left), np.count_nonzero(group))
        self.ids = np.flatnonzero(pop.active & (pop.join_month == 0))

    def value(self) -> float:
        with np.errstate(invalid="ignore", divide="ignore"):
            share = self.counts[:, 0] / self.counts[:, 1]
        return float(share[0] - share[1])


class BondDecayProbe:
    """C1: the initial-cohort customers still active at month BOND_DECAY_MONTH who had no service
    failure (recovered or not) in between; their mean bond then over their mean bond at the end
    of month 1, minus 1. Leaving out failures keeps their bond losses out of the decay, and
    following the same customers keeps survivors' selection out of it."""

    def __init__(self) -> None:
        self.cohort: np.ndarray | None = None
        self.first: np.ndarray | None = None  # their bond at the end of month 1
        self.failed: np.ndarray | None = None  # a failure so far
        self.change = float("nan")

    def observe(self, model: LoyaltyModel) -> None:
        pop, flows = model.population, model.flows
        if model.month == 1:
            self.cohort = np.flatnonzero(pop.join_month == 0)
            self.first = pop.bond[self.cohort].copy()
            self.failed = np.zeros(self.cohort.size, dtype=bool)
        if self.cohort is None or self.first is None or self.failed is None or model.month > BOND_DECAY_MONTH:
            return
        self.failed |= flows.service_failed_unrecovered[self.cohort] | flows.service_recovered[self.cohort]
        if model.month == BOND_DECAY_MONTH:
            keep = pop.active[self.cohort] & ~self.failed
            if np.any(keep):
                self.change = float(pop.bond[self.cohort[keep]].mean() / self.first[keep].mean() - 1.0)

    def value(self) -> float:
        return self.change


class BondLifetimeProbe:
    """S2: the initial cohort active at month BOND_SPLIT_MONTH, in thirds by bond then; the mean
    of their months active after it (censored at the horizon), top third / bottom third."""

    def __init__(self) -> None:
        self.split: tuple[np.ndarray, np.ndarray] | None = None
        self.ratio = float("nan")

    def observe(self, model: LoyaltyModel) -> None:
        pop = model.population
        if model.month == BOND_SPLIT_MONTH:
            cohort = np.flatnonzero(pop.active & (pop.join_month == 0))
            if cohort.size:
                bond = pop.bond[cohort]
                low, high = np.quantile(bond, [1 / 3, 2 / 3])
                self.split = (cohort[bond >= high], cohort[bond <= low])
        if model.month == model.months and self.split is not None:
            exit_month = np.where(pop.exit_month < 0, model.months, pop.exit_month).astype(float)
            top, bottom = (float((exit_month[ids] - BOND_SPLIT_MONTH).mean()) for ids in self.split)
            self.ratio = top / bottom if bottom else float("nan")

    def value(self) -> float:
        return self.ratio


PROBES: dict[str, Callable[[], ForgivenessProbe | BondDecayProbe | BondLifetimeProbe]] = {
    "forgiveness": ForgivenessProbe, "bond_decay": BondDecayProbe, "bond_lifetime_ratio": BondLifetimeProbe,
}


# --- checks: what is claimed ----------------------------------------------------------------

Runs = Mapping[str, list[Measurement]]  # experiment name -> one measurement per replication


@dataclass(frozen=True)
class Control:
    """The check's measure on variants of its experiments where it must fail: each experiment
    of ``swap`` is replaced by its variant (the mechanism removed, or another market)."""

    statement: str
    swap: Mapping[str, str]

    def runs(self, runs: Runs) -> dict[str, list[Measurement]]:
        return {**runs, **{original: runs[variant] for original, variant in self.swap.items()}}


@dataclass(frozen=True)
class Check:
    """A claim as a number per replication, the region it must lie in (bounds: minimum effects,
    with their source) and a control that must fail."""

    id: str
    claims: tuple[str, ...]
    statement: str
    effect: str
    experiments: tuple[str, ...]
    measure: Callable[[Runs], np.ndarray]
    source: str
    control: Control
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


def _churn_ratio(a: str, b: str, first: int, last: int) -> Callable[[Runs], np.ndarray]:
    return lambda runs: _cohort_churn(runs, a, first, last) / _cohort_churn(runs, b, first, last)


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
    """Exits to a competitor's offer (whole base) per initial customer."""
    return np.array([m.churn_by_reason[ExitReason.PRICE.label] / m.customers for m in runs[experiment]])


def _cost_ratio(runs: Runs) -> np.ndarray:
    return np.array([
        a.cost_by_program.get("personal_appreciation", 0.0) / c.cost_by_program.get("point_card", np.nan)
        for a, c in zip(runs["appreciation"], runs["point_card"], strict=True)
    ])


def _measured(field: str, experiment: str) -> Callable[[Runs], np.ndarray]:
    return lambda runs: np.array([getattr(m, field) for m in runs[experiment]], dtype=float)


def _retention_rise(runs: Runs) -> np.ndarray:
    """Yearly retention of the initial cohort, year 5 minus year 1."""

    def retention(m: Measurement, year: int) -> float:
        start = m.active_initial[12 * (year - 1) - 1] if year > 1 else m.customers
        return m.active_initial[12 * year - 1] / start

    return np.array([retention(m, 5) - retention(m, 1) for m in runs["baseline"]])


_NO_APPRECIATION_BOND = Control(
    "personal_appreciation builds no bond (bond_gain 0)", {"appreciation": "appreciation_no_bond_gain"}
)
# C4 rests on two mechanisms: appreciation builds bond, and a monthly newsletter annoys. Without
# only the first, appreciation still "wins" by the newsletter's annoyance (about 0.05).
_PERSONAL_LIKE_MASS = Control(
    "personal and mass contact alike: appreciation builds no bond, newsletters do not annoy",
    {
        "appreciation": "appreciation_no_bond_gain",
        "newsletter_12_per_year": "newsletter_12_per_year_no_annoyance",
    },
)
_CARD_NO_REWARD = Control(
    "the card gives no reward (reward_share_of_spend 0)", {"card_ends_month_25": "card_no_reward"}
)
_BOND_FREE_WAR = Control(
    "no exit hazard depends on the bond (as for F5 and S2)",
    {
        "point_card_price_war": "point_card_price_war_bond_free",
        "appreciation_price_war": "appreciation_price_war_bond_free",
    },
)
_PRICE_DRIVEN = Control(
    "a price war from month 1: competition drives churn", {"baseline": "baseline_price_war_from_month_1"}
)
_BOND_FREE = Control(
    "no exit hazard depends on the bond (no relationship exits, forgiveness, emotional hold or bond shield)",
    {"baseline": "baseline_bond_free"},
)
_ASSUMED = "assumption"

CHECKS: tuple[Check, ...] = (
    # The practitioners' claims (DESIGN.md §1) not already a stylized fact.
    Check(
        "C1", ("C1",), "without personal contact the bond decays (the one-night brand)",
        "rare_contact: mean bond month 24 / month 1 - 1 of the initial customers active then who had no"
        " service failure", ("baseline",), _measured("bond_decay", "baseline"),
        f"{_ASSUMED}: at least a tenth of the bond lost in two years",
        Control(
            "bonds do not fade in silence (bond_decay_per_month and transient_bond_fade_per_month 0, "
            "pitches cost no bond)",
            {"baseline": "baseline_no_decay"},
        ),
        below=-0.1,
    ),
    Check(
        "C4", ("C4",), "personal appreciation builds more bond than a monthly newsletter",
        "mean bond month 24, +personal_appreciation - +mass_contact(12/year)",
        ("appreciation", "newsletter_12_per_year"),
        lambda r: _bond(r, "appreciation") - _bond(r, "newsletter_12_per_year"),
        f"{_ASSUMED}: 0.05 of the 0..1 bond scale", _PERSONAL_LIKE_MASS, above=0.05,
    ),
    Check(
        "C6", ("C6",), "deals for new customers drive existing customers away",
        "5-year cohort loss, +new_customer_deals - rare_contact", ("new_customer_deals", "baseline"),
        _loss_difference("new_customer_deals", "baseline"),
        f"{_ASSUMED}: one percentage point of the initial cohort",
        Control(
            "nobody feels treated unfairly (unfairness losses 0)",
            {"new_customer_deals": "new_customer_deals_fair"},
        ),
        above=0.01,
    ),
    Check(
        "C7", ("C7",), "service quality keeps more customers than a point card",
        "5-year cohort loss, +service_excellence - +point_card", ("service_excellence", "point_card"),
        _loss_difference("service_excellence", "point_card"),
        f"{_ASSUMED}: two percentage points of the initial cohort",
        Control(
            "service_excellence changes nothing (all its gains 0)",
            {"service_excellence": "service_excellence_no_change"},
        ),
        below=-0.02,
    ),
    # The stylized facts the default calibration must show (DESIGN.md §2) and real cohorts show.
    Check(
        "F1", ("F1",), "the rare_contact baseline loses more than half its customers in five years",
        "5-year cohort loss, rare_contact", ("baseline",), lambda r: _loss(r, "baseline"),
        "DESIGN §1 and §4: Reichheld 1996, about half in five years",
        Control(
            "no relationship or service exits (their hazards 0)",
            {"baseline": "baseline_no_relationship_or_service_exits"},
        ),
        above=0.5,
    ),
    Check(
        "F2a", ("F2",), "personal appreciation loses fewer customers than a point card",
        "5-year cohort loss, +personal_appreciation - +point_card", ("appreciation", "point_card"),
        _loss_difference("appreciation", "point_card"),
        f"{_ASSUMED}: two percentage points of the initial cohort",
        Control(
            "a market of bargain hunters (scenarios/bargain-hunters.toml)",
            {"point_card": "point_card_bargain_hunters", "appreciation": "appreciation_bargain_hunters"},
        ),
        below=-0.02,
    ),
    Check(
        "F2b", ("F2",), "... at a comparable cost (within a factor of 1.5 either way)",
        "program cost, personal_appreciation / point_card", ("appreciation", "point_card"), _cost_ratio,
        f"{_ASSUMED}: 'comparable' (DESIGN §2) read as a factor of 1.5",
        Control(
            "the card gives no reward: it costs only its administration", {"point_card": "card_no_reward"}
        ),
        above=2 / 3, below=3 / 2,
    ),
    Check(
        "F3a", ("F3",), "a point card keeps churn low while it runs",
        "cohort churn/month, months 2-24, +card (ends month 25) / rare_contact",
        ("card_ends_month_25", "baseline"), _churn_ratio("card_ends_month_25", "baseline", 2, 24),
        f"{_ASSUMED}: a tenth less churn (the causal effect is small: Leenheer et al. 2007)",
        _CARD_NO_REWARD, below=0.9,
    ),
    Check(
        "F3b", ("F3", "C2"), "ending the card raises churn above the baseline in the following months",
        "cohort churn/month, months 25-30, +card ended month 25 / rare_contact",
        ("card_ends_month_25", "baseline"), _churn_ratio("card_ends_month_25", "baseline", 25, 30),
        f"{_ASSUMED}: a tenth more churn", _CARD_NO_REWARD, above=1.1,
    ),
    Check(
        "F4a", ("F4",), "a lock-in keeps churn near zero during the term",
        "cohort churn months 1-12, +lock_in_contract / rare_contact", ("lock_in", "baseline"),
        _churn_ratio("lock_in", "baseline", 1, 12),
        "DESIGN §4: contract vs no-contract mobile churn, 0.8-1% vs 2.8-4% a month (ratio 0.2-0.36)",
        Control("leaving costs no fee (exit_fee_months 0)", {"lock_in": "lock_in_no_exit_fee"}),
        below=0.3,
    ),
    Check(
        "F4b", ("F4",), "... with a spike when the terms end",
        "+lock_in_contract cohort churn month 24 / mean of months 13-23", ("lock_in",),
        lambda r: _cohort_churn(r, "lock_in", 24, 24) / _cohort_churn(r, "lock_in", 13, 23),
        f"{_ASSUMED}: a spike is five times the month's usual churn",
        Control(
            "no pent-up exits at the term's end (term-end weights 0)",
            {"lock_in": "lock_in_no_term_end_exits"},
        ),
        above=5.0,
    ),
    Check(
        "F4c", ("F4", "C3"), "... and over five years loses more customers than personal appreciation",
        "5-year cohort loss, +lock_in_contract - +personal_appreciation", ("lock_in", "appreciation"),
        _loss_difference("lock_in", "appreciation"),
        f"{_ASSUMED}: two percentage points of the initial cohort",
        Control(
            "a lock-in that binds: full auto-renewal, no breakouts, no exits at term ends",
            {"lock_in": "lock_in_binding"},
        ),
        above=0.02,
    ),
    Check(
        "F5", ("F5", "C5"), "after a service failure, strongly bonded customers churn less",
        "churn a failure causes (monthly churn share, failed - not failed), +personal_appreciation"
        " - rare_contact", ("appreciation", "baseline"),
        lambda r: _measured("forgiveness", "appreciation")(r) - _measured("forgiveness", "baseline")(r),
        f"{_ASSUMED}: two percentage points less churn per failure",
        Control(_BOND_FREE.statement, {**_BOND_FREE.swap, "appreciation": "appreciation_bond_free"}),
        below=-0.02,
    ),
    Check(
        "F6a", ("F6",), "mass contact (2 a year) barely moves the bond",
        "mean bond month 24, +mass_contact(2/year) - rare_contact", ("newsletter_2_per_year", "baseline"),
        lambda r: _bond_gain(r, "newsletter_2_per_year"),
        f"{_ASSUMED}: within 0.02 of the 0..1 bond scale (equivalence margin)",
        Control(
            "newsletters that bond (bond_gain_per_contact 0.1)",
            {"newsletter_2_per_year": "newsletter_2_per_year_bonding"},
        ),
        above=-0.02, below=0.02,
    ),
    Check(
        "F6b", ("F6",), "... compared with personal appreciation, which builds at least five times as much",
        "bond gain of +personal_appreciation - 5 |bond gain of +mass_contact(2/year)|",
        ("appreciation", "newsletter_2_per_year", "baseline"),
        lambda r: _bond_gain(r, "appreciation") - 5.0 * np.abs(_bond_gain(r, "newsletter_2_per_year")),
        f"{_ASSUMED}: the factor 5 (Verhoef 2003: mailings do not raise retention)",
        _NO_APPRECIATION_BOND, above=0.0,
    ),
    Check(
        "F6c", ("F6",), "above the customers' tolerance (24 a year) it lowers the bond",
        "mean bond month 24, +mass_contact(24/year) - rare_contact", ("newsletter_24_per_year", "baseline"),
        lambda r: _bond_gain(r, "newsletter_24_per_year"),
        f"{_ASSUMED}: 0.02 of the 0..1 bond scale",
        Control(
            "contacts do not annoy (annoyance losses 0)",
            {"newsletter_24_per_year": "newsletter_24_per_year_no_annoyance"},
        ),
        below=-0.02,
    ),
    Check(
        "F7a", ("F7",), "in a price war, reward-tied customers churn more than bond-tied ones",
        "5-year cohort loss in a price war from month 13, +point_card - +personal_appreciation",
        ("point_card_price_war", "appreciation_price_war"),
        _loss_difference("point_card_price_war", "appreciation_price_war"),
        f"{_ASSUMED}: two percentage points of the initial cohort", _BOND_FREE_WAR, above=0.02,
    ),
    Check(
        "F7b", ("F7",), "... and more of them leave for a competitor's offer",
        "price exits per initial customer in a price war from month 13, +point_card - +personal_appreciation",
        ("point_card_price_war", "appreciation_price_war"),
        lambda r: _price_exits(r, "point_card_price_war") - _price_exits(r, "appreciation_price_war"),
        f"{_ASSUMED}: one percentage point of the initial cohort", _BOND_FREE_WAR, above=0.01,
    ),
    Check(
        "F8a", ("F8",), "about three quarters of baseline churn is for relationship or service reasons",
        "share of rare_contact exits for relationship or service", ("baseline",),
        lambda r: _churn_share(r, "baseline", (ExitReason.RELATIONSHIP, ExitReason.SERVICE)),
        "DESIGN §1 (about 75%); Accenture Germany 2014/15", _PRICE_DRIVEN, above=0.65, below=0.85,
    ),
    Check(
        "F8b", ("F8",), "... and little of it for price",
        "share of rare_contact exits for price", ("baseline",),
        lambda r: _churn_share(r, "baseline", (ExitReason.PRICE,)),
        "DESIGN §1: the rest of a quarter, with background exits", _PRICE_DRIVEN, below=0.3,
    ),
    Check(
        "S1", ("S1",), "yearly retention rises with tenure",
        "rare_contact retention of the initial cohort, year 5 - year 1", ("baseline",), _retention_rise,
        "DESIGN §4: Fader & Hardie 2007, +6.0 pp (high end) to +25.6 pp (regular) over years 1-5",
        Control(
            "identical customers (one segment, no trait or propensity spread)",
            {"baseline": "baseline_identical_customers"},
        ),
        above=0.05,
    ),
    Check(
        "S2", ("S2",), "bonded customers stay markedly longer",
        "rare_contact: mean months active after month 12, top / bottom bond third at month 12",
        ("baseline",), _measured("bond_lifetime_ratio", "baseline"),
        "literature: Motista 2018 (100,000 customers of 100 retailers): emotionally connected customers "
        "stay 5.1 years against 3.4 for merely satisfied ones, 1.5x; top against bottom third is wider",
        _BOND_FREE, above=1.5,
    ),
)
CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)


def select(ids: Iterable[str] | None = None) -> tuple[Check, ...]:
    """Checks by id (``F2a``) or by claim (``F2`` selects F2a and F2b, ``C2`` selects F3b); all
    when ``ids`` is None."""
    if ids is None:
        return CHECKS
    chosen: list[Check] = []
    for wanted in ids:
        matched = [c for c in CHECKS if wanted == c.id or wanted in c.claims]
        if not matched:
            raise ClaimsError(f"unknown check '{wanted}'; expected one of {', '.join(CHECK_IDS)}")
        chosen += [c for c in matched if c not in chosen]
    return tuple(chosen)


def experiments_of(checks: Iterable[Check], controls: bool = True) -> list[str]:
    """The experiments ``checks`` (and their controls) need, each once, in a stable order."""
    names = [e for c in checks for e in (*c.experiments, *(c.control.swap.values() if controls else ()))]
    return list(dict.fromkeys(names))


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
    controls: bool = True,
    executor: Executor | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Run the experiments the chosen checks (and, with ``controls``, their controls) need and
    return one row per check (``AUDIT_SCHEMA``).

    Replication ``r`` of every experiment uses the seed of (``name``, ``seed``, ``r``), as a sweep
    of a scenario called ``name`` does, so experiments are paired replication by replication.
    """
    chosen = select(checks)
    if months < MIN_MONTHS:
        raise ClaimsError(f"the claims audit needs a horizon of at least {MIN_MONTHS} months, got {months}")
    if replications < 2:
        raise ClaimsError(f"the claims audit needs at least 2 replications, got {replications}")
    needed = experiments_of(chosen, controls)
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


def _interval(check: Check, runs: Runs) -> tuple[float, float, float, str, int]:
    """Mean, 95% interval, verdict and count of ``check``'s finite values over ``runs``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.asarray(check.measure(runs), dtype=float)
    values = values[np.isfinite(values)]
    mean = float(values.mean()) if values.size else float("nan")
    std = float(values.std(ddof=1)) if values.size > 1 else float("nan")
    low, high = (float(v) for v in t_interval(mean, std, values.size))
    return mean, low, high, check.verdict(low, high), values.size


def evaluate(checks: Iterable[Check], runs: Runs) -> pl.DataFrame:
    """The audit table of ``checks`` over measured ``runs``; a control is evaluated when every
    experiment it swaps in was run."""
    rows = []
    for check in checks:
        mean, low, high, verdict, n = _interval(check, runs)
        controlled = all(v in runs for v in check.control.swap.values())
        control = (
            _interval(check, check.control.runs(runs)) if controlled else (np.nan, np.nan, np.nan, NOT_RUN, 0)
        )
        rows.append(
            {
                "check": check.id,
                "claim": " ".join(check.claims),
                "statement": check.statement,
                "effect": check.effect,
                "estimate": mean,
                "ci_low": low,
                "ci_high": high,
                "region": check.region,
                "source": check.source,
                "verdict": verdict,
                "control": check.control.statement,
                "control_estimate": control[0],
                "control_ci_low": control[1],
                "control_ci_high": control[2],
                "control_verdict": control[3],
                "replications": n,
            }
        )
    return pl.DataFrame(rows, schema=AUDIT_SCHEMA)


__all__ = [
    "AUDIT_SCHEMA", "CHECKS", "CHECK_IDS", "EXPERIMENTS", "NOT_RUN", "VERDICTS", "Check", "ClaimsError",
    "Control", "Experiment", "Measurement", "Task", "audit", "evaluate", "experiments_of", "run_task",
    "select",
]
