"""A strategy's own label names it in the comparison tables of ``sweep``, ``table`` and ``run
FILE``, as ``optimise``, ``robustness`` and the report name it; the code name stays reachable (the
table's caption, CSV, JSON and the Parquet files), and unlabelled strategies keep their codes."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.cli import app

SCENARIO = """\
name = "labels"
customers = 200
months = 6
replications = 2
seed = 3

[strategies]
rare_contact = ["rare_contact"]

[strategies.mix_optimised_16]
programs = ["personal_appreciation"]
label = { en = "Mix A", de = "Mix A (de)" }
"""


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("labels")
    (folder / "s.toml").write_text(SCENARIO)
    out = str(folder / "out")
    return folder, invoke("sweep", str(folder / "s.toml"), "--out", out, "--workers", "1", "--no-report")


def first_cells(text: str) -> set[str]:
    """The strategy column of a plain-text table (cells are set apart by two spaces or more)."""
    return {line.split("  ")[0].strip() for line in text.splitlines() if "  " in line}


def test_the_sweep_table_shows_the_label_and_its_code(swept):
    _, shown = swept
    assert {"Mix A", "rare_contact"} <= first_cells(shown), shown
    assert "mix_optimised_16" not in first_cells(shown)
    assert "code names: Mix A = mix_optimised_16" in " ".join(shown.split())


def test_table_and_reprint_show_it_too_and_the_machine_outputs_keep_codes(swept):
    folder, _ = swept
    out = folder / "out"
    for shown in (
        invoke("table", str(out)),
        invoke("sweep", str(folder / "s.toml"), "--out", str(out), "--workers", "1", "--no-report"),
    ):
        assert "Mix A" in first_cells(shown)
        assert "code names: Mix A = mix_optimised_16" in " ".join(shown.split())
    # the code names are what the options take and what the files hold
    assert "Mix A" in first_cells(invoke("table", str(out), "--strategies", "mix_optimised_16"))
    assert {r["strategy"] for r in json.loads(invoke("table", str(out), "--format", "json"))} == {
        "rare_contact",
        "mix_optimised_16",
    }
    assert "mix_optimised_16" in invoke("table", str(out), "--format", "csv")
    for name in ("runs.parquet", "summary.parquet"):
        assert set(pl.read_parquet(out / name)["strategy"]) == {"rare_contact", "mix_optimised_16"}


def test_run_with_a_file_shows_the_label(swept):
    folder, _ = swept
    shown = invoke("run", str(folder / "s.toml"), "--customers", "200", "--months", "3")
    assert {"Mix A", "rare_contact"} <= first_cells(shown), shown


def test_labelled_names_keep_unlabelled_codes_and_stay_unique():
    from sim.i18n import labelled_names

    display = {"a": {"label": {"en": "Card", "de": "Karte"}}, "b": {"label": {"en": "Card"}}}
    assert labelled_names(["a", "c"], display, "de") == {"a": "Karte", "c": "c"}
    assert labelled_names(["a", "b", "c"], display, "en") == {"a": "Card (a)", "b": "Card (b)", "c": "c"}
    assert labelled_names(["a", "Card"], {"a": display["a"]}, "en") == {"a": "Card (a)", "Card": "Card"}
