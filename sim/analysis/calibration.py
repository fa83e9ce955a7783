"""Calibration: fit a market so that a strategy's cohort retention matches an observed curve.

**The curve** is a CSV file with a period column, ``year`` or ``month`` (its name is the unit),
and either ``active`` (customers still active; divided by the count at period 0, which must
then be present and is the cohort size) or ``share`` (share of the cohort still active, 0..1).
Lines starting with ``#`` are comments (for the source of the data). The curve must not rise.

**The model's curve** is the share of the initial cohort active at the end of each month (the
monthly table's ``active_initial`` over the cohort size), pooled over ``replications`` runs.
Every evaluation uses the *same* seeds (common random numbers), so the objective is a
deterministic function of the parameters and differences between candidate values are not
drowned in simulation noise. Runs go through the sweep's executors (``sim.executors``).

**Default fit set** (:data:`DEFAULT_FIT`): the level and the spread of the customers' churn
propensity, ``market.heterogeneity.propensity_mean`` (a multiplier on every exit hazard) and
``market.heterogeneity.propensity_cv`` (the coefficient of variation of its Gamma distribution
over customers). They are the two things a cohort curve identifies and the two that the
shifted-beta-geometric model fits (Fader & Hardie 2007: the mean churn and the heterogeneity
that makes retention rise with tenure); the mechanisms' own parameters set the shape of the
hazard and are calibrated to other figures (DESIGN section 4), which one curve cannot tell apart.

**Choosing the fit set** (:data:`DEFAULT_FITS`, :func:`select_fit`). Level and spread fix a
curve only if each customer's own hazard is constant over their life, as the sBG assumes. The
model's is not quite: the courted premium of a new customer fades and failures dent the bond
(time forgives them), so an identical customer's hazard rises over the first years, while trust
that builds towards what good service sustains makes it fall; a curve that needs a different
balance is bent at its end, which is what a prediction extrapolates (duration dependence on top
of heterogeneity: Fader, Hardie, Liu, Davin & Steenburgh, "How to project customer retention"
revisited, J. Interactive Marketing 43, 2018). Without ``--fit``, ``calibrate`` therefore tries
the two parameters alone and with one parameter that sets that balance
(``market.adaptation.trust_recovery_per_month`` or ``bond_decay_per_month``), and keeps the set
that best *predicts*: each is fitted to the fitted periods but the last third (at least one) and
scored by its mean absolute error on that third (a rolling-origin evaluation: Tashman, Int. J.
Forecasting 16(4), 2000); the winner is refitted on every fitted period. Held-out periods
(``--holdout``) are never looked at, and the choice uses no knowledge of the curve beyond them,
so it serves curves nobody has seen. A larger set wins only by predicting better, never by
fitting better.

**Objective.** The observed cohort is a multinomial sample: of ``n`` customers, ``n * o_k``
leave between observed periods ``k-1`` and ``k`` and ``n * o_{K+1}`` are still active at the
last fitted period. The model gives the probabilities ``m_k`` of the same cells, so the fit
maximises the log-likelihood ``n_eff * sum_k o_k log m_k`` (the likelihood of Fader & Hardie's
sBG, eq. 5-7, with the model's survival in place of the sBG's), i.e. minimises the deviance
``D = 2 n_eff sum_k o_k log(o_k / m_k)``, by scipy's bounded Nelder-Mead over the parameters,
each mapped to [0, 1] between its bounds (logarithmically when both bounds are positive).
The model's curve is itself an estimate from ``R x N`` simulated customers, so the effective
size ``n_eff = 1 / (1 / n + 1 / (R N))`` counts both samples (the variance of a difference of
two independent proportions). A ``share`` curve without a cohort size gets a quasi-likelihood:
``n_eff = 1 / phi`` with the dispersion ``phi`` estimated from the Pearson residuals of the fit.

**Uncertainty.** 95% intervals are profile-likelihood intervals: the values of one parameter
whose deviance, with the others re-optimised, is within ``chi2_1(0.95) = 3.84`` of the
minimum (Venzon & Moolgavkar, Applied Statistics 37(1), 1988; Pawitan, *In All Likelihood*,
2001, ch. 3). Unlike ``estimate +- 1.96 SE`` they follow a curved, bounded likelihood, and an
interval that runs into a bound says the data do not pin the parameter down there. Standard
errors and correlations come from the Fisher information of the same likelihood,
``I = n_eff J' diag(1/m) J`` with ``J`` the central-difference Jacobian of the cells.

**Warnings** say when an estimate sits on its bound (the best value may lie beyond it), when
an interval reaches a bound, and when two estimates correlate beyond ``CONFOUNDED`` (the curve
trades one for the other: fix one of them).

**Paths.** As in a scenario's ``[grid]`` (``market.<section>.<field>``, ``service.<field>``,
``programs.<program>.<field>``), plus the segments: ``segments.<segment>.share`` (the other
segments share the rest in their old proportions) and ``segments.<segment>.<trait>.<parameter>``
(a trait's distribution, e.g. ``segments.bargain_hunters.restlessness.sigma``).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize

from sim.analysis.survival import fit_sbg
from sim.batch import Batch, run_batch
from sim.errors import UserError
from sim.executors import Executor
from sim.io import PathError, decimal_number, decode_text, read_input, spreadsheet_delimiter
from sim.market import Market
from sim.params import ParamError
from sim.population import Segment
from sim.scenario import MAX_MONTHS, Scenario, ScenarioError, _set_path, loads
from sim.seeds import replication_seed
from sim.strategy import Strategy

# market.<section>.<field> paths: the market's parameter sections ([service] is top-level in a file)
_MARKET_SECTIONS = tuple(
    f.name
    for f in dataclasses.fields(Market)
    if dataclasses.is_dataclass(getattr(Market(), f.name)) and f.name != "service"
)
# Traits of a segment that are distributions (their parameters are fittable).
_SEGMENT_TRAITS = tuple(
    f.name for f in dataclasses.fields(Segment) if dataclasses.is_dataclass(f.default)
)
MONTHS_PER_UNIT = {"month": 1, "year": 12}
# Default search range around the scenario's value when --fit names no bounds: a factor of 4.
DEFAULT_RANGE_FACTOR = 4.0
# What `calibrate` fits without --fit: the level and spread of the churn propensity, alone or with
# one parameter that sets how a customer's own hazard changes with tenure (module doc).
DEFAULT_FIT = "market.heterogeneity.propensity_mean=0.05:50,market.heterogeneity.propensity_cv=0:4"
DEFAULT_FITS: tuple[str, ...] = (
    DEFAULT_FIT,
    f"{DEFAULT_FIT},market.adaptation.trust_recovery_per_month=0.0005:0.2",
    f"{DEFAULT_FIT},market.adaptation.bond_decay_per_month=0.0005:0.2",
)
VALIDATION_SHARE = 1 / 3  # share of the fitted periods (the last ones) that choose among fit sets
CHI2_95 = 3.841458820694124  # chi-squared quantile, 1 degree of freedom, 95%
Z_95 = 1.959963984540054
ON_BOUND = 0.01  # distance to a bound, as a share of the search range, that counts as "on it"
CONFOUNDED = 0.9  # |correlation| of two estimates above which they are reported as confounded


class CalibrationError(UserError):
    """Bad input to a calibration (curve file, parameter path, bounds); exit code 2."""


@dataclass(frozen=True)
class Curve:
    """An observed retention curve: share of a cohort still active at each period."""

    file: str
    unit: str  # "year" or "month"
    periods: np.ndarray  # in ``unit``s, increasing, 0 optional
    share: np.ndarray
    cohort: float | None = None  # customers at period 0, when the file gives counts

    @property
    def months(self) -> np.ndarray:
        return self.periods * MONTHS_PER_UNIT[self.unit]


def read_curve(path: str | Path) -> Curve:
    """Read and validate a retention curve CSV (see the module doc)."""
    file = str(path)
    try:
        lines = decode_text(read_input(path, "CSV file"), path, save_as="'CSV UTF-8'").splitlines()
    except PathError as error:
        raise CalibrationError(str(error)) from None
    data = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    delimiter = spreadsheet_delimiter(data[0] if data else "")
    rows = list(csv.reader(data, delimiter=delimiter))
    if not rows:
        raise CalibrationError(f"{file}: expected a header and rows, found no data")
    header = [h.strip().lower() for h in rows[0]]
    unit = next((u for u in ("year", "month") if u in header), None)
    value = next((v for v in ("share", "active") if v in header), None)
    if unit is None or value is None:
        raise CalibrationError(
            f"{file}: expected columns 'year' or 'month' and 'share' or 'active', found {', '.join(header)}"
        )
    periods, values = [], []
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (c.strip() for c in row), strict=False))
        try:
            period, amount = (decimal_number(cells[c], delimiter) for c in (unit, value))
        except (KeyError, ValueError):
            raise CalibrationError(
                f"{file}: data row {number}: expected numbers in '{unit}' and '{value}', found {row}"
            ) from None
        finite = math.isfinite(period) and math.isfinite(amount)
        if not finite or not 0 <= period <= MAX_MONTHS or period != int(period) or amount < 0:
            raise CalibrationError(
                f"{file}: data row {number}: expected a whole {unit} in 0..{MAX_MONTHS} and a finite "
                f"{value} >= 0, found {row}"
            )
        periods.append(int(period))
        values.append(amount)
    periods_array, amounts = np.array(periods), np.array(values)
    if np.any(np.diff(periods_array) <= 0):
        raise CalibrationError(f"{file}: expected {unit}s in increasing order without repeats")
    cohort = None
    if value == "active":
        if periods_array.size == 0 or periods_array[0] != 0 or amounts[0] <= 0:
            raise CalibrationError(f"{file}: counts ('active') need the cohort size (> 0) at {unit} 0")
        share, cohort = amounts / amounts[0], float(amounts[0])
    else:
        share = amounts
    if np.any(share > 1.0):
        raise CalibrationError(
            f"{file}: expected shares in [0, 1] (0.63, not 63%), found {share.max():g}"
            + ("; counts of customers go in a column 'active'" if value == "share" else "")
        )
    rises = np.flatnonzero(np.diff(share) > 0)
    if rises.size:
        i = rises[0]
        raise CalibrationError(
            f"{file}: a retention curve cannot rise, but {value} goes from {amounts[i]:g} at {unit} "
            f"{periods_array[i]} to {amounts[i + 1]:g} at {unit} {periods_array[i + 1]}"
        )
    if np.count_nonzero(periods_array > 0) < 2:
        raise CalibrationError(f"{file}: expected at least two {unit}s after {unit} 0")
    return Curve(file, unit, periods_array, share, cohort)


# --- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitParameter:
    """A parameter to fit: its key path, start value and bounds."""

    path: str
    start: float
    low: float
    high: float

    def to_unit(self, value: float) -> float:
        if self.low > 0:
            return math.log(value / self.low) / math.log(self.high / self.low)
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        u = min(1.0, max(0.0, float(u)))
        if self.low > 0:
            return self.low * (self.high / self.low) ** u
        return self.low + u * (self.high - self.low)


def _not_a_parameter(path: str, strategy: str, scenario: Scenario, why: str = "") -> CalibrationError:
    return CalibrationError(
        f"--fit: '{path}' is not a parameter of strategy '{strategy}' in {scenario.file}{why}; expected "
        "market.<section>.<field>, service.<field>, programs.<program run by the strategy>.<field>, "
        "segments.<segment>.share or segments.<segment>.<trait>.<parameter> (see docs/analysis.md)"
    )


def _segment_value(scenario: Scenario, strategy: str, path: str) -> float:
    """The value of ``segments.<segment>.share`` or ``segments.<segment>.<trait>.<parameter>``."""
    parts = path.split(".")
    segments = scenario.market.segments
    names = [s.name for s in segments]
    if len(parts) not in (3, 4) or parts[1] not in names:
        raise _not_a_parameter(path, strategy, scenario, f" (its segments: {', '.join(names)})")
    segment = segments[names.index(parts[1])]
    if parts[2:] == ["share"]:
        if len(segments) == 1:
            raise CalibrationError(f"--fit: '{path}': the market's only segment has share 1, nothing to fit")
        return float(segment.share)
    if len(parts) != 4 or parts[2] not in _SEGMENT_TRAITS:
        traits = ", ".join(_SEGMENT_TRAITS)
        raise _not_a_parameter(path, strategy, scenario, f" (a segment's traits: {traits})")
    distribution = getattr(segment, parts[2])
    fields = [f.name for f in dataclasses.fields(distribution)]
    if parts[3] not in fields:
        raise CalibrationError(
            f"--fit: '{path}': {parts[2]} is a {type(distribution).__name__} distribution with the "
            f"parameters {', '.join(fields)}, found '{parts[3]}'"
        )
    return float(getattr(distribution, parts[3]))


def current_value(scenario: Scenario, strategy: str, path: str) -> float:
    """The scenario's value of a parameter path (see the module doc)."""
    parts = path.split(".")
    market = scenario.market
    value: object = None
    found = False
    if parts[0] == "segments":
        return _segment_value(scenario, strategy, path)
    if len(parts) == 3 and parts[0] == "market" and parts[1] in _MARKET_SECTIONS:
        section = getattr(market, parts[1])
        found, value = hasattr(section, parts[2]), getattr(section, parts[2], None)
    elif parts[0] == "market" and len(parts) == 2 and parts[1] == "gross_margin_share":
        found, value = True, market.gross_margin_share
    elif parts[0] == "service" and len(parts) == 2:
        found, value = hasattr(market.service, parts[1]), getattr(market.service, parts[1], None)
    elif parts[0] == "programs" and len(parts) == 3:
        for spec in scenario.strategies[strategy].programs:
            if spec.name == parts[1]:
                build = spec.build()
                found, value = hasattr(build.params, parts[2]), getattr(build.params, parts[2], None)
    if not found:
        raise _not_a_parameter(path, strategy, scenario)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalibrationError(f"--fit: '{path}' is {value!r}, not a number that can be fitted")
    return float(value)


