"""Words and numbers of the report, the CLI and explore, in English and German.

Labels, the names of exit reasons, loyalty types and cost categories, number formats, and the
display names of strategies and programs, and a strategy's programs and settings in one line
(:func:`strategy_words`). Plain Python with no plotting import, so the CLI's
tables can use it without loading Altair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sim.errors import OptionError

LANGUAGES: tuple[str, ...] = ("en", "de")

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "strategy": "Strategy",
        "month": "Month",
        "replications": "Replications",
        "replication_count": "{n} replications",
        "replication_one": "one replication",
        "survival": "Initial customers still active",
        "survival_subtitle": "Mean over replications; the 95% confidence band around each line is "
        "at most ±{half} wide, often thinner than the line",
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
        "loyalty_subtitle": "Share of active customers who are apostles or loyalists: satisfied and "
        "emotionally bonded (mercenaries, who stay for rewards, are not counted)",
        "bonded_share": "Apostles and loyalists",
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
        "heading_loyalty_types": "Apostles and loyalists over time",
        "heading_cost_retained": "Cost against customers retained",
        "heading_grid": "Across the swept parameter",
        "heading_plugin_metrics": "Monthly results of the plugins",
        "heading_paired": "Paired variants",
        "title_paired": "{outcome}: each variant against {reference}",
        "paired_subtitle": "Every variant runs on the same seeds and customers: mean and 95% CI of the "
        "per-replication difference",
        "paired_axis": "{outcome}, difference to the reference",
        "metric_subtitle": "Mean over replications with its 95% confidence band",
        "heading_lifetime": "Customer lifetime",
        "heading_cost_split": "Program cost by category",
        "heading_economics": "Lifetime value and return on spend",
        "heading_claims": "Claims audit",
        "heading_sensitivity": "Which parameters matter",
        "heading_decision": "What should we do",
        "decision_recommended": "Recommended: {name}: {what}.",
        "decision_objective": "{meaning}: {value} {unit} (mean [95% CI]), {diff} {unit} against {baseline} "
        "on the same customers.",
        "decision_cost": "Its programs cost {cost} EUR over {months} months{within}.",
        "decision_within": ", within the budget of {budget} EUR",
        "decision_may_overrun": "; the budget is {budget} EUR, inside its interval: it may overrun",
        "decision_over": ", above the budget of {budget} EUR on fresh runs",
        "decision_search": "It was the best of {candidates} candidates ({feasible} within budget) searched "
        "on {replications} shared seeds; the figures above come from {fresh} fresh runs the search never "
        "saw, so they are not flattered by the search.",
        "decision_meets": "Across {markets} markets sampled from the uncertainty ranges, {name} meets the "
        "targets ({targets}) in {met} of them.",
        "decision_best_in": "Across {markets} markets sampled from the uncertainty ranges, {name} is the "
        "best strategy in {count} of them.",
        "decision_no_regret": "It is the best of the strategies tested in every one of them (no regret).",
        "decision_regret": "Its regret (the {objective} it gives up against the best strategy of each "
        "market) is at most {most} {unit}, and {p90} {unit} or less in 9 markets of 10.",
        "decision_fails_where": "It falls short mostly where {where}.",
        "decision_fails_anywhere": "Where it falls short follows no simple rule over the ranges.",
        "decision_fails_everywhere": "It falls short in every market sampled.",
        "decision_at_most": "{objective} at most {value} {unit}",
        "decision_at_least": "{objective} at least {value} {unit}",
        "decision_and": " and ",
        "meaning_clv": "Discounted lifetime value per initial customer over the horizon",
        "meaning_margin": "Margin over the horizon, program cost deducted",
        "meaning_retained": "Initial customers still active at the horizon",
        "meaning_cost": "Program cost over the horizon",
        "objective_clv": "lifetime value",
        "objective_margin": "margin",
        "objective_retained": "customers retained",
        "objective_cost": "program cost",
        "unit_customers": "customers",
        "heading_robustness": "How the strategies hold up in uncertain markets",
        "title_robustness": "{best} meets the targets in {count} of {markets} possible markets",
        "title_robustness_best": "{best} is the best strategy in {count} of {markets} possible markets",
        "robustness_subtitle": "Markets sampled across the uncertainty ranges ({ranges}); bar: share of "
        "markets where the strategy meets every target; label: its regret in 9 of 10 markets",
        "robustness_axis": "Share of possible markets",
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
        "table_return_on_spend": "Return on extra spend [95% CI]",
        "economics_note": "Means over replications; the CI of a difference is paired by replication. "
        "Lifetime value: discounted profit of one initial customer over the horizon ({rate} a year). Points "
        "liability: unredeemed points at the end, a debt beyond the horizon. Return on extra spend: extra "
        "profit per extra euro of program spend against the baseline {baseline}, in %: -100% means the extra "
        "spend bought nothing, 0% that it paid for itself, +100% that it doubled. “n/a” where a strategy "
        "does not clearly spend more than the baseline, or spends less than 1% of the baseline's gross "
        "margin more (a ratio over almost nothing means nothing).",
        "baseline_row": "baseline",
        "table_check": "Check",
        "table_statement": "Claim",
        "table_effect": "Effect measured per replication",
        "table_estimate": "Effect [95% CI]",
        "table_region": "Holds if (minimum effect)",
        "table_source": "Minimum from",
        "table_control": "Control (must fail)",
        "control_not_run": "not run",
        "table_verdict": "Verdict",
        "table_replications": "n",
        "verdict_holds": "holds",
        "verdict_fails": "fails",
        "verdict_inconclusive": "inconclusive",
        "claims_summary": "{holds} of {total} checks hold, {fails} fail, {inconclusive} inconclusive.",
        "claims_note": "A check holds when the 95% confidence interval of its effect lies inside the "
        "claimed region, whose bounds are minimum effects, fails when it lies entirely outside, and is "
        "inconclusive otherwise. Each control repeats the check without the claimed mechanism (or in a "
        "market where the claim should not hold) and must fail. Strategies of "
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
        "churn_capped": "{subtitle}; the axis stops at {cap}: months above it are marked \u25b2 "
        "with their value",
        "ros_tiny": "n/a (spends < 1% more)",
        "ros_none": "n/a (no extra spend)",
        "ros_one_run": "n/a (one run)",
        "summary_money": "In money: {best} spent {extra} kEUR more on its programs than {baseline}; its "
        "lifetime value per initial customer is {clv} EUR against {baseline_clv} EUR (return on the extra "
        "spend: {ros}).",
        "summary_money_same": "It also has the highest lifetime value per initial customer.",
        "summary_money_top": "The highest lifetime value per initial customer is {top}\u2019s: {clv} EUR, "
        "though it lost {loss} of its initial customers.",
        "heading_strategies": "The strategies",
        "table_description": "What it does",
        "table_code": "Name in the scenario",
        "strategies_note": "In the order of the results: fewest initial customers lost first. Each strategy "
        "keeps its colour in every chart; the baseline is black.",
        "analysis_other_scenario": "Careful: {file} was made for another scenario (sha256 {hash}\u2026), not "
        "the one of these runs ({own}\u2026). Run the analysis again with this scenario file and --out.",
        "analysis_unstamped": "Careful: {file} does not say which scenario it analysed (the default "
        "market, or "
        "written by an older version); these runs are of scenario {own}\u2026.",
        "legend_hint": "Presenting: \u2192 or space for the next screen, \u2190 for the previous one, f for "
        "full screen. Click a line or a name to highlight it (double-click to reset); hover over a mark for "
        "its numbers.",
        "provenance": "Code version {code}; sweep {status}, finished {finished}.",
        "chart_error": "This chart could not be drawn:",
        "explore_heading": "What if? Loyalty programs against personal appreciation",
        "explore_intro": "Move a slider: once it rests, the model reruns {customers} customers over {months} "
        "months (one seed, the same customers for every strategy) and redraws the charts; the previous "
        "run stays as faint dashed lines.",
        "explore_running": "simulating...",
        "explore_subtitle": "One run per strategy on seed {seed}: every strategy sees the same customers",
        "explore_took": "simulated in",
        "explore_change": "Change",
        "explore_reset": "Reset to the scenario's values",
    },
    "de": {
        "strategy": "Strategie",
        "month": "Monat",
        "replications": "Wiederholungen",
        "replication_count": "{n} Wiederholungen",
        "replication_one": "eine Wiederholung",
        "survival": "Anfangskunden noch aktiv",
        "survival_subtitle": "Mittelwert über Wiederholungen; das 95-%-Konfidenzband um jede Linie "
        "ist höchstens ±{half} breit, oft schmaler als die Linie",
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
        "loyalty_subtitle": "Anteil der aktiven Kunden, die Apostel oder Loyale sind: zufrieden und "
        "emotional gebunden (Söldner, die wegen Prämien bleiben, zählen nicht)",
        "bonded_share": "Apostel und Loyale",
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
        "heading_loyalty_types": "Apostel und Loyale im Zeitverlauf",
        "heading_cost_retained": "Kosten gegen gehaltene Kunden",
        "heading_grid": "Über den variierten Parameter",
        "heading_plugin_metrics": "Monatliche Ergebnisse der Plug-ins",
        "heading_paired": "Gepaarte Varianten",
        "title_paired": "{outcome}: jede Variante gegen {reference}",
        "paired_subtitle": "Alle Varianten laufen mit denselben Seeds und Kunden: Mittel und 95-%-KI der "
        "Differenz je Replikation",
        "paired_axis": "{outcome}, Differenz zur Referenz",
        "metric_subtitle": "Mittel über Replikationen mit 95-%-Konfidenzband",
        "heading_lifetime": "Kundenlebensdauer",
        "heading_cost_split": "Programmkosten nach Art",
        "heading_economics": "Kundenwert und Rendite der Ausgaben",
        "heading_claims": "Prüfung der Behauptungen",
        "heading_sensitivity": "Welche Parameter zählen",
        "heading_decision": "Was sollen wir tun",
        "decision_recommended": "Empfehlung: {name}: {what}.",
        "decision_objective": "{meaning}: {value} {unit} (Mittel [95%-KI]), {diff} {unit} gegenüber "
        "{baseline} bei denselben Kunden.",
        "decision_cost": "Ihre Programme kosten {cost} EUR über {months} Monate{within}.",
        "decision_within": ", innerhalb des Budgets von {budget} EUR",
        "decision_may_overrun": "; das Budget von {budget} EUR liegt in ihrem Intervall: es kann "
        "überschritten werden",
        "decision_over": ", in frischen Läufen über dem Budget von {budget} EUR",
        "decision_search": "Sie war die beste von {candidates} Kandidaten ({feasible} im Budget), gesucht "
        "auf {replications} gemeinsamen Startwerten; die Zahlen oben stammen aus {fresh} frischen Läufen, "
        "die die Suche nie gesehen hat, und sind daher nicht von der Suche geschönt.",
        "decision_meets": "In {markets} aus den Unsicherheitsbereichen gezogenen Märkten erreicht {name} "
        "die Ziele ({targets}) in {met} davon.",
        "decision_best_in": "In {markets} aus den Unsicherheitsbereichen gezogenen Märkten ist {name} in "
        "{count} davon die beste Strategie.",
        "decision_no_regret": "Sie ist in jedem davon die beste der getesteten Strategien (kein Bedauern).",
        "decision_regret": "Ihr Bedauern (was sie an {objective} gegenüber der besten Strategie des "
        "jeweiligen Marktes aufgibt) beträgt höchstens {most} {unit}, in 9 von 10 Märkten {p90} {unit} "
        "oder weniger.",
        "decision_fails_where": "Sie verfehlt die Ziele vor allem, wo {where}.",
        "decision_fails_anywhere": "Wo sie die Ziele verfehlt, folgt keiner einfachen Regel über die "
        "Bereiche.",
        "decision_fails_everywhere": "Sie verfehlt die Ziele in jedem gezogenen Markt.",
        "decision_at_most": "{objective} höchstens {value} {unit}",
        "decision_at_least": "{objective} mindestens {value} {unit}",
        "decision_and": " und ",
        "meaning_clv": "Diskontierter Kundenwert je Anfangskunde über den Horizont",
        "meaning_margin": "Marge über den Horizont, nach Programmkosten",
        "meaning_retained": "Anfangskunden, die am Horizont noch aktiv sind",
        "meaning_cost": "Programmkosten über den Horizont",
        "objective_clv": "Kundenwert",
        "objective_margin": "Marge",
        "objective_retained": "gehaltene Kunden",
        "objective_cost": "Programmkosten",
        "unit_customers": "Kunden",
        "heading_robustness": "Wie die Strategien in unsicheren Märkten bestehen",
        "title_robustness": "{best} erreicht die Ziele in {count} von {markets} möglichen Märkten",
        "title_robustness_best": "{best} ist in {count} von {markets} möglichen Märkten die beste Strategie",
        "robustness_subtitle": "Märkte aus den Unsicherheitsbereichen gezogen ({ranges}); Balken: Anteil der "
        "Märkte, in denen die Strategie jedes Ziel erreicht; Beschriftung: ihr Bedauern in 9 von 10 Märkten",
        "robustness_axis": "Anteil der möglichen Märkte",
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
        "table_return_on_spend": "Ertrag der Mehr\u00adausgabe [95-%-KI]",
        "economics_note": "Mittelwerte über Wiederholungen; das KI eines Unterschieds ist je Wiederholung "
        "gepaart. Kundenwert: abgezinster Gewinn eines Anfangskunden im Zeitraum ({rate} pro Jahr). Offene "
        "Punkte: am Ende nicht eingelöste Punkte, eine Schuld über den Zeitraum hinaus. Ertrag der "
        "Mehrausgabe: zusätzlicher Gewinn je zusätzlichem Euro Programmkosten gegenüber der Vergleichsbasis "
        "{baseline}, in %: -100 % heißt, die Mehrausgabe brachte nichts, 0 %, dass sie sich bezahlt machte, "
        "+100 %, dass sie sich verdoppelte. „k. A.“, wo eine Strategie nicht klar mehr ausgibt oder weniger "
        "als 1 % der Bruttomarge der Vergleichsbasis mehr (ein Verhältnis zu fast nichts sagt nichts).",
        "baseline_row": "Vergleichsbasis",
        "table_check": "Prüfung",
        "table_statement": "Behauptung",
        "table_effect": "Gemessener Effekt je Wiederholung",
        "table_estimate": "Effekt [95-%-KI]",
        "table_region": "Gilt, wenn (Mindesteffekt)",
        "table_source": "Mindesteffekt nach",
        "table_control": "Kontrolle (muss scheitern)",
        "control_not_run": "nicht gerechnet",
        "table_verdict": "Urteil",
        "table_replications": "n",
        "verdict_holds": "gilt",
        "verdict_fails": "widerlegt",
        "verdict_inconclusive": "offen",
        "claims_summary": "{holds} von {total} Prüfungen gelten, {fails} widerlegt, {inconclusive} offen.",
        "claims_note": "Eine Prüfung gilt, wenn das 95-%-Konfidenzintervall ihres Effekts ganz im "
        "behaupteten Bereich liegt (seine Grenzen sind Mindesteffekte), ist widerlegt, wenn es ganz "
        "außerhalb liegt, und sonst offen. Jede Kontrolle wiederholt die Prüfung ohne den behaupteten "
        "Mechanismus (oder in einem Markt, in dem die Behauptung nicht gelten soll) und muss scheitern. Die "
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
        "churn_capped": "{subtitle}; die Achse endet bei {cap}: Monate darüber sind mit \u25b2 und "
        "ihrem Wert "
        "markiert",
        "ros_tiny": "k. A. (< 1 % Mehrausgabe)",
        "ros_none": "k. A. (keine Mehrausgabe)",
        "ros_one_run": "k. A. (ein Lauf)",
        "summary_money": "In Geld: {best} gab {extra} Tsd. EUR mehr für Programme aus als {baseline}; der "
        "Kundenwert je Anfangskunde beträgt {clv} EUR gegenüber {baseline_clv} EUR (Ertrag der Mehrausgabe: "
        "{ros}).",
        "summary_money_same": "Es hat auch den höchsten Kundenwert je Anfangskunde.",
        "summary_money_top": "Den höchsten Kundenwert je Anfangskunde hat {top}: {clv} EUR, obwohl "
        "dort {loss} "
        "der Anfangskunden verloren gingen.",
        "heading_strategies": "Die Strategien",
        "table_description": "Was sie tut",
        "table_code": "Name im Szenario",
        "strategies_note": "In der Reihenfolge der Ergebnisse: die wenigsten verlorenen "
        "Anfangskunden zuerst. "
        "Jede Strategie behält ihre Farbe in allen Grafiken; die Vergleichsbasis ist schwarz.",
        "analysis_other_scenario": "Achtung: {file} wurde für ein anderes Szenario erstellt (sha256 {hash}"
        "\u2026), nicht für das dieser Läufe ({own}\u2026). Die Analyse mit dieser Szenariodatei und --out "
        "neu rechnen.",
        "analysis_unstamped": "Achtung: {file} sagt nicht, welches Szenario analysiert wurde (der "
        "Standardmarkt "
        "oder eine ältere Version); diese Läufe gehören zu Szenario {own}\u2026.",
        "legend_hint": "Präsentieren: \u2192 oder Leertaste für die nächste Seite, \u2190 für die vorige, f "
        "für Vollbild. Eine Linie oder einen Namen anklicken, um sie hervorzuheben (Doppelklick "
        "setzt zurück); "
        "Zahlen erscheinen beim Überfahren mit der Maus.",
        "provenance": "Code-Version {code}; Lauf {status}, beendet {finished}.",
        "chart_error": "Diese Grafik konnte nicht gezeichnet werden:",
        "explore_heading": "Was wäre, wenn? Bonusprogramme gegen persönliche Wertschätzung",
        "explore_intro": "Schieberegler bewegen: Sobald er ruht, rechnet das Modell {customers} Kunden über "
        "{months} Monate neu (ein Startwert, für jede Strategie dieselben Kunden) und zeichnet die "
        "Grafiken neu; der vorige Lauf bleibt als blasse gestrichelte Linie.",
        "explore_running": "rechnet...",
        "explore_subtitle": "Ein Lauf je Strategie mit Startwert {seed}: jede Strategie hat dieselben Kunden",
        "explore_took": "gerechnet in",
        "explore_change": "Änderung",
        "explore_reset": "Auf die Werte des Szenarios zurücksetzen",
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


# Display names and one-line descriptions of the built-in programs (a strategy named after one
# program shows that program's) and of the built-in mix. A scenario's own ``label`` and
# ``description`` of a strategy win (``sim.scenario``); anything else gets a readable version of
# its code name (:func:`readable`).
NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "rare_contact": ("One-night brand", "contact only to sell, or on a complaint"),
        "point_card": ("Point card", "points worth a share of spend, redeemed for rewards"),
        "lock_in_contract": ("Lock-in contract", "fixed terms with an exit fee"),
        "personal_appreciation": ("Personal appreciation", "unscheduled personal contacts"),
        "mass_contact": ("Mass contact", "a standardised monthly newsletter"),
        "new_customer_deals": ("New-customer deals", "welcome discounts for newcomers"),
        "service_excellence": ("Service excellence", "fewer failures, better recovery"),
        "status_tiers": ("Status tiers", "silver and gold tiers for recent activity"),
        "appreciation_and_service": ("Appreciation + service", "personal appreciation and excellent service"),
    },
    "de": {
        "rare_contact": ("One-Night-Brand", "Kontakt nur zum Verkaufen oder bei Beschwerden"),
        "point_card": ("Punktekarte", "Punkte für Umsatz, gegen Prämien eingelöst"),
        "lock_in_contract": ("Vertragsbindung", "feste Laufzeiten mit Ablösegebühr"),
        "personal_appreciation": ("Persönliche Wertschätzung", "ungeplante persönliche Kontakte"),
        "mass_contact": ("Massenkontakt", "ein standardisierter monatlicher Newsletter"),
        "new_customer_deals": ("Neukundenrabatte", "Willkommensrabatte für Neukunden"),
        "service_excellence": ("Exzellenter Service", "weniger Fehler, bessere Wiedergutmachung"),
        "status_tiers": ("Statusstufen", "Silber- und Goldstatus für aktive Kunden"),
        "appreciation_and_service": (
            "Wertschätzung + Service",
            "persönliche Wertschätzung und exzellenter Service",
        ),
    },
}


# How a program entry of a strategy reads in one line (:func:`strategy_words`):
# its parameters, window, target and budget. A parameter without words here reads as its
# readable code name and value ("cut month 24"). ``{n}`` is a number, ``{p}`` a share as a percent.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "params.contacts_per_year": "{n} contacts a year",
        "params.sales_contacts_per_year": "{n} sales contacts a year",
        "params.reward_share_of_spend": "{p} of spend back in points",
        "params.welcome_discount_share": "{p} welcome discount",
        "params.term_months": "{n}-month terms",
        "params.exit_fee_months": "an exit fee of {n} months' spend",
        "params.failure_reduction": "{p} fewer failures",
        "params.cost_per_contact": "{n} EUR a contact",
        "params.deal_months": "deals for {n} months",
        "window": "months {start}-{end}",
        "window_from": "from month {start}",
        "window_until": "until month {end}",
        "target.churn_risk_top_share": "to the riskiest {p}",
        "target.churn_risk_above": "to customers with a churn risk of {p} a month or more",
        "target.segments": "to {names}",
        "target.tenure_months": "to customers of {low}-{high} months",
        "target.spend_per_month": "to customers spending {low}-{high} EUR a month",
        "target.attention": "at attention {low}-{high}",
        "target.contract.free": "to customers without a contract",
        "target.contract.under_contract": "to customers under contract",
        "target.contract.term_ending": "to customers whose term ends",
        "target.share": "a random {p} of them",
        "budget.month": "at most {eur} EUR a month",
        "budget.year": "at most {eur} EUR a year",
        "on": "on",
        "off": "off",
        "nothing": "no program",
        "range.at_least": "{name} is at least {low}",
        "range.at_most": "{name} is at most {high}",
        "range.between": "{name} is between {low} and {high}",
        "parameter.market.offers.offer_rate_per_month": "the competitors' offers a customer-month",
        "parameter.market.offers.discount": "the competitors' discount (share of spend)",
        "parameter.service.failure_per_month": "the service failures a customer-month",
        "parameter.market.gross_margin_share": "the gross margin (share of spend)",
    },
    "de": {
        "params.contacts_per_year": "{n} Kontakte im Jahr",
        "params.sales_contacts_per_year": "{n} Verkaufskontakte im Jahr",
        "params.reward_share_of_spend": "{p} des Umsatzes als Punkte",
        "params.welcome_discount_share": "{p} Willkommensrabatt",
        "params.term_months": "{n} Monate Laufzeit",
        "params.exit_fee_months": "Ablösegebühr von {n} Monatsumsätzen",
        "params.failure_reduction": "{p} weniger Fehler",
        "params.cost_per_contact": "{n} EUR je Kontakt",
        "params.deal_months": "Angebote für {n} Monate",
        "window": "Monate {start}-{end}",
        "window_from": "ab Monat {start}",
        "window_until": "bis Monat {end}",
        "target.churn_risk_top_share": "für die riskantesten {p}",
        "target.churn_risk_above": "für Kunden mit mindestens {p} Abwanderungsrisiko im Monat",
        "target.segments": "für {names}",
        "target.tenure_months": "für Kunden seit {low}-{high} Monaten",
        "target.spend_per_month": "für Kunden mit {low}-{high} EUR Umsatz im Monat",
        "target.attention": "bei Aufmerksamkeit {low}-{high}",
        "target.contract.free": "für Kunden ohne Vertrag",
        "target.contract.under_contract": "für Kunden mit Vertrag",
        "target.contract.term_ending": "für Kunden, deren Laufzeit endet",
        "target.share": "davon zufällig {p}",
        "budget.month": "höchstens {eur} EUR im Monat",
        "budget.year": "höchstens {eur} EUR im Jahr",
        "on": "an",
        "off": "aus",
        "nothing": "kein Programm",
        "range.at_least": "{name} mindestens {low} beträgt",
        "range.at_most": "{name} höchstens {high} beträgt",
        "range.between": "{name} zwischen {low} und {high} liegt",
        "parameter.market.offers.offer_rate_per_month": "die Angebote der Konkurrenz je Kunde und Monat",
        "parameter.market.offers.discount": "der Rabatt der Konkurrenz (Anteil am Umsatz)",
        "parameter.service.failure_per_month": "die Servicefehler je Kunde und Monat",
        "parameter.market.gross_margin_share": "die Bruttomarge (Anteil am Umsatz)",
    },
}


def words(lang: str, key: str) -> str | None:
    """The phrase of ``key`` in ``lang`` (``WORDS``), or None where there is none."""
    return WORDS[check_language(lang)].get(key)


def short_number(value: float, lang: str) -> str:
    """A number as people say it: two significant digits below 10 (``0.22``, ``2.5``), whole
    numbers with separators above (``1,500``), in the language's format."""
    if float(value).is_integer() or abs(value) >= 10:
        return number(value, lang)
    text = f"{value:.2g}"
    return text if lang == "en" else text.replace(".", ",")


