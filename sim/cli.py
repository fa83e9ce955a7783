"""Command line: ``loyalty-sim run`` compares strategies on a market.

The CLI parses arguments, calls the library and formats results; nothing else lives here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sim import scenario as scenarios
from sim.analysis.comparison import comparison_rows, markdown
from sim.executors import make_executor
from sim.market import Market
from sim.model import LoyaltyModel
from sim.population import EXIT_REASONS
from sim.registry import UnknownNameError
from sim.strategy import BASELINE, Strategy, builtin_strategies
from sim.sweep import SweepError, SweepInterrupted, estimate, sweep

app = typer.Typer(
    name="loyalty-sim",
    help="Do loyalty programs keep customers, or do emotional bonds? Simulate and compare strategies.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
stderr = Console(stderr=True, soft_wrap=True)


@app.callback()
def _group() -> None:
    """Do loyalty programs keep customers, or do emotional bonds? Simulate and compare strategies."""


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class SweepFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


EXIT_FAILED_RUNS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _fail(message: str) -> typer.Exit:
    stderr.print(f"error: {message}", highlight=False, markup=False)
    return typer.Exit(EXIT_BAD_INPUT)


def _load_scenario(file: Path) -> scenarios.Scenario:
    try:
        return scenarios.load(file)
    except scenarios.ScenarioError as error:
        for problem in error.problems:
            stderr.print(f"error: {problem.render(error.file)}", highlight=False, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _pick_strategies(names: list[str] | None, available: dict[str, Strategy]) -> list[Strategy]:
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
    file: Annotated[
        Path | None, typer.Argument(help="Scenario file (TOML); default: the built-in default market.")
    ] = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option("--strategy", "-s", help="Strategy to run (repeatable); default: all of them."),
    ] = None,
    customers: Annotated[
        int | None, typer.Option(min=1, help="Customers in the initial cohort [default: 10000].")
    ] = None,
    months: Annotated[
        int | None, typer.Option(min=1, max=600, help="Months to simulate [default: 60].")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Seed; same seed, same results [default: 1].")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """Run strategies once and print a comparison table.

    Without FILE: the seven single-program strategies and one mix on the default market. With
    FILE: the scenario's market and strategies, one replication, no grid. Every strategy runs
    with the same seed, so all start from the same customers.
    """
    if file is None:
        market, available, baseline = Market(), builtin_strategies(), BASELINE
        default_customers, default_months, default_seed = 10_000, 60, 1
    else:
        chosen = _load_scenario(file)
        market, available, baseline = chosen.market, chosen.strategies, chosen.baseline
        default_customers, default_months, default_seed = chosen.customers, chosen.months, chosen.seed
    strategies = _pick_strategies(strategy, available)
    customers = customers or default_customers
    months = months or default_months
    seed = default_seed if seed is None else seed
    summaries = []
    with _progress() as progress:
        task = progress.add_task("simulating", total=len(strategies))
        for picked in strategies:
            progress.update(task, description=f"simulating {picked.name}")
            result = LoyaltyModel(picked, market, customers=customers, months=months, rng=seed).run()
            summaries.append(result.summary())
            progress.advance(task)
    sys.stdout.write(_render(summaries, output_format, baseline))


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="Scenario file (TOML).")]) -> None:
    """Check a scenario file without running it."""
    checked = _load_scenario(file)
    grid = f"{len(checked.grid)} grid points x " if len(checked.grid) > 1 else ""
    print(
        f"{file}: ok: '{checked.name}', {len(checked.strategies)} strategies x {grid}"
        f"{checked.replications} replications = {checked.runs} runs of {checked.customers:,} customers "
        f"x {checked.months} months; baseline '{checked.baseline}'"
    )


@app.command("sweep")
def sweep_command(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML).")],
    replications: Annotated[
        int | None,
        typer.Option(min=1, help="Replications per strategy and grid point [default: the file's]."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes [default: all cores]; 1 runs in-process.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler: tcp://host:port of a running cluster, or 'local' for a LocalCluster."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Result directory [default: results/<scenario name>].")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Complete an interrupted sweep.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing results.")] = False,
    customers_file: Annotated[
        bool, typer.Option("--customers", help="Also write per-customer records (customers.parquet).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print runs, time, disk and memory estimates; run nothing.")
    ] = False,
    output_format: Annotated[
        SweepFormat, typer.Option("--format", help="Format of the comparison printed at the end.")
    ] = SweepFormat.table,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Do not build report.html and the chart images at the end.")
    ] = False,
) -> None:
    """Run every strategy x grid point x replication of a scenario and compare them.

    Results go to results/<scenario name>/ (runs, monthly, summary Parquet files and a
    manifest). Ctrl-C stops cleanly; --resume then runs only what is missing. Exit codes:
    0 done, 1 some runs failed (recorded in the manifest) or a worker process died, 2 bad input,
    130 interrupted. At the end the workshop report is built (see `loyalty-sim report`).
    """
    if resume and force:
        raise _fail("--resume and --force exclude each other")
    chosen = _load_scenario(file)
    out = out or Path("results") / chosen.name
    if dry_run:
        _print_estimate(chosen, workers or os.cpu_count() or 1, out, replications)
        return
    try:
        executor = make_executor(workers, scheduler)
    except OSError as error:
        raise _fail(f"--scheduler: cannot reach {scheduler}: {error}") from None
    with executor, _progress(sweep=True) as progress:
        task = progress.add_task(f"sweep {chosen.name} on {executor.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            report = sweep(chosen, out, executor, replications, resume, force, customers_file, advance)
        except SweepError as error:
            raise _fail(str(error)) from None
        except SweepInterrupted as stop:
            progress.stop()
            again = ["loyalty-sim", "sweep", str(file), "--out", str(out)]
            again += [f"--replications={replications}"] if replications else []
            again += ["--customers"] if customers_file else []
            stderr.print(
                f"{stop.reason}: {stop.done} of {stop.total} runs are kept in {out}; "
                f"finish with: {shlex.join(again)} --resume",
                highlight=False,
                markup=False,
            )
            raise typer.Exit(EXIT_INTERRUPTED if stop.reason == "interrupted" else EXIT_FAILED_RUNS) from None
    sys.stdout.write(_render_sweep(report.summary, output_format))
    if report.skipped == report.total:
        stderr.print(f"{out}/ already held every run of this scenario: nothing ran (--force runs it again)")
    kept = f" ({report.skipped} from before)" if report.skipped else ""
    stderr.print(f"{report.done} runs done{kept}, {report.failed} failed; results in {out}/", highlight=False)
    if not no_report and report.done:
        _build_report(out, out, Language.en, ",".join(REPORT_FORMATS))
    if report.failed:
        stderr.print(
            f"some runs failed: see 'runs' in {out}/manifest.json and the error column of runs.parquet"
        )
        raise typer.Exit(EXIT_FAILED_RUNS)


class Language(StrEnum):
    en = "en"
    de = "de"


REPORT_FORMATS = ("html", "png", "svg")


@app.command("report")
def report_command(
    results_dir: Annotated[Path, typer.Argument(help="Result directory of a sweep.")],
    out: Annotated[Path | None, typer.Option(help="Where to write [default: RESULTS_DIR].")] = None,
    lang: Annotated[Language, typer.Option("--lang", help="Language of titles and labels.")] = Language.en,
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: html (report.html), png, svg (charts/).")
    ] = ",".join(REPORT_FORMATS),
) -> None:
    """Build the workshop report of a sweep: report.html (self-contained, works offline) and a
    PNG and SVG per chart in charts/."""
    _build_report(results_dir, out, lang, formats)


def _build_report(results_dir: Path, out: Path | None, lang: Language, formats: str) -> None:
    from sim.report import build_report  # Altair and vl-convert load only when a report is built

    try:
        chosen = [f.strip() for f in formats.split(",") if f.strip()]
        files = build_report(results_dir, out, lang.value, chosen)
    except (FileNotFoundError, ValueError) as error:
        raise _fail(str(error)) from None
    where = files.html or (files.images[0].parent if files.images else out or results_dir)
    stderr.print(f"report: {where} ({len(files.images)} chart images)", highlight=False, markup=False)


@app.command()
def explore(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1; 0: a free one.")] = 8765,
    lang: Annotated[Language, typer.Option("--lang", help="Language of the page.")] = Language.en,
    customers: Annotated[int, typer.Option(min=100, max=200_000, help="Customers per run.")] = 5_000,
) -> None:
    """Serve a live what-if page: sliders for the main program parameters rerun the model and
    redraw survival and churn. Open the printed address in a browser; Ctrl-C stops."""
    from sim.explore import make_server

    try:
        server = make_server(port, lang.value, customers)
    except OSError as error:
        reason = f"cannot listen on 127.0.0.1:{port} ({error.strerror})"
        raise _fail(f"--port: {reason}; choose another port") from None
    print(f"explore: http://127.0.0.1:{server.server_address[1]}/  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("explore: stopped", flush=True)


def _print_estimate(chosen: scenarios.Scenario, workers: int, out: Path, replications: int | None) -> None:
    guess = estimate(chosen, workers, out, replications)
    minutes, seconds = divmod(round(guess.seconds), 60)
    print(
        f"{guess.runs} runs ({len(chosen.strategies)} strategies x {len(chosen.grid)} grid points x "
        f"{replications or chosen.replications} replications) of {chosen.customers:,} customers x "
        f"{chosen.months} months"
    )
    print(f"time:   about {minutes} min {seconds} s on {workers} workers (from a timed probe run)")
    print(f"disk:   about {guess.disk_bytes / 1e6:,.0f} MB in {out}/")
    print(f"memory: about {guess.memory_per_worker_bytes / 1e6:,.0f} MB per worker")
    for warning in guess.warnings:
        stderr.print(f"warning: {warning}", highlight=False, markup=False)


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed:.1f} runs/s" if task.speed else "", style="progress.data.speed")


def _progress(sweep: bool = False) -> Progress:
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    if sweep:
        columns += [_RateColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    return Progress(
        *columns, TimeElapsedColumn(), console=stderr, transient=True, disable=not stderr.is_terminal
    )


def _render_sweep(summary, output_format: SweepFormat) -> str:
    if output_format is SweepFormat.json:
        return json.dumps(summary.to_dicts(), indent=2) + "\n"
    if output_format is SweepFormat.csv:
        return summary.write_csv()
    rows = comparison_rows(summary)
    if not rows:  # every run failed
        return ""
    if output_format is SweepFormat.markdown:
        return markdown(rows)
    return _text_table(
        list(rows[0]),
        [list(row.values()) for row in rows],
        left=("strategy", "grid point"),
        caption="mean over replications [95% CI]; differences are paired (common random numbers)",
    )


def _text_table(headers: list[str], rows: list[list[str]], left: tuple[str, ...], **table_options) -> str:
    """A rich table as plain text: ``left`` columns left-aligned, strategy names never wrapped."""
    table = Table(**table_options)
    for header in headers:
        table.add_column(header, justify="left" if header in left else "right", no_wrap=header == "strategy")
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=200, force_terminal=False).print(table)
    return buffer.getvalue()


def _render(summaries: list[dict], output_format: OutputFormat, baseline: str = BASELINE) -> str:
    if output_format is OutputFormat.json:
        return json.dumps(summaries, indent=2) + "\n"
    if output_format is OutputFormat.csv:
        return _csv(summaries)
    return _table(summaries, baseline)


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


def _table(summaries: list[dict], baseline_name: str = BASELINE) -> str:
    baseline = next((s for s in summaries if s["strategy"] == baseline_name), None)
    first = summaries[0]
    headers = [
        "strategy",
        "cohort loss",
        "vs baseline",
        "annual churn",
        "median lifetime",
        "main exit reason",
        "program cost",
        "margin",
        "cost / retained",
    ]
    rows = []
    for s in sorted(summaries, key=lambda s: s["cohort_loss"]):
        reasons = s["churn_by_reason"]
        total = sum(reasons.values())
        main_reason = max(reasons, key=reasons.get) if total else "-"
        delta = (
            f"{(s['cohort_loss'] - baseline['cohort_loss']) * 100:+.1f} pp"
            if baseline and s is not baseline
            else "-"
        )
        median = s["median_lifetime_months"]
        cost_per_retained = s["cost_per_retained_customer"]
        rows.append(
            [
                s["strategy"],
                f"{s['cohort_loss']:.1%}",
                delta,
                f"{s['annual_churn']:.1%}",
                f"{median} mo" if median is not None else f"> {s['months']} mo",
                f"{main_reason} ({reasons[main_reason] / total:.0%})" if total else "-",
                f"{s['program_cost']:,.0f} EUR",
                f"{s['margin']:,.0f} EUR",
                f"{cost_per_retained:,.2f} EUR" if cost_per_retained is not None else "-",
            ]
        )
    return _text_table(
        headers,
        rows,
        left=("strategy", "main exit reason"),
        title=f"{first['customers']:,} customers, {first['months']} months, seed {first['seed']}",
        caption="cohort loss: share of the initial customers gone at the horizon; sorted best first",
    )


def main() -> None:
    """Console entry point: no traceback for users unless LOYALTY_SIM_DEBUG is set."""
    try:
        app()
    except (ValueError, UnknownNameError) as error:
        if os.environ.get("LOYALTY_SIM_DEBUG"):
            raise
        stderr.print(f"error: {error}", highlight=False, markup=False)
        raise SystemExit(EXIT_BAD_INPUT) from None
