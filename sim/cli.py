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
import signal
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim import defaults
from sim.defaults import MAX_CUSTOMERS, MAX_GRID_POINTS, MAX_MONTHS, MAX_REPLICATIONS, MAX_SHARDED_CUSTOMERS
from sim.errors import UserError, debugging
from sim.io import check_output
from sim.progress import Progress

if TYPE_CHECKING:  # the model, SciPy and Altair load only in the commands that use them
    from sim import scenario as scenarios
    from sim.executors import Executor
    from sim.market import Market
    from sim.plugins import PluginInfo
    from sim.strategy import Strategy

app = typer.Typer(
    name="loyalty-sim",
    help="Do loyalty programs keep customers, or do emotional bonds? Simulate and compare strategies.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
class _Stderr:
    """Messages to standard error, one line each as written (Rich, which the tables and the
    progress bar use, is not loaded just to print a line)."""

    def print(self, *parts: object, **_: object) -> None:
        print(*parts, file=sys.stderr, flush=True)


stderr = _Stderr()


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
    md = "md"


class TableFormat(StrEnum):
    table = "table"
    md = "md"
    markdown = "markdown"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


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
    from sim.executors import make_executor

    try:
        return make_executor(workers, scheduler)
    except OSError as error:
        raise _fail(f"--scheduler: cannot reach {scheduler}: {error}") from None
    except ValueError as error:  # Dask's parse of the address
        if scheduler in (None, "local"):
            raise
        raise _fail(
            f"--scheduler: expected 'local' or a scheduler's address such as tcp://10.0.0.5:8786, "
            f"found '{scheduler}' ({error})"
        ) from None


def _load_scenario(
    file: Path | None, population: Path | None = None, as_of: str | None = None
) -> scenarios.Scenario:
    """The scenario of FILE, or of the default market with ``population`` (``run --population``
    without FILE); its problems are printed one a line, and the command exits with code 2."""
    from sim import scenario as scenarios

    try:
        if file is None:
            plain = '[strategies]\nrare_contact = ["rare_contact"]\n'  # the market is what is used
            text = scenarios.with_population(plain, "--population", population or Path(), as_of)
            return scenarios.loads(text, "--population", default_name="default")
        return scenarios.load(file, population, as_of)
    except scenarios.ScenarioError as error:
        for problem in error.problems:
            stderr.print(f"error: {problem.render(error.file)}", highlight=False, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _pick_strategies(names: list[str] | None, available: dict[str, Strategy]) -> list[Strategy]:
    from sim.registry import UnknownNameError

    if not names:
        return list(available.values())
    picked = []
    for name in names:
        if name not in available:
            error = UnknownNameError("strategy", name, list(available))
            raise typer.BadParameter(str(error), param_hint="'--strategy'")
        picked.append(available[name])
    return picked


BaselineOption = Annotated[
    str | None, typer.Option(help="Strategy the others are compared with [default: the scenario's].")
]
WideOption = Annotated[
    bool,
    typer.Option("--wide", help="Every column (runs, churn, margin, cost per retained, return on spend)."),
]


PopulationOption = Annotated[
    Path | None,
    typer.Option(
        help="Start from the firm's own customers: a customer table (CSV, docs/customers.md) instead of "
        "drawn customers; it sets the number of customers."
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Date the simulation starts (YYYY-MM-DD): contract_end counts from it."),
]


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
            min=1, max=MAX_SHARDED_CUSTOMERS,
            help=f"Customers in the initial cohort [default: {defaults.CUSTOMERS}]; over "
            f"{MAX_CUSTOMERS:,} only with --shards.",
        ),
    ] = None,
    months: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_MONTHS, help=f"Months to simulate [default: {defaults.MONTHS}]."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help=f"Seed; same seed, same results [default: {defaults.SEED}].")
    ] = None,
    baseline: BaselineOption = None,
    wide: WideOption = False,
    output_format: Annotated[
        SweepFormat, typer.Option("--format", help="Output format (json, csv: every outcome of every run).")
    ] = SweepFormat.table,
    population: PopulationOption = None,
    as_of: AsOfOption = None,
    panel: Annotated[
        Path | None,
        typer.Option(
            help="Write a monthly panel of the --population customers (Parquet, keyed by customer_id); "
            "see docs/customers.md."
        ),
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Split the market's customers into this many shards, simulated apart on --workers or a "
            "Dask --scheduler and combined into the whole market's tables (docs/scaling.md).",
        ),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Run strategies once and print a comparison table.

    Without FILE: the eight built-in single-program strategies and one mix on the default market. With
    FILE: the scenario's market and strategies, one replication, no grid. Every strategy runs
    with the same seed, so all start from the same customers. --baseline is run too when
    --strategy leaves it out, so that the "vs" column always has a reference.
    """
    from sim.market import Market
    from sim.strategy import BASELINE, builtin_strategies

    if panel is not None:
        in_file = file is not None and "population" in _load_scenario(file).raw
        if population is None and not in_file:
            raise _fail("--panel: expected a customer table (--population or the scenario's population)")
        check_output(panel, "--panel", directory=False)
    if file is None:
        market, available, default_baseline = Market(), builtin_strategies(), BASELINE
        default_customers, default_months, default_seed = defaults.CUSTOMERS, defaults.MONTHS, defaults.SEED
        if population is not None:  # the default market with the firm's own customers
            market = _load_scenario(None, population, as_of).market
    else:
        chosen = _load_scenario(file, population, as_of)
        market, available, default_baseline = chosen.market, chosen.strategies, chosen.baseline
        default_customers, default_months, default_seed = chosen.customers, chosen.months, chosen.seed
    baseline = baseline or default_baseline
    _pick_strategies([baseline], available)  # an unknown --baseline is refused with the valid names
    strategies = _pick_strategies(strategy, available)
    if baseline not in {s.name for s in strategies}:
        strategies.append(available[baseline])
    customers = customers or default_customers
    months = months or default_months
    seed = default_seed if seed is None else seed
    if shards is None:
        if workers is not None or scheduler is not None:
            raise _fail("--workers and --scheduler: a run uses them only with --shards")
        if customers > MAX_CUSTOMERS:
            raise _fail(
                f"--customers: at most {MAX_CUSTOMERS:,} in one process, got {customers:,}; use --shards"
            )
        summaries = _run_whole(strategies, market, customers, months, seed, panel)
    else:
        summaries = _run_in_shards(strategies, market, customers, months, seed, shards, workers, scheduler)
    display = chosen.display if file is not None else {}
    sys.stdout.write(_render(summaries, output_format, baseline, wide, display))


def _run_whole(
    strategies: list[Strategy], market: Market, customers: int, months: int, seed: int, panel: Path | None
) -> list[dict[str, object]]:
    """``run`` in this process: every strategy's summary, and the --panel written."""
    from sim.customer_table import CustomerPanel, write_panel
    from sim.plugins import PluginRunError
    from sim.runs import run_strategies

    summaries, panels = [], []
    base = market.customer_base
    panel_probe = {"panel": lambda: CustomerPanel(base.customer_id)}
    probes = panel_probe if panel is not None and base is not None else None
    with Progress("simulating", "strategies") as progress:
        progress.update(0, len(strategies))
        for picked in strategies:
            progress.describe(f"simulating {picked.name}")
            try:
                [done] = run_strategies([picked], market, customers, months, seeds=[seed], probes=probes)
            except PluginRunError as error:
                if debugging():
                    traceback.print_exc()
                stderr.print(f"error: strategy '{picked.name}': {error}", highlight=False, markup=False)
                raise typer.Exit(EXIT_FAILED_RUNS) from None
            summaries.append(done.result.summary())
            if probes:
                panels.append((picked.name, seed, done.probes["panel"]))
            progress.advance()
    if panels:
        write_panel(panel, panels)
    return summaries


