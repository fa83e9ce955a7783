"""The claims audit table: one row per check, coloured verdicts with a symbol, effects with CIs."""

from __future__ import annotations

import math

import polars as pl

from sim.analysis.claims import AUDIT_SCHEMA
from sim.tables.claims import claims_table


def audit_frame() -> pl.DataFrame:
    rows = [
        ("C1", "bond decays", 0.2, 0.1, 0.3, "> 0", "holds"),
        ("C2", "card disappoints", -0.2, -0.3, -0.1, "> 0", "fails"),
        ("F6a", "mass contact barely moves the bond", 0.01, -0.03, 0.05, "in (-0.02, 0.02)", "inconclusive"),
        ("S1", "retention rises", math.nan, math.nan, math.nan, "> 0", "inconclusive"),
    ]
    return pl.DataFrame(
        [
            {"check": c, "claim": c[:2], "statement": s, "effect": "loss <difference>", "estimate": e,
             "ci_low": lo, "ci_high": hi, "region": r, "verdict": v, "replications": 6}
            for c, s, e, lo, hi, r, v in rows
        ],
        schema=AUDIT_SCHEMA,
    )


def test_one_row_per_check_with_its_verdict_class_and_a_count_above():
    text = claims_table(audit_frame(), "en").text
    assert text.count("<tr>") == 5  # header and four checks
    assert text.count('class="verdict verdict-holds"') == 1
    assert text.count('class="verdict verdict-fails"') == 1
    assert text.count('class="verdict verdict-inconclusive"') == 2
    assert "\u2713 holds" in text and "\u2717 fails" in text and "? inconclusive" in text
    assert "1 of 4 checks hold, 1 fail, 2 inconclusive." in text
    assert "0.2 [0.1, 0.3]" in text and "- [-, -]" in text  # NaN effect: too few finite runs
    assert "&lt; 0" not in text and "&gt; 0" in text and "loss &lt;difference&gt;" in text  # escaped


def test_german_verdicts_and_decimal_commas():
    text = claims_table(audit_frame(), "de").text
    assert "\u2717 widerlegt" in text and "\u2713 gilt" in text and "? offen" in text
    assert "0,2 [0,1; 0,3]" in text and "in (-0,02; 0,02)" in text
    assert "Urteil" in text and "1 von 4 Prüfungen gelten" in text


def test_an_empty_audit_leaves_the_section_out():
    assert claims_table(audit_frame().clear(), "en") is None
