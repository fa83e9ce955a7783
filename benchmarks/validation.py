"""The validation table: every published figure the model is held to, the model's value with a
95% confidence interval, and the verdict.

    uv run python -m benchmarks validation                  # the default market (docs/validation.md)
    uv run python -m benchmarks validation --quick          # small sizes: a check that it runs
    uv run python -m benchmarks validation --scenario FILE  # the market of a scenario file
    uv run python -m benchmarks validation --no-calibration # without the two Fader-Hardie fits

Every figure of DESIGN.md section 4 (and the figures of section 1 quoted with the claims) has a
row. Where the model has a counterpart, the row states the measure and the region the figure
allows; the model's value is the mean over replications with a Student-t 95% interval (paired
over strategies: every strategy of a replication runs on the same customers and random numbers).
The verdict is **holds** when the interval lies inside the region, **fails** when it lies
entirely outside, **inconclusive** otherwise. Figures the model has no counterpart for say so
(**not modelled**) instead of being left out. What each row measures and why: docs/validation.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.analysis import calibration
from sim.analysis.statistics import t_interval
from sim.executors import Executor, LocalPoolExecutor, SerialExecutor
from sim.market import Market
from sim.model import LoyaltyModel
from sim.population import ExitReason
from sim.programs.lock_in_contract import LockInContractParams
from sim.scenario import load, loads
from sim.seeds import replication_seed
from sim.strategy import ProgramSpec, Strategy

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
CONTRACT_END = HERE.parent / "scenarios" / "contract-end.toml"
HORIZON = 60  # months: the five years of Reichheld's figure and the stylized facts
LONG_HORIZON = 120  # months the baseline runs for the bond-and-lifetime figure
BOND_MONTH = 12  # bond is measured at this month (the "bond at month 12")
APPRECIATION_ENDS = 25  # the ended appreciation program runs months 1..24
DEFAULT_SCENARIO = '[strategies]\nrare_contact = ["rare_contact"]\n'  # the default market

STRATEGIES: dict[str, tuple[ProgramSpec, ...]] = {
    "rare_contact": (ProgramSpec("rare_contact"),),
    "point_card": (ProgramSpec("point_card"),),
    "personal_appreciation": (ProgramSpec("personal_appreciation"),),
    "mass_contact": (ProgramSpec("mass_contact"),),
    "lock_in_contract": (ProgramSpec("lock_in_contract"),),
    "appreciation_ended": (ProgramSpec("personal_appreciation", end_month=APPRECIATION_ENDS),),
}


@dataclass(frozen=True)
class Task:
    """One replication of every strategy on one market (run in a worker)."""

    market: Market
    customers: int
    replication: int
    seed: tuple[int, ...]
    contract_end: bool = True  # also measure the Ofcom rows (12 more runs per replication)


def _active(model: LoyaltyModel) -> np.ndarray:
    """Initial customers active at the end of months 0..months (0: the whole cohort)."""
    return np.concatenate([[model.initial_customers], model.result().monthly["active_initial"].to_numpy()])


def replicate(task: Task) -> dict[str, float]:
    """The per-replication measures of every row (keys of ``FIGURES``' ``measure``)."""
    seed = np.random.SeedSequence(list(task.seed))
    active, churn = {}, {}
    for name, programs in STRATEGIES.items():
        months = LONG_HORIZON if name == "rare_contact" else HORIZON
        model = LoyaltyModel(Strategy(name, programs), task.market, task.customers, months, rng=seed)
        if name == "rare_contact":  # bond at month 12, and the months each customer stays after it
            while model.month < BOND_MONTH:
                model.step()
            initial = np.flatnonzero(model.population.join_month == 0)
            at_twelve = initial[model.population.active[initial]]
            bond = model.population.bond[at_twelve].copy()
        model.run()
        active[name] = _active(model)
        churn[name] = model.result().monthly
        if name == "rare_contact":
            exits = model.population.exit_month[at_twelve].astype(int)
            stays = np.where(exits >= 0, exits, LONG_HORIZON) - BOND_MONTH  # censored at the horizon
    baseline = active["rare_contact"]
    n = baseline[0]
    low, high = np.quantile(bond, [1 / 3, 2 / 3])
    monthly = churn["rare_contact"].head(HORIZON)
    reasons = {r.label: float(monthly[f"churned_{r.label}"].sum()) for r in ExitReason if r.value}
    voluntary = sum(v for r, v in reasons.items() if r != "background")

    def loss(name: str, month: int = HORIZON) -> float:
        return 1.0 - active[name][month] / n

    def monthly_churn(name: str, first: int, last: int) -> float:
        """Average monthly churn of the initial cohort over months first..last."""
        return 1.0 - (active[name][last] / active[name][first - 1]) ** (1.0 / (last - first + 1))

    yearly = baseline[12::12] / baseline[:-12:12]
    ofcom = dict.fromkeys(("ofcom_without_notice", "ofcom_with_notice", "ofcom_rise_recontracting"), math.nan)
    if task.contract_end:
        without, notice = (
            term_end_actions(name, seed, task.customers // 2)
            for name in ("lock_in_contract", "lock_in_with_notice")
        )
        rise = {a: notice[a] / sum(notice.values()) - without[a] / sum(without.values())
                for a in ("switched", "recontracted")}
        ofcom = {
            "ofcom_without_notice": _acting(without),
            "ofcom_with_notice": _acting(notice),
            "ofcom_rise_recontracting": rise["recontracted"] / (rise["recontracted"] + rise["switched"])
            if rise["recontracted"] + rise["switched"] > 0
            else math.nan,
        }
    return {
        **ofcom,
        "loss_5y": loss("rare_contact"),
        "annual_churn": 1.0 - (1.0 - loss("rare_contact")) ** (12 / HORIZON),
        "retention_rise": yearly[4] - yearly[0],
        "non_price_share": (voluntary - reasons["price"]) / voluntary if voluntary else math.nan,
        "service_share": reasons["service"] / (reasons["service"] + reasons["relationship"])
        if reasons["service"] + reasons["relationship"]
        else math.nan,
        "contract_churn_ratio": monthly_churn("rare_contact", 1, HORIZON)
        / max(monthly_churn("lock_in_contract", 1, HORIZON), 1e-9),
        "appreciation_vs_card": loss("point_card") - loss("personal_appreciation"),
        "appreciation_after_end": monthly_churn("appreciation_ended", APPRECIATION_ENDS, 36)
        - monthly_churn("rare_contact", APPRECIATION_ENDS, 36),
        "mass_contact_gain": loss("rare_contact") - loss("mass_contact"),
        "card_erosion": (monthly_churn("point_card", 10, 12) - monthly_churn("rare_contact", 10, 12))
        - (monthly_churn("point_card", 1, 3) - monthly_churn("rare_contact", 1, 3)),
        "bond_lifetime_ratio": float(stays[bond >= high].mean() / stays[bond <= low].mean()),
        "lock_in_first_year": loss("rare_contact", 12) - loss("lock_in_contract", 12),
        "max_term": float(LockInContractParams().term_months),  # a rule of the model, not a random outcome
    }


def term_end_actions(strategy: str, seed: int | np.random.SeedSequence, customers: int) -> dict[str, int]:
    """Term-end actions in ``scenarios/contract-end.toml`` (its own market and strategies), pooled
    over its 12-month points (every auto-renewal share), ``customers`` x 48 months each."""
    scenario = load(CONTRACT_END)
    totals = dict.fromkeys(("switched", "recontracted", "rolled_on"), 0)
    for point in scenario.grid:
        if dict(point)["programs.lock_in_contract.term_months"] != 12:
            continue
        market, strategies, _, _ = scenario.at(point)
        monthly = LoyaltyModel(strategies[strategy], market, customers, 48, rng=seed).run().monthly
        for action in totals:
            totals[action] += int(monthly[f"term_ends_{action}"].sum())
    return totals


def _acting(totals: dict[str, int]) -> float:
    """Share of term ends at which the customer acted: re-contracted or switched (Ofcom's 'act')."""
    return (totals["switched"] + totals["recontracted"]) / max(1, sum(totals.values()))


@dataclass(frozen=True)
class Figure:
    """A published figure and how the model is held to it."""

    figure: str
    source: str
    measure: str  # key of replicate()'s measures, or "" when the model has no counterpart
    region: tuple[float, float] = (-math.inf, math.inf)
    unit: str = "%"  # "%" (shares), "pp" (differences of shares), "x" (ratios)
    note: str = ""  # for rows without a measure: why
    unlike: str = ""  # measured and shown, but the figure compares other things: why (no verdict)


FIGURES: tuple[Figure, ...] = (
    Figure("the average firm loses about half its customers in five years",
           "Reichheld, The Loyalty Effect (1996)", "loss_5y", (0.40, 0.60)),
    Figure("typical annual defection 10-30%", "Reichheld (1996)", "annual_churn", (0.10, 0.30)),
    Figure("about 70% of firms lose more than half of their customers within five years",
           "practitioner articles (DESIGN.md section 1)", "loss_5y", (0.50, math.inf)),
    Figure("yearly retention rises with tenure: year 5 at least 5 pp above year 1 (real: +6 to +26 pp)",
           "Fader & Hardie, J. Interactive Marketing 21(1), 2007", "retention_rise", (0.05, math.inf), "pp"),
    Figure("held-out years 8-12 of the 'regular' cohort predicted within 1.5x the sBG's error (4.4 of 1,000)",
           "Fader & Hardie (2007), Table 1", "fh_regular", (-math.inf, 4.4), "customers"),
    Figure("held-out years 8-12 of the 'high end' cohort within 1.5x the sBG's error (17.9 of 1,000)",
           "Fader & Hardie (2007), Table 1", "fh_high_end", (-math.inf, 17.9), "customers"),
    Figure("no-contract churn 2.8-4%/month vs contract 0.8-1%/month: about 3-5 times higher",
           "US carriers' reports; Strategy Analytics 2012", "contract_churn_ratio", (2.8, 5.0), "x",
           unlike="prepaid and postpaid subscribers are different, self-selected customers; the model's "
                  "ratio is a contract's effect on the same customers (docs/validation.md)"),
    Figure("at contract end 47% act (re-contract or switch) without an end-of-contract notice",
           "Ofcom end-of-contract notification review, 2021", "ofcom_without_notice", (0.42, 0.52)),
    Figure("... 62% with a notice", "Ofcom (2021)", "ofcom_with_notice", (0.57, 0.67)),
    Figure("... and most of the rise is re-contracting with the same provider, not switching",
           "Ofcom (2021)", "ofcom_rise_recontracting", (0.5, 1.0)),
    Figure("minimum terms at most 24 months", "TKG 2021", "max_term", (-math.inf, 24), "months"),
    Figure("a program's causal effect on share of wallet is about 7x smaller than the member gap",
           "Leenheer et al., IJRM 24(1), 2007", "",
           note="not modelled: customers have a fixed spend, no share of wallet"),
    Figure("the behaviour change after joining a program erodes 6-9 months after joining",
           "Meyer-Waarden, retail loyalty program effects", "card_erosion", (0.0, math.inf), "pp"),
    Figure("purchases speed up about 20% towards a reward; activity drops after redemption",
           "Kivetz, Urminsky & Zheng, JMR 43, 2006", "",
           note="not modelled: no purchase timing, points accrue monthly"),
    Figure("non-monetary recognition builds loyalty more than discounts (appreciation beats a card)",
           "Melnyk & Bijmolt, Eur. J. Marketing 49(3/4), 2015", "appreciation_vs_card", (0.0, math.inf),
           "pp"),
    Figure("... and persists after the program ends (churn below baseline in the year after)",
           "Melnyk & Bijmolt (2015)", "appreciation_after_end", (-math.inf, 0.0), "pp"),
    Figure("emotionally connected customers stay 1.5x as long as merely satisfied ones (5.1 vs 3.4 years): "
           "top third of bond at month 12 against the bottom third",
           "Motista, Leveraging the Value of Emotional Connection for Retailers, 2018; direction: Verhoef, "
           "J. Marketing 67(4), 2003", "bond_lifetime_ratio", (1.5, math.inf), "x"),
    Figure("direct mailings do not raise retention (mass contact: at most 2 pp fewer lost in 5 years)",
           "Verhoef (2003)", "mass_contact_gain", (-math.inf, 0.02), "pp"),
    Figure("fully engaged customers bring a 23% share-of-wallet premium", "Gallup customer engagement", "",
           note="not modelled: no share of wallet"),
    Figure("service recovery can lift satisfaction above its pre-failure level, not repurchase intention",
           "de Matos, Henrique & Rossi, J. Service Research 10(1), 2007", "",
           note="not measured: complaint paths exist (sim.analysis.complaints), but the table does not yet "
                "follow each customer's satisfaction before and after a failure"),
    Figure("financial switching costs raise staying (lock-in: fewer lost in the first year)",
           "Burnham, Frels & Mahajan, JAMS 31(2), 2003", "lock_in_first_year", (0.0, math.inf), "pp"),
    Figure("relational switching costs raise staying (see the bond row: ratio above 1)",
           "Burnham, Frels & Mahajan (2003)", "bond_lifetime_ratio", (1.0, math.inf), "x"),
    Figure("about three quarters of switchers leave for reasons other than price",
           "practitioner articles (DESIGN.md section 1); stylized fact 8", "non_price_share", (0.65, 0.85)),
    Figure("54% of switchers name service dissatisfaction, 46% lost trust (service share of the two)",
           "Accenture Germany, 2014/15", "service_share", (0.44, 0.64)),
)


NOT_ALIKE = "not like with like"


@dataclass
class Row:
    figure: Figure
    estimate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    verdict: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def verdict(low: float, high: float, region: tuple[float, float]) -> str:
    """holds: the interval inside the region; fails: entirely outside; else inconclusive."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "inconclusive"
    if region[0] <= low and high <= region[1]:
        return "holds"
    if high < region[0] or low > region[1]:
        return "fails"
    return "inconclusive"


def measure(market: Market, customers: int, replications: int, executor: Executor,
            contract_end: bool = True, name: str = "validation", seed: int = 0) -> dict[str, np.ndarray]:
    """Every measure of ``replicate`` over ``replications`` runs; one array per measure."""
    tasks = [
        Task(market, customers, r, replication_seed(name, seed, (), r), contract_end)
        for r in range(replications)
    ]
    results = list(executor.run(replicate, tasks))
    return {key: np.array([r[key] for r in results], dtype=float) for key in results[0]}


def fader_hardie(cohort: str, scenario_file: Path | None, executor: Executor, customers: int,
                 replications: int) -> tuple[float, float]:
    """Held-out error (customers of 1,000) of `calibrate`'s default on years 1-7 (the fit set
    chosen by predicting years 6-7 from 1-5, refitted on 1-7) predicting years 8-12, for the
    model (its baseline strategy) and for the sBG."""
    scenario = load(scenario_file) if scenario_file else loads(DEFAULT_SCENARIO, default_name="validation")
    curve = calibration.read_curve(DATA / f"fader-hardie-2007-{cohort}.csv")
    parameters, alternatives = calibration.parse_fits(calibration.DEFAULT_FITS, scenario, scenario.baseline)
    result = calibration.calibrate(scenario, curve, parameters, executor, holdout=5,
                                   replications=replications, customers=customers, intervals=False,
                                   alternatives=alternatives)
    sbg = result.errors(result.sbg_share, held=True)
    return result.errors(held=True)["mae_customers"], sbg["mae_customers"]


def table(market: Market, customers: int, replications: int, executor: Executor,
          fits: Callable[[str], tuple[float, float]] | None = None, contract_end: bool = True) -> list[Row]:
    """The rows: every figure with the model's value, interval and verdict (rows not measured:
    the fits without ``fits``, the Ofcom rows without ``contract_end``)."""
    values = measure(market, customers, replications, executor, contract_end)
    rows = []
    for figure in FIGURES:
        row = Row(figure)
        if not figure.measure:
            row.verdict = "not modelled"
        elif figure.measure.startswith("fh_"):
            if fits is None:
                row.verdict = "not run"
            else:
                model_mae, sbg_mae = fits(figure.measure.removeprefix("fh_").replace("_", "-"))
                row.estimate, row.extra = model_mae, {"sbg": sbg_mae}
                row.verdict = "holds" if model_mae <= figure.region[1] else "fails"
        else:
            sample = values[figure.measure]
            sample = sample[np.isfinite(sample)]
            if not sample.size:
                row.verdict = "not run"
                rows.append(row)
                continue
            row.estimate = float(sample.mean())
            if np.ptp(sample) == 0:  # a constant (a rule, not a random outcome)
                row.ci_low = row.ci_high = row.estimate
            else:
                low, high = t_interval(row.estimate, sample.std(ddof=1), sample.size)
                row.ci_low, row.ci_high = float(low), float(high)
            row.verdict = NOT_ALIKE if figure.unlike else verdict(row.ci_low, row.ci_high, figure.region)
        rows.append(row)
    return rows


def _shown(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1%}"
    if unit == "pp":
        return f"{100 * value:+.1f} pp"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:g}" if unit == "months" else f"{value:.1f}"


def _region(region: tuple[float, float], unit: str) -> str:
    low, high = region
    if math.isinf(high):
        return f">= {_shown(low, unit)}"
    if math.isinf(low):
        return f"<= {_shown(high, unit)}"
    return f"{_shown(low, unit)} .. {_shown(high, unit)}"


def render(rows: list[Row]) -> str:
    """A Markdown table: figure, source, model value [95% CI], region, verdict."""
    lines = ["| figure | source | model [95% CI] | region | verdict |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        f = row.figure
        if not f.measure:
            value, region = f.note, "-"
        else:
            region = _region(f.region, f.unit)
            if "sbg" in row.extra:
                value = f"{row.estimate:.1f} customers (sBG {row.extra['sbg']:.1f})"
            elif math.isfinite(row.estimate):
                interval = f"[{_shown(row.ci_low, f.unit)}, {_shown(row.ci_high, f.unit)}]"
                value = f"{_shown(row.estimate, f.unit)} {interval}"
            else:
                value = "-"
            if f.unlike:
                value += f" ({f.unlike})"
        lines.append(f"| {f.figure} | {f.source} | {value} | {region} | **{row.verdict}** |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks validation", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--scenario", type=Path, help="take the market of this scenario file")
    parser.add_argument("--customers", type=int, default=5000, help="customers per run (default 5000)")
    parser.add_argument("--replications", type=int, default=10, help="replications (default 10)")
    parser.add_argument("--quick", action="store_true", help="1,000 customers, 3 replications, no fits")
    parser.add_argument("--no-calibration", action="store_true", help="leave out the two Fader-Hardie fits")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    args = parser.parse_args(argv)
    customers, replications = (1000, 3) if args.quick else (args.customers, args.replications)
    market = load(args.scenario).market if args.scenario else Market()
    started = time.perf_counter()
    with (SerialExecutor() if args.workers == 1 else LocalPoolExecutor(args.workers)) as executor:
        def fits(cohort: str) -> tuple[float, float]:
            return fader_hardie(cohort, args.scenario, executor, 5000, 2)

        rows = table(market, customers, replications, executor,
                     None if args.quick or args.no_calibration else fits)
    sys.stdout.write(render(rows))
    verdicts = ("holds", "fails", "inconclusive", NOT_ALIKE, "not modelled")
    counts = {v: sum(r.verdict == v for r in rows) for v in verdicts}
    print(f"\n{replications} replications x {customers:,} customers; " + ", ".join(
        f"{n} {v}" for v, n in counts.items()) + f"; {time.perf_counter() - started:.0f} s")
