"""Calibration: fit market parameters so that a strategy's cohort retention matches an observed curve.

The observed curve is a CSV file with a period column, ``year`` or ``month`` (its name is the
unit), and either ``share`` (share of the cohort still active, 0..1) or ``active`` (customers
still active; divided by the count at period 0, which must then be present). Lines starting
with ``#`` are comments (for the source of the data). The curve must not rise.

The model's curve is the share of the initial cohort active at the end of each month (the
monthly table's ``active_initial`` over the cohort size), averaged over ``replications`` runs.
Every evaluation uses the *same* seeds (common random numbers), so the objective is a
deterministic function of the parameters and differences between candidate values are not
drowned in simulation noise. Runs go through the sweep's executors (``sim.executors``).

The objective is the sum of squared differences of shares at the observed periods after
period 0, minimised by scipy's bounded Nelder-Mead over the parameters, each mapped to [0, 1]
between its bounds (logarithmically when both bounds are positive). Standard errors come from
the Gauss-Newton approximation of nonlinear least squares, ``cov = s^2 (J^T J)^-1`` with
``s^2 = SSE / (n - p)`` and the Jacobian ``J`` from central differences of the simulated curve
(Seber & Wild, *Nonlinear Regression*, 1989, ch. 2). They treat the residuals as independent,
which points of one cumulative curve are not, so read them as a lower bound on the uncertainty.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize

from sim.batch import Batch, run_batch
from sim.errors import UserError
from sim.executors import Executor
from sim.io import PathError, read_input
from sim.market import Market
from sim.scenario import MAX_MONTHS, Scenario, ScenarioError, _set_path, loads
from sim.seeds import replication_seed

# market.<section>.<field> paths: the market's parameter sections ([service] is top-level in a file)
_MARKET_SECTIONS = tuple(
    f.name
    for f in dataclasses.fields(Market)
    if dataclasses.is_dataclass(getattr(Market(), f.name)) and f.name != "service"
)
MONTHS_PER_UNIT = {"month": 1, "year": 12}
# Default search range around the scenario's value when --fit names no bounds: a factor of 4.
DEFAULT_RANGE_FACTOR = 4.0


class CalibrationError(UserError):
    """Bad input to a calibration (curve file, parameter path, bounds); exit code 2."""


@dataclass(frozen=True)
class Curve:
    """An observed retention curve: share of a cohort still active at each period."""

    file: str
    unit: str  # "year" or "month"
    periods: np.ndarray  # in ``unit``s, increasing, 0 optional
    share: np.ndarray

    @property
    def months(self) -> np.ndarray:
        return self.periods * MONTHS_PER_UNIT[self.unit]


def read_curve(path: str | Path) -> Curve:
    """Read and validate a retention curve CSV (see the module doc)."""
    file = str(path)
    try:
        lines = read_input(path, "CSV file").decode("utf-8-sig").splitlines()  # -sig: a BOM is fine
    except PathError as error:
        raise CalibrationError(str(error)) from None
    except UnicodeDecodeError as error:
        raise CalibrationError(f"{file}: expected a UTF-8 text CSV file, found {error.reason}") from None
    rows = list(csv.reader(line for line in lines if line.strip() and not line.lstrip().startswith("#")))
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
            period, amount = float(cells[unit]), float(cells[value])
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
    if value == "active":
        if periods_array.size == 0 or periods_array[0] != 0:
            raise CalibrationError(f"{file}: counts ('active') need the cohort size at {unit} 0")
        share = amounts / amounts[0]
    else:
        share = amounts
    if np.any(share > 1.0):
        raise CalibrationError(f"{file}: expected shares in [0, 1], found {share.max():g}")
    rises = np.flatnonzero(np.diff(share) > 0)
    if rises.size:
        i = rises[0]
        raise CalibrationError(
            f"{file}: a retention curve cannot rise, but {value} goes from {amounts[i]:g} at {unit} "
            f"{periods_array[i]} to {amounts[i + 1]:g} at {unit} {periods_array[i + 1]}"
        )
    if np.count_nonzero(periods_array > 0) < 2:
        raise CalibrationError(f"{file}: expected at least two {unit}s after {unit} 0")
    return Curve(file, unit, periods_array, share)


# --- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitParameter:
    """A parameter to fit: its key path (as in a scenario's [grid]), start value and bounds."""

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


def current_value(scenario: Scenario, strategy: str, path: str) -> float:
    """The scenario's value of a parameter path (``market.offers.discount``, ``service.<field>``,
    ``programs.<program>.<field>``)."""
    parts = path.split(".")
    market = scenario.market
    value: object = None
    found = False
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
        raise CalibrationError(
            f"--fit: '{path}' is not a parameter of strategy '{strategy}' in {scenario.file}; expected "
            "market.<section>.<field>, service.<field> or programs.<program run by the strategy>.<field> "
            "(see docs/scenarios.md; segment shares must sum to 1 and cannot be fitted one by one)"
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalibrationError(f"--fit: '{path}' is {value!r}, not a number that can be fitted")
    return float(value)


def parse_fit(spec: str, scenario: Scenario, strategy: str) -> list[FitParameter]:
    """``path[=low:high],...`` -> parameters; without bounds, start / 4 .. start * 4."""
    if strategy not in scenario.strategies:
        raise CalibrationError(
            f"--strategy: '{strategy}' is not a strategy of {scenario.file} "
            f"(it has {', '.join(scenario.strategies)})"
        )
    out = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        path, _, bounds = item.partition("=")
        start = current_value(scenario, strategy, path.strip())
        if bounds:
            try:
                low, high = (float(b) for b in bounds.split(":"))
            except ValueError:
                raise CalibrationError(f"--fit: '{item}': expected path=low:high with two numbers") from None
        elif start > 0:
            low, high = start / DEFAULT_RANGE_FACTOR, start * DEFAULT_RANGE_FACTOR
        else:
            raise CalibrationError(
                f"--fit: '{path}' is {start:g} in the scenario; give bounds: {path}=low:high"
            )
        if not low < high:
            raise CalibrationError(f"--fit: '{item}': expected low < high, found {low:g} >= {high:g}")
        out.append(FitParameter(path.strip(), min(max(start, low), high), low, high))
    if not out:
        raise CalibrationError("--fit: expected at least one parameter path")
    if len({p.path for p in out}) != len(out):
        raise CalibrationError("--fit: each parameter once")
    return out


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
    """Share of the initial cohort active at months 0..``months``, mean over replications.

    The seeds depend on the scenario and the replication only, never on ``values``: common
    random numbers across every evaluation of a calibration.
    """
    point = tuple(sorted(values.items()))
    market, strategies, scenario_customers, _ = scenario.at(point)
    cohort = customers or scenario_customers
    batches = [
        Batch(
            point,
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
            raise CalibrationError(f"a model run failed at {dict(point)}: {result.runs[0]['error']}")
        total += np.concatenate([[cohort], result.monthly["active_initial"].to_numpy()])
    return total / (replications * cohort)


# --- the fit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """A calibration's outcome: fitted values, their uncertainty, the errors, both curves."""

    parameters: list[FitParameter]
    fitted: dict[str, float]
    standard_errors: dict[str, float]  # NaN when not estimable (no residual degrees of freedom)
    rmse_fit: float  # root mean squared share difference on the fitted periods
    rmse_holdout: float | None  # ... on the last ``holdout`` periods, predicted from the rest
    holdout: int
    evaluations: int
    curve: Curve
    model_share: np.ndarray  # the fitted model's share at the curve's periods
    strategy: str
    customers: int
    replications: int


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
) -> Calibration:
    """Fit ``parameters`` so that ``strategy``'s cohort curve matches ``curve``; see the module doc."""
    strategy = strategy or scenario.baseline
    if strategy not in scenario.strategies:
        raise CalibrationError(f"--strategy: '{strategy}' is not a strategy of {scenario.file}")
    observed = curve.periods > 0
    n_points = int(np.count_nonzero(observed))
    if not 0 <= holdout <= n_points - max(2, len(parameters)):
        raise CalibrationError(
            f"--holdout: expected 0..{max(0, n_points - max(2, len(parameters)))} (the curve has "
            f"{n_points} {curve.unit}s after {curve.unit} 0, and {len(parameters)} parameter(s) need "
            f"at least {max(2, len(parameters))} to fit), found {holdout}"
        )
    fit_mask = observed.copy()
    if holdout:
        fit_mask[np.flatnonzero(observed)[-holdout:]] = False
    months = int(curve.months[-1])
    evaluations = 0

    def model_share(values: dict[str, float]) -> np.ndarray:
        nonlocal evaluations
        evaluations += 1
        simulated = simulate(scenario, strategy, values, months, replications, executor, customers)
        return simulated[curve.months]

    def values_at(u: np.ndarray) -> dict[str, float]:
        return {p.path: p.from_unit(x) for p, x in zip(parameters, u, strict=True)}

    def loss(u: np.ndarray) -> float:
        try:
            share = model_share(values_at(u))
        except ScenarioError:  # a combination the model's parameter checks reject
            return float(n_points)
        return float(np.sum((share[fit_mask] - curve.share[fit_mask]) ** 2))

    start = np.array([p.to_unit(p.start) for p in parameters])
    step = np.where(start > 0.5, -0.2, 0.2)  # the first simplex reaches into the bounds
    simplex = np.vstack([start, *(start + np.diag(step))])
    best = optimize.minimize(
        loss,
        start,
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * len(parameters),
        options={
            "initial_simplex": simplex,
            "xatol": 0.005,
            "fatol": 1e-7,
            "maxfev": max_evaluations or 60 * len(parameters),
        },
    )
    fitted = values_at(best.x)
    share = model_share(fitted)
    residuals = share[fit_mask] - curve.share[fit_mask]
    errors = _standard_errors(fitted, residuals, fit_mask, model_share)
    rmse_holdout = None
    if holdout:
        held = observed & ~fit_mask
        rmse_holdout = float(np.sqrt(np.mean((share[held] - curve.share[held]) ** 2)))
    return Calibration(
        parameters=parameters,
        fitted=fitted,
        standard_errors=errors,
        rmse_fit=float(np.sqrt(np.mean(residuals**2))),
        rmse_holdout=rmse_holdout,
        holdout=holdout,
        evaluations=evaluations,
        curve=curve,
        model_share=share,
        strategy=strategy,
        customers=customers or scenario.customers,
        replications=replications,
    )


def _standard_errors(
    fitted: dict[str, float],
    residuals: np.ndarray,
    fit_mask: np.ndarray,
    model_share: Callable[[dict[str, float]], np.ndarray],
    relative_step: float = 0.05,
) -> dict[str, float]:
    """Gauss-Newton standard errors (see the module doc); NaN where not estimable."""
    degrees = residuals.size - len(fitted)
    if degrees <= 0:
        return dict.fromkeys(fitted, math.nan)
    columns = []
    for path, value in fitted.items():
        h = relative_step * abs(value) or relative_step
        try:
            up = model_share({**fitted, path: value + h})[fit_mask]
            down = model_share({**fitted, path: value - h})[fit_mask]
        except ScenarioError:
            return dict.fromkeys(fitted, math.nan)
        columns.append((up - down) / (2 * h))
    jacobian = np.column_stack(columns)
    variance = float(residuals @ residuals) / degrees
    try:
        covariance = variance * np.linalg.inv(jacobian.T @ jacobian)
    except np.linalg.LinAlgError:
        return dict.fromkeys(fitted, math.nan)
    diagonal = np.diag(covariance)
    return {path: float(np.sqrt(d)) if d > 0 else math.nan for path, d in zip(fitted, diagonal, strict=True)}


# --- the calibrated scenario -----------------------------------------------------------------


def calibrated_scenario_text(scenario: Scenario, result: Calibration) -> str:
    """The scenario's TOML with the fitted values set, headed by a comment saying how they were
    found; validated by loading it back."""
    import tomli_w

    raw = copy.deepcopy(scenario.raw)
    for path, value in result.fitted.items():
        _set_path(raw, path, float(f"{value:.6g}"))
    raw["name"] = f"{scenario.name}-calibrated"
    lines = [
        f"# Calibrated by `loyalty-sim calibrate` on {dt.date.today().isoformat()} from {scenario.file}",
        f"# to the retention curve {result.curve.file} (strategy '{result.strategy}', "
        f"{result.replications} x {result.customers:,} customers, common random numbers).",
        *(
            f"#   {path} = {value:.6g} ± {result.standard_errors[path]:.2g} (started at {p.start:g}, "
            f"searched {p.low:g}..{p.high:g})"
            for p, (path, value) in zip(result.parameters, result.fitted.items(), strict=True)
        ),
        f"# RMSE of the share still active: {result.rmse_fit:.4f} on the fitted {result.curve.unit}s"
        + (
            f", {result.rmse_holdout:.4f} on the last {result.holdout} (held out)"
            if result.rmse_holdout is not None
            else ""
        ),
        "",
    ]
    text = "\n".join(lines) + tomli_w.dumps(raw)
    loads(text, file=f"{scenario.file} (calibrated)")  # never write a file that does not load
    return text