def with_segment_values(segments: tuple[Segment, ...], values: dict[str, float]) -> tuple[Segment, ...]:
    """Segments with ``segments.*`` values applied; fitted shares are kept and the other segments
    share the rest in their old proportions. Raises ParamError for an impossible combination."""
    by_name = {s.name: s for s in segments}
    shares: dict[str, float] = {}
    for path, value in values.items():
        _, name, *rest = path.split(".")
        if rest == ["share"]:
            shares[name] = value
            continue
        trait, parameter = rest
        segment = by_name[name]
        distribution = dataclasses.replace(getattr(segment, trait), **{parameter: value})
        by_name[name] = dataclasses.replace(segment, **{trait: distribution})
    if shares:
        left = 1.0 - sum(shares.values())
        others = sum(s.share for name, s in by_name.items() if name not in shares)
        if left < -1e-9 or (others <= 0 and left > 1e-9):
            raise ParamError("segments", f"fitted shares {shares} leave {left:g} for the other segments")
        scale = max(left, 0.0) / others if others > 0 else 0.0
        by_name = {
            name: dataclasses.replace(s, share=shares.get(name, s.share * scale))
            for name, s in by_name.items()
        }
    return tuple(by_name[s.name] for s in segments)


def configure(scenario: Scenario, values: dict[str, float]) -> tuple[Market, dict[str, Strategy], int]:
    """The scenario's market, strategies and cohort size with ``values`` applied.

    Raises ScenarioError or ParamError when the values are not a valid market."""
    segment_values = {p: v for p, v in values.items() if p.startswith("segments.")}
    point = tuple(sorted((p, v) for p, v in values.items() if p not in segment_values))
    market, strategies, customers, _ = scenario.at(point)
    if segment_values:
        market = dataclasses.replace(market, segments=with_segment_values(market.segments, segment_values))
    return market, strategies, customers