def _run_in_shards(
    strategies: list[Strategy], market: Market, customers: int, months: int, seed: int, shards: int,
    workers: int | None, scheduler: str | None,
) -> list[dict[str, object]]:
    """``run --shards``: every strategy's market simulated in shards on the executor, combined."""
    from sim.runs import run_sharded
    from sim.shards import ShardError, check, plan

    if (largest := math.ceil(customers / shards)) > MAX_CUSTOMERS:
        raise _fail(f"--shards: at most {MAX_CUSTOMERS:,} customers a shard, got {largest:,}")
    try:
        plan(customers, shards)  # refuse before any worker starts
        for picked in strategies:
            check(picked, market)
        summaries = []
        with _executor(workers, scheduler) as executor, Progress("simulating", "shards") as progress:
            progress.update(0, len(strategies) * shards)
            for picked in strategies:
                progress.describe(f"simulating {picked.name} in {shards} shards on {executor.name}")
                done = progress.advance
                result = run_sharded(picked, market, customers, months, seed, shards, executor, done)
                summaries.append(result.summary())
    except ShardError as error:
        raise _fail(str(error)) from None
    return summaries


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="Scenario file (TOML).")]) -> None:
    """Check a scenario file without running it."""
    checked = _load_scenario(file)
    _check_decision_tables(checked)
    variants = len(checked.variants)
    points = len(checked.grid) // max(1, variants)  # variants are a grid axis of their own
    grid = f"{variants} paired variants x " if variants else ""
    grid += f"{points} grid points x " if points > 1 else ""
    print(
        f"{file}: ok: '{checked.name}', {_counted(len(checked.strategies), 'strategy')} x {grid}"
        f"{_counted(checked.replications, 'replication')} = {_counted(checked.runs, 'run')} of "
        f"{checked.customers:,} customers "
        f"x {checked.months} months; baseline '{checked.baseline}'"
    )


