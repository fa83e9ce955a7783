"""The report's cast list: each strategy's display name in its colour, what it does, its code name."""

from __future__ import annotations

import html

from sim.i18n import label
from sim.tables import Html


def strategies_table(strategies: list[tuple[str, str, str, str]], lang: str) -> Html:
    """``strategies``: (display name, description, code name, colour) in result order."""
    rows = "\n".join(
        f'<tr><td class="key"><span class="swatch" style="background:{colour}"></span>'
        f"{html.escape(name)}</td>"
        f"<td>{html.escape(text)}</td><td class=\"code\">{html.escape(code)}</td></tr>"
        for name, text, code, colour in strategies
    )
    head = "".join(
        f"<th>{html.escape(label(lang, key))}</th>" for key in ("strategy", "table_description", "table_code")
    )
    return Html(
        f'<div class="table-wrap"><table class="data strategies">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody></table></div>"
        f'<p class="table-note">{html.escape(label(lang, "strategies_note"))}</p>'
    )


__all__ = ["strategies_table"]
