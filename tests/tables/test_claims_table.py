"""The claims audit table: one row per check, coloured verdicts with a symbol, effects with CIs."""

from __future__ import annotations

import math

import polars as pl

from sim.analysis.claims import AUDIT_SCHEMA
from sim.tables.claims import claims_table


def audit_frame() -> pl.DataFrame:
    rows = [
        ("C1", "bond decays", 0.2, 0.1, 0.3, "> 0.1", "holds", "fails"),
        ("F3b", "card disappoints", -0.2, -0.3, -0.1, "> 0.1", "fails", "holds"),
        ("F6a", "mass contact barely moves the bond", 0.01, -0.03, 0.05, "in (-0.02, 0.02)", "inconclusive",
         "not run"),
        ("S1", "retention rises", math.nan, math.nan, math.nan, "> 0.05", "inconclusive", "fails"),
    ]
    return pl.DataFrame(
        [
            {"check": c, "claim": c[:2], "statement": s, "effect": "loss <difference>", "estimate": e,
             "ci_low": lo, "ci_high": hi, "region": r, "source": "assumption", "verdict": v,
             "control": "mechanism removed", "control_estimate": -e, "control_ci_low": -hi,
             "control_ci_high": -lo, "control_verdict": cv, "replications": 6}
            for c, s, e, lo, hi, r, v, cv in rows
        ],
        schema=AUDIT_SCHEMA,
    )


def test_one_row_per_check_with_its_verdict_class_and_a_count_above():
    text = claims_table(audit_frame(), "en").text.replace("\u00a0", " ")
    assert text.count("<tr>") == 5  # header and four checks
    assert text.count('class="verdict verdict-holds"') == 1
    assert text.count('class="verdict verdict-fails"') == 1
    assert text.count('class="verdict verdict-inconclusive"') == 2
    assert "\u2713 holds" in text and "\u2717 fails" in text and "? inconclusive" in text
    assert "1 of 4 checks hold, 1 fail, 2 inconclusive." in text
    assert "0.2 [0.1, 0.3]" in text and "- [-, -]" in text  # NaN effect: too few finite runs
    assert "&lt; 0" not in text and "&gt; 0.1" in text and "loss &lt;difference&gt;" in text  # escaped


def test_each_row_shows_where_its_minimum_comes_from_and_its_control():
    text = claims_table(audit_frame(), "en").text.replace("\u00a0", " ")
    assert "<th>Minimum from</th>" in text and text.count("<td>assumption</td>") == 4
    assert '<td class="control control-fails">mechanism removed: -0.2 [-0.3, -0.1] \u2717 fails</td>' in text
    assert '<td class="control control-holds">mechanism removed: 0.2 [0.1, 0.3] \u2713 holds</td>' in text
    assert '<td class="control">mechanism removed: not run</td>' in text


def test_an_audit_written_before_controls_leaves_their_cells_empty():
    old = audit_frame().drop("source", "control", "control_estimate", "control_ci_low", "control_ci_high",
                             "control_verdict")
    text = claims_table(old, "en").text.replace("\u00a0", " ")
    assert text.count("<tr>") == 5 and text.count("<td></td>") == 8  # source and control of four rows


def test_german_verdicts_and_decimal_commas():
    text = claims_table(audit_frame(), "de").text.replace("\u00a0", " ")
    assert "\u2717 widerlegt" in text and "\u2713 gilt" in text and "? offen" in text
    assert "0,2 [0,1; 0,3]" in text and "in (-0,02; 0,02)" in text and "nicht gerechnet" in text
    assert "Urteil" in text and "1 von 4 Prüfungen gelten" in text


def test_an_empty_audit_leaves_the_section_out():
    assert claims_table(audit_frame().clear(), "en") is None