def parse_fit(spec: str, scenario: Scenario, strategy: str) -> list[FitParameter]:
    """``path[=low:high],...`` -> parameters; without bounds, start / 4 .. start * 4 (shares:
    0 .. 1). Every bound must give a valid market."""
    if strategy not in scenario.strategies:
        raise CalibrationError(
            f"--strategy: '{strategy}' is not a strategy of {scenario.file} "
            f"(it has {', '.join(scenario.strategies)})"
        )
    out = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        path, _, bounds = (part.strip() for part in item.partition("="))
        start = current_value(scenario, strategy, path)
        if bounds:
            try:
                low, high = (float(b) for b in bounds.split(":"))
            except ValueError:
                raise CalibrationError(f"--fit: '{item}': expected path=low:high with two numbers") from None
        elif path.startswith("segments.") and path.endswith(".share"):
            low, high = 0.0, 1.0
        elif start > 0:
            low, high = start / DEFAULT_RANGE_FACTOR, start * DEFAULT_RANGE_FACTOR
        else:
            raise CalibrationError(
                f"--fit: '{path}' is {start:g} in the scenario; give bounds: {path}=low:high"
            )
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise CalibrationError(f"--fit: '{item}': expected finite bounds with low < high, found {bounds}")
        for bound in (low, high):
            try:
                configure(scenario, {path: bound})
            except (ScenarioError, ParamError) as error:
                reason = (
                    f"{error.problems[0].path}: expected {error.problems[0].expected}"
                    if isinstance(error, ScenarioError)
                    else error
                )
                raise CalibrationError(
                    f"--fit: '{item}': the bound {bound:g} is not a valid value ({reason})"
                ) from None
        out.append(FitParameter(path, min(max(start, low), high), low, high))
    if not out:
        raise CalibrationError("--fit: expected at least one parameter path")
    if len({p.path for p in out}) != len(out):
        raise CalibrationError("--fit: each parameter once")
    share_paths = [p for p in out if p.path.startswith("segments.") and p.path.endswith(".share")]
    if share_paths and len(share_paths) == len(scenario.market.segments):
        raise CalibrationError("--fit: leave one segment's share unfitted (the shares sum to 1)")
    return out


