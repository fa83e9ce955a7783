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

from sim.errors import OptionError

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

LANGUAGES: tuple[str, ...] = ("en", "de")

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "strategy": "Strategy",
        "month": "Month",
        "replications": "Replications",
        "replication_count": "{n} replications",
        "replication_one": "one replication",
        "survival": "Initial customers still active",
        "survival_subtitle": "Mean over replications; the band is the 95% confidence interval",
        "churn": "Monthly churn rate",
        "churn_subtitle": "Share of active customers leaving each month, mean over replications",
        "cohort_loss": "Initial customers lost after {months} months",
        "cohort_loss_short": "Initial customers lost",
        "cohort_loss_subtitle": "Mean and 95% CI over replications; the black line is the "
        "baseline ({baseline})",
        "ci_low": "95% CI low",
        "ci_high": "95% CI high",
        "reason": "Exit reason",
        "churned": "Customers who left (mean per run)",
        "reasons_subtitle": "Everyone who left over the horizon, new customers included, "
        "by the reason they left",
        "loyalty_type": "Loyalty type",
        "share_active": "Share of active customers",
        "loyalty_subtitle": "Apostles and loyalists are satisfied and bonded; mercenaries stay for rewards",
        "bond": "Emotional bond",
        "rational_value": "Rational value (rewards, price)",
        "customers": "Customers (mean per run)",
        "plane_subtitle": "Active customers at month {months}, binned on a {bins} x {bins} grid; rational "
        "value: rewards and price advantage",
        "rational_value_axis": "Rational value",
        "program_cost": "Program cost over the horizon (EUR, mean per run)",
        "retained": "Initial customers retained",
        "cost_per_retained": "Cost per retained customer (EUR)",
        "cost_subtitle": "Up and to the left is efficient: more customers kept for less money",
        "grid_subtitle": "Mean and 95% CI over replications at each value of the swept parameter",
        "title_survival": "{best} keeps the most customers: {best_share} still active after {months} months"
        " ({baseline}: {baseline_share})",
        "title_churn": "Churn peaks at {peak} a month ({strategy}, month {month})",
        "title_loss": "{best} loses the fewest customers: {best_loss} vs {baseline_loss} for {baseline}",
        "title_loss_baseline": "No strategy beats the baseline {baseline}: it loses {baseline_loss}",
        "title_reasons": "{share} of those who leave {baseline} go for relationship or service reasons,"
        " {price} for price",
        "title_loyalty": "{best} ends with the most apostles and loyalists: {share} of its active customers",
        "title_plane": "{best} ends with the most bonded customers: {share} have a bond of 0.5 or more",
        "title_cost": "{best} keeps extra customers most cheaply: {eur} EUR "
        "per customer kept beyond {baseline}",
        "title_cost_none": "No strategy keeps more customers than {baseline}",
        "title_grid": "Initial customers lost across {parameter}",
        "title_grid_winner": "{best} loses the fewest customers at every {parameter}",
        "other_parameters": "Other grid parameters",
        "heading_report": "Workshop report",
        "heading_summary": "Summary",
        "heading_survival": "Survival of the initial customers",
        "heading_churn": "Monthly churn",
        "heading_cohort_loss": "Customer-base loss at the horizon",
        "heading_churn_reasons": "Why customers leave",
        "heading_loyalty_types": "Loyalty types over time",
        "heading_bond_value": "Bond and rational value at the horizon",
        "heading_cost_retained": "Cost against customers retained",
        "heading_grid": "Across the swept parameter",
        "heading_lifetime": "Customer lifetime",
        "heading_cost_split": "Program cost by category",
        "heading_economics": "Lifetime value and return on spend",
        "heading_claims": "Claims audit",
        "heading_sensitivity": "Which parameters matter",
        "summary_grid": "Every section shows the grid point {point}, except “Across the swept parameter”, "
        "which shows every grid point.",
        "title_cost_split": "{best} spends the most on its programs: {eur} EUR over {months} months, "
        "{share} of it on {category}",
        "cost_split_subtitle": "Mean per run, split by what the money paid for",
        "cost_category": "Cost category",
        "cost_eur": "Program cost over the horizon (EUR, mean per run)",
        "table_lifetime_median": "Median lifetime (months) [95% CI]",
        "table_retention_year": "Still active after year {year}",
        "table_sbg_alpha": "sBG \u03b1 \u00b1 SE",
        "table_sbg_beta": "sBG \u03b2 \u00b1 SE",
        "table_sbg_churn": "sBG mean yearly churn",
        "lifetime_note": "Kaplan-Meier estimate of the initial customers, pooled over replications. The "
        "median lifetime is the month by which half of them have left (“> {months}”: more than half are "
        "still active at the horizon). The shifted-beta-geometric (sBG) fit describes yearly churn that "
        "differs between customers: mean churn \u03b1/(\u03b1+\u03b2); “-” where retention does not "
        "rise with tenure and "
        "the fit has no finite answer.",
        "table_clv": "Lifetime value per initial customer (EUR) [95% CI]",
        "table_clv_diff": "vs {baseline} (EUR)",
        "table_program_cost": "Program cost (kEUR)",
        "table_exit_fees": "Exit fees (kEUR)",
        "table_points_liability": "Points liability (kEUR)",
        "table_return_on_spend": "Return per extra EUR [95% CI]",
        "economics_note": "Means over replications; the CI of a difference is paired by replication. "
        "Lifetime value: discounted profit of one initial customer over the horizon ({rate} a year). Points "
        "liability: unredeemed points at the end, a debt beyond the horizon. Return per extra EUR: extra "
        "profit per extra euro of program spend against the baseline {baseline}; -1 means the extra spend "
        "bought nothing, 0 that it paid for itself, 1 that it doubled; “-” where a strategy does not "
        "clearly spend more than the baseline. A strategy that spends only a little more can show a very "
        "large return: read it with the program cost.",
        "baseline_row": "baseline",
        "table_check": "Check",
        "table_statement": "Claim",
        "table_effect": "Effect measured per replication",
        "table_estimate": "Effect [95% CI]",
        "table_region": "Holds if",
        "table_verdict": "Verdict",
        "table_replications": "n",
        "verdict_holds": "holds",
        "verdict_fails": "fails",
        "verdict_inconclusive": "inconclusive",
        "claims_summary": "{holds} of {total} checks hold, {fails} fail, {inconclusive} inconclusive.",
        "claims_note": "A check holds when the 95% confidence interval of its effect lies inside the "
        "claimed region, fails when it lies entirely outside, and is inconclusive otherwise. Strategies of "
        "a check run on the same seeds (paired replications). From claims.parquet ({replications} "
        "replications).",
        "title_sensitivity": "{parameter} matters most for {output}",
        "sensitivity_subtitle": "{method}: bars are the indices, whiskers their 95% bootstrap intervals; "
        "{evaluations} model evaluations",
        "sensitivity_index": "Sensitivity index",
        "index": "Index",
        "output": "Output",
        "parameter": "Parameter",
        "value": "Value",
        "index_S1": "first order (S1)",
        "index_ST": "total (ST)",
        "index_mu_star": "mean |elementary effect| (\u03bc*)",
        "index_sigma": "spread of effects (\u03c3)",
        "heading_scenario": "Scenario",
        "heading_manifest": "Provenance",
        "summary": "Over {months} months ({replications} of {customers} customers), {best} kept "
        "the most customers: it lost {loss} of its initial customers, against {baseline_loss} for the "
        "baseline {baseline}. The paired difference is {diff} percentage points (mean [95% CI]).",
        "summary_clear": "The interval excludes zero: the advantage is not chance.",
        "summary_unclear": "The interval includes zero: more replications are needed to tell them apart.",
        "summary_baseline_best": "Over {months} months ({replications} of "
        "{customers} customers), no strategy kept more customers than the "
        "baseline {baseline}, which lost {baseline_loss} of its initial customers.",
        "legend_hint": "Click a strategy in a legend to highlight it (shift-click for more, double-click "
        "to reset); hover over a mark for its numbers.",
        "provenance": "Code version {code}; sweep {status}, finished {finished}.",
        "chart_error": "This chart could not be drawn:",
        "explore_heading": "What if? Loyalty programs against personal appreciation",
        "explore_intro": "Move a slider and release it: the model reruns {customers} customers over {months} "
        "months (one seed, the same customers for every strategy) and redraws the charts.",
        "explore_running": "simulating...",
        "explore_subtitle": "One run per strategy on seed {seed}: every strategy sees the same customers",
        "explore_took": "simulated in",
    },
    "de": {
        "strategy": "Strategie",
        "month": "Monat",
        "replications": "Wiederholungen",
        "replication_count": "{n} Wiederholungen",
        "replication_one": "eine Wiederholung",
        "survival": "Anfangskunden noch aktiv",
        "survival_subtitle": "Mittelwert über Wiederholungen; das Band ist das 95-%-Konfidenzintervall",
        "churn": "Monatliche Abwanderungsrate",
        "churn_subtitle": "Anteil der aktiven Kunden, die im Monat gehen, Mittelwert über Wiederholungen",
        "cohort_loss": "Verlorene Anfangskunden nach {months} Monaten",
        "cohort_loss_short": "Verlorene Anfangskunden",
        "cohort_loss_subtitle": "Mittelwert und 95-%-KI über Wiederholungen; die schwarze Linie ist die "
        "Vergleichsbasis ({baseline})",
        "ci_low": "95-%-KI unten",
        "ci_high": "95-%-KI oben",
        "reason": "Abwanderungsgrund",
        "churned": "Abgewanderte Kunden (Mittel je Lauf)",
        "reasons_subtitle": "Alle, die im Zeitraum gingen, auch Neukunden, nach dem Grund ihres Wechsels",
        "loyalty_type": "Loyalitätstyp",
        "share_active": "Anteil aktiver Kunden",
        "loyalty_subtitle": "Apostel und Loyale sind zufrieden und gebunden; Söldner bleiben wegen Prämien",
        "bond": "Emotionale Bindung",
        "rational_value": "Rationaler Nutzen (Prämien, Preis)",
        "customers": "Kunden (Mittel je Lauf)",
        "plane_subtitle": "Aktive Kunden in Monat {months}, auf einem {bins}x{bins}-Raster gezählt; "
        "rationaler Nutzen: Prämien und Preisvorteil",
        "rational_value_axis": "Rationaler Nutzen",
        "program_cost": "Programmkosten im Zeitraum (EUR, Mittel je Lauf)",
        "retained": "Gehaltene Anfangskunden",
        "cost_per_retained": "Kosten je gehaltenem Kunden (EUR)",
        "cost_subtitle": "Oben links ist effizient: mehr Kunden gehalten für weniger Geld",
        "grid_subtitle": "Mittelwert und 95-%-KI über Wiederholungen je Wert des variierten Parameters",
        "title_survival": "{best} hält die meisten Kunden: {best_share} nach {months} Monaten noch aktiv"
        " ({baseline}: {baseline_share})",
        "title_churn": "Die Abwanderung erreicht {peak} im Monat ({strategy}, Monat {month})",
        "title_loss": "{best} verliert die wenigsten Kunden: {best_loss} statt "
        "{baseline_loss} bei {baseline}",
        "title_loss_baseline": "Keine Strategie schlägt die Vergleichsbasis {baseline}: "
        "sie verliert {baseline_loss}",
        "title_reasons": "{share} der Abwanderer bei {baseline} gehen wegen Beziehung oder Service,"
        " {price} wegen des Preises",
        "title_loyalty": "{best} endet mit den meisten Aposteln und Loyalen: {share} der aktiven Kunden",
        "title_plane": "{best} endet mit den meisten gebundenen Kunden: {share} mit Bindung ab 0,5",
        "title_cost": "{best} hält zusätzliche Kunden am günstigsten: {eur} EUR je Kunde "
        "mehr als bei {baseline}",
        "title_cost_none": "Keine Strategie hält mehr Kunden als {baseline}",
        "title_grid": "Verlorene Anfangskunden über {parameter}",
        "title_grid_winner": "{best} verliert bei jedem Wert von {parameter} die wenigsten Kunden",
        "other_parameters": "Weitere Rasterparameter",
        "heading_report": "Workshop-Bericht",
        "heading_summary": "Zusammenfassung",
        "heading_survival": "Verbleib der Anfangskunden",
        "heading_churn": "Monatliche Abwanderung",
        "heading_cohort_loss": "Kundenverlust am Ende des Zeitraums",
        "heading_churn_reasons": "Warum Kunden gehen",
        "heading_loyalty_types": "Loyalitätstypen im Zeitverlauf",
        "heading_bond_value": "Bindung und rationaler Nutzen am Ende",
        "heading_cost_retained": "Kosten gegen gehaltene Kunden",
        "heading_grid": "Über den variierten Parameter",
        "heading_lifetime": "Kundenlebensdauer",
        "heading_cost_split": "Programmkosten nach Art",
        "heading_economics": "Kundenwert und Rendite der Ausgaben",
        "heading_claims": "Prüfung der Behauptungen",
        "heading_sensitivity": "Welche Parameter zählen",
        "summary_grid": "Jeder Abschnitt zeigt den Rasterpunkt {point}, außer „Über den variierten "
        "Parameter“, der alle Rasterpunkte zeigt.",
        "title_cost_split": "{best} gibt am meisten für Programme aus: {eur} EUR in {months} Monaten, davon "
        "{share} für {category}",
        "cost_split_subtitle": "Mittel je Lauf, aufgeteilt danach, wofür das Geld ausgegeben wurde",
        "cost_category": "Kostenart",
        "cost_eur": "Programmkosten im Zeitraum (EUR, Mittel je Lauf)",
        "table_lifetime_median": "Median der Lebens\u00addauer (Monate) [95-%-KI]",
        "table_retention_year": "Nach Jahr {year} noch aktiv",
        "table_sbg_alpha": "sBG \u03b1 \u00b1 SF",
        "table_sbg_beta": "sBG \u03b2 \u00b1 SF",
        "table_sbg_churn": "sBG mittlere jährliche Abwan\u00adderung",
        "lifetime_note": "Kaplan-Meier-Schätzung für die Anfangskunden, über Wiederholungen gepoolt. Der "
        "Median der Lebensdauer ist der Monat, bis zu dem die Hälfte gegangen ist („> {months}“: mehr als "
        "die Hälfte ist am Ende noch aktiv). Die Shifted-Beta-Geometric-Anpassung (sBG) beschreibt "
        "jährliche Abwanderung, die zwischen Kunden schwankt: Mittel \u03b1/(\u03b1+\u03b2); „-“, wo "
        "die Bindungsrate "
        "nicht mit der Kundendauer steigt und die Anpassung keinen endlichen Wert hat.",
        "table_clv": "Kunden\u00adwert je Anfangs\u00adkunde (EUR) [95-%-KI]",
        "table_clv_diff": "gegen {baseline} (EUR)",
        "table_program_cost": "Programm\u00adkosten (Tsd. EUR)",
        "table_exit_fees": "Ablöse\u00adgebühren (Tsd. EUR)",
        "table_points_liability": "Offene Punkte (Tsd. EUR)",
        "table_return_on_spend": "Ertrag je Euro Mehr\u00adausgabe [95-%-KI]",
        "economics_note": "Mittelwerte über Wiederholungen; das KI eines Unterschieds ist je Wiederholung "
        "gepaart. Kundenwert: abgezinster Gewinn eines Anfangskunden im Zeitraum ({rate} pro Jahr). Offene "
        "Punkte: am Ende nicht eingelöste Punkte, eine Schuld über den Zeitraum hinaus. Ertrag je Euro "
        "Mehrausgabe: zusätzlicher Gewinn je zusätzlichem Euro Programmkosten gegenüber der Vergleichsbasis "
        "{baseline}; -1 heißt, die Mehrausgabe brachte nichts, 0, dass sie sich bezahlt machte, 1, dass sie "
        "sich verdoppelte; „-“, wo eine Strategie nicht klar mehr ausgibt als die Vergleichsbasis. Wer nur "
        "wenig mehr ausgibt, kann einen sehr großen Ertrag zeigen: zusammen mit den Programmkosten lesen.",
        "baseline_row": "Vergleichsbasis",
        "table_check": "Prüfung",
        "table_statement": "Behauptung",
        "table_effect": "Gemessener Effekt je Wiederholung",
        "table_estimate": "Effekt [95-%-KI]",
        "table_region": "Gilt, wenn",
        "table_verdict": "Urteil",
        "table_replications": "n",
        "verdict_holds": "gilt",
        "verdict_fails": "widerlegt",
        "verdict_inconclusive": "offen",
        "claims_summary": "{holds} von {total} Prüfungen gelten, {fails} widerlegt, {inconclusive} offen.",
        "claims_note": "Eine Prüfung gilt, wenn das 95-%-Konfidenzintervall ihres Effekts ganz im "
        "behaupteten Bereich liegt, ist widerlegt, wenn es ganz außerhalb liegt, und sonst offen. Die "
        "Strategien einer Prüfung laufen mit denselben Startwerten (gepaarte Wiederholungen). Aus "
        "claims.parquet ({replications} Wiederholungen); Behauptungen und Effekte im englischen Wortlaut "
        "des Audits.",
        "title_sensitivity": "{parameter} bestimmt {output} am stärksten",
        "sensitivity_subtitle": "{method}: Balken sind die Indizes, Striche ihre 95-%-Bootstrap-Intervalle; "
        "{evaluations} Modellläufe",
        "sensitivity_index": "Sensitivitätsindex",
        "index": "Index",
        "output": "Ergebnisgröße",
        "parameter": "Parameter",
        "value": "Wert",
        "index_S1": "erster Ordnung (S1)",
        "index_ST": "gesamt (ST)",
        "index_mu_star": "mittlerer |Elementareffekt| (\u03bc*)",
        "index_sigma": "Streuung der Effekte (\u03c3)",
        "heading_scenario": "Szenario",
        "heading_manifest": "Herkunft",
        "summary": "Über {months} Monate ({replications} mit je "
        "{customers} Kunden) hielt {best} die meisten Kunden: Es verlor {loss} seiner "
        "Anfangskunden, die Vergleichsbasis {baseline} {baseline_loss}. Der gepaarte Unterschied "
        "beträgt {diff} Prozentpunkte (Mittelwert [95-%-KI]).",
        "summary_clear": "Das Intervall schließt null aus: Der Vorsprung ist kein Zufall.",
        "summary_unclear": "Das Intervall schließt null ein: Für eine Entscheidung braucht es "
        "mehr Wiederholungen.",
        "summary_baseline_best": "Über {months} Monate ({replications} mit je "
        "{customers} Kunden) hielt keine Strategie mehr Kunden als die "
        "Vergleichsbasis {baseline}; sie verlor {baseline_loss} ihrer Anfangskunden.",
        "legend_hint": "Klicken Sie in einer Legende auf eine Strategie, um sie hervorzuheben "
        "(Umschalt-Klick für mehrere, Doppelklick zum Zurücksetzen); "
        "Zahlen erscheinen beim Überfahren mit der Maus.",
        "provenance": "Code-Version {code}; Lauf {status}, beendet {finished}.",
        "chart_error": "Diese Grafik konnte nicht gezeichnet werden:",
        "explore_heading": "Was wäre, wenn? Bonusprogramme gegen persönliche Wertschätzung",
        "explore_intro": "Schieberegler bewegen und loslassen: Das Modell rechnet {customers} Kunden über "
        "{months} Monate neu (ein Startwert, für jede Strategie dieselben Kunden) und zeichnet die "
        "Grafiken neu.",
        "explore_running": "rechnet...",
        "explore_subtitle": "Ein Lauf je Strategie mit Startwert {seed}: jede Strategie hat dieselben Kunden",
        "explore_took": "gerechnet in",
    },
}

