"""The report's charts for notebooks and scripts: give them results, get an Altair chart.

Each function takes a sweep's :class:`~sim.results.Results` (``sim.results.load(folder)``) or
the polars frame the chart reads (``monthly``, ``summary``, ``runs``, with ``strategy``,
``point`` and ``replication`` columns as a sweep writes them), and returns the chart the report
draws, with the report's colours (baseline black, one colour per strategy), in English or
German. Where results hold several grid points, the one-point charts show the first, as the
report does; pass a filtered frame to choose another. Nothing else is needed::

    from sim import plots
    from sim.results import load

    results = load("results/five-year-showdown")
    plots.survival(results)                      # displays in a notebook
    plots.cohort_loss(results).save("loss.html")
"""

from __future__ import annotations

from collections.abc import Callable

import altair as alt
import polars as pl

from sim.charts.churn import churn_chart
from sim.charts.cohort_loss import cohort_loss_chart
from sim.charts.grid import grid_chart
from sim.charts.loyalty_types import loyalty_types_chart
from sim.charts.metric import metric_chart
from sim.charts.paired import paired_chart
from sim.charts.style import StrategyColours, check_language, for_projector
from sim.charts.survival import survival_chart
from sim.defaults import MONTHS
from sim.results import Results

Data = Results | pl.DataFrame


def colours(frame: pl.DataFrame, baseline: str | None = None, lang: str = "en") -> StrategyColours:
    """The report's colour scale for the strategies of ``frame``, in their order; the baseline
    is the summary's ``baseline`` column, else ``baseline``, else the first strategy."""
    strategies = tuple(frame["strategy"].unique(maintain_order=True))
    if baseline is None:
        baseline = frame["baseline"][0] if "baseline" in frame.columns else strategies[0]
    return StrategyColours(strategies, baseline, check_language(lang))


def _frame(data: Data, name: str, first_point: bool = True) -> tuple[pl.DataFrame, str | None]:
    """The named frame (at the first grid point) and the sweep's baseline, if known."""
    if isinstance(data, Results):
        frame, baseline = getattr(data, name), data.summary["baseline"][0]
    else:
        frame, baseline = data, data["baseline"][0] if "baseline" in data.columns else None
    if first_point and "point" in frame.columns:
        frame = frame.filter(pl.col("point") == frame["point"][0])
    return frame, baseline


def _styled(chart: alt.TopLevelMixin, projector: bool) -> alt.TopLevelMixin:
    return for_projector(chart) if projector else chart


def _monthly(
    draw: Callable[[pl.DataFrame, StrategyColours], alt.TopLevelMixin],
    data: Data,
    lang: str,
    baseline: str | None,
    projector: bool,
) -> alt.TopLevelMixin:
    """A chart of the monthly table (at the first grid point), in the sweep's colours."""
    monthly, known = _frame(data, "monthly")
    return _styled(draw(monthly, colours(monthly, baseline or known, lang)), projector)


def survival(
    data: Data, lang: str = "en", baseline: str | None = None, projector: bool = False
) -> alt.TopLevelMixin:
    """Share of the initial cohort still active, per strategy and month, with the 95% band."""
    return _monthly(survival_chart, data, lang, baseline, projector)


def churn(
    data: Data, lang: str = "en", baseline: str | None = None, projector: bool = False
) -> alt.TopLevelMixin:
    """Monthly churn rate per strategy."""
    return _monthly(churn_chart, data, lang, baseline, projector)


def loyalty_types(
    data: Data, lang: str = "en", baseline: str | None = None, projector: bool = False
) -> alt.TopLevelMixin:
    """Shares of the loyalty types over time, one panel per strategy."""
    return _monthly(loyalty_types_chart, data, lang, baseline, projector)


def cohort_loss(
    data: Data,
    lang: str = "en",
    baseline: str | None = None,
    projector: bool = False,
    months: int | None = None,
) -> alt.TopLevelMixin:
    """Initial customers lost at the horizon per strategy, mean and 95% CI, baseline marked;
    ``months`` (the horizon, for the axis title) is read from ``Results``."""
    summary, _ = _frame(data, "summary")
    if months is None:
        months = int(data.monthly["month"].max()) if isinstance(data, Results) else MONTHS
    return _styled(cohort_loss_chart(summary, colours(summary, baseline, lang), months), projector)


def grid(
    data: Data, lang: str = "en", baseline: str | None = None, projector: bool = False
) -> alt.TopLevelMixin:
    """Initial customers lost across the swept parameter (a sweep with a numeric [grid])."""
    summary, _ = _frame(data, "summary", first_point=False)
    return _styled(grid_chart(summary, colours(summary, baseline, lang)), projector)


def paired(
    data: Data, outcome: str = "cohort_loss", lang: str = "en", baseline: str | None = None,
    projector: bool = False,
) -> alt.TopLevelMixin:
    """Each variant's paired difference to the reference variant (a sweep with [variants])."""
    summary, _ = _frame(data, "summary", first_point=False)
    return _styled(paired_chart(summary, colours(summary, baseline, lang), outcome), projector)


def metric(
    data: Data, column: str, unit: str = "", lang: str = "en", baseline: str | None = None,
    projector: bool = False,
) -> alt.TopLevelMixin:
    """Any monthly column over time per strategy: a plugin's reporter or a core outcome."""
    monthly, known = _frame(data, "monthly")
    chart = metric_chart(monthly, column, colours(monthly, baseline or known, lang), unit)
    return _styled(chart, projector)


__all__ = ["churn", "cohort_loss", "colours", "grid", "loyalty_types", "metric", "paired", "survival"]