def parse_fits(
    specs: list[str] | tuple[str, ...], scenario: Scenario, strategy: str
) -> tuple[list[FitParameter], tuple[list[FitParameter], ...]]:
    """The first fit set of ``specs`` and the others (``calibrate``'s ``alternatives``)."""
    first, *others = (parse_fit(spec, scenario, strategy) for spec in specs)
    return first, tuple(others)


# --- the model's curve -----------------------------------------------------------------------


def simulate(
    scenario: Scenario,
    strategy: str,
    values: dict[str, float],
    months: int,
    replications: int,
    executor: Executor,
    customers: int | None = None,
) -> np.ndarray:
    """Share of the initial cohort active at months 0..``months``, pooled over replications.

    The seeds depend on the scenario and the replication only, never on ``values``: common
    random numbers across every evaluation of a calibration.
    """
    market, strategies, scenario_customers = configure(scenario, values)
    cohort = customers or scenario_customers
    batches = [
        Batch(
            (),
            replication,
            replication_seed(scenario.name, scenario.seed, (), replication),
            market,
            (strategies[strategy],),
            cohort,
            months,
        )
        for replication in range(replications)
    ]
    total = np.zeros(months + 1)
    for result in executor.run(run_batch, batches):
        if result.monthly is None:
            raise CalibrationError(f"a model run failed at {values}: {result.runs[0]['error']}")
        total += np.concatenate([[cohort], result.monthly["active_initial"].to_numpy()])
    return total / (replications * cohort)


# --- the likelihood --------------------------------------------------------------------------


def cells(share: np.ndarray) -> np.ndarray:
    """Multinomial cells of a cohort: shares leaving between consecutive periods (from 1 at the
    start) and the share still active at the last one."""
    return np.concatenate([-np.diff(np.concatenate([[1.0], share])), share[-1:]])


def deviance(observed: np.ndarray, model: np.ndarray, n: float) -> float:
    """``2 n sum o log(o / m)`` over the cells (module doc); model cells floored at 1e-9."""
    o, m = cells(observed), np.maximum(cells(model), 1e-9)
    positive = o > 0
    return float(2.0 * n * np.sum(o[positive] * np.log(o[positive] / m[positive])))


# --- the fit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """One fitted parameter: value, standard error and 95% profile-likelihood interval."""

    parameter: FitParameter
    value: float
    standard_error: float  # NaN when the information matrix is singular
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class CurveFit:
    """A fitted curve: estimates, warnings, the errors, both curves."""

    estimates: list[Estimate]
    correlation: np.ndarray  # of the estimates, from the Fisher information (NaN if singular)
    warnings: list[str]
    deviance: float  # at the estimates, fitted periods only
    effective_cohort: float  # n_eff of the module doc
    holdout: int
    held_out: np.ndarray  # per period of the curve: left out of the fit
    curve: Curve
    model_share: np.ndarray  # the fitted model's share at the curve's periods
    sbg_share: np.ndarray | None  # the sBG fitted to the same periods, when the curve allows one
    evaluations: int
    seconds: float

    @property
    def fitted(self) -> dict[str, float]:
        return {e.parameter.path: e.value for e in self.estimates}

    def errors(self, share: np.ndarray | None = None, held: bool = False) -> dict[str, float] | None:
        """Mean absolute and root mean squared error of ``share`` (default: the model's) on the
        fitted or the held-out periods after period 0, as shares and, with a cohort size, in
        customers."""
        share = self.model_share if share is None else share
        mask = (self.curve.periods > 0) & (self.held_out if held else ~self.held_out)
        if not mask.any():
            return None
        difference = share[mask] - self.curve.share[mask]
        out = {"mae": float(np.mean(np.abs(difference))), "rmse": float(np.sqrt(np.mean(difference**2)))}
        if self.curve.cohort is not None:
            out["mae_customers"] = out["mae"] * self.curve.cohort
        return out


