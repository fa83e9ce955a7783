"""The claims audit as a report table: one row per check, its effect with the 95% CI and the
verdict, coloured and marked with a symbol so that it reads without colour too."""

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


def claims_table(audit: pl.DataFrame, lang: str) -> Html | None:
    """From ``claims.parquet`` (``sim.analysis.claims.AUDIT_SCHEMA``): the audit table, with a
    count of verdicts above it."""
    if audit.height == 0:
        return None
    separator = ", " if lang == "en" else "; "
    rows = []
    for r in audit.iter_rows(named=True):
        verdict = r["verdict"]
        rows.append(
            [
                Cell(r["check"], "key"),
                r["statement"],
                r["effect"],
                Cell(
                    f"{_effect(r['estimate'], lang)} [{_effect(r['ci_low'], lang)}{separator}"
                    f"{_effect(r['ci_high'], lang)}]",
                    "num",
                ),
                Cell(_region(r["region"], lang), "num"),
                Cell(f"{VERDICT_SYMBOLS.get(verdict, '')} {label(lang, f'verdict_{verdict}')}",
                     f"verdict verdict-{verdict}"),
                Cell(str(r["replications"]), "num"),
            ]
        )
    counts = {v: int((audit["verdict"] == v).sum()) for v in VERDICT_SYMBOLS}
    headers = [label(lang, f"table_{key}") for key in
               ("check", "statement", "effect", "estimate", "region", "verdict", "replications")]
    return table(
        headers,
        rows,
        css="claims",
        lead=label(lang, "claims_summary", total=audit.height, **counts),
        note=label(lang, "claims_note", replications=int(audit["replications"].max())),
    )


__all__ = ["VERDICT_SYMBOLS", "claims_table"]
