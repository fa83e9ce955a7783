"""The report's "What should we do" section and robustness chart, from the decision analyses'
JSON summaries beside the results."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from sim.i18n import program_words, strategy_words
from sim.report import build_report
from sim.tables.decisions import recommendation, settings_text

WINNER = {
    "candidate": 7,
    "name": "personal_appreciation",  # a strategy of the small sweep
    "params": {
        "strategies.mix.programs[0].params.contacts_per_year": 2.5,
        "strategies.mix.programs[1].enabled": False,
        "strategies.mix.programs[1].params.reward_share_of_spend": 0.02,
    },
    "clv_mean": 436.1,
    "clv_ci_low": 425.2,
    "clv_ci_high": 447.0,
    "clv_diff_mean": 56.5,
    "clv_diff_ci_low": 52.1,
    "clv_diff_ci_high": 60.8,
    "cost_mean": 121_000.0,
    "cost_ci_low": 119_000.0,
    "cost_ci_high": 123_000.0,
}
OPTIMISATION = {
    "strategy": "mix",
    "programs": ["personal_appreciation", "point_card"],
    "baseline": "rare_contact",
    "settings": {"objectives": ["clv"], "budget": 150_000.0, "replications": 2, "final_replications": 6},
    "candidates": 24,
    "feasible": 8,
    "winner": WINNER,
    "finalists": [{**WINNER, "params": json.dumps(WINNER["params"])}],
    "customers": 400,
    "months": 30,
}
ROBUSTNESS = {
    "objective": "clv",
    "markets": 12,
    "replications": 1,
    "thresholds": {"clv": 430.0},
    "ranges": {"market.offers.discount": [0.05, 0.3]},
    "strategies": [
        {
            "strategy": "personal_appreciation",
            "mean": 432.0,
            "regret_max": 3.0,
            "regret_p90": 1.5,
            "satisficing": 8 / 12,
            "best_share": 0.75,
            "failing": {"clv": 4},
            "discover": [],
            "fails_where": ["market.offers.discount >= 0.22"],
        },
        {
            "strategy": "rare_contact",
            "mean": 420.0,
            "regret_max": 20.0,
            "regret_p90": 15.0,
            "satisficing": 0.25,
            "best_share": 0.25,
            "failing": {"clv": 9},
            "discover": [],
            "fails_where": [],
        },
    ],
}


def test_the_recommendation_is_written_from_the_numbers():
    text = " ".join(recommendation(OPTIMISATION, ROBUSTNESS))
    assert (
        "Recommended: personal_appreciation: personal_appreciation.contacts_per_year = 2.5, "
        "point_card off." in text  # a summary without display names: the settings as paths
    )
    assert "436.1 [425.2, 447.0] EUR" in text and "56.5 [52.1, 60.8] EUR against rare_contact" in text
    assert "121k [119k, 123k] EUR over 30 months, within the budget of 150k EUR" in text
    assert "best of 24 candidates (8 within budget)" in text and "6 fresh runs" in text
    assert "meets the targets (lifetime value at least 430 EUR) in 8 of them" in text
    assert "at most 3.0 EUR, and 1.5 EUR or less in 9 markets of 10" in text
    assert "falls short mostly where market.offers.discount >= 0.22" in text
    always_best = {
        **ROBUSTNESS,
        "strategies": [{**ROBUSTNESS["strategies"][0], "regret_max": 0.0, "regret_p90": 0.0}],
    }
    assert "best of the strategies tested in every one of them" in " ".join(
        recommendation(OPTIMISATION, always_best)
    )
    over = {**OPTIMISATION, "settings": {**OPTIMISATION["settings"], "budget": 100_000.0}}
    assert "above the budget of 100k EUR" in " ".join(recommendation(over, None))
    assert recommendation(None, None) == []


NAMED = {
    **WINNER,
    "label": {"en": "Mix A", "de": "Mix A"},
    "description": {
        "en": "Personal appreciation, 2.5 contacts a year",
        "de": "Persönliche Wertschätzung, 2,5 Kontakte im Jahr",
    },
}


def test_the_recommendation_names_strategies_for_people_in_every_language():
    named = {**OPTIMISATION, "winner": NAMED}
    names = {"rare_contact": "One-night brand", "personal_appreciation": "Mix A"}
    text = " ".join(recommendation(named, ROBUSTNESS, "en", names))
    assert text.startswith("Recommended: Mix A: Personal appreciation, 2.5 contacts a year.")
    assert "against One-night brand" in text and "Mix A meets the targets" in text
    assert "personal_appreciation" not in text and "mix" not in text
    german = " ".join(recommendation(named, ROBUSTNESS, "de", names))
    assert german.startswith("Empfehlung: Mix A: Persönliche Wertschätzung, 2,5 Kontakte im Jahr.")
    assert "436,1 [425,2, 447,0] EUR" in german and "gegenüber One-night brand" in german
    assert "Kundenwert mindestens 430 EUR" in german and "in 8 davon" in german


def test_where_a_strategy_falls_short_is_said_with_the_parameters_in_words():
    row = {
        **ROBUSTNESS["strategies"][0],
        "fails_box": [["market.offers.discount", 0.22, None], ["market.acquisition.prospects", None, 0.5]],
    }
    robust = {**ROBUSTNESS, "strategies": [row]}
    text = " ".join(recommendation(None, robust))
    assert (
        "It falls short mostly where the competitors' discount (share of spend) is at least 0.22 "
        "and prospects is at most 0.5." in text
    )
    german = " ".join(recommendation(None, robust, "de"))
    assert "wo der Rabatt der Konkurrenz (Anteil am Umsatz) mindestens 0,22 beträgt und" in german
    never = {**ROBUSTNESS, "strategies": [{**row, "fails_box": [], "fails_where": [], "satisficing": 0.0}]}
    assert "It falls short in every market sampled." in " ".join(recommendation(None, never))


@pytest.mark.parametrize(
    ("entry", "lang", "expected"),
    [
        ("service_excellence", "en", "Service excellence"),
        (
            {"program": "personal_appreciation", "params": {"contacts_per_year": 0.216},
             "target": {"churn_risk_top_share": 0.2}},
            "en",
            "Personal appreciation, 0.22 contacts a year, to the riskiest 20%",
        ),
        (
            {"program": "personal_appreciation", "params": {"contacts_per_year": 0.216},
             "target": {"churn_risk_top_share": 0.2}},
            "de",
            "Persönliche Wertschätzung, 0,22 Kontakte im Jahr, für die riskantesten 20 %",
        ),
        (
            {"program": "point_card", "start_month": 7,
             "params": {"reward_share_of_spend": 0.012, "cut_month": 24},
             "target": {"segments": ["relationship_seekers"], "share": 0.5}, "budget": {"eur": 1500}},
            "en",
            "Point card, 1.2% of spend back in points, cut month 24, from month 7, to relationship seekers, "
            "a random 50% of them, at most 1,500 EUR a month",
        ),
        (
            {"program": "lock_in_contract", "end_month": 36, "target": {"contract": "term_ending"},
             "budget": {"eur": 20000, "per": "year"}},
            "de",
            "Vertragsbindung, bis Monat 36, für Kunden, deren Laufzeit endet, höchstens 20.000 EUR im Jahr",
        ),
    ],
)
def test_program_entries_read_as_one_line(entry, lang, expected):
    assert program_words(entry, lang) == expected


def test_a_strategy_reads_as_its_programs():
    assert strategy_words({"programs": ["point_card", "service_excellence"]}, "en") == (
        "Point card; Service excellence"
    )
    assert strategy_words([], "de") == "kein Programm"


def test_switched_off_programs_hide_their_parameters():
    shown = settings_text(OPTIMISATION, {**WINNER["params"], "strategies.mix.programs[1].enabled": True}, "=")
    assert (
        shown
        == "personal_appreciation.contacts_per_year=2.5, point_card on, point_card.reward_share_of_spend=0.02"
    )


def test_decision_files_beside_the_results_become_the_first_section_and_a_chart(small_results, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(small_results, results)
    (results / "optimisation.json").write_text(json.dumps(OPTIMISATION))
    (results / "robustness.json").write_text(json.dumps(ROBUSTNESS))
    files = build_report(results, tmp_path / "report", formats=["html", "svg"])
    page = files.html.read_text()
    sections = re.findall(r'<section id="([a-z_]+)"', page)
    assert sections[0] == "decision" and "robustness" in sections
    assert "What should we do" in page and "Recommended: Personal appreciation" in page  # its display name
    assert "meets the targets in 8 of 12 possible markets" in page
    assert any(path.name.endswith("-robustness.svg") for path in files.images)
    plain = build_report(small_results, tmp_path / "plain", formats=["html"]).html.read_text()
    assert 'id="decision"' not in plain and 'id="robustness"' not in plain
    stale = {**OPTIMISATION, "winner": {**WINNER, "name": "mix_optimised_99"}}  # not a strategy of this sweep
    (results / "optimisation.json").write_text(json.dumps(stale))
    page = build_report(results, tmp_path / "stale", formats=["html"]).html.read_text()
    assert "Recommended:" not in page and "meets the targets" in page
