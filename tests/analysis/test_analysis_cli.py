"""``loyalty-sim claims | sensitivity | discover``: tables, Parquet output, one-line errors (exit 2)."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from sim.analysis.claims import AUDIT_SCHEMA
from sim.analysis.sensitivity import SENSITIVITY_SCHEMA
from sim.cli import app

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def _one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


def test_claims_prints_the_table_and_writes_claims_parquet(tmp_path):
    result = _invoke("claims", "--check", "F1", "--replications", "2", "--customers", "100", "--workers", "1",
                     "--out", tmp_path / "audit")
    assert result.exit_code == 0, result.output
    assert "F1" in result.output and "5-year cohort loss, rare_contact" in result.output
    assert "no relationship or service exits" in result.output  # F1's control
    table = pl.read_parquet(tmp_path / "audit" / "claims.parquet")
    assert table.schema == pl.Schema(AUDIT_SCHEMA) and table["check"].to_list() == ["F1"]
    assert table["control_verdict"].to_list()[0] in {"holds", "fails", "inconclusive"}
    assert "loyalty-sim report" not in result.output  # not a sweep's folder: no report to rebuild


def test_claims_written_beside_a_sweep_say_how_to_rebuild_its_report(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    result = _invoke("claims", "--check", "F1", "--replications", "2", "--customers", "100", "--workers", "1",
                     "--no-controls", "--out", tmp_path)
    assert result.exit_code == 0 and f"loyalty-sim report {tmp_path}" in result.output, result.output
    assert pl.read_parquet(tmp_path / "claims.parquet")["control_verdict"].to_list() == ["not run"]


@pytest.mark.slow
def test_claims_runs_on_a_local_dask_cluster_with_the_serial_result(tmp_path):
    """``--scheduler local`` starts a LocalCluster (seconds, hence slow); same seeds, same table."""
    options = ("claims", "--check", "F1", "--replications", "2", "--customers", "100")
    serial = _invoke(*options, "--workers", "1", "--out", tmp_path / "serial")
    dask = _invoke(*options, "--scheduler", "local", "--workers", "2", "--out", tmp_path / "dask")
    assert serial.exit_code == 0 and dask.exit_code == 0, dask.output
    assert pl.read_parquet(tmp_path / "dask" / "claims.parquet").equals(
        pl.read_parquet(tmp_path / "serial" / "claims.parquet")
    )


def test_claims_rejects_unknown_checks_and_short_horizons(tmp_path):
    _one_line_error(_invoke("claims", "--check", "C9"), "--check: unknown check 'C9'")
    short = tmp_path / "short.toml"
    short.write_text('months = 24\n[strategies]\nrare_contact = ["rare_contact"]\n')
    _one_line_error(_invoke("claims", short, "--replications", "2"), f"{short}: ", "at least 60 months")


def test_sensitivity_prints_indices_and_writes_sensitivity_parquet(space_scenario, tmp_path):
    chosen = space_scenario(customers=100, months=6)
    result = _invoke("sensitivity", chosen.file, "--method", "morris", "--samples", "2",
                     "--outputs", "cohort_loss:rare_contact", "--workers", "1", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "mu_star" in result.output and "market.offers.offer_rate_per_month" in result.output
    table = pl.read_parquet(tmp_path / "sensitivity.parquet")
    assert table.schema == pl.Schema(SENSITIVITY_SCHEMA) and table.height == 4


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--outputs", "churn"), ("--outputs: unknown outcome 'churn'",)),
        (("--outputs", "cohort_loss:nobody"), ("--outputs:", "names no strategy")),
        (("--samples", "10"), ("--samples: sobol needs a power of two",)),
    ],
)
def test_sensitivity_bad_options_are_one_line_errors(space_scenario, args, fragments):
    _one_line_error(_invoke("sensitivity", space_scenario().file, *args), *fragments)


def test_sensitivity_bad_method_is_a_usage_error(space_scenario):
    result = _invoke("sensitivity", space_scenario().file, "--method", "fast")
    assert result.exit_code == 2 and "'fast' is not one of 'sobol', 'morris'" in result.output


def test_ranges_must_exist_and_run_from_low_to_high(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text('[strategies]\nrare_contact = ["rare_contact"]\n')
    expected = f"{plain}: grid.latin_hypercube: expected parameter ranges"
    _one_line_error(_invoke("sensitivity", plain), expected)
    _one_line_error(_invoke("discover", plain, "--outcome", "cohort_loss", "--threshold", "0"),
                    "grid.latin_hypercube")
    backwards = tmp_path / "backwards.toml"
    backwards.write_text(
        '[strategies]\nrare_contact = ["rare_contact"]\n[grid.latin_hypercube]\nsamples = 4\n'
        '"market.offers.discount" = [0.3, 0.1]\n'
    )
    where = f'{backwards}: grid.latin_hypercube."market.offers.discount"'
    _one_line_error(_invoke("sensitivity", backwards), where, "low < high")


def test_discover_prints_rules_and_writes_discovery_parquet(space_scenario, tmp_path):
    chosen = space_scenario(customers=100, months=12, samples=12)
    result = _invoke("discover", chosen.file, "--outcome", "cohort_loss:point_card-rare_contact",
                     "--threshold", "0", "--below", "--workers", "1", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "cohort_loss:point_card-rare_contact < 0 in " in result.output
    samples = pl.read_parquet(tmp_path / "discovery.parquet")
    assert samples.height == 12 and {"output", "case", "in_box"} <= set(samples.columns)


def test_discover_needs_one_output(space_scenario):
    result = _invoke("discover", space_scenario().file, "--outcome", "cohort_loss", "--threshold", "0")
    _one_line_error(result, "--outcome: 'cohort_loss' means 2 outputs")
