"""Report sections that are tables: a claims audit, customer lifetime, economics per strategy.

Each module turns a small aggregate frame into :class:`Html` for ``sim.report`` (one table per
module, no per-customer rows). Shared here: the :class:`Html` wrapper, escaping, and numbers with
their interval in the report's language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sim.i18n import number

_BEFORE_NON_LETTER = re.compile(r" (?![^\W\d_])")


@dataclass(frozen=True)
class Html:
    """A section's ready-made HTML (a table, say), inserted as it is."""

    text: str


@dataclass(frozen=True)
class Cell:
    """A table cell: its text (escaped when written) and an optional CSS class."""

    text: str
    css: str = ""


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str | Cell]], css: str, note: str = "", lead: str = ""
) -> Html:
    """A ``<table class="data {css}">`` with an optional lead paragraph above and note below."""

    def cell(tag: str, content: str | Cell) -> str:
        item = content if isinstance(content, Cell) else Cell(content)
        attribute = f' class="{item.css}"' if item.css else ""
        text = html.escape(item.text)
        if item.css == "num":
            # A number may break before its interval and words between them, so that a table
            # of intervals fits a narrow screen (a 1024 px projector) instead of hiding its
            # last columns; a number never breaks from its unit, sign or interval bound.
            text = _BEFORE_NON_LETTER.sub("\u00a0", text).replace("\u00a0[", " [", 1)
        return f"<{tag}{attribute}>{text}</{tag}>"

    head = "".join(cell("th", h) for h in headers)
    body = "\n".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in rows)
    parts = [f'<p class="table-lead">{html.escape(lead)}</p>'] if lead else []
    parts.append(
        f'<div class="table-wrap"><table class="data {css}">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )
    if note:
        parts.append(f'<p class="table-note">{html.escape(note)}</p>')
    return Html("\n".join(parts))


def interval(mean: float | None, low: float | None, high: float | None, lang: str, digits: int = 1) -> str:
    """``12.3 [10.1, 14.5]`` (German: ``12,3 [10,1; 14,5]``); ``-`` without a mean."""
    if mean is None:
        return "-"

    def show(value: float | None) -> str:
        return "?" if value is None else number(value, lang, digits)

    if low is None or high is None:
        return show(mean)
    separator = ", " if lang == "en" else "; "
    return f"{show(mean)} [{show(low)}{separator}{show(high)}]"


__all__ = ["Cell", "Html", "interval", "table"]
