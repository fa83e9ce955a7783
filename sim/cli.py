"""Command line: ``loyalty-sim run`` compares strategies on a market.

The CLI parses arguments, calls the library and formats results; nothing else lives here.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shlex
import sys
import traceback
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

from sim import defaults
from sim import scenario as scenarios
from sim.errors import UserError
from sim.executors import Executor, make_executor
from sim.io import check_output, write_atomic
from sim.market import Market
from sim.plugins import PluginInfo, PluginRunError, describe
from sim.population import EXIT_REASONS
from sim.registry import UnknownNameError
from sim.runs import run_strategies
from sim.scenario import MAX_CUSTOMERS, MAX_GRID_POINTS, MAX_MONTHS, MAX_REPLICATIONS
from sim.strategy import BASELINE, Strategy, builtin_strategies
from sim.sweep import SweepError, SweepInterrupted, estimate
from sim.tables.rows import comparison_rows, economics_rows, markdown, survival_rows

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

# Options of every command that runs simulations on the sweep executors (sim.executors).
WorkersOption = Annotated[
    int | None, typer.Option(min=1, help="Worker processes [default: all cores]; 1 runs in-process.")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(help="Dask scheduler: tcp://host:port of a running cluster, or 'local' for a LocalCluster."),
]


def _fail(message: str) -> typer.Exit:
    stderr.print(f"error: {message}", highlight=False, markup=False)
    return typer.Exit(EXIT_BAD_INPUT)


def _executor(workers: int | None, scheduler: str | None) -> Executor:
    """The executor of ``--workers`` and ``--scheduler``; an unreachable scheduler is bad input."""
    try:
        return make_executor(workers, scheduler)
    except OSError as error:
        raise _fail(f"--scheduler: cannot reach {scheduler}: {error}") from None


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
        int | None,
        typer.Option(
            min=1, max=MAX_CUSTOMERS, help=f"Customers in the initial cohort [default: {defaults.CUSTOMERS}]."
        ),
    ] = None,
    months: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_MONTHS, help=f"Months to simulate [default: {defaults.MONTHS}]."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help=f"Seed; same seed, same results [default: {defaults.SEED}].")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """Run strategies once and print a comparison table.

    Without FILE: the eight built-in single-program strategies and one mix on the default market. With
    FILE: the scenario's market and strategies, one replication, no grid. Every strategy runs
    with the same seed, so all start from the same customers.
    """
    if file is None:
        market, available, baseline = Market(), builtin_strategies(), BASELINE
        default_customers, default_months, default_seed = defaults.CUSTOMERS, defaults.MONTHS, defaults.SEED
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
            try:
                [done] = run_strategies([picked], market, customers, months, seeds=[seed])
            except PluginRunError as error:
                stderr.print(f"error: strategy '{picked.name}': {error}", highlight=False, markup=False)
                raise typer.Exit(EXIT_FAILED_RUNS) from None
            summaries.append(done.result.summary())
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
        typer.Option(
            min=1,
            max=MAX_REPLICATIONS,
            help="Replications per strategy and grid point [default: the file's].",
        ),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
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
    from sim.analysis.statistics import sweep_and_summarise  # SciPy loads only when a sweep runs

    if resume and force:
        raise _fail("--resume and --force exclude each other")
    chosen = _load_scenario(file)
    out = out or Path("results") / chosen.name
    if dry_run:
        _print_estimate(chosen, workers or os.cpu_count() or 1, out, replications)
        return
    _check_out(out)
    executor = _executor(workers, scheduler)
    with executor, _progress(sweep=True) as progress:
        task = progress.add_task(f"sweep {chosen.name} on {executor.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            report = sweep_and_summarise(
                chosen,
                out,
                executor,
                replications=replications,
                resume=resume,
                force=force,
                record_customers=customers_file,
                on_progress=advance,
            )
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
    for line in report.set_aside:
        stderr.print(f"warning: {out / 'parts'}/{line}", highlight=False, markup=False)
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


class ListFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("programs")
def programs_command(
    output_format: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = ListFormat.table,
) -> None:
    """List the firm programs a scenario can use (built-in and installed plugins), with parameters."""
    from sim.programs import PROGRAMS, Program

    sys.stdout.write(_render_plugins(describe(PROGRAMS, Program), output_format))


@app.command("behaviours")
def behaviours_command(
    output_format: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = ListFormat.table,
) -> None:
    """List the customer behaviours a scenario can enable (built-in and installed plugins)."""
    from sim.behaviours import BEHAVIOURS, Behaviour

    sys.stdout.write(_render_plugins(describe(BEHAVIOURS, Behaviour), output_format))


def _render_plugins(plugins: list[PluginInfo], output_format: ListFormat) -> str:
    if output_format is ListFormat.json:
        return json.dumps([p.to_dict() for p in plugins], indent=2, default=str) + "\n"
    if not plugins:
        return "none registered\n"
    parts = []
    for plugin in plugins:
        columns = ", ".join(f"{c.name} ({c.dtype})" for c in plugin.columns)
        caption = f"hooks: {', '.join(plugin.hooks) or '-'}" + (f"; columns: {columns}" if columns else "")
        rows = [[f.name, f.type, repr(f.default), f.unit or "-", f.doc or "-"] for f in plugin.params]
        parts.append(
            _text_table(
                ["parameter", "type", "default", "unit", "description"],
                rows or [["-", "-", "-", "-", "no parameters"]],
                left=("parameter", "type", "unit", "description"),
                title=f"{plugin.name} ({plugin.source}): {plugin.summary}",
                caption=caption,
            )
        )
    return "\n".join(parts)


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

    check_output(out or results_dir, "--out")
    try:
        chosen = [f.strip() for f in formats.split(",") if f.strip()]
        files = build_report(results_dir, out, lang.value, chosen)
    except (FileNotFoundError, UserError) as error:
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
    """A rich table as plain text: ``left`` columns left-aligned, no cell wrapped (one line per
    row, so the output stays readable when piped to a file or a pager)."""
    table = Table(**table_options)
    for header in headers:
        table.add_column(header, justify="left" if header in left else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, width=1000, force_terminal=False).print(table)
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
        "half-life",
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
        half_life = s["half_life_months"]
        cost_per_retained = s["cost_per_retained_customer"]
        rows.append(
            [
                s["strategy"],
                f"{s['cohort_loss']:.1%}",
                delta,
                f"{s['annual_churn']:.1%}",
                f"{half_life} mo" if half_life is not None else f"> {s['months']} mo",
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


def _strategy_table(rows: list[dict[str, str]], caption: str) -> str:
    """Display rows of an analysis (one per strategy and grid point) as a text table."""
    if not rows:  # every run failed
        return ""
    return _text_table(
        list(rows[0]), [list(r.values()) for r in rows], left=("strategy", "grid point"), caption=caption
    )


@app.command("survival")
def survival_command(
    results_dir: Annotated[Path, typer.Argument(help="Result directory of a finished sweep.")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """Kaplan-Meier survival of the initial cohort, median lifetime and an sBG fit per strategy.

    Writes survival.parquet (curves with 95% bands and monthly hazard) and
    survival_summary.parquet into RESULTS_DIR (schemas in sim/analysis/survival.py).
    """
    from sim.analysis import survival

    try:
        check_output(results_dir, "RESULTS_DIR")
        _, summary = survival.write(results_dir)
    except UserError as error:
        raise _fail(str(error)) from None
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(summary.to_dicts(), indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        sys.stdout.write(summary.write_csv())
    else:
        sys.stdout.write(
            _strategy_table(
                survival_rows(summary),
                "initial cohort pooled over replications; Kaplan-Meier with log(-log) Greenwood "
                "band; year k: share still active after 12k months",
            )
        )
    stderr.print(f"wrote {results_dir}/survival.parquet and survival_summary.parquet", highlight=False)


@app.command("calibrate")
def calibrate_command(
    curve: Annotated[Path, typer.Option(help="Observed retention: CSV with year|month and share|active.")],
    scenario: Annotated[Path, typer.Option(help="Scenario file (TOML) whose market is fitted.")],
    fit: Annotated[str, typer.Option(help="Parameters to fit: key.path[=low:high],... (as in [grid]).")],
    holdout: Annotated[
        int, typer.Option(min=0, help="Hold out the last K periods and report the error predicting them.")
    ] = 0,
    strategy: Annotated[
        str | None, typer.Option(help="Strategy whose cohort is fitted [default: the scenario's baseline].")
    ] = None,
    replications: Annotated[
        int, typer.Option(min=1, max=MAX_REPLICATIONS, help="Runs per evaluation (same seeds each time).")
    ] = 4,
    customers: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_CUSTOMERS, help="Cohort size per run [default: the scenario's]."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Calibrated scenario to write [default: <scenario>-calibrated.toml].")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")] = False,
) -> None:
    """Fit market parameters so that a strategy's cohort retention matches an observed curve.

    Prints the fitted values with standard errors, the fit error and (with --holdout) the error
    on the held-out periods, and writes a calibrated scenario file. Exit code 2 on bad input.
    """
    from sim.analysis import calibration
    from sim.io import write_atomic

    chosen = _load_scenario(scenario)
    out = out or scenario.with_name(f"{scenario.stem}-calibrated.toml")
    try:
        check_output(out, "--out", directory=False)
    except UserError as error:
        raise _fail(str(error)) from None
    if out.exists() and not force:
        raise _fail(f"--out: {out} exists; use --force to overwrite it")
    try:
        observed = calibration.read_curve(curve)
        parameters = calibration.parse_fit(fit, chosen, strategy or chosen.baseline)
        with _executor(workers, scheduler) as executor:
            result = calibration.calibrate(
                chosen, observed, parameters, executor, strategy, holdout, replications, customers
            )
        text = calibration.calibrated_scenario_text(chosen, result)
    except calibration.CalibrationError as error:
        raise _fail(str(error)) from None
    rows = [
        [p.path, f"{p.start:g}", f"{p.low:g}..{p.high:g}", f"{result.fitted[p.path]:.4g}",
         f"{result.standard_errors[p.path]:.2g}"]
        for p in parameters
    ]
    sys.stdout.write(
        _text_table(
            ["parameter", "start", "bounds", "fitted", "std. error"],
            rows,
            left=("parameter",),
            title=f"{result.strategy}: {result.replications} x {result.customers:,} customers, "
            f"{result.evaluations} evaluations",
        )
    )
    periods = [f"{observed.unit} {p}" for p in observed.periods]
    sys.stdout.write(
        _text_table(
            ["", *periods],
            [
                ["observed", *(f"{v:.3f}" for v in observed.share)],
                ["model", *(f"{v:.3f}" for v in result.model_share)],
            ],
            left=("",),
        )
    )
    print(f"fit error (RMSE of the share still active): {result.rmse_fit:.4f}")
    if result.rmse_holdout is not None:
        print(f"holdout error on the last {holdout} {observed.unit}s: {result.rmse_holdout:.4f}")
    write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    stderr.print(f"wrote {out}", highlight=False)


@app.command("economics")
def economics_command(
    results_dir: Annotated[Path, typer.Argument(help="Result directory of a finished sweep.")],
) -> None:
    """Lifetime value, program cost split, exit fees, points liability and return on spend.

    Writes economics.parquet (strategy, point, item, mean, ci_low, ci_high) into RESULTS_DIR.
    """
    from sim.analysis import economics
    from sim.io import write_atomic
    from sim.results import load

    try:
        check_output(results_dir, "RESULTS_DIR")
        summary = load(results_dir).summary
    except UserError as error:
        raise _fail(str(error)) from None
    if "clv_mean" not in summary.columns:
        raise _fail(f"{results_dir}: these results predate the cost split; run the sweep again with --force")
    write_atomic(results_dir / "economics.parquet", economics.table(summary).write_parquet)
    sys.stdout.write(
        _strategy_table(
            economics_rows(summary),
            "means over replications; costs, fees and liability in kEUR over the horizon; "
            "return on spend: extra profit per extra EUR of program spend vs the baseline, paired",
        )
    )


# --- analysis: claims audit, sensitivity, scenario discovery ---------------------------------


def _check_out(out: Path | None) -> None:
    """A bad --out is a one-line error before the work, not after it."""
    if out is not None:
        try:
            check_output(out, "--out")
        except UserError as error:
            raise _fail(str(error)) from None


def _write_table(out: Path, name: str, frame) -> Path:
    """Write ``frame`` to ``out/name`` atomically (``out`` was checked by :func:`_check_out`)."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / name, frame.write_parquet)
    return out / name


