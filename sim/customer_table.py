"""Read and check a firm's customer table (CSV) into a :class:`sim.customer_base.CustomerBase`.

The format is documented in ``docs/customers.md``. Every problem is reported on one line with
the file, the row (the line of the file: the header is row 1 unless comments come first) and column, what was
expected and what was found; nothing is run or written.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import functools
import hashlib
import io
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.customer_base import NPS_BANDS, CustomerBase
from sim.defaults import MAX_CUSTOMERS, MAX_MONTHS
from sim.errors import UserError
from sim.io import PathError, decimal_number, decode_text, read_input, spreadsheet_delimiter, write_atomic
from sim.population import EXIT_REASONS
from sim.targeting import churn_score

if TYPE_CHECKING:  # polars and the model load in the commands that run, not in `validate`
    import polars as pl

    from sim.model import LoyaltyModel

REQUIRED = ("customer_id", "tenure_months", "spend_per_month", "segment")
OPTIONAL = ("contract_end", "exit_fee_months", "points", "nps_band", "bond", "satisfaction")
MAX_TABLE_BYTES = 1_000_000_000  # about 10 million customers
MAX_PROBLEMS = 10  # a table with more problems than this is reported by its first ones


@dataclass(frozen=True)
class TableProblem:
    """One thing wrong with a customer table: where, what was expected, what was found."""

    where: str  # "row 17, column spend_per_month", "header", ""
    expected: str
    found: str = ""


class CustomerTableError(UserError):
    """A customer table that cannot be used; ``problems`` lists what is wrong (the first ones)."""

    def __init__(self, file: str, problems: list[TableProblem]) -> None:
        self.file, self.problems = file, problems
        lines = []
        for p in problems:
            found = f", found {p.found}" if p.found else ""
            where = f"{p.where}: " if p.where else ""
            lines.append(f"{file}: {where}expected {p.expected}{found}")
        super().__init__("\n".join(lines))


def sha256(path: str | Path) -> str | None:
    """The SHA-256 of the table's bytes, or None if it cannot be read (``load`` says why)."""
    try:
        return hashlib.sha256(read_input(path, "customer table (CSV)", MAX_TABLE_BYTES)).hexdigest()
    except PathError:
        return None