@dataclass(frozen=True)
class Candidate:
    """A fit set tried by :func:`select_fit`: fitted to the fitted periods but the last
    ``validation`` ones, and its mean absolute error (share of the cohort) predicting those."""

    paths: tuple[str, ...]
    validation_error: float  # NaN when the fit set has too many parameters for the periods left
    chosen: bool


@dataclass(frozen=True)
class Calibration(CurveFit):
    """A calibration: the fit of a strategy's simulated cohort, and how it was simulated."""

    strategy: str
    customers: int
    replications: int
    selection: tuple[Candidate, ...] = ()  # the fit sets compared, when there were several
    validation: int = 0  # fitted periods (the last ones) that chose among them


def validation_periods(curve: Curve, holdout: int) -> int:
    """How many of the last fitted periods choose among fit sets: VALIDATION_SHARE of the
    fitted periods after period 0, at least one."""
    fitted = int(np.count_nonzero(curve.periods > 0)) - holdout
    return max(1, round(fitted * VALIDATION_SHARE))


def select_fit(
    curve: Curve,
    candidates: list[list[FitParameter]],
    model: Callable[[dict[str, float]], np.ndarray],
    holdout: int = 0,
    simulated: float | None = None,
    max_evaluations: int | None = None,
) -> tuple[list[FitParameter], list[Candidate], int]:
    """Choose the fit set that best *predicts*: each candidate is fitted to the fitted periods
    but the last ``validation_periods`` and scored by its mean absolute error on those (a
    rolling-origin evaluation, Tashman, Int. J. Forecasting 16(4), 2000); the held-out periods
    (``holdout``) are never looked at. The lowest error wins; a tie (within 1e-4 of the cohort)
    goes to the earlier, simpler set. Returns the winner, started at its estimates, the
    candidates' scores and the number of validation periods."""
    validation = validation_periods(curve, holdout)
    observed = curve.periods > 0
    scored: list[tuple[float, list[FitParameter]]] = []
    for parameters in candidates:
        try:
            trial = fit_curve(
                curve, parameters, model, holdout + validation, simulated, max_evaluations, intervals=False
            )
        except CalibrationError:  # more parameters than the periods left can pin down
            scored.append((math.nan, parameters))
            continue
        positions = np.flatnonzero(observed)
        checked = positions[positions.size - holdout - validation : positions.size - holdout]
        error = float(np.mean(np.abs(trial.model_share[checked] - curve.share[checked])))
        started = [
            dataclasses.replace(p, start=e.value) for p, e in zip(parameters, trial.estimates, strict=True)
        ]
        scored.append((error, started))
    finite = [i for i, (error, _) in enumerate(scored) if math.isfinite(error)]
    if not finite:
        return candidates[0], [], 0
    best = min(error for error, _ in (scored[i] for i in finite))
    winner = next(i for i in finite if scored[i][0] <= best + 1e-4)
    selection = [
        Candidate(tuple(p.path for p in parameters), error, i == winner)
        for i, (error, parameters) in enumerate(scored)
    ]
    return scored[winner][1], selection, validation


def calibrate(
    scenario: Scenario,
    curve: Curve,
    parameters: list[FitParameter],
    executor: Executor,
    strategy: str | None = None,
    holdout: int = 0,
    replications: int = 4,
    customers: int | None = None,
    max_evaluations: int | None = None,
    intervals: bool = True,
    alternatives: tuple[list[FitParameter], ...] = (),
) -> Calibration:
    """Fit ``parameters`` so that ``strategy``'s cohort curve matches ``curve``; see the module
    doc. With ``alternatives`` (other fit sets), first choose among ``parameters`` and them the
    set that best predicts the last fitted periods (:func:`select_fit`), then fit it."""
    strategy = strategy or scenario.baseline
    if strategy not in scenario.strategies:
        raise CalibrationError(f"--strategy: '{strategy}' is not a strategy of {scenario.file}")
    started = time.perf_counter()
    months = int(curve.months[-1])
    cohort = customers or scenario.customers
    runs: dict[tuple[tuple[str, float], ...], np.ndarray] = {}  # shared by every fit below

    def model(values: dict[str, float]) -> np.ndarray:
        key = tuple(sorted(values.items()))
        if key not in runs:
            runs[key] = simulate(scenario, strategy, values, months, replications, executor, customers)
        return runs[key][curve.months]

    selection: list[Candidate] = []
    validation = 0
    if alternatives:
        parameters, selection, validation = select_fit(
            curve, [parameters, *alternatives], model, holdout, replications * cohort, max_evaluations
        )
    fit = fit_curve(curve, parameters, model, holdout, replications * cohort, max_evaluations, intervals)
    fields = {f.name: getattr(fit, f.name) for f in dataclasses.fields(CurveFit)}
    fields["evaluations"], fields["seconds"] = len(runs), time.perf_counter() - started
    return Calibration(
        **fields, strategy=strategy, customers=cohort, replications=replications,
        selection=tuple(selection), validation=validation,
    )