def _check_decision_tables(checked: scenarios.Scenario) -> None:
    """``[optimise]`` and ``[robustness]`` are checked by their analyses (paths, ranges, objectives)."""
    if "optimise" not in checked.raw and "robustness" not in checked.raw:
        return
    from sim.analysis.optimise import settings_of
    from sim.analysis.robustness import robustness_settings
    from sim.analysis.space import AnalysisError

    try:
        if "optimise" in checked.raw:
            settings_of(checked)
        if "robustness" in checked.raw:
            robustness_settings(checked)
    except AnalysisError as error:
        raise _fail(str(error)) from None


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
    customer_records: Annotated[
        bool,
        typer.Option("--customer-records", help="Also write per-customer records (customers.parquet)."),
    ] = False,
    customers_of_run: Annotated[
        str | None, typer.Option("--customers", hidden=True, help="Not a sweep option (see below).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print runs, time, disk and memory estimates; run nothing.")
    ] = False,
    output_format: Annotated[
        SweepFormat, typer.Option("--format", help="Format of the comparison printed at the end.")
    ] = SweepFormat.table,
    wide: WideOption = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Do not build report.html and the chart images at the end.")
    ] = False,
    population: PopulationOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Run every strategy x grid point x replication of a scenario and compare them.

    Results go to results/<scenario name>/ (runs, monthly, summary Parquet files and a
    manifest). Ctrl-C stops cleanly; --resume then runs only what is missing. A finished sweep
    run again runs nothing, rewrites nothing and prints its comparison. Exit codes: 0 done, 1
    some runs failed (recorded in the manifest), a worker process died or the report could not
    be built (the runs are kept), 2 bad input, 130 interrupted. At the end the workshop report
    is built (see `loyalty-sim report`).
    """
    from sim import provenance

    if customers_of_run is not None:  # `run --customers N` is the habit this catches
        raise _fail(
            f"--customers: a sweep's customers per run are its file's `customers` key (set it in {file}, "
            f"or vary it in [grid]), found --customers {customers_of_run}; per-customer records are "
            "--customer-records"
        )
    if resume and force:
        raise _fail("--resume and --force exclude each other")
    # --resume checks the parts of a finished sweep first (below), so it takes the longer way
    # (not with --population: the finished sweep's scenario text is not the file's then)
    quick = not (force or dry_run or resume or population)
    finished = provenance.finished_sweep(file, out, replications) if quick else None
    if finished:  # without loading the model or even the scenario: this answers in well under 1 s
        _reprint(*finished, output_format, wide)
        return
    chosen = _load_scenario(file, population, as_of)
    out = out or Path("results") / chosen.name
    if dry_run:
        _print_estimate(chosen, workers or os.cpu_count() or 1, out, replications, not no_report)
        return
    _check_out(out)
    manifest = provenance.read_manifest(out)
    from sim.sweep import SweepError, SweepInterrupted, intact

    if (
        not force
        and provenance.reprintable(out, manifest, chosen.hash(), replications or chosen.replications)
        and (not resume or intact(chosen, out, replications, customer_records))
    ):
        _reprint(out, manifest, output_format, wide)  # a file without `replications`, say
        return
    from sim.analysis.statistics import sweep_and_summarise  # SciPy loads only when a sweep runs

    executor = _executor(workers, scheduler)
    _stop_on_the_first_signal()
    with executor, Progress(f"sweep {chosen.name} on {executor.name}") as progress:
        try:
            report = sweep_and_summarise(
                chosen,
                out,
                executor,
                replications=replications,
                resume=resume,
                force=force,
                record_customers=customer_records,
                on_progress=progress.update,
            )
        except SweepError as error:
            raise _fail(str(error)) from None
        except SweepInterrupted as stop:
            progress.stop()
            again = ["loyalty-sim", "sweep", str(file), "--out", str(out)]
            again += [f"--replications={replications}"] if replications else []
            again += ["--customer-records"] if customer_records else []
            stderr.print(
                f"{stop.reason}: {stop.done} of {stop.total} runs are kept in {out}; "
                f"finish with: {shlex.join(again)} --resume",
                highlight=False,
                markup=False,
            )
            raise typer.Exit(EXIT_INTERRUPTED if stop.reason == "interrupted" else EXIT_FAILED_RUNS) from None
    for line in report.set_aside:
        stderr.print(f"warning: {out / 'parts'}/{line}", highlight=False, markup=False)
    from sim.i18n import labelled_names

    names = labelled_names(report.summary["strategy"].unique(maintain_order=True), chosen.display, "en")
    _print_comparison(report.summary, output_format, wide, names)
    kept = f" ({report.skipped} from before)" if report.skipped else ""
    done = f"{_counted(report.done, 'run')} done{kept}, {report.failed} failed"
    stderr.print(f"{done}; results in {out}/", highlight=False)
    if not no_report and report.done:
        _sweep_report(out)
    if report.failed:
        stderr.print(
            f"some runs failed: see 'runs' in {out}/manifest.json and the error column of runs.parquet"
        )
        raise typer.Exit(EXIT_FAILED_RUNS)


def _sweep_report(out: Path) -> None:
    """The report at the end of a sweep (in the language of the last report); if it fails, the
    sweep fails (exit 1) and the runs are kept."""
    try:
        _build_report(out, out, None, ",".join(REPORT_FORMATS))
    except Exception as error:
        if debugging():
            traceback.print_exc()
        if not isinstance(error, typer.Exit):  # an Exit has printed its one-line error already
            stderr.print(f"error: report: {type(error).__name__}: {error}", highlight=False, markup=False)
        stderr.print(
            f"the report failed, the runs are kept in {out}/; rebuild it with: loyalty-sim report {out}",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(EXIT_FAILED_RUNS) from None


def _reprint(out: Path, manifest: dict, output_format: SweepFormat, wide: bool) -> None:
    """A finished sweep of this scenario: print its comparison; run, rebuild and rewrite nothing."""
    from sim import results
    from sim.tables import select

    try:
        summary = results.read_frame(out / "summary.parquet")
    except results.ResultsError as error:
        raise _fail(str(error)) from None
    _print_comparison(summary, output_format, wide, select.strategy_names(summary, manifest))
    stderr.print(
        f"{out}/ already holds every run of this scenario: nothing ran, nothing was rewritten "
        f"(--force runs it again; `loyalty-sim report {out}` rebuilds the report)",
        highlight=False, markup=False,
    )
    _say_if_code_changed(manifest)


def _print_comparison(
    summary, output_format: SweepFormat | TableFormat, wide: bool, names: dict[str, str]
) -> None:
    from sim.tables import comparison

    sys.stdout.write(comparison.render(summary, output_format.value, wide, _width(), names))


@app.command("table")
def table_command(
    results_dir: Annotated[Path, typer.Argument(help="Result directory of a sweep.")],
    baseline: BaselineOption = None,
    strategies: Annotated[
        str | None, typer.Option("--strategies", help="Comma-separated strategies to show [default: all].")
    ] = None,
    point: Annotated[
        str | None,
        typer.Option(help="Grid point: NAME=VALUE[,NAME=VALUE], NAME the key's last part [default: all]."),
    ] = None,
    output_format: Annotated[
        TableFormat, typer.Option("--format", help="table (fits the terminal), md, csv, json or xlsx.")
    ] = TableFormat.table,
    out: Annotated[
        Path | None, typer.Option(help="File to write (xlsx needs one) [default: standard output].")
    ] = None,
    wide: WideOption = False,
) -> None:
    """Compare the stored runs of a sweep again, without running or changing anything in it.

    --baseline recomputes the paired differences against another strategy from runs.parquet;
    --strategies and --point narrow the rows. Nothing in RESULTS_DIR is written.
    """
    from sim import results
    from sim.tables import comparison, select

    try:
        manifest = results.finished_manifest(results_dir)
        summary = select.compare(results_dir, baseline, strategies, point)
    except (results.ResultsError, select.SelectError) as error:
        raise _fail(str(error)) from None
    if output_format is TableFormat.xlsx:
        if out is None:
            raise _fail("--format xlsx: name the file to write with --out FILE.xlsx")
        select.write_xlsx(summary, out, manifest)
        stderr.print(f"wrote {out}", highlight=False, markup=False)
        return
    text = comparison.render(
        summary, output_format.value, wide, _width(), select.strategy_names(summary, manifest)
    )
    if out is None:
        sys.stdout.write(text)
    else:
        from sim.io import write_atomic

        write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        stderr.print(f"wrote {out}", highlight=False, markup=False)
    _say_if_code_changed(manifest)


def _say_if_code_changed(manifest: dict) -> None:
    """One line on stderr when the code is not the version that made the runs."""
    from sim import provenance

    changed = provenance.code_changed(manifest)
    if changed:
        stderr.print(changed, highlight=False, markup=False)


class ListFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("programs")
def programs_command(
    output_format: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = ListFormat.table,
) -> None:
    """List the firm programs a scenario can use (built-in and installed plugins), with parameters."""
    from sim.plugins import describe
    from sim.programs import PROGRAMS, Program

    sys.stdout.write(_render_plugins(describe(PROGRAMS, Program), output_format))


@app.command("behaviours")
def behaviours_command(
    output_format: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = ListFormat.table,
) -> None:
    """List the customer behaviours a scenario can enable (built-in and installed plugins)."""
    from sim.behaviours import BEHAVIOURS, Behaviour
    from sim.plugins import describe

    sys.stdout.write(_render_plugins(describe(BEHAVIOURS, Behaviour), output_format))


@app.command("phases")
def phases_command(
    output_format: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = ListFormat.table,
) -> None:
    """Print the monthly step: its phases in order, what each does and the hooks that run in it."""
    from sim.model import PHASES

    if output_format is ListFormat.json:
        rows = [{"phase": i, "name": p.name, "does": p.does, "hooks": p.hooks} for i, p in enumerate(PHASES)]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    sys.stdout.write(
        _text_table(
            ["#", "phase", "what happens", "hooks"],
            [[str(i), p.name, p.does, p.hooks] for i, p in enumerate(PHASES)],
            left=("phase", "what happens", "hooks"),
            title="The monthly step (sim.model.PHASES)",
        )
    )


def _render_plugins(plugins: list[PluginInfo], output_format: ListFormat) -> str:
    if output_format is ListFormat.json:
        return json.dumps([p.to_dict() for p in plugins], indent=2, default=str) + "\n"
    if not plugins:
        return "none registered\n"
    parts = []
    for plugin in plugins:
        columns = ", ".join(f"{c.name} ({c.dtype})" for c in plugin.columns)
        reporters = ", ".join(f"{r.name} ({r.unit})" for r in plugin.reporters)
        caption = f"hooks: {', '.join(plugin.hooks) or '-'}" + (f"; columns: {columns}" if columns else "")
        caption += f"; monthly results: {reporters}" if reporters else ""
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


class PluginKind(StrEnum):
    program = "program"
    behaviour = "behaviour"


@app.command("new-plugin")
def new_plugin_command(
    name: Annotated[str, typer.Argument(help="The plugin's name: a lower-case Python identifier.")],
    kind: Annotated[PluginKind, typer.Option("--kind", help="A firm program or a customer behaviour.")],
    directory: Annotated[Path, typer.Option("--dir", help="Folder to create the package in.")] = Path("."),
) -> None:
    """Create a plugin package: code, entry point, a test and a scenario (docs/extending.md)."""
    from sim.scaffold import new_plugin

    root = new_plugin(name, kind.value, directory)
    print(f"created {root}/ (a {kind.value} package); next:")
    print(f"  uv add --editable {root}        # install it so that `uv sync` keeps it")
    print(f"  uv run pytest {root}/tests      # its test")
    print(f"  uv run loyalty-sim sweep {root}/{name}.toml")


class Language(StrEnum):
    en = "en"
    de = "de"


REPORT_FORMATS = ("html", "png", "svg")


@app.command("report")
def report_command(
    results_dir: Annotated[Path, typer.Argument(help="Result directory of a sweep.")],
    out: Annotated[Path | None, typer.Option(help="Where to write [default: RESULTS_DIR].")] = None,
    lang: Annotated[
        Language | None,
        typer.Option("--lang", help="Language [default: that of the report it replaces, else en]."),
    ] = None,
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: html (report.html), png, svg (charts/).")
    ] = ",".join(REPORT_FORMATS),
) -> None:
    """Build the workshop report of a sweep: report.html (self-contained, works offline) and a
    PNG and SVG per chart in charts/."""
    _build_report(results_dir, out, lang, formats)


def _build_report(results_dir: Path, out: Path | None, lang: Language | None, formats: str) -> None:
    from sim.report import build_report  # Altair and vl-convert load only when a report is built

    check_output(out or results_dir, "--out")
    try:
        chosen = [f.strip() for f in formats.split(",") if f.strip()]
        files = build_report(results_dir, out, lang.value if lang else None, chosen)
    except (FileNotFoundError, UserError) as error:
        raise _fail(str(error)) from None
    where = files.html or (files.images[0].parent if files.images else out or results_dir)
    stderr.print(f"report: {where} ({len(files.images)} chart images)", highlight=False, markup=False)
    from sim import provenance

    _say_if_code_changed(provenance.read_manifest(results_dir) or {})


@app.command()
def explore(
    file: Annotated[
        Path | None,
        typer.Argument(help="Scenario file (TOML): its strategies and market [default: four built-in]."),
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1; 0: a free one.")] = 8765,
    lang: Annotated[Language, typer.Option("--lang", help="Language of the page.")] = Language.en,
    customers: Annotated[int, typer.Option(min=100, max=200_000, help="Customers per run.")] = 5_000,
) -> None:
    """Serve a live what-if page: sliders for the main program parameters rerun the model and
    redraw survival and churn (axes fixed, the previous run as faint lines, a change column).
    Open the printed address in a browser; Ctrl-C stops."""
    chosen = _load_scenario(file) if file else None
    from sim.explore import make_server

    try:
        server = make_server(port, lang.value, customers, chosen)
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


def _print_estimate(
    chosen: scenarios.Scenario, workers: int, out: Path, replications: int | None, report: bool
) -> None:
    from sim.sweep import estimate

    guess = estimate(chosen, workers, out, replications, report)
    minutes, seconds = divmod(round(guess.seconds), 60)
    print(
        f"{_counted(guess.runs, 'run')} ({_counted(len(chosen.strategies), 'strategy')} x "
        f"{_counted(len(chosen.grid), 'grid point')} x "
        f"{_counted(replications or chosen.replications, 'replication')}) of {_customers_text(chosen)} x "
        f"{chosen.months} months"
    )
    print(f"time:   about {minutes} min {seconds} s on {workers} workers ({guess.basis})")
    print(f"disk:   about {guess.disk_bytes / 1e6:,.0f} MB in {out}/")
    print(f"memory: about {guess.memory_per_worker_bytes / 1e6:,.0f} MB per worker")
    for warning in guess.warnings:
        stderr.print(f"warning: {warning}", highlight=False, markup=False)


def _customers_text(chosen: scenarios.Scenario) -> str:
    """``10,000 customers``, or the range when the grid varies ``customers``."""
    sizes = sorted({dict(point).get("customers", chosen.customers) for point in chosen.grid})
    if len(sizes) > 1:
        return f"{int(sizes[0]):,} to {int(sizes[-1]):,} customers"
    return f"{int(sizes[0]):,} customers"


def _render(
    summaries: list[dict], output_format: SweepFormat, baseline: str, wide: bool, display: dict
) -> str:
    if output_format is SweepFormat.json:
        return json.dumps(summaries, indent=2) + "\n"
    if output_format is SweepFormat.csv:
        return _csv(summaries)
    import polars as pl

    from sim.analysis.statistics import SUMMARY_OUTCOMES, sweep_summary
    from sim.tables import comparison

    keys = ("strategy", *SUMMARY_OUTCOMES)
    runs = pl.DataFrame(
        [{"point": "{}", "replication": 0, "status": "done", **{k: s[k] for k in keys}} for s in summaries]
    )
    summary = sweep_summary(runs, baseline, [s["strategy"] for s in summaries])
    first = summaries[0]
    from sim.i18n import labelled_names

    names = labelled_names([s["strategy"] for s in summaries], display, "en")
    text = comparison.render(summary, output_format.value, wide, _width(), names)
    if output_format is SweepFormat.table:
        size = f"{first['customers']:,} customers, {first['months']} months"
        text = f"{size}, seed {first['seed']}; one run each\n{text}"
    return text


def _width() -> int:
    """Columns of the terminal ($COLUMNS wins; 100 when neither says)."""
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _csv(summaries: list[dict]) -> str:
    """One row per strategy; churn by reason as ``churned_<reason>`` columns, no monthly series."""
    from sim.population import EXIT_REASONS

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


def _text_table(headers: list[str], rows: list[list[str]], left: tuple[str, ...], **table_options) -> str:
    """A table as plain text, one line per row (readable when piped to a file or a pager)."""
    from sim.tables.comparison import text_table

    return text_table(headers, rows, left, None, **table_options)


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
    from sim.tables import rows

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
                rows.survival_rows(summary),
                "initial cohort pooled over replications; Kaplan-Meier with log(-log) Greenwood "
                "band; year k: share still active after 12k months",
            )
        )
    stderr.print(f"wrote {results_dir}/survival.parquet and survival_summary.parquet", highlight=False)


@app.command("calibrate")
def calibrate_command(
    curve: Annotated[Path, typer.Option(help="Observed retention: CSV with year|month and share|active.")],
    scenario: Annotated[Path, typer.Option(help="Scenario file (TOML) whose market is fitted.")],
    fit: Annotated[
        str | None,
        typer.Option(
            help="Parameters to fit: key.path[=low:high],... (as in [grid], plus segments.<segment>.share "
            "and segments.<segment>.<trait>.<parameter>) [default: the churn propensity's mean and spread "
            "(market.heterogeneity.propensity_mean=0.05:50,market.heterogeneity.propensity_cv=0:4), alone "
            "or with market.adaptation.trust_recovery_per_month or bond_decay_per_month, whichever best "
            "predicts the last third of the fitted periods from the rest]."
        ),
    ] = None,
    holdout: Annotated[
        int, typer.Option(min=0, help="Hold out the last K periods and report the error predicting them.")
    ] = 0,
    strategy: Annotated[
        str | None, typer.Option(help="Strategy whose cohort is fitted [default: the scenario's baseline].")
    ] = None,
    replications: Annotated[
        int, typer.Option(min=1, max=MAX_REPLICATIONS, help="Runs per evaluation (same seeds each time).")
    ] = 2,
    customers: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_CUSTOMERS, help="Cohort size per run [default: the scenario's]."),
    ] = None,
    intervals: Annotated[
        bool, typer.Option(help="Profile-likelihood 95% intervals (about three times the fit's runs).")
    ] = True,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table, json, or csv (one row per period).")
    ] = OutputFormat.table,
    out: Annotated[
        Path | None, typer.Option(help="Calibrated scenario to write [default: <scenario>-calibrated.toml].")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")] = False,
) -> None:
    """Fit market parameters so that a strategy's cohort retention matches an observed curve.

    Prints the fitted values with standard errors and 95% profile-likelihood intervals, warnings
    (an estimate on its bound, two confounded), the observed and predicted retention per period
    (held-out periods marked) with the errors, and writes a calibrated scenario file. Exit code
    2 on bad input. Method: docs/analysis.md.
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
        specs = [fit] if fit else calibration.DEFAULT_FITS
        parameters, alternatives = calibration.parse_fits(specs, chosen, strategy or chosen.baseline)
        with _executor(workers, scheduler) as executor:
            result = calibration.calibrate(
                chosen, observed, parameters, executor, strategy, holdout, replications, customers,
                intervals=intervals, alternatives=alternatives,
            )
        text = calibration.calibrated_scenario_text(chosen, result)
    except calibration.CalibrationError as error:
        raise _fail(str(error)) from None
    data = calibration.to_json(result)
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(data["periods"][0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data["periods"])
    else:
        sys.stdout.write(_calibration_tables(data))
    for warning in result.warnings:
        stderr.print(f"warning: {warning}", highlight=False, markup=False)
    write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    stderr.print(f"wrote {out}", highlight=False)


def _calibration_tables(data: dict) -> str:
    """The calibration as text: the estimates, then observed and predicted share per period."""

    def number(x: float | None, digits: str = ".4g") -> str:
        return "-" if x is None else format(x, digits)

    estimates = _text_table(
        ["parameter", "start", "bounds", "fitted", "std. error", "95% interval (profile)"],
        [
            [p["path"], f"{p['start']:g}", f"{p['low']:g}..{p['high']:g}", f"{p['fitted']:.4g}",
             number(p["std_error"], ".2g"), f"{number(p['ci_low'])} .. {number(p['ci_high'])}"]
            for p in data["parameters"]
        ],
        left=("parameter",),
        title=f"{data['strategy']}: {data['replications']} x {data['customers']:,} customers, "
        f"{data['evaluations']} evaluations, {data['seconds']:.0f} s",
    )
    unit, sbg = data["unit"], data["sbg_holdout_error"] is not None
    if data["selection"]:
        estimates += _text_table(
            ["fit set", f"error predicting the last {data['validation_periods']} fitted {unit}s", ""],
            [
                [" + ".join(p.rsplit(".", 1)[-1] for p in c["parameters"]),
                 number(c["validation_mae"], ".4f"), "chosen" if c["chosen"] else ""]
                for c in data["selection"]
            ],
            left=("fit set", ""),
            caption="fit sets compared (mean absolute error, share of the cohort)",
        )
    periods = _text_table(
        [unit, "observed", "model", *(["sBG"] if sbg else []), ""],
        [
            [str(r["period"]), f"{r['observed']:.3f}", f"{r['predicted']:.3f}",
             *([f"{r['sbg']:.3f}"] if sbg else []), "held out" if r["held_out"] else ""]
            for r in data["periods"]
        ],
        left=("",),
        caption="share of the cohort still active",
    )
    lines = []
    for name, key in (("model, fitted", "fit_error"), ("model, held out", "holdout_error"),
                      ("sBG, held out", "sbg_holdout_error")):
        error = data[key]
        if error:
            customers = f" ({error['mae_customers']:.1f} customers)" if "mae_customers" in error else ""
            lines.append(f"mean absolute error ({name} {unit}s): {error['mae']:.4f}{customers}")
    return estimates + periods + "".join(f"{line}\n" for line in lines)


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
    from sim.tables import rows

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
            rows.economics_rows(summary),
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


def _write_table(out: Path, name: str, frame, scenario_hash: str | None) -> Path:
    """Write ``frame`` to ``out/name`` atomically, stamped with the hash of the scenario it
    analysed (``None``: the default market); ``out`` was checked by :func:`_check_out`."""
    from sim.provenance import write_stamped

    out.mkdir(parents=True, exist_ok=True)
    write_stamped(out / name, frame, scenario_hash)
    return out / name


def _report_hint(out: Path) -> None:
    """Written beside a sweep's results: say how the report picks the file up."""
    if (out / "manifest.json").exists():
        stderr.print(f"rebuild the report with it: loyalty-sim report {out}", highlight=False, markup=False)


def _run_analysis(
    label: str, workers: int | None, scheduler: str | None, work, again: list[str] | None = None
):
    """Run ``work(executor, on_progress)`` on the sweep's executor (``--scheduler`` as for sweep)
    with a progress bar. ``again``: the command of an analysis that stores what it evaluates;
    Ctrl-C then says how to resume it (and a folder another writer holds is refused)."""
    from sim.analysis.claims import ClaimsError
    from sim.analysis.space import AnalysisError
    from sim.sweep import SweepError

    executor = _executor(workers, scheduler)
    if again:
        _stop_on_the_first_signal()
    with executor, Progress(f"{label} on {executor.name}") as progress:
        try:
            return work(executor, progress.update)
        except (AnalysisError, ClaimsError, SweepError) as error:
            raise _fail(str(error)) from None
        except KeyboardInterrupt:
            if not again:
                raise
            progress.stop()
            stderr.print(
                f"interrupted: what was evaluated is kept; finish with: {shlex.join(again)} --resume",
                highlight=False,
                markup=False,
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None


def _counted(count: int, noun: str) -> str:
    """'1 run', '72 runs', '1 strategy', '3 strategies'."""
    if count == 1:
        return f"1 {noun}"
    return f"{count:,} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


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
    controls: Annotated[
        bool, typer.Option(help="Also run each check's control, which must fail (about doubles the runs).")
    ] = True,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write claims.parquet to this directory (a sweep's: the report shows it)."),
    ] = None,
) -> None:
    """Test the practitioners' claims C1-C7 and the stylized facts F1-F8, S1-S2 on a market.

    A check holds when the 95% confidence interval of its effect lies inside the claimed region
    (its bounds are minimum effects), fails when it lies entirely outside, and is inconclusive
    otherwise; its control (the mechanism removed) must fail (docs/analysis.md).
    """
    from sim.analysis.claims import VERDICTS, ClaimsError, audit, select

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
        "controls": controls,
    }
    from sim.market import Market

    market = chosen.market if chosen else Market()

    def work(executor, on_progress):
        try:
            return audit(market, executor=executor, on_progress=on_progress, **options)
        except ClaimsError as error:
            raise ClaimsError(f"{where}: {error}") from None

    table = _run_analysis("claims audit", workers, scheduler, work)
    def interval(r: dict, prefix: str = "") -> str:
        return f"{_g(r[prefix + 'estimate'])} [{_g(r[prefix + 'ci_low'])}, {_g(r[prefix + 'ci_high'])}]"

    rows = [
        [r["check"], r["statement"], r["effect"], interval(r), r["region"], r["verdict"], r["control"],
         interval(r, "control_") if r["control_verdict"] in VERDICTS else "", r["control_verdict"],
         str(r["replications"])]
        for r in table.iter_rows(named=True)
    ]
    headers = ["check", "claim", "effect", "estimate [95% CI]", "holds if", "verdict", "control (must fail)",
               "control [95% CI]", "control verdict", "n"]
    left = ("check", "claim", "effect", "verdict", "control (must fail)", "control verdict")
    sys.stdout.write(_text_table(headers, rows, left=left,
                                 caption=f"{where}; paired replications (common random numbers); "
                                 "'holds if' bounds are minimum effects (sources: docs/analysis.md)"))
    if out:
        written = _write_table(out, "claims.parquet", table, chosen.hash() if chosen else None)
        stderr.print(f"wrote {written}", highlight=False)
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
        written = _write_table(out, "sensitivity.parquet", table, chosen.hash())
        stderr.print(f"wrote {written}", highlight=False)
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
        written = _write_table(out, "discovery.parquet", found.samples, chosen.hash())
        stderr.print(f"wrote {written}", highlight=False)