def load(path: str | Path, segments: tuple[str, ...], as_of: str | None = None) -> CustomerBase:
    """Read and check the table at ``path`` against the market's ``segments``; ``as_of`` (a
    date, YYYY-MM-DD) is the day the simulation starts, needed to turn ``contract_end`` dates
    into months left. The same file is read once per process."""
    file = str(path)
    try:
        stat = os.stat(path)
    except OSError:
        stat = None
    key = (os.path.abspath(file), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
    return _load(key, file, tuple(segments), as_of)


@functools.lru_cache(maxsize=4)
def _load(key: tuple, file: str, segments: tuple[str, ...], as_of: str | None) -> CustomerBase:
    try:
        data = read_input(file, "customer table (CSV)", MAX_TABLE_BYTES)
        text = decode_text(data, file, save_as="'CSV UTF-8'")
    except PathError as error:
        raise CustomerTableError(file, [TableProblem("", error.expected, error.found)]) from None
    return _parse(text, file, segments, as_of, hashlib.sha256(data).hexdigest())


def _parse(text: str, file: str, segments: tuple[str, ...], as_of: str | None, sha256: str) -> CustomerBase:
    # Lines starting with '#' are comments (a source, a date); row numbers still count them.
    lines = ["" if line.startswith("#") else line for line in text.splitlines(keepends=True)]
    delimiter = spreadsheet_delimiter(next((line for line in lines if line.strip()), ""))
    rows = _rows(csv.reader(io.StringIO("".join(lines), newline=""), delimiter=delimiter), file)
    header: list[str] = []
    for _, cells in rows:
        if any(c.strip() for c in cells):
            header = [h.strip() for h in cells]
            break
    problems = _header_problems(header, as_of)
    if problems:
        raise CustomerTableError(file, problems)
    start = _date(as_of, "as_of") if as_of is not None else None
    columns: dict[str, list] = {name: [] for name in (*REQUIRED, *OPTIONAL)}
    first_row: dict[str, int] = {}
    for row_number, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank lines (a trailing one, say)
        if len(cells) != len(header):
            problems.append(TableProblem(f"row {row_number}", f"{len(header)} cells", f"{len(cells)}"))
        else:
            values = dict(zip(header, (c.strip() for c in cells), strict=True))
            _row(values, row_number, segments, start, delimiter, columns, first_row, problems)
        if len(problems) >= MAX_PROBLEMS:
            break
    count = len(columns["customer_id"])
    if not problems and count == 0:
        problems.append(TableProblem("", "at least one customer row", "none"))
    if not problems and count > MAX_CUSTOMERS:
        problems.append(TableProblem("", f"at most {MAX_CUSTOMERS:,} customers", f"{count:,}"))
    if problems:
        raise CustomerTableError(file, problems[:MAX_PROBLEMS])
    return CustomerBase(
        file=file,
        sha256=sha256,
        customer_id=np.array(columns["customer_id"], dtype=str),
        segment=np.array(columns["segment"], dtype=str),
        tenure_months=np.array(columns["tenure_months"], dtype=np.int16),
        spend_per_month=np.array(columns["spend_per_month"], dtype=np.float32),
        contract_months_left=np.array(columns["contract_end"], dtype=np.int16),
        exit_fee_months=np.array(columns["exit_fee_months"], dtype=np.float32),
        points=np.array(columns["points"], dtype=np.float32),
        bond=np.array(columns["bond"], dtype=np.float32),
        satisfaction=np.array(columns["satisfaction"], dtype=np.float32),
        nps_band=np.array(columns["nps_band"], dtype=np.int8),
    )


def _rows(reader: Any, file: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of each row; a row the CSV reader cannot read is a table error."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # an overlong field, an unterminated quote at the end
            problem = TableProblem(f"row {reader.line_num}", "a readable CSV row", str(error))
            raise CustomerTableError(file, [problem]) from None
        yield reader.line_num, cells


def _header_problems(header: list[str], as_of: str | None) -> list[TableProblem]:
    problems = []
    known = (*REQUIRED, *OPTIONAL)
    for name in header:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(TableProblem("header", f"known columns ({', '.join(known)})", f"'{name}'{hint}"))
    duplicated = sorted({n for n in header if header.count(n) > 1})
    if duplicated:
        problems.append(TableProblem("header", "each column once", ", ".join(duplicated)))
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        problems.append(
            TableProblem("header", f"the columns {', '.join(REQUIRED)}", f"no {', '.join(missing)}")
        )
    if as_of is not None:
        try:
            _date(as_of, "as_of")
        except ValueError as error:
            problems.append(TableProblem("as_of", "a date YYYY-MM-DD", str(error)))
    return problems


def _row(
    values: dict[str, str],
    row: int,
    segments: tuple[str, ...],
    start: datetime.date | None,
    delimiter: str,
    columns: dict[str, list],
    first_row: dict[str, int],
    problems: list[TableProblem],
) -> None:
    def problem(column: str, expected: str) -> None:
        problems.append(TableProblem(f"row {row}, column {column}", expected, repr(values.get(column, ""))))

    before = len(problems)
    customer = values["customer_id"]
    if not customer:
        problem("customer_id", "a customer id")
    elif customer in first_row:
        problems.append(
            TableProblem(
                f"row {row}, column customer_id",
                "unique ids",
                f"{customer!r} again (first in row {first_row[customer]})",
            )
        )
    segment = values["segment"]
    if segment not in segments:
        close = difflib.get_close_matches(segment, segments, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problem("segment", f"a segment of the market ({', '.join(segments)}){hint}")
    tenure = _number(values["tenure_months"], delimiter)
    if tenure is None or tenure < 0 or tenure > MAX_MONTHS or not float(tenure).is_integer():
        problem("tenure_months", f"a whole number of months, 0..{MAX_MONTHS:,}")
    spend = _number(values["spend_per_month"], delimiter)
    if spend is None or spend < 0:
        problem("spend_per_month", "a number >= 0 (EUR per month)")
    months_left = 0
    if values.get("contract_end") and start is None:
        if not any(p.where == "column contract_end" for p in problems):  # said once
            expected = "an as_of date (population.as_of or --as-of) to count months left from"
            problems.append(
                TableProblem("column contract_end", expected, f"a date in row {row} and no as_of")
            )
    elif values.get("contract_end"):
        try:
            end = _date(values["contract_end"], "contract_end")
            months_left = max(
                0, (end.year - start.year) * 12 + end.month - start.month + (end.day > start.day)
            )
        except ValueError:
            problem("contract_end", "a date YYYY-MM-DD (or empty: no contract)")
        else:
            if months_left > MAX_MONTHS:
                problem("contract_end", f"a date within {MAX_MONTHS:,} months of as_of")
    optional = {}
    for column, low, high in (
        ("exit_fee_months", 0, math.inf),
        ("points", 0, math.inf),
        ("bond", 0, 1),
        ("satisfaction", 0, 1),
    ):
        cell = values.get(column, "")
        empty = math.nan if column in ("bond", "satisfaction") else 0.0
        number = _number(cell, delimiter) if cell else empty
        if number is None or (cell and not low <= number <= high):
            problem(
                column,
                f"a number in [{low}, {high}] (or empty)" if high < math.inf else "a number >= 0 (or empty)",
            )
        optional[column] = number
    band = values.get("nps_band", "")
    if band and band not in NPS_BANDS:
        problem("nps_band", f"one of {', '.join(NPS_BANDS)} (or empty)")
    if len(problems) > before:
        return
    first_row[customer] = row
    for column, value in (
        ("customer_id", customer),
        ("segment", segment),
        ("tenure_months", int(tenure)),
        ("spend_per_month", spend),
        ("contract_end", months_left),
        ("nps_band", NPS_BANDS.index(band) if band else -1),
        *optional.items(),
    ):
        columns[column].append(value)


def _number(cell: str, delimiter: str) -> float | None:
    try:
        value = decimal_number(cell, delimiter)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _date(text: str, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a date YYYY-MM-DD") from None


# --- the monthly panel, keyed by the table's customer ids -------------------------------------

PANEL_STATES = ("bond", "satisfaction", "rational_value", "resentment", "attention")
# Columns a program owns, written where the strategy runs it (null in other strategies' rows).
PANEL_OPTIONAL = ("points", "contract_months_left", "tier")


class CustomerPanel:
    """A probe (``sim.runs.Probe``) that records, after every month, one row per customer of
    the table who was a customer at the start of that month (so a leaver's last row is the
    month they left): ``month``, ``customer_id``, ``active``, ``exit_reason``,
    ``tenure_months``, ``spend_per_month``, the states, ``churn_score`` and the optional
    columns the population has."""

    def __init__(self, customer_id: np.ndarray) -> None:
        self.customer_id = customer_id
        self.parts: list[dict[str, np.ndarray]] = []

    def observe(self, model: LoyaltyModel) -> None:
        pop = model.population
        rows = np.flatnonzero(model.flows.active_at_start[: self.customer_id.size])
        labels = np.array(["", *EXIT_REASONS])
        part = {
            "month": np.full(rows.size, model.month, dtype=np.int16),
            "customer_id": self.customer_id[rows],
            "active": pop.active[rows],
            "exit_reason": labels[pop.exit_reason[rows]],
            "tenure_months": pop.tenure_months[rows],
            "spend_per_month": pop.spend_per_month[rows],
            **{name: getattr(pop, name)[rows] for name in PANEL_STATES},
            "churn_score": churn_score(model)[rows].astype(np.float32),
            **{name: getattr(pop, name)[rows] for name in PANEL_OPTIONAL if name in pop.columns},
        }
        self.parts.append({name: np.array(values, copy=True) for name, values in part.items()})

    def value(self) -> pl.DataFrame:
        import polars as pl

        frame = pl.concat([pl.DataFrame(part) for part in self.parts], how="vertical")
        return frame.with_columns(pl.col("exit_reason").replace("", None))


def write_panel(path: Path, panels: list[tuple[str, int, pl.DataFrame]]) -> None:
    """Write the panels of (strategy, seed, frame) as one Parquet file, atomically."""
    import polars as pl

    frame = pl.concat(
        [
            panel.select(
                pl.lit(strategy).alias("strategy"), pl.lit(seed, dtype=pl.Int64).alias("seed"), pl.all()
            )
            for strategy, seed, panel in panels
        ],
        how="diagonal_relaxed",  # a program's columns (points, contract) only where it runs
    )
    write_atomic(Path(path), lambda tmp: frame.write_parquet(tmp))