def fit_curve(
    curve: Curve,
    parameters: list[FitParameter],
    model: Callable[[dict[str, float]], np.ndarray],
    holdout: int = 0,
    simulated: float | None = None,
    max_evaluations: int | None = None,
    intervals: bool = True,
) -> CurveFit:
    """Fit ``parameters`` of ``model`` (values -> share at the curve's periods; may raise
    ScenarioError or ParamError for values it refuses) to ``curve`` by maximum likelihood, with
    profile intervals, standard errors and warnings (module doc). ``simulated``: the number of
    simulated customers behind each model curve (None: an exact curve)."""
    started = time.perf_counter()
    observed = curve.periods > 0
    n_points = int(np.count_nonzero(observed))
    needed = max(2, len(parameters))
    if not 0 <= holdout <= n_points - needed:
        raise CalibrationError(
            f"--holdout: expected 0..{max(0, n_points - needed)} (the curve has {n_points} "
            f"{curve.unit}s after {curve.unit} 0, and {len(parameters)} parameter(s) need at least "
            f"{needed} to fit), found {holdout}"
        )
    held_out = np.zeros(curve.periods.size, dtype=bool)
    if holdout:
        held_out[np.flatnonzero(observed)[-holdout:]] = True
    fit_mask = observed & ~held_out
    target = curve.share[fit_mask]
    cache: dict[tuple[float, ...], np.ndarray | None] = {}

    def values_at(u: np.ndarray) -> dict[str, float]:
        return {p.path: p.from_unit(x) for p, x in zip(parameters, u, strict=True)}

    def share_at(u: np.ndarray) -> np.ndarray | None:
        """The model's share at the curve's periods; None where the model refuses the values."""
        key = tuple(round(min(1.0, max(0.0, float(x))), 9) for x in u)
        if key not in cache:
            try:
                cache[key] = np.asarray(model(values_at(np.array(key))), dtype=float)
            except (ScenarioError, ParamError):  # a combination the model's parameter checks reject
                cache[key] = None
        return cache[key]

    def unscaled(u: np.ndarray) -> float:
        share = share_at(u)
        return 1e6 if share is None else deviance(target, share[fit_mask], 1.0)

    start = np.array([p.to_unit(p.start) for p in parameters])
    best_u = _minimise(unscaled, start, max_evaluations or 60 * len(parameters))
    model_share = share_at(best_u)
    if model_share is None:
        raise CalibrationError("the model refused every value tried; check the bounds of --fit")
    if curve.cohort is not None:
        n_eff = 1.0 / (1.0 / curve.cohort + (1.0 / simulated if simulated else 0.0))
    else:
        expected = np.maximum(cells(model_share[fit_mask]), 1e-9)
        pearson = float(np.sum((cells(target) - expected) ** 2 / expected))
        degrees = target.size - len(parameters)
        n_eff = degrees / pearson if degrees > 0 and pearson > 0 else math.nan

    def scaled(u: np.ndarray) -> float:
        return n_eff * unscaled(u)

    minimum = scaled(best_u)
    covariance = _covariance(best_u, parameters, share_at, fit_mask, n_eff)
    estimates, warnings = [], []
    for j, parameter in enumerate(parameters):
        value = parameter.from_unit(best_u[j])
        standard_error = _natural_standard_error(parameter, best_u[j], covariance[j, j])
        low = high = math.nan
        if intervals and math.isfinite(n_eff):
            u_low, u_high = (
                _profile_bound(scaled, best_u, minimum, j, direction, covariance) for direction in (-1, 1)
            )
            low, high = parameter.from_unit(u_low), parameter.from_unit(u_high)
            reached = [b for b, u in ((parameter.low, u_low), (parameter.high, u_high)) if u in (0.0, 1.0)]
            if reached and min(best_u[j], 1 - best_u[j]) >= ON_BOUND:
                warnings.append(
                    f"{parameter.path}: the 95% interval reaches the bound {reached[0]:g}: the curve does "
                    "not pin it down there"
                )
        if min(best_u[j], 1 - best_u[j]) < ON_BOUND:
            side = parameter.low if best_u[j] < 0.5 else parameter.high
            warnings.append(
                f"{parameter.path} = {value:.4g} sits on its bound {side:g}: the best value may lie "
                "beyond it; widen the bounds or fix the parameter"
            )
        estimates.append(Estimate(parameter, value, standard_error, low, high))
    correlation = _correlation(covariance)
    for i in range(len(parameters)):
        for j in range(i + 1, len(parameters)):
            if abs(correlation[i, j]) > CONFOUNDED:
                warnings.append(
                    f"{parameters[i].path} and {parameters[j].path} are confounded (correlation "
                    f"{correlation[i, j]:+.2f}): the curve trades one for the other; fix one of them"
                )
    if not np.all(np.isfinite(np.diag(covariance))):
        warnings.append("the Fisher information is singular: some parameter does not change the curve")
    return CurveFit(
        estimates=estimates,
        correlation=correlation,
        warnings=warnings,
        deviance=minimum,
        effective_cohort=n_eff,
        holdout=holdout,
        held_out=held_out,
        curve=curve,
        model_share=model_share,
        sbg_share=_sbg_benchmark(curve, fit_mask),
        evaluations=len(cache),
        seconds=time.perf_counter() - started,
    )


def _minimise(
    objective: Callable[[np.ndarray], float], start: np.ndarray, max_evaluations: int
) -> np.ndarray:
    """scipy's bounded Nelder-Mead on the unit cube, the first simplex reaching into the bounds."""
    step = np.where(start > 0.5, -0.2, 0.2)
    simplex = np.vstack([start, *(start + np.diag(step))])
    best = optimize.minimize(
        objective,
        start,
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * start.size,
        options={"initial_simplex": simplex, "xatol": 0.003, "fatol": 1e-5, "maxfev": max_evaluations},
    )
    return np.clip(best.x, 0.0, 1.0)


