"""docs/ODD.md must document the code as it is: parameter defaults, population columns, segments.

Rule for parameter tables: every frozen parameter dataclass has a Markdown heading in ODD.md that
contains its class name in backticks (e.g. ``#### Parameters: `ServiceParams```). Under that
heading, before the next heading, a table has one row per field that starts with
``| `field_name` |``; its second cell, with backticks stripped, must equal ``repr(default)``
(``0.06``, ``24``, ``24.0``, ``None``, ``True``). The table must not list fields the class lacks.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import sim.mechanisms
from sim.market import Market
from sim.mechanisms import MECHANISMS
from sim.outcomes import LoyaltyTypes
from sim.plugins import BUILT_IN, source_of
from sim.population import DEFAULT_SEGMENTS, SCHEMA, Segment
from sim.programs import PROGRAMS

# Register every mechanism module, including ones the model does not import yet.
for _module in pkgutil.iter_modules(sim.mechanisms.__path__):
    importlib.import_module(f"sim.mechanisms.{_module.name}")

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"

PARAMS: dict[str, type] = {
    **{f"mechanism-{name}": MECHANISMS.get(name) for name in MECHANISMS},
    **{f"program-{name}": PROGRAMS.get(name).Params for name in PROGRAMS},
    "outcomes-LoyaltyTypes": LoyaltyTypes,
}


def _doc() -> str:
    return ODD.read_text(encoding="utf-8")


def _section(heading_marker: str) -> list[str]:
    """Lines after the one heading that contains ``heading_marker``, up to the next heading."""
    lines = _doc().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("#") and heading_marker in line]
    assert len(starts) == 1, (
        f"expected one heading containing {heading_marker!r} in {ODD}, found {len(starts)}"
    )
    body = []
    for line in lines[starts[0] + 1 :]:
        if line.startswith("#"):
            break
        body.append(line)
    return body


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _rows(lines: list[str]) -> dict[str, list[str]]:
    """Table rows whose first cell starts with a backticked name, keyed by that name."""
    rows = {}
    for line in lines:
        match = re.match(r"\|\s*`([^`]+)`", line)
        if match:
            rows[match.group(1)] = _cells(line)
    return rows


def _plain(cell: str) -> str:
    return cell.replace("`", "").strip()


def _default(field: dataclasses.Field) -> object:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return "required"


@pytest.mark.parametrize("params_cls", list(PARAMS.values()), ids=list(PARAMS))
def test_parameter_table_matches_code_defaults(params_cls: type) -> None:
    rows = _rows(_section(f"`{params_cls.__name__}`"))
    fields = dataclasses.fields(params_cls)
    problems = []
    for field in fields:
        expected = repr(_default(field))
        if field.name not in rows:
            problems.append(f"{field.name}: no row '| `{field.name}` |'")
        elif _plain(rows[field.name][1]) != expected:
            problems.append(f"{field.name}: doc says {rows[field.name][1]!r}, code default is {expected}")
    stale = sorted(set(rows) - {f.name for f in fields})
    if stale:
        problems.append(f"rows for fields the class does not have: {stale}")
    assert not problems, f"{params_cls.__name__} in {ODD.name}:\n" + "\n".join(problems)


def test_every_registered_class_is_covered() -> None:
    assert len(MECHANISMS.names()) >= 5
    assert len(PROGRAMS.names()) >= 7


def test_state_variable_table_matches_schema() -> None:
    rows = _rows(_section("Customer state variables"))
    problems = []
    for column in SCHEMA:
        row = rows.get(column.name)
        if row is None:
            problems.append(f"{column.name}: no row")
            continue
        documented = [_plain(cell) for cell in row[1:4]]
        expected = [column.dtype, repr(column.initial), column.kind]
        if documented != expected:
            problems.append(f"{column.name}: doc says {documented}, code says {expected}")
    stale = sorted(set(rows) - {c.name for c in SCHEMA})
    if stale:
        problems.append(f"rows for columns not in SCHEMA: {stale}")
    assert not problems, "\n".join(problems)
    text = _doc()
    assert all(f"`{column.name}`" in text for column in SCHEMA)


def test_program_column_table_matches_the_built_in_programs() -> None:
    rows = _rows(_section("Columns owned by programs"))
    declared = {
        column.name: (column, name)
        for name in PROGRAMS.names()
        if source_of(PROGRAMS.get(name)) == BUILT_IN
        for column in PROGRAMS.get(name).columns
    }
    assert sorted(rows) == sorted(declared)
    for name, (column, program) in declared.items():
        documented = [_plain(cell) for cell in rows[name][1:4]]
        assert documented == [column.dtype, repr(column.initial), program], name


def _render(distribution: object) -> str:
    values = ", ".join(repr(getattr(distribution, f.name)) for f in dataclasses.fields(distribution))
    return f"{type(distribution).__name__}({values})"


def test_segment_table_matches_default_segments() -> None:
    lines = _section("Segments and trait distributions")
    header = next(line for line in lines if line.startswith("| trait |"))
    columns = _cells(header)[1:]
    order = []
    for segment in DEFAULT_SEGMENTS:
        matches = [i for i, cell in enumerate(columns) if f"`{segment.name}`" in cell]
        assert len(matches) == 1, f"segment {segment.name} needs one column in the segment table"
        cell = columns[matches[0]]
        assert f"share {segment.share:.2f}" in cell or f"share {segment.share}" in cell, (
            f"share of {segment.name} not documented as {segment.share}"
        )
        order.append(matches[0])
    rows = _rows(lines)
    traits = [f.name for f in dataclasses.fields(Segment) if f.name not in ("name", "share")]
    problems = []
    for trait in traits:
        if trait not in rows:
            problems.append(f"{trait}: no row")
            continue
        cells = rows[trait][1:]
        for segment, index in zip(DEFAULT_SEGMENTS, order, strict=True):
            expected = _render(getattr(segment, trait))
            if _plain(cells[index]) != expected:
                problems.append(f"{trait} of {segment.name}: doc says {cells[index]!r}, code says {expected}")
    assert not problems, "\n".join(problems)


def test_market_scalar_defaults_documented() -> None:
    rows = _rows(_section("Firm and market parameters"))
    for field in dataclasses.fields(Market):
        default = _default(field)
        if isinstance(default, int | float):
            key = f"Market.{field.name}"
            assert key in rows, f"no row for {key}"
            assert _plain(rows[key][1]) == repr(default), f"{key}: doc {rows[key][1]!r}, code {default!r}"