# --- decisions: optimise, robustness ----------------------------------------------------------


class DecisionOutput(StrEnum):
    table = "table"
    json = "json"


ResumeOption = Annotated[bool, typer.Option("--resume", help="Complete an interrupted run (or extend it).")]
ForceOption = Annotated[bool, typer.Option("--force", help="Start over, discarding stored evaluations.")]
DecisionFormat = Annotated[DecisionOutput, typer.Option("--format", help="table, or json (the summary).")]


def _decision_out(out: Path | None, chosen: scenarios.Scenario) -> Path:
    folder = out or Path("results") / chosen.name
    _check_out(folder)
    return folder


@app.command("optimise")
def optimise_command(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML) with an [optimise] table.")],
    evaluations: Annotated[
        int | None, typer.Option(min=2, help="Candidates to try [default: optimise.evaluations of the file].")
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the candidates, tables and scenario files [default: results/NAME]."),
    ] = None,
    resume: ResumeOption = False,
    force: ForceOption = False,
    output_format: DecisionFormat = DecisionOutput.table,
) -> None:
    """Search the strategy settings the file's [optimise] table names for one or two objectives
    under a budget; re-run the finalists on fresh seeds and write the winner as a scenario."""
    from sim.analysis.optimise import optimise, settings_of
    from sim.analysis.space import AnalysisError
    from sim.i18n import display_names
    from sim.tables.decisions import finalist_rows

    chosen = _load_scenario(file)
    folder = _decision_out(out, chosen)
    try:
        settings_of(chosen, evaluations)
    except AnalysisError as error:
        raise _fail(str(error)) from None
    found = _run_analysis(
        "optimise",
        workers,
        scheduler,
        lambda executor, on_progress: optimise(
            chosen, folder, executor, resume, force, evaluations, on_progress
        ),
        again=["loyalty-sim", "optimise", str(file), "--out", str(folder)]
        + ([f"--evaluations={evaluations}"] if evaluations else []),
    )
    summary = found.summary
    if output_format == DecisionOutput.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        objectives = ", ".join(summary["settings"]["objectives"])
        front = (
            f"Pareto front ({summary['front']} candidates, these spread along it)"
            if len(summary["settings"]["objectives"]) == 2
            else "best candidates"
        )
        baseline = summary["baseline"]
        shown = finalist_rows(summary, display_names([baseline], chosen.display, "en"))
        settings = [row.pop("settings") for row in shown]
        sys.stdout.write(_text_table(
            list(shown[0]), [list(r.values()) for r in shown], left=("candidate",),
            caption=f"{front} for {objectives} of {summary['feasible']} feasible among "
            f"{summary['candidates']}; "
            f"mean [95% CI] over {summary['settings']['final_replications']} fresh seeds (not the search's)",
        ))
        for row, text, finalist in zip(shown, settings, summary["finalists"], strict=True):
            name = row["candidate"].removesuffix(" (recommended)")
            print(f"{name}: {text} ({finalist['name']} in front.toml)")
    stderr.print(f"evaluated {found.evaluated} candidates here; wrote {folder}/winner.toml, front.toml, "
                 "optimisation.json", highlight=False)
    _report_hint(folder)