REASON_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "price": "price",
        "service": "service",
        "relationship": "relationship",
        "contract_end": "contract end",
        "resentment": "resentment",
        "background": "life events",
    },
    "de": {
        "price": "Preis",
        "service": "Service",
        "relationship": "Beziehung",
        "contract_end": "Vertragsende",
        "resentment": "Unmut",
        "background": "Lebensumstände",
    },
}

LOYALTY_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "apostle": "apostle",
        "loyalist": "loyalist",
        "mercenary": "mercenary",
        "hostage": "hostage",
        "at_risk": "at risk",
    },
    "de": {
        "apostle": "Apostel",
        "loyalist": "Loyaler",
        "mercenary": "Söldner",
        "hostage": "Geisel",
        "at_risk": "gefährdet",
    },
}

COST_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "rewards": "rewards",
        "discounts": "discounts",
        "contacts": "contacts",
        "service": "service",
        "admin": "administration",
        "other": "other",
    },
    "de": {
        "rewards": "Prämien",
        "discounts": "Rabatte",
        "contacts": "Kontakte",
        "service": "Service",
        "admin": "Verwaltung",
        "other": "Sonstiges",
    },
}

# d3-format locales, for vega-embed in the page and for vl-convert's PNG/SVG.
FORMAT_LOCALES: dict[str, str] = {"en": "en-US", "de": "de-DE"}


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise OptionError(f"--lang: expected one of {', '.join(LANGUAGES)}, got '{lang}'")
    return lang


def label(lang: str, key: str, **values: object) -> str:
    """The text of ``key`` in ``lang``, with ``values`` filled in."""
    return _LABELS[check_language(lang)][key].format(**values)


def percent(share: float, lang: str, digits: int = 0) -> str:
    """``0.384`` as ``38%`` (``38 %`` in German, with a decimal comma)."""
    text = f"{share * 100:.{digits}f}"
    return f"{text}%" if lang == "en" else f"{text.replace('.', ',')} %"


def number(value: float, lang: str, digits: int = 0) -> str:
    text = f"{value:,.{digits}f}"
    return text if lang == "en" else text.replace(",", "_").replace(".", ",").replace("_", ".")


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