def _report_hint(out: Path) -> None:
    """Written beside a sweep's results: say how the report picks the file up."""
    if (out / "manifest.json").exists():
        stderr.print(f"rebuild the report with it: loyalty-sim report {out}", highlight=False, markup=False)


def _run_analysis(label: str, workers: int | None, scheduler: str | None, work):
    """Run ``work(executor, on_progress)`` on the sweep's executor (``--scheduler`` as for sweep)
    with a progress bar."""
    from sim.analysis.claims import ClaimsError
    from sim.analysis.space import AnalysisError

    executor = _executor(workers, scheduler)
    with executor, _progress(sweep=True) as progress:
        task = progress.add_task(f"{label} on {executor.name}", total=None)
        try:
            return work(executor, lambda done, total: progress.update(task, completed=done, total=total))
        except (AnalysisError, ClaimsError) as error:
            raise _fail(str(error)) from None


def _g(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


@app.command("claims")
def claims_command(
    file: Annotated[
        Path | None, typer.Argument(help="Scenario file (TOML): its market [default: the default market].")
    ] = None,
    replications: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=MAX_REPLICATIONS,
            help=f"Replications per experiment [default: the file's, else {defaults.REPLICATIONS}].",
        ),
    ] = None,
    customers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_CUSTOMERS,
            help=f"Customers per run [default: the file's, else {defaults.CUSTOMERS}].",
        ),
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option("--check", help="Check or claim to test (repeatable: C4, F2, F2a); default: all."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write claims.parquet to this directory (a sweep's: the report shows it)."),
    ] = None,
) -> None:
    """Test the practitioners' claims C1-C7 and the stylized facts F1-F8 on a market.

    A check holds when the 95% confidence interval of its effect lies inside the claimed region,
    fails when it lies entirely outside, and is inconclusive otherwise (docs/analysis.md).
    """
    from sim.analysis.claims import ClaimsError, audit, select

    chosen = _load_scenario(file) if file else None
    where = str(file) if file else "default market"
    _check_out(out)
    try:
        select(check)
    except ClaimsError as error:
        raise _fail(f"--check: {error}") from None
    options = {
        "customers": customers or (chosen.customers if chosen else defaults.CUSTOMERS),
        "months": chosen.months if chosen else defaults.MONTHS,
        "replications": replications or (chosen.replications if chosen else defaults.REPLICATIONS),
        "seed": chosen.seed if chosen else defaults.SEED,
        "name": chosen.name if chosen else "default",
        "checks": check,
    }
    market = chosen.market if chosen else Market()

    def work(executor, on_progress):
        try:
            return audit(market, executor=executor, on_progress=on_progress, **options)
        except ClaimsError as error:
            raise ClaimsError(f"{where}: {error}") from None

    table = _run_analysis("claims audit", workers, scheduler, work)
    rows = [
        [r["check"], r["statement"], r["effect"], f"{_g(r['estimate'])} [{_g(r['ci_low'])}, "
         f"{_g(r['ci_high'])}]", r["region"], r["verdict"], str(r["replications"])]
        for r in table.iter_rows(named=True)
    ]
    headers = ["check", "claim", "effect", "estimate [95% CI]", "holds if", "verdict", "n"]
    sys.stdout.write(_text_table(headers, rows, left=("check", "claim", "effect", "verdict"),
                                 caption=f"{where}; paired replications (common random numbers)"))
    if out:
        stderr.print(f"wrote {_write_table(out, 'claims.parquet', table)}", highlight=False)
        _report_hint(out)


