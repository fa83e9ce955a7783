"""The comparison of a sweep's strategies: one row per strategy (and grid point), for the CLI
(``sweep``, ``table``), Markdown, CSV, JSON, Excel and the report's summary.

One place fixes the units, the rounding and the order, so every output agrees:

- rows are in *result order*: grid points as in the file, then strategies from the fewest
  initial customers lost to the most (:func:`result_order`; the report's legends use it too);
- cohort loss in %, its paired difference to the baseline in percentage points, program cost
  and margin in kEUR, lifetime value and cost per retained customer in EUR, one decimal;
- return on spend is the extra profit per extra euro of program spend against the baseline
  (``sim.analysis.economics``), shown in % (-100% = the extra spend bought nothing, 0% = it
  paid for itself); ``n/a (spends < 1% more)`` where the extra spend is below 1% of the
  baseline's gross margin, so that a ratio over a near-zero denominator is never shown.

``compact`` columns fit an 80-column terminal: strategy, loss with CI, vs baseline, cost, CLV.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from sim.seeds import point_text

# Extra spend below this share of the baseline's gross margin (margin + program cost) leaves the
# return on spend undefined for display: dividing by almost nothing gives meaningless ratios.
TINY_SPEND_SHARE = 0.01
BASELINE_TEXT = "baseline"


def result_order(summary: pl.DataFrame) -> list[str]:
    """Strategies from the fewest initial customers lost to the most, at the first grid point."""
    first = summary.filter(pl.col("point") == summary["point"][0])
    return first.sort("cohort_loss_mean", nulls_last=True, maintain_order=True)["strategy"].to_list()


def in_result_order(summary: pl.DataFrame) -> pl.DataFrame:
    """``summary`` sorted by grid point (file order) and, within a point, by cohort loss (frames
    without it keep their order)."""
    if "cohort_loss_mean" not in summary.columns:
        return summary
    points = {p: i for i, p in enumerate(summary["point"].unique(maintain_order=True))}
    return summary.sort(
        pl.col("point").replace_strict(points, return_dtype=pl.Int32),
        pl.col("cohort_loss_mean"),
        nulls_last=True,
        maintain_order=True,
    )


def return_on_spend(
    row: dict[str, Any], baseline_row: dict[str, Any] | None, lang: str = "en"
) -> tuple[str, bool]:
    """The return-on-spend text of a summary row (in %, with its 95% CI) and whether it is a number."""
    from sim.i18n import label

    if row["strategy"] == row["baseline"]:
        return label(lang, "baseline_row"), False
    extra = row.get("program_cost_diff_mean")
    if baseline_row is not None and extra is not None:
        gross = baseline_row["margin_mean"] + baseline_row["program_cost_mean"]
        if extra > 0 and gross > 0 and extra < TINY_SPEND_SHARE * gross:
            return label(lang, "ros_tiny"), False
    mean = row.get("return_on_spend_mean")
    if mean is None:
        return label(lang, "ros_none" if row.get("replications", 2) > 1 else "ros_one_run"), False
    text = _cell(row, "return_on_spend", 100, "%", digits=0)
    return (text if lang == "en" else text.replace(", ", "; ").replace("%", " %")), True


def _cell(row: dict[str, Any], name: str, scale: float, unit: str, ci: bool = True, digits: int = 1) -> str:
    """``<name>_mean`` of ``row`` scaled, with ``[<name>_ci_low, <name>_ci_high]`` when ``ci``."""
    mean, low, high = (row.get(f"{name}_{s}") for s in ("mean", "ci_low", "ci_high"))
    if not ci:
        low = high = None
    if mean is None:
        return "-"
    text = f"{mean * scale:,.{digits}f}{unit}"
    if low is None or high is None:
        return text
    return f"{text} [{low * scale:,.{digits}f}, {high * scale:,.{digits}f}]"


def _swept(summary: pl.DataFrame) -> str:
    """The name of the one parameter a grid sweeps (its key's last part), ``""`` otherwise."""
    points = [json.loads(p) for p in summary["point"].unique(maintain_order=True)]
    keys = {tuple(p) for p in points}
    if len(points) < 2 or len(keys) != 1 or len(next(iter(keys))) != 1:
        return ""
    return next(iter(keys))[0].rsplit(".", 1)[-1]


def _reference(summary: pl.DataFrame) -> str | None:
    """What paired differences are taken against (``variant=with_wom``): the values every
    reference point shares, which are the paired axes' reference values; None without them."""
    if "reference_point" not in summary.columns:
        return None
    references = [json.loads(p) for p in summary["reference_point"].drop_nulls().unique(maintain_order=True)]
    if not references:
        return None
    common = {k: v for k, v in references[0].items() if all(r.get(k) == v for r in references)}
    return point_text(json.dumps(common))


@dataclass(frozen=True)
class Column:
    header: str
    compact: bool


def _columns(
    baseline: str, has_grid: bool, has_economics: bool, reference: str | None = None
) -> list[Column]:
    columns = [Column("strategy", True)]
    if has_grid:
        columns.append(Column(has_grid if isinstance(has_grid, str) else "grid point", True))
    columns += [
        Column("runs", False),
        Column("cohort loss [95% CI]", True),
        Column(f"vs {baseline} (pp)", True),
        *([Column(f"vs {reference} (pp)", True)] if reference else []),
        Column("annual churn", False),
        Column("program cost (kEUR)", True),
        Column("margin (kEUR) [95% CI]", False),
        Column("cost / retained (EUR)", False),
    ]
    if has_economics:
        columns += [Column("CLV (EUR)", True), Column("return on spend [95% CI]", False)]
    return columns


def rows(
    summary: pl.DataFrame, wide: bool = True, names: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """Display rows (strings) in result order; ``wide=False`` keeps the compact columns.
    ``names`` shows strategies (code -> name, ``sim.i18n.labelled_names``) by other names than
    their codes; the machine outputs (:func:`records`, the Parquet files) keep the codes."""
    if summary.height == 0:
        return []
    names = names or {}
    summary = in_result_order(summary)
    baseline = names.get(summary["baseline"][0], summary["baseline"][0])
    swept = _swept(summary)
    has_grid = swept or summary["point"].n_unique() > 1
    has_economics = "clv_mean" in summary.columns  # results written before the economics have none
    reference = _reference(summary)  # paired variants
    keep = {c.header for c in _columns(baseline, has_grid, has_economics, reference) if wide or c.compact}
    bases = {r["point"]: r for r in summary.iter_rows(named=True) if r["strategy"] == r["baseline"]}
    out = []
    for r in summary.iter_rows(named=True):
        is_baseline = r["strategy"] == r["baseline"]
        row = {"strategy": names.get(r["strategy"], r["strategy"])}
        if swept:
            row[swept] = point_text(r["point"]).split("=", 1)[1]
        elif has_grid:
            row["grid point"] = point_text(r["point"])
        row["runs"] = str(r["replications"])
        row["cohort loss [95% CI]"] = _cell(r, "cohort_loss", 100, "%")
        row[f"vs {baseline} (pp)"] = BASELINE_TEXT if is_baseline else _cell(r, "cohort_loss_diff", 100, "")
        if reference:
            is_reference = r["reference_point"] is None
            row[f"vs {reference} (pp)"] = (
                "reference" if is_reference else _cell(r, "cohort_loss_paired_diff", 100, "")
            )
        row["annual churn"] = _cell(r, "annual_churn", 100, "%", ci=False)
        row["program cost (kEUR)"] = _cell(r, "program_cost", 1e-3, "", ci=False)
        row["margin (kEUR) [95% CI]"] = _cell(r, "margin", 1e-3, "")
        row["cost / retained (EUR)"] = _cell(r, "cost_per_retained_customer", 1, "", ci=False)
        if has_economics:
            row["CLV (EUR)"] = _cell(r, "clv", 1, "", ci=False)
            row["return on spend [95% CI]"] = return_on_spend(r, bases.get(r["point"]))[0]
        out.append({k: v for k, v in row.items() if k in keep})
    return out


# Numbers for machines (CSV, JSON, Excel): names with units, no rounding.
_RECORD_COLUMNS: dict[str, str] = {
    "replications": "runs",
    "cohort_loss_mean": "cohort_loss",
    "cohort_loss_ci_low": "cohort_loss_ci_low",
    "cohort_loss_ci_high": "cohort_loss_ci_high",
    "cohort_loss_diff_mean": "cohort_loss_vs_baseline",
    "cohort_loss_diff_ci_low": "cohort_loss_vs_baseline_ci_low",
    "cohort_loss_diff_ci_high": "cohort_loss_vs_baseline_ci_high",
    "cohort_loss_paired_diff_mean": "cohort_loss_vs_reference",
    "cohort_loss_paired_diff_ci_low": "cohort_loss_vs_reference_ci_low",
    "cohort_loss_paired_diff_ci_high": "cohort_loss_vs_reference_ci_high",
    "annual_churn_mean": "annual_churn",
    "program_cost_mean": "program_cost_eur",
    "margin_mean": "margin_eur",
    "margin_ci_low": "margin_eur_ci_low",
    "margin_ci_high": "margin_eur_ci_high",
    "cost_per_retained_customer_mean": "cost_per_retained_eur",
    "clv_mean": "clv_eur",
    "clv_ci_low": "clv_eur_ci_low",
    "clv_ci_high": "clv_eur_ci_high",
    "return_on_spend_mean": "return_on_spend",
    "return_on_spend_ci_low": "return_on_spend_ci_low",
    "return_on_spend_ci_high": "return_on_spend_ci_high",
}


def records(summary: pl.DataFrame) -> pl.DataFrame:
    """The comparison as numbers in result order: shares as fractions, money in EUR, return on
    spend as a ratio (null where the table shows ``n/a``), with a ``return_on_spend_note``."""
    if summary.height == 0:
        return pl.DataFrame()
    summary = in_result_order(summary)
    bases = {r["point"]: r for r in summary.iter_rows(named=True) if r["strategy"] == r["baseline"]}
    notes = []
    for r in summary.iter_rows(named=True):
        text, is_number = return_on_spend(r, bases.get(r["point"]))
        notes.append("" if is_number else text)
    present = {k: v for k, v in _RECORD_COLUMNS.items() if k in summary.columns}
    frame = summary.select("strategy", "baseline", "point", *(pl.col(k).alias(v) for k, v in present.items()))
    frame = frame.with_columns(pl.Series("return_on_spend_note", notes, dtype=pl.String))
    if "return_on_spend" in frame.columns:
        numbers = pl.col("return_on_spend_note") == ""
        frame = frame.with_columns(
            pl.when(numbers).then(pl.col(c)).otherwise(None).alias(c)
            for c in ("return_on_spend", "return_on_spend_ci_low", "return_on_spend_ci_high")
        )
    return frame


CAPTION = "mean over replications [95% CI]; differences are paired (common random numbers); best first"


def render(
    summary: pl.DataFrame,
    output_format: str,
    wide: bool = False,
    width: int | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """The comparison as ``table`` (fits ``width`` columns), ``markdown``/``md``, ``csv`` or ``json``;
    ``names`` as in :func:`rows` (a table says under it which code each name stands for; CSV and
    JSON keep the codes)."""
    if output_format == "json":
        return json.dumps(records(summary).to_dicts(), indent=2) + "\n"
    if output_format == "csv":
        return records(summary).write_csv()
    shown = rows(summary, wide=wide or output_format in ("markdown", "md"), names=names)
    if not shown:  # every run failed
        return ""
    if output_format in ("markdown", "md"):
        return markdown(shown)
    headers = list(shown[0])
    grid = (headers[1],) if _swept(summary) or "grid point" in headers else ()
    table = text_table(headers, [list(r.values()) for r in shown], left=("strategy", *grid), width=width)
    codes = summary["strategy"].unique(maintain_order=True).to_list()
    renamed = [f"{names[c]} = {c}" for c in codes if names and names.get(c, c) != c]
    caption = CAPTION + (f"; code names: {', '.join(renamed)}" if renamed else "")
    return table + "\n".join(textwrap.wrap(caption, width or len(caption))) + "\n"


def markdown(shown: Sequence[dict[str, str]]) -> str:
    header = list(shown[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row[h] for h in header) + " |" for row in shown]
    return "\n".join(lines) + "\n"


def text_table(
    headers: Sequence[str],
    body: Sequence[Sequence[str]],
    left: tuple[str, ...] = ("strategy",),
    width: int | None = None,
    **table_options: Any,
) -> str:
    """A rich table as plain text, at most ``width`` columns wide (``None``: as wide as it needs).

    A number never wraps or splits: each column is as wide as its widest cell, a longer header
    wraps onto more lines, and when the table is still too wide the ``left`` (name) columns are
    shortened with an ellipsis (to 8 characters, then to 4 if it must).
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    cells = [max((len(row[i]) for row in body), default=1) for i in range(len(headers))]
    # a header wraps between words, never inside one
    cells = [
        max(c, len(h) if width is None else max(map(len, h.split())))
        for c, h in zip(cells, headers, strict=True)
    ]
    names = [i for i, h in enumerate(headers) if h in left]  # shortened first to last

    def draw(widths: list[int]) -> str:
        plain = {"box": box.SIMPLE_HEAD, "pad_edge": False, "show_edge": False}
        fitted = plain if width else {"box": box.HEAVY_HEAD}
        table = Table(**fitted, **table_options)
        for header, size in zip(headers, widths, strict=True):
            is_name = header in left
            table.add_column(
                header, justify="left" if is_name else "right", width=size,
                no_wrap=is_name, overflow="ellipsis" if is_name else "fold",
            )
        for row in body:
            table.add_row(*row)
        buffer = io.StringIO()
        Console(file=buffer, width=10_000, force_terminal=False, soft_wrap=True).print(table)
        return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"

    text = draw(cells)
    excess = max(map(len, text.splitlines())) - width if width else 0
    for shortest in (8, 4):  # names keep 8 characters, or 4 where that is still too wide
        for i in names:
            if excess <= 0:
                break
            cut = min(excess, cells[i] - shortest)
            if cut > 0:
                cells[i] -= cut
                excess -= cut
                text = draw(cells)
    return text


__all__ = ["in_result_order", "records", "render", "result_order", "return_on_spend", "rows", "text_table"]
