"""What every chart shares: one colour per strategy, the legend that selects a strategy, the
English and German labels, and number formats.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), distinguishable
with every common colour-vision deficiency; the baseline is always black so that it reads as
the reference line. A strategy keeps its colour in every chart because the colour scale's
domain is the sweep's strategy list, baseline first.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt

from sim.i18n import (  # noqa: F401  (re-exported for the charts)
    COST_LABELS,
    FORMAT_LOCALES,
    LANGUAGES,
    LOYALTY_LABELS,
    REASON_LABELS,
    check_language,
    label,
    number,
    percent,
)

# Okabe-Ito without black (the baseline's) and without its yellow, which is faint on white and on
# a projector; then Paul Tol's indigo, olive, brown and green and a grey for sweeps with more than
# seven other strategies. Chosen (and tested) so that every pair of the first nine strategies stays
# at least 15 CIELAB units apart, and all thirteen colours at least 9, under simulated protanopia,
# deuteranopia and tritanopia (Machado, Oliveira & Fernandes 2009); Tol's teal, the earlier ninth
# colour, was 4 units from the reddish purple for deuteranopes and hard to tell from the green.
BASELINE_COLOUR = "#000000"
STRATEGY_COLOURS: tuple[str, ...] = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#882255",
    "#332288",
    "#999933",
    "#661100",
    "#117733",
    "#888888",
)
# Loyalty types and exit reasons are not strategies: they get Paul Tol's "bright" scheme, ordered
# from good (blue, green) to bad (red, purple) where the order means something.
LOYALTY_COLOURS: tuple[str, ...] = ("#4477AA", "#228833", "#CCBB44", "#AA3377", "#EE6677")
REASON_COLOURS: tuple[str, ...] = ("#CCBB44", "#EE6677", "#AA3377", "#4477AA", "#66CCEE", "#BBBBBB")
# Cost categories (rewards, discounts, contacts, service, admin, other): Tol's "bright" again, in
# an order that keeps neighbouring segments of a stacked bar apart.
COST_COLOURS: tuple[str, ...] = ("#EE6677", "#CCBB44", "#4477AA", "#228833", "#AA3377", "#BBBBBB")

WIDTH_PX = 640
HEIGHT_PX = 300
FACET_WIDTH_PX = 150
FACET_COLUMNS = (4, 3)  # panels to a row: whichever leaves fewest empty cells, 4 on a tie



def title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=subtitle or "", anchor="start", fontSize=17, subtitleFontSize=13)


def mean_ci_tooltip(
    lang: str, value_title: str, value_format: str, *between: alt.Tooltip
) -> list[alt.Tooltip]:
    """Tooltip of a mark drawn from :func:`sim.charts.frames.mean_ci` rows: the strategy, any
    ``between`` fields (the month, say), the mean and its 95% CI."""
    return [
        alt.Tooltip("strategy:N", title=label(lang, "strategy")),
        *between,
        alt.Tooltip("mean:Q", title=value_title, format=value_format),
        alt.Tooltip("ci_low:Q", title=label(lang, "ci_low"), format=value_format),
        alt.Tooltip("ci_high:Q", title=label(lang, "ci_high"), format=value_format),
    ]


def for_projector(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Type sizes that read from the back of a room (Vega-Lite's 10-11 px defaults do not)."""
    return (
        chart.configure_axis(labelFontSize=12, titleFontSize=13)
        .configure_legend(labelFontSize=12, titleFontSize=13)
        .configure_header(labelFontSize=13)
    )


@dataclass(frozen=True)
class StrategyColours:
    """The colour scale of a sweep's strategies and the legend selection that highlights one."""

    strategies: tuple[str, ...]
    baseline: str
    lang: str = "en"

    @property
    def domain(self) -> list[str]:
        return [self.baseline, *(s for s in self.strategies if s != self.baseline)]

    def scale(self) -> alt.Scale:
        others = len(self.domain) - 1
        palette = [STRATEGY_COLOURS[i % len(STRATEGY_COLOURS)] for i in range(others)]
        return alt.Scale(domain=self.domain, range=[BASELINE_COLOUR, *palette])

    def color(self, legend: bool = True) -> alt.Color:
        return alt.Color(
            "strategy:N",
            scale=self.scale(),
            title=label(self.lang, "strategy"),
            legend=alt.Legend(orient="right", labelLimit=220, symbolOpacity=1) if legend else None,
        )

    def selection(self) -> alt.Parameter:
        """Clicking a strategy in the legend highlights it in the chart (shift-click adds more)."""
        return alt.selection_point(fields=["strategy"], bind="legend")

    def panels(self, chart: alt.Chart, heading: alt.TitleParams) -> alt.FacetChart:
        """``chart`` drawn once per strategy, in the sweep's order, four or three panels to a row
        (three for 9 strategies: a 3 x 3 grid has no empty cells with stray axes)."""
        columns = min(FACET_COLUMNS, key=lambda c: (-len(self.domain) % c, -c))
        return (
            chart.properties(width=FACET_WIDTH_PX, height=FACET_WIDTH_PX)
            .facet(
                facet=alt.Facet(
                    "strategy:N", sort=self.domain, title=None, header=alt.Header(labelFontSize=12)
                ),
                columns=columns,
            )
            .properties(title=heading)
        )

    @staticmethod
    def opacity(selection: alt.Parameter, selected: float = 1.0, other: float = 0.15) -> alt.OpacityValue:
        return alt.condition(selection, alt.value(selected), alt.value(other))