class SensitivityMethod(StrEnum):
    sobol = "sobol"
    morris = "morris"


@app.command("sensitivity")
def sensitivity_command(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML) with ranges in [grid.latin_hypercube].")],
    method: Annotated[SensitivityMethod, typer.Option(help="Sobol indices or Morris screening.")] = (
        SensitivityMethod.sobol
    ),
    outputs: Annotated[
        str,
        typer.Option(help="Comma-separated outputs: OUTCOME, OUTCOME:STRATEGY or OUTCOME:STRATEGY-STRATEGY."),
    ] = "cohort_loss",
    samples: Annotated[
        int | None, typer.Option(help="Base samples (sobol, a power of two) or trajectories (morris).")
    ] = None,
    replications: Annotated[
        int, typer.Option(min=1, max=MAX_REPLICATIONS, help="Replications averaged per point.")
    ] = 1,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write sensitivity.parquet to this folder (a sweep's: the report shows it)."),
    ] = None,
) -> None:
    """Global sensitivity analysis (SALib) of outputs over the scenario's parameter ranges."""
    from sim.analysis.sensitivity import check_method, sensitivity
    from sim.analysis.space import AnalysisError, parse_outputs, space_of

    chosen = _load_scenario(file)
    _check_out(out)
    try:
        parsed = parse_outputs(outputs, chosen)
        check_method(method.value, samples)
        space_of(chosen)
    except AnalysisError as error:
        raise _fail(str(error)) from None
    table = _run_analysis(
        f"{method.value} sensitivity",
        workers,
        scheduler,
        lambda executor, on_progress: sensitivity(
            chosen, method.value, parsed, executor, samples, replications, on_progress
        ),
    )
    rows = [
        [r["output"], r["parameter"], r["index"], _g(r["value"]),
         "" if r["ci_low"] is None else f"[{_g(r['ci_low'])}, {_g(r['ci_high'])}]"]
        for r in table.iter_rows(named=True)
    ]
    evaluations = table["evaluations"][0] if table.height else 0
    sys.stdout.write(_text_table(["output", "parameter", "index", "value", "95% CI"], rows,
                                 left=("output", "parameter", "index"),
                                 caption=f"{method.value}: {evaluations} evaluations per strategy"))
    if out:
        stderr.print(f"wrote {_write_table(out, 'sensitivity.parquet', table)}", highlight=False)
        _report_hint(out)