def short_percent(share: float, lang: str) -> str:
    """A share as a percent: whole percents, one decimal below 10% (``1.2%``)."""
    whole = abs(share * 100 - round(share * 100)) < 1e-9
    return percent(share, lang, 0 if whole or abs(share) >= 0.1 else 1)


def readable(code: str) -> str:
    """``appreciation_and_service`` -> ``Appreciation and service``."""
    text = code.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:] if text else code


def display_name(code: str, lang: str, own: dict[str, str] | None = None) -> str:
    """A strategy's or program's name for people: the scenario's own ``label`` in ``lang`` (or its
    one label), else the built-in name, else :func:`readable`."""
    if own:
        return own.get(lang) or own.get("en") or next(iter(own.values()))
    known = NAMES[check_language(lang)].get(code)
    return known[0] if known else readable(code)


def description(code: str, lang: str, own: dict[str, str] | None = None) -> str:
    """A strategy's short description: the scenario's own, else the built-in one, else ``""``."""
    if own:
        return own.get(lang) or own.get("en") or next(iter(own.values()))
    known = NAMES[check_language(lang)].get(code)
    return known[1] if known else ""


# --- strategies in words ---------------------------------------------------------------------


def _band(band: Any, lang: str) -> dict[str, str]:
    return {"low": short_number(band[0], lang), "high": short_number(band[1], lang)}