@app.command("robustness")
def robustness_command(
    file: Annotated[Path, typer.Argument(help="Scenario file (TOML) with a [robustness] table.")],
    markets: Annotated[
        int | None,
        typer.Option(min=2, max=MAX_GRID_POINTS, help="Markets to sample [default: robustness.markets]."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for robustness.parquet and .json [default: results/NAME].")
    ] = None,
    resume: ResumeOption = False,
    force: ForceOption = False,
    output_format: DecisionFormat = DecisionOutput.table,
) -> None:
    """Regret and satisficing of strategies over markets sampled from the file's uncertainty
    ranges; the markets where one misses a threshold go to `loyalty-sim discover`. Every
    market's runs are stored as they finish: --resume completes an interrupted run."""
    from sim.analysis.robustness import robustness, robustness_settings
    from sim.analysis.space import AnalysisError
    from sim.i18n import display_names
    from sim.tables.decisions import robustness_rows, where_it_fails

    chosen = _load_scenario(file)
    folder = _decision_out(out, chosen)
    try:
        robustness_settings(chosen, markets)
    except AnalysisError as error:
        raise _fail(str(error)) from None
    found = _run_analysis(
        "robustness",
        workers,
        scheduler,
        lambda executor, on_progress: robustness(
            chosen, folder, executor, markets, on_progress, resume, force
        ),
        again=["loyalty-sim", "robustness", str(file), "--out", str(folder)]
        + ([f"--markets={markets}"] if markets else []),
    )
    summary = found.summary
    if output_format == DecisionOutput.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        thresholds = ", ".join(
            f"{k} {'<=' if k == 'cost' else '>='} {v:g}" for k, v in summary["thresholds"].items()
        )
        names = display_names([r["strategy"] for r in summary["strategies"]], chosen.display, "en")
        shown = robustness_rows(summary, names)
        sys.stdout.write(_text_table(
            list(shown[0]), [list(r.values()) for r in shown], left=("strategy",),
            caption=f"{summary['markets']} sampled markets x "
            f"{_counted(summary['replications'], 'replication')}; regret "
            f"on {summary['objective']} against the best strategy of each market"
            + (f"; thresholds: {thresholds}" if thresholds else ""),
        ))
        for row in summary["strategies"]:
            where = where_it_fails(row)
            if where:
                paths = f" ({'; '.join(row['fails_where'])})" if row["fails_where"] else ""
                print(f"{names[row['strategy']]}: {where.removesuffix('.')}{paths}.")
            for command in row["discover"] if row["satisficing"] > 0.0 else ():  # else: everywhere
                print(f"  the markets where {names[row['strategy']]} misses: {command}")
    stderr.print(f"wrote {folder}/robustness.parquet, robustness.json", highlight=False)
    _report_hint(folder)


def _stop_on_the_first_signal() -> None:
    """Ctrl-C, a plain ``kill`` (SIGTERM: also a batch system's time limit) and a closed terminal
    (SIGHUP) all stop a sweep the same way: what finished is kept and recorded, one line says how
    to resume, exit 130. Only the first stops it; later ones (polars re-raises one Ctrl-C, and
    impatient users press again) are ignored, so they cannot cut short that record or message."""
    from sim.executors import STOP_SIGNALS

    def stop(signum: int, frame: object) -> None:
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, signal.SIG_IGN)
        raise KeyboardInterrupt

    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, stop)


def main() -> None:
    """Console entry point: exit codes that tell the truth.

    A user mistake (``sim.errors.UserError``) prints one line and exits 2. Anything else is a
    bug or a failed piece of work: one line naming it, a pointer to ``LOYALTY_SIM_DEBUG=1``,
    exit 1. With ``LOYALTY_SIM_DEBUG=1`` every error prints its traceback (same exit codes).
    """
    debug = debugging()
    try:
        app()
    except SystemExit as leaving:
        if leaving.code == EXIT_INTERRUPTED and _after_ctrl_c(leaving):
            stderr.print("interrupted", highlight=False, markup=False)  # Typer's Exit(130) says nothing
        raise
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


def _after_ctrl_c(error: BaseException) -> bool:
    """Whether ``error`` was caused by a Ctrl-C that no command reported (Typer turns one into
    a silent exit 130; a command that reports its own interruption raises ``from None``)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return False