@app.command("discover")
def discover_command(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML) with ranges in [grid.latin_hypercube].")],
    outcome: Annotated[
        str, typer.Option(help="OUTCOME:STRATEGY or OUTCOME:STRATEGY-STRATEGY (a paired difference).")
    ],
    threshold: Annotated[float, typer.Option(help="A market is a case when the outcome is above this.")],
    below: Annotated[bool, typer.Option("--below", help="Cases are below the threshold instead.")] = False,
    samples: Annotated[
        int | None,
        typer.Option(
            min=2, max=MAX_GRID_POINTS, help="Markets to sample [default: the latin_hypercube samples]."
        ),
    ] = None,
    replications: Annotated[
        int, typer.Option(min=1, max=MAX_REPLICATIONS, help="Replications averaged per market.")
    ] = 1,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[Path | None, typer.Option(help="Also write discovery.parquet to this directory.")] = None,
) -> None:
    """Where does an outcome cross a threshold? PRIM over sampled markets, as plain-language rules."""
    from sim.analysis.discovery import discover
    from sim.analysis.space import AnalysisError, parse_outputs, space_of

    chosen = _load_scenario(file)
    _check_out(out)
    if not math.isfinite(threshold):
        raise _fail(f"--threshold: expected a finite number, found {threshold}")
    try:
        parsed = parse_outputs(outcome, chosen, option="--outcome")
        space_of(chosen)
    except AnalysisError as error:
        raise _fail(str(error)) from None
    if len(parsed) != 1:
        raise _fail(f"--outcome: '{outcome}' means {len(parsed)} outputs; name a strategy: OUTCOME:STRATEGY")
    found = _run_analysis(
        "discovery",
        workers,
        scheduler,
        lambda executor, on_progress: discover(
            chosen, parsed[0], threshold, executor, below, samples, replications, on_progress
        ),
    )
    print(found.describe())
    if out:
        stderr.print(f"wrote {_write_table(out, 'discovery.parquet', found.samples)}", highlight=False)


def main() -> None:
    """Console entry point: exit codes that tell the truth.

    A user mistake (``sim.errors.UserError``) prints one line and exits 2. Anything else is a
    bug or a failed piece of work: one line naming it, a pointer to ``LOYALTY_SIM_DEBUG=1``,
    exit 1. With ``LOYALTY_SIM_DEBUG=1`` every error prints its traceback (same exit codes).
    """
    debug = os.environ.get("LOYALTY_SIM_DEBUG", "") not in ("", "0")
    try:
        app()
    except UserError as error:
        if debug:
            traceback.print_exc()
        stderr.print(f"error: {error}", highlight=False, markup=False)
        raise SystemExit(EXIT_BAD_INPUT) from None
    except Exception as error:
        if debug:
            traceback.print_exc()
        where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        place = f" ({Path(where.filename).name}:{where.lineno})" if where else ""
        message = str(error).splitlines()[0] if str(error) else ""
        stderr.print(
            f"internal error: {type(error).__name__}: {message}{place}; this is a bug, not your input"
            + ("" if debug else "; LOYALTY_SIM_DEBUG=1 shows the traceback"),
            highlight=False,
            markup=False,
        )
        raise SystemExit(EXIT_FAILED_RUNS) from None