def _param_words(key: str, value: Any, lang: str) -> str:
    phrase = words(lang, f"params.{key}")
    if phrase is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return phrase.format(n=short_number(value, lang), p=short_percent(value, lang))
    if isinstance(value, bool):
        shown = words(lang, "on" if value else "off")
    elif isinstance(value, int | float):
        shown = short_number(value, lang)
    else:
        shown = str(value)
    return f"{readable(key).lower()} {shown}"


def _target_words(target: dict[str, Any], lang: str) -> list[str]:
    parts = []
    for key, value in target.items():
        if key == "segments":
            names = ", ".join(readable(v).lower() for v in value)
            parts.append(words(lang, "target.segments").format(names=names))
        elif key == "contract":
            parts.append(words(lang, f"target.contract.{value}"))
        elif key in ("tenure_months", "spend_per_month", "attention"):
            parts.append(words(lang, f"target.{key}").format(**_band(value, lang)))
        elif key == "share" and value >= 1.0:
            continue  # everyone who passes the other filters: nothing to say
        else:  # churn_risk_top_share, churn_risk_above, share
            parts.append(words(lang, f"target.{key}").format(p=short_percent(value, lang)))
    return parts


def program_words(entry: str | dict[str, Any], lang: str) -> str:
    """One program entry of a strategy in a line: its display name, its parameters, window,
    target and budget, e.g. "Personal appreciation, 0.22 contacts a year, to the riskiest 20%"."""
    entry = {"program": entry} if isinstance(entry, str) else entry
    parts = [display_name(entry["program"], lang)]
    parts += [_param_words(k, v, lang) for k, v in (entry.get("params") or {}).items()]
    start, end = entry.get("start_month"), entry.get("end_month")
    if start is not None and end is not None:
        parts.append(words(lang, "window").format(start=start, end=end))
    elif start is not None and start != 1:
        parts.append(words(lang, "window_from").format(start=start))
    elif end is not None:
        parts.append(words(lang, "window_until").format(end=end))
    parts += _target_words(entry.get("target") or {}, lang)
    budget = entry.get("budget")
    if budget:
        per = budget.get("per", "month")
        parts.append(words(lang, f"budget.{per}").format(eur=short_number(budget["eur"], lang)))
    return ", ".join(parts)


