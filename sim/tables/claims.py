"""The claims audit as a report table: one row per check, its effect with the 95% CI, the
region (its bounds are minimum effects) and where the minimum comes from, the verdict coloured and
marked with a symbol so that it reads without colour too, and the control that must fail.
Audits written before controls existed leave the last two cells empty."""

from __future__ import annotations

import polars as pl

from sim.i18n import label
from sim.tables import Cell, Html, table

VERDICT_SYMBOLS: dict[str, str] = {"holds": "\u2713", "fails": "\u2717", "inconclusive": "?"}


def _effect(value: float | None, lang: str) -> str:
    """Three significant digits, as the CLI prints them; decimal commas in German."""
    if value is None or value != value:  # NaN: too few finite replications
        return "-"
    text = f"{value:.3g}"
    return text if lang == "en" else text.replace(".", ",")


def _region(region: str, lang: str) -> str:
    """``in (0.65, 0.85)``; in German ``in (0,65; 0,85)``, as the report writes intervals."""
    return region if lang == "en" else region.replace(", ", "; ").replace(".", ",")


def _interval(row: dict, prefix: str, lang: str) -> str:
    separator = ", " if lang == "en" else "; "
    low, high = row[f"{prefix}ci_low"], row[f"{prefix}ci_high"]
    return f"{_effect(row[f'{prefix}estimate'], lang)} [{_effect(low, lang)}{separator}{_effect(high, lang)}]"


def _verdict(verdict: str, lang: str) -> str:
    return f"{VERDICT_SYMBOLS.get(verdict, '')} {label(lang, f'verdict_{verdict}')}"


def _control(row: dict, lang: str) -> Cell:
    """``what it removes: effect [CI] ✗ fails``; empty for an audit without controls (written
    before they existed), ``not run`` when the audit left them out."""
    verdict = row.get("control_verdict")
    if verdict is None:
        return Cell("")
    if verdict not in VERDICT_SYMBOLS:
        return Cell(f"{row['control']}: {label(lang, 'control_not_run')}", "control")
    return Cell(f"{row['control']}: {_interval(row, 'control_', lang)} {_verdict(verdict, lang)}",
                f"control control-{verdict}")


def claims_table(audit: pl.DataFrame, lang: str) -> Html | None:
    """From ``claims.parquet`` (``sim.analysis.claims.AUDIT_SCHEMA``): the audit table, with a
    count of verdicts above it."""
    if audit.height == 0:
        return None
    rows = []
    for r in audit.iter_rows(named=True):
        verdict = r["verdict"]
        rows.append(
            [
                Cell(r["check"], "key"),
                r["statement"],
                r["effect"],
                Cell(_interval(r, "", lang), "num"),
                Cell(_region(r["region"], lang), "num"),
                r.get("source") or "",
                Cell(_verdict(verdict, lang), f"verdict verdict-{verdict}"),
                _control(r, lang),
                Cell(str(r["replications"]), "num"),
            ]
        )
    counts = {v: int((audit["verdict"] == v).sum()) for v in VERDICT_SYMBOLS}
    headers = [label(lang, f"table_{key}") for key in
               ("check", "statement", "effect", "estimate", "region", "source", "verdict", "control",
                "replications")]
    return table(
        headers,
        rows,
        css="claims",
        lead=label(lang, "claims_summary", total=audit.height, **counts),
        note=label(lang, "claims_note", replications=int(audit["replications"].max())),
    )


__all__ = ["VERDICT_SYMBOLS", "claims_table"]
