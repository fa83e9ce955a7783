"""Command line: ``loyalty-sim run`` compares strategies on a market.

The CLI parses arguments, calls the library and formats results; nothing else lives here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.model import LoyaltyModel
from sim.population import EXIT_REASONS
from sim.registry import UnknownNameError
from sim.strategy import BASELINE, Strategy, builtin_strategies

app = typer.Typer(
    name="loyalty-sim",
    help="Do loyalty programs keep customers, or do emotional bonds? Simulate and compare strategies.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
stderr = Console(stderr=True)


@app.callback()
def _group() -> None:
    """Do loyalty programs keep customers, or do emotional bonds? Simulate and compare strategies."""


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _pick_strategies(names: list[str] | None) -> list[Strategy]:
    available = builtin_strategies()
    if not names:
        return list(available.values())
    picked = []
    for name in names:
        if name not in available:
            error = UnknownNameError("strategy", name, list(available))
            raise typer.BadParameter(str(error), param_hint="'--strategy'")
        picked.append(available[name])
    return picked


@app.command()
def run(
    strategy: Annotated[
        list[str] | None,
        typer.Option("--strategy", "-s", help="Strategy to run (repeatable); default: all built-in ones."),
    ] = None,
    customers: Annotated[int, typer.Option(min=1, help="Customers in the initial cohort.")] = 10_000,
    months: Annotated[int, typer.Option(min=1, max=600, help="Months to simulate.")] = 60,
    seed: Annotated[int, typer.Option(min=0, help="Root seed; same seed, same results.")] = 1,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """Run strategies on the default market and print a comparison table.

    Every strategy runs with the same seed, so all start from the same customers.
    """
    strategies = _pick_strategies(strategy)
    summaries = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=stderr, transient=True, disable=not stderr.is_terminal,
    ) as progress:
        task = progress.add_task("simulating", total=len(strategies))
        for chosen in strategies:
            progress.update(task, description=f"simulating {chosen.name}")
            result = LoyaltyModel(chosen, customers=customers, months=months, rng=seed).run()
            summaries.append(result.summary())
            progress.advance(task)
    sys.stdout.write(_render(summaries, output_format))


def _render(summaries: list[dict], output_format: OutputFormat) -> str:
    if output_format is OutputFormat.json:
        return json.dumps(summaries, indent=2) + "\n"
    if output_format is OutputFormat.csv:
        return _csv(summaries)
    return _table(summaries)


def _csv(summaries: list[dict]) -> str:
    """One row per strategy; churn by reason as ``churned_<reason>`` columns, no monthly series."""
    rows = []
    for s in summaries:
        row = {k: v for k, v in s.items() if k not in ("monthly_churn", "churn_by_reason", "cost_by_program")}
        row.update({f"churned_{r}": s["churn_by_reason"][r] for r in EXIT_REASONS})
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _table(summaries: list[dict]) -> str:
    baseline = next((s for s in summaries if s["strategy"] == BASELINE), None)
    first = summaries[0]
    table = Table(
        title=f"{first['customers']:,} customers, {first['months']} months, seed {first['seed']}",
        caption="cohort loss: share of the initial customers gone at the horizon; sorted best first",
    )
    for header in (
        "strategy", "cohort loss", "vs baseline", "annual churn", "median lifetime",
        "main exit reason", "program cost", "margin", "cost / retained",
    ):
        table.add_column(header, justify="left" if header in ("strategy", "main exit reason") else "right")
    for s in sorted(summaries, key=lambda s: s["cohort_loss"]):
        reasons = s["churn_by_reason"]
        total = sum(reasons.values())
        main_reason = max(reasons, key=reasons.get) if total else "-"
        delta = (
            f"{(s['cohort_loss'] - baseline['cohort_loss']) * 100:+.1f} pp"
            if baseline and s is not baseline else "-"
        )
        median = s["median_lifetime_months"]
        cost_per_retained = s["cost_per_retained_customer"]
        table.add_row(
            s["strategy"],
            f"{s['cohort_loss']:.1%}",
            delta,
            f"{s['annual_churn']:.1%}",
            f"{median} mo" if median is not None else f"> {s['months']} mo",
            f"{main_reason} ({reasons[main_reason] / total:.0%})" if total else "-",
            f"{s['program_cost']:,.0f} EUR",
            f"{s['margin']:,.0f} EUR",
            f"{cost_per_retained:,.2f} EUR" if cost_per_retained is not None else "-",
        )
    buffer = io.StringIO()
    Console(file=buffer, width=160, force_terminal=False).print(table)
    return buffer.getvalue()


def main() -> None:
    """Console entry point: no traceback for users unless LOYALTY_SIM_DEBUG is set."""
    try:
        app()
    except (ValueError, UnknownNameError) as error:
        if os.environ.get("LOYALTY_SIM_DEBUG"):
            raise
        stderr.print(f"error: {error}", highlight=False)
        raise SystemExit(2) from None