def strategy_words(strategy: list[Any] | dict[str, Any], lang: str) -> str:
    """A strategy of a scenario file (its array of program entries, or its table with
    ``programs``) in one line, its programs separated by semicolons."""
    entries = strategy.get("programs", []) if isinstance(strategy, dict) else strategy
    return "; ".join(program_words(e, lang) for e in entries) or words(lang, "nothing")


def parameter_name(path: str, lang: str) -> str:
    """A parameter of the scenario (a dotted path) for people: its words in ``WORDS``, else the
    readable name of its last key ("market.acquisition.prospects_per_month": "prospects per
    month")."""
    return words(lang, f"parameter.{path}") or readable(path.rsplit(".", 1)[-1]).lower()


def range_words(path: str, low: float | None, high: float | None, lang: str) -> str:
    """A restriction of a parameter in words ("the competitors' discount (share of spend) is at
    least 0.21"); ``low`` or ``high`` None: unbounded on that side."""
    name = parameter_name(path, lang)
    if low is not None and high is not None:
        return words(lang, "range.between").format(
            name=name, low=short_number(low, lang), high=short_number(high, lang)
        )
    if low is not None:
        return words(lang, "range.at_least").format(name=name, low=short_number(low, lang))
    return words(lang, "range.at_most").format(name=name, high=short_number(high, lang))