def _covariance(
    best_u: np.ndarray,
    parameters: list[FitParameter],
    share_at: Callable[[np.ndarray], np.ndarray | None],
    fit_mask: np.ndarray,
    n_eff: float,
    step: float = 0.02,
) -> np.ndarray:
    """Inverse Fisher information in unit coordinates (module doc); NaN where not estimable."""
    p = best_u.size
    failed = np.full((p, p), math.nan)
    if not math.isfinite(n_eff):
        return failed
    base = share_at(best_u)
    columns = []
    for j in range(p):
        up, down = best_u.copy(), best_u.copy()
        up[j], down[j] = min(1.0, best_u[j] + step), max(0.0, best_u[j] - step)
        high, low = share_at(up), share_at(down)
        if high is None or low is None or base is None:
            return failed
        columns.append((cells(high[fit_mask]) - cells(low[fit_mask])) / (up[j] - down[j]))
    jacobian = np.column_stack(columns)
    information = n_eff * jacobian.T @ (jacobian / np.maximum(cells(base[fit_mask]), 1e-9)[:, None])
    if np.linalg.cond(information) > 1e12:
        return failed
    return np.linalg.inv(information)


def _natural_standard_error(parameter: FitParameter, u: float, unit_variance: float) -> float:
    """Delta method from the unit coordinate to the parameter's own scale."""
    if not (math.isfinite(unit_variance) and unit_variance > 0):
        return math.nan
    if parameter.low > 0:
        derivative = parameter.from_unit(u) * math.log(parameter.high / parameter.low)
    else:
        derivative = parameter.high - parameter.low
    return abs(derivative) * math.sqrt(unit_variance)


