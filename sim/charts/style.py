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
import polars as pl

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
# a projector; then Paul Tol's wine, indigo, olive, brown and green and a grey for sweeps with more than
# seven other strategies. Chosen (and tested) so that every pair of the first nine strategies stays
# at least 15 CIELAB units apart, and all thirteen colours at least 9, under simulated protanopia,
# deuteranopia and tritanopia (Machado, Oliveira & Fernandes 2009); Tol's teal, the earlier ninth
# colour, was 4 units from the reddish purple for deuteranopes and hard to tell from the green.
# Pairs that stay close (the two blues, reddish purple and wine) are told apart in the report by
# the names written at the end of each line, not by colour alone.
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
# One colour meaning per concept across the report: hues mean strategies, and only strategies.
# Categories that are not strategies (exit reasons, cost categories, sensitivity indices) are
# shades of grey, darkest first, and carry their names as text on the marks.
GREYS: tuple[str, ...] = ("#252525", "#525252", "#737373", "#969696", "#bdbdbd", "#d9d9d9")

# Size of the PNG and SVG images (CSS pixels; PNGs at twice that). In report.html a chart fills
# the width and height of the screen instead (``sim.report``).
WIDTH_PX = 1200
HEIGHT_PX = 600
# Type sizes that read from the back of a room: at least 20 px on a 1080p projector.
FONT_PX = 20
TITLE_PX = 30
SUBTITLE_PX = 22



# Mean width of a character of the charts' sans-serif type, as a share of its size (DejaVu Sans
# and Helvetica average about 0.55; a little more, so a label that is drawn surely fits).
CHARACTER_WIDTH_EM = 0.62


def fits_segment(text: str, left: str, right: str, font_px: float) -> str:
    """A Vega expression: the label in field ``text`` fits within its bar segment, from field
    ``left`` to ``right`` on the x scale, as drawn now. The report sizes charts to the screen,
    so whether a label fits is decided in pixels where it is drawn, not by a share of the bar."""
    return (
        f"abs(scale('x', datum.{right}) - scale('x', datum.{left})) >= "
        f"length(datum.{text}) * {CHARACTER_WIDTH_EM * font_px} + {font_px / 2}"
    )


def title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    return alt.TitleParams(
        text, subtitle=subtitle or "", anchor="start", fontSize=TITLE_PX, subtitleFontSize=SUBTITLE_PX,
        limit=0, subtitleColor="#333333",
    )


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
        chart.configure_axis(labelFontSize=FONT_PX, titleFontSize=FONT_PX + 2, titleFontWeight="normal",
                             labelColor="#1a1a1a", titleColor="#1a1a1a", gridColor="#e4e4e4")
        .configure_legend(labelFontSize=FONT_PX, titleFontSize=FONT_PX, symbolSize=300, labelLimit=0)
        .configure_axisQuantitative(tickCount=8)  # a tick per 40 px is too many numbers on a wide screen
        .configure_header(labelFontSize=FONT_PX, titleFontSize=FONT_PX)
        .configure_view(stroke=None)
    )


@dataclass(frozen=True)
class StrategyColours:
    """The colours and order of a sweep's strategies, and the legend selection that highlights one.

    ``strategies`` is the file order, which fixes each strategy's colour for good (the baseline
    is black); ``order`` is the result order (fewest customers lost first), which legends, rows
    and labels follow. Strategies are named as people read them (``sim.i18n.display_name``).
    """

    strategies: tuple[str, ...]
    baseline: str
    lang: str = "en"
    order: tuple[str, ...] = ()

    @property
    def domain(self) -> list[str]:
        if self.order:
            return list(self.order)
        return [self.baseline, *(s for s in self.strategies if s != self.baseline)]

    def colour_of(self, strategy: str) -> str:
        if strategy == self.baseline:
            return BASELINE_COLOUR
        others = [s for s in self.strategies if s != self.baseline]
        index = others.index(strategy) if strategy in others else len(others)
        return STRATEGY_COLOURS[index % len(STRATEGY_COLOURS)]

    def scale(self) -> alt.Scale:
        return alt.Scale(domain=self.domain, range=[self.colour_of(s) for s in self.domain])

    def color(self, legend: bool = False) -> alt.Color:
        """Colour by strategy; no legend by default: the charts name strategies on the marks."""
        return alt.Color(
            "strategy:N",
            scale=self.scale(),
            title=label(self.lang, "strategy"),
            legend=alt.Legend(orient="right", symbolOpacity=1) if legend else None,
        )

    def selection(self) -> alt.Parameter:
        """Clicking a strategy's line or label highlights it (shift-click adds more)."""
        return alt.selection_point(fields=["strategy"], on="click", clear="dblclick")

    def end_labels(
        self,
        frame: pl.DataFrame,
        x: str,
        y: str,
        low: float,
        high: float,
        selection: alt.Parameter | None = None,
    ) -> alt.Chart:
        """The strategy's name at the right end of each line (instead of a legend), in its colour,
        moved apart where lines end close together. ``low``/``high``: the y axis' range.

        The labels are moved apart where they are drawn, from the plot's height then (Vega's
        ``height`` signal): the report and the explorer size charts to the screen, so a gap fixed
        in advance overlaps on a short screen. Each label goes as near its line's end as the
        others allow: with labels sorted by where their lines end (rank ``k``), pushing each up
        to ``gap`` above the one below is a running maximum of ``end - k * gap``; the push down
        from the axis' top and the lift to its bottom follow in closed form.
        """
        ends = frame.sort(x).group_by("strategy", maintain_order=True).last()
        ends = ends.select("strategy", pl.col(x).alias("x"), pl.col(y).alias("end"))
        gap = f"({high - low} * {FONT_PX * 1.15} / height)"
        text = (
            alt.Chart(ends)
            .transform_window(rank="row_number()", sort=[alt.SortField("end")])
            .transform_joinaggregate(labels="count()")
            .transform_calculate(rise=f"datum.end - (datum.rank - 1) * {gap}")
            .transform_window(highest_rise="max(rise)", sort=[alt.SortField("rank")], frame=[None, 0])
            .transform_calculate(
                pushed=f"min((datum.rank - 1) * {gap} + datum.highest_rise,"
                f" {high} - (datum.labels - datum.rank) * {gap})"
            )
            .transform_joinaggregate(bottom="min(pushed)", top="max(pushed)")
            .transform_calculate(
                label_y=f"datum.bottom < {low} && datum.top + {low} - datum.bottom <= {high}"
                f" ? datum.pushed + {low} - datum.bottom : datum.pushed"
            )
            .mark_text(align="left", dx=10, fontSize=FONT_PX, fontWeight="bold", baseline="middle")
            .encode(x="x:Q", y="label_y:Q", text="strategy:N", color=self.color())
        )
        if selection is not None:
            text = text.encode(opacity=self.opacity(selection))
        return text

    def faint(self, frame: pl.DataFrame, x: alt.X, y: alt.Y) -> alt.Chart:
        """An earlier run's lines, thin, dashed and faint, behind the current ones."""
        return (
            alt.Chart(frame)
            .mark_line(strokeWidth=2, strokeDash=[6, 4], opacity=0.35, clip=True)
            .encode(x=x, y=y, color=self.color(), detail="strategy:N")
        )

    @staticmethod
    def opacity(selection: alt.Parameter, selected: float = 1.0, other: float = 0.15) -> alt.OpacityValue:
        return alt.condition(selection, alt.value(selected), alt.value(other))