def display_names(
    codes: Iterable[str], display: Mapping[str, Mapping[str, Any]], lang: str
) -> dict[str, str]:
    """Display name of each strategy's code name, from the scenario's own labels (``display``:
    code -> {"label": {lang: text}}) or the built-in names; unique: a clash keeps the code in
    brackets."""
    names = {c: display_name(c, lang, (display.get(c) or {}).get("label")) for c in codes}
    clashes = {n for n in names.values() if list(names.values()).count(n) > 1}
    return {c: f"{n} ({c})" if n in clashes else n for c, n in names.items()}


def labelled_names(
    codes: Iterable[str], display: Mapping[str, Mapping[str, Any]], lang: str
) -> dict[str, str]:
    """The names of a comparison table (``sweep``, ``table``, ``run FILE``): a strategy that has
    its own ``label`` in the scenario is shown by it, as ``optimise``, ``robustness`` and the
    report show it ("Mix A"); the others keep their code name, which is what ``--strategy``,
    ``--baseline`` and ``--strategies`` take. Unique: a label that clashes with another name
    keeps the code in brackets."""
    codes = list(codes)
    own = {
        code: display_name(code, lang, display[code]["label"])
        for code in codes
        if (display.get(code) or {}).get("label")
    }
    names = [own.get(code, code) for code in codes]
    return {
        code: f"{name} ({code})" if code in own and names.count(name) > 1 else name
        for code, name in zip(codes, names, strict=True)
    }


def in_every_language(make: Callable[[str], str]) -> dict[str, str]:
    """``{lang: make(lang)}`` for every language of the report."""
    return {lang: make(lang) for lang in LANGUAGES}