def _correlation(covariance: np.ndarray) -> np.ndarray:
    scale = np.sqrt(np.abs(np.diag(covariance)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return covariance / np.outer(scale, scale)


def _profile_bound(
    objective: Callable[[np.ndarray], float],
    best_u: np.ndarray,
    minimum: float,
    j: int,
    direction: int,
    covariance: np.ndarray,
    tolerance: float = 0.003,
) -> float:
    """The unit value of parameter ``j`` on one side where the profile deviance exceeds the
    minimum by CHI2_95; 0 or 1 when it stays below up to the bound.

    The signed root of the profile deviance is close to linear in the parameter, so the search
    steps by secant on ``sqrt(D_profile - D_min)`` towards 1.96 and brackets the crossing."""
    others = [i for i in range(best_u.size) if i != j]
    variance = covariance[j, j]
    # Along the profile the other parameters follow their regression on parameter j.
    known = math.isfinite(variance) and variance > 0
    slope = covariance[others, j] / variance if known else np.zeros(len(others))

    def root(u_j: float) -> float:
        point = best_u.copy()
        point[j] = u_j
        if others:
            guess = np.clip(best_u[others] + slope * (u_j - best_u[j]), 0.0, 1.0)

            def inner(x: np.ndarray) -> float:
                full = point.copy()
                full[others] = x
                return objective(full)

            point[others] = _minimise_near(inner, guess)
        return math.sqrt(max(objective(point) - minimum, 0.0))

    edge = 1.0 if direction > 0 else 0.0
    inside, inside_root = best_u[j], 0.0
    width = Z_95 * math.sqrt(variance) if known else 0.1
    candidate = best_u[j] + direction * max(width, 2 * tolerance)
    outside = None
    for _ in range(6):  # expand until the deviance crosses or the bound is reached
        candidate = min(1.0, max(0.0, candidate))
        value = root(candidate)
        if abs(value - Z_95) < 0.1:
            return candidate
        if value >= Z_95:
            outside, outside_root = candidate, value
            break
        inside, inside_root = candidate, value
        if candidate == edge:
            return edge
        step = (candidate - best_u[j]) * (Z_95 / value if value > 0.2 else 2.0)
        candidate = best_u[j] + direction * min(abs(step) * 1.2, abs(candidate - best_u[j]) * 3)
    if outside is None:
        return inside
    for _ in range(4):  # secant on the signed root within the bracket
        if abs(outside - inside) < tolerance:
            break
        fraction = (Z_95 - inside_root) / (outside_root - inside_root)
        candidate = inside + fraction * (outside - inside)
        value = root(candidate)
        if abs(value - Z_95) < 0.1:
            return candidate
        if value < Z_95:
            inside, inside_root = candidate, value
        else:
            outside, outside_root = candidate, value
    return (inside + outside) / 2


def _minimise_near(
    objective: Callable[[np.ndarray], float], guess: np.ndarray, step: float = 0.03
) -> np.ndarray:
    """A short local search of the other parameters, started at their predicted profile path:
    one parameter by a parabola through three points (and its vertex), more by Nelder-Mead."""
    if guess.size == 1:
        points = np.clip(guess[0] + np.array([-step, 0.0, step]), 0.0, 1.0)
        values = [objective(np.array([x])) for x in points]
        curvature = values[0] - 2 * values[1] + values[2]
        if curvature > 0 and points[0] < points[1] < points[2]:
            vertex = points[1] + step * (values[0] - values[2]) / (2 * curvature)
            vertex = float(np.clip(vertex, max(0.0, points[1] - 3 * step), min(1.0, points[1] + 3 * step)))
            points, values = [*points, vertex], [*values, objective(np.array([vertex]))]
        return np.array([points[int(np.argmin(values))]])
    simplex_step = np.where(guess > 0.5, -step, step)
    best = optimize.minimize(
        objective, guess, method="Nelder-Mead", bounds=[(0.0, 1.0)] * guess.size,
        options={"initial_simplex": np.vstack([guess, *(guess + np.diag(simplex_step))]), "xatol": 0.005,
                 "maxfev": 15 * guess.size},
    )
    return np.clip(best.x, 0.0, 1.0)


def _sbg_benchmark(curve: Curve, fit_mask: np.ndarray) -> np.ndarray | None:
    """The sBG (Fader & Hardie 2007) fitted to the same periods, at every period of the curve;
    None unless at least two fitted periods follow period 0 (the whole cohort, share 1, when the
    curve leaves it out). Periods may skip: the sBG's survival is defined at any period."""
    if np.count_nonzero(fit_mask) < 2:  # fit_mask leaves period 0 out
        return None
    periods = np.concatenate([[0.0], curve.periods[fit_mask]])
    share = np.concatenate([[1.0], curve.share[fit_mask]])
    try:
        fit = fit_sbg(share * (curve.cohort or 1000.0), periods)
    except ValueError:
        return None
    return fit.survival(curve.periods)


# --- output ----------------------------------------------------------------------------------


def to_json(result: Calibration) -> dict:
    """The calibration as plain data: parameters, warnings, errors, and one row per period."""

    def number(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    curve = result.curve
    return {
        "curve": curve.file,
        "unit": curve.unit,
        "cohort": curve.cohort,
        "strategy": result.strategy,
        "customers": result.customers,
        "replications": result.replications,
        "evaluations": result.evaluations,
        "seconds": round(result.seconds, 2),
        "parameters": [
            {
                "path": e.parameter.path, "start": e.parameter.start, "low": e.parameter.low,
                "high": e.parameter.high, "fitted": e.value, "std_error": number(e.standard_error),
                "ci_low": number(e.ci_low), "ci_high": number(e.ci_high),
            }
            for e in result.estimates
        ],
        "selection": [
            {"parameters": list(c.paths), "validation_mae": number(c.validation_error), "chosen": c.chosen}
            for c in result.selection
        ],
        "validation_periods": result.validation,
        "correlation": [[number(x) for x in row] for row in result.correlation],
        "warnings": result.warnings,
        "deviance": number(result.deviance),
        "effective_cohort": number(result.effective_cohort),
        "fit_error": result.errors(),
        "holdout_error": result.errors(held=True),
        "sbg_holdout_error": None if result.sbg_share is None else result.errors(result.sbg_share, held=True),
        "periods": [
            {
                "period": int(period), "month": int(month), "observed": float(observed),
                "predicted": float(predicted), "held_out": bool(held),
                "sbg": None if result.sbg_share is None else float(result.sbg_share[i]),
            }
            for i, (period, month, observed, predicted, held) in enumerate(
                zip(
                    curve.periods, curve.months, curve.share, result.model_share, result.held_out,
                    strict=True,
                )
            )
        ],
    }


# --- the calibrated scenario -----------------------------------------------------------------


def calibrated_scenario_text(scenario: Scenario, result: Calibration) -> str:
    """The scenario's TOML with the fitted values set, headed by a comment saying how they were
    found; validated by loading it back."""
    import tomli_w

    raw = copy.deepcopy(scenario.raw)
    fitted = {path: float(f"{value:.6g}") for path, value in result.fitted.items()}
    segment_values = {p: v for p, v in fitted.items() if p.startswith("segments.")}
    for path, value in fitted.items():
        if path not in segment_values:
            _set_path(raw, path, value)
    if segment_values:  # every segment written out in full, with the fitted values
        market = raw.setdefault("market", {})
        market.pop("segment_shares", None)
        segments = with_segment_values(scenario.market.segments, segment_values)
        market["segments"] = [dataclasses.asdict(s) for s in segments]
    raw["name"] = f"{scenario.name}-calibrated"
    holdout = result.errors(held=True)
    lines = [
        f"# Calibrated by `loyalty-sim calibrate` on {dt.date.today().isoformat()} from {scenario.file}",
        f"# to the retention curve {result.curve.file} (strategy '{result.strategy}', "
        f"{result.replications} x {result.customers:,} customers, common random numbers).",
        *(
            f"#   {e.parameter.path} = {e.value:.6g}, "
            + (f"95% profile interval {e.ci_low:.4g}..{e.ci_high:.4g}" if math.isfinite(e.ci_low)
               else f"standard error {e.standard_error:.2g}")
            + f" (started at {e.parameter.start:g}, searched {e.parameter.low:g}..{e.parameter.high:g})"
            for e in result.estimates
        ),
        *(
            f"# fit set chosen among {len(result.selection)} by the error predicting the last "
            f"{result.validation} fitted {result.curve.unit}s from the ones before"
            for _ in result.selection[:1]
        ),
        *(f"# warning: {w}" for w in result.warnings),
        f"# mean absolute error of the share still active: {result.errors()['mae']:.4f} on the fitted "
        f"{result.curve.unit}s"
        + (f", {holdout['mae']:.4f} on the last {result.holdout} (held out)" if holdout else ""),
        "",
    ]
    text = "\n".join(lines) + tomli_w.dumps(raw)
    loads(text, file=f"{scenario.file} (calibrated)")  # never write a file that does not load
    return text
