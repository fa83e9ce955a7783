"""Robustness for a board: in how many of the possible markets does each strategy meet the targets?"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from sim.charts.style import HEIGHT_PX, WIDTH_PX, label, title
from sim.i18n import number

HIGHLIGHT = "#1f4e79"  # the most robust strategy; the others in grey (hues are strategies' elsewhere)
OTHERS = "#9aa5b1"


def robustness_chart(
    summary: dict[str, Any], lang: str, names: dict[str, str] | None = None
) -> alt.LayerChart:
    """From ``robustness.json``: one bar per strategy, the share of sampled markets where it meets
    every threshold (without thresholds: where it is the best strategy), most robust on top,
    labelled with the count of markets and its regret in 9 of 10 markets. ``names``: display
    names of strategy codes (the report's)."""
    names = names or {}
    by_share = "satisficing" if summary["thresholds"] else "best_share"
    markets = summary["markets"]
    unit = "EUR" if summary["objective"] in ("clv", "margin", "cost") else ""
    rows = sorted(summary["strategies"], key=lambda r: (-r[by_share], r["regret_p90"]))
    frame = pl.DataFrame(
        {
            "strategy": [names.get(r["strategy"], r["strategy"]) for r in rows],
            "share": [r[by_share] for r in rows],
            "text": [
                f"{round(r[by_share] * markets)}/{markets} · "
                f"regret ≤ {number(r['regret_p90'], lang)} {unit}".rstrip()
                for r in rows
            ],
            "top": [i == 0 for i in range(len(rows))],
        }
    )
    top = rows[0]
    heading = label(
        lang,
        "title_robustness" if summary["thresholds"] else "title_robustness_best",
        best=names.get(top["strategy"], top["strategy"]),
        count=round(top[by_share] * markets),
        markets=markets,
    )
    ranges = ", ".join(path.rsplit(".", 1)[-1] for path in summary["ranges"])
    y = alt.Y("strategy:N", sort=frame["strategy"].to_list(), title=None, axis=alt.Axis(labelLimit=0))
    root = alt.Chart(frame)
    bars = root.mark_bar(height=36).encode(
        y=y,
        x=alt.X(
            "share:Q",
            title=label(lang, "robustness_axis"),
            axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
            scale=alt.Scale(domain=[0, 1.35]),
        ),
        color=alt.condition("datum.top", alt.value(HIGHLIGHT), alt.value(OTHERS)),
        tooltip=[alt.Tooltip("strategy:N"), alt.Tooltip("share:Q", format=".0%"), alt.Tooltip("text:N")],
    )
    text = root.mark_text(align="left", dx=8, fontSize=20).encode(y=y, x="share:Q", text="text:N")
    return alt.layer(bars, text).properties(
        width=WIDTH_PX,
        height=HEIGHT_PX,
        title=title(heading, label(lang, "robustness_subtitle", ranges=ranges)),
    )
