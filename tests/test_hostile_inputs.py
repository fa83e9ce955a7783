"""Hostile inputs, as a careless or unlucky user gives them (issue 14, items 2 and 3; explore's
Host check and disconnects are tested in tests/report/test_explore.py): every command
ends in one line naming the file, key or option, exit code 2 for bad input, no traceback,
nothing written, and no hang.

Commands run in-process through the console entry point ``sim.cli.main`` (the console script
costs seconds of imports per call); the few things only a real process shows (Ctrl-C during
start-up) run the console script.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sim.analysis.statistics import sweep_and_summarise as sweep  # the orchestrator plus summary.parquet
from sim.cli import main
from sim.executors import SerialExecutor

CORPUS = Path(__file__).resolve().parent / "adversarial_corpus"
CLI = Path(sys.executable).parent / "loyalty-sim"
REPO = Path(__file__).resolve().parents[1]

SMALL = """\
name = "hostile"
customers = 300
months = 6
replications = 2
seed = 3

[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]

[grid.latin_hypercube]
samples = 3
"market.offers.discount" = [0.1, 0.3]
"""


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    """``loyalty-sim ARGS`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["loyalty-sim", *map(str, args)]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        saved, sys.argv = sys.argv, argv
        try:
            main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        finally:
            sys.argv = saved
    return code, out.getvalue(), err.getvalue()


def assert_one_line(result: tuple[int, str, str], *fragments: str, code: int = 2) -> str:
    """The exit code, one 'error:' line on stderr that holds every fragment, no traceback."""
    rc, out, err = result
    assert rc == code, (rc, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished sweep's folder (no report), copied by the tests that damage it."""
    directory = tmp_path_factory.mktemp("finished")
    (directory / "small.toml").write_text(SMALL)
    from sim import scenario as scenarios

    sweep(scenarios.load(directory / "small.toml"), directory / "out", SerialExecutor())
    return directory / "out"


@pytest.fixture
def results(tmp_path, finished) -> Path:
    import shutil

    shutil.copytree(finished, tmp_path / "results")
    return tmp_path / "results"


# --- the adversarial corpus: limits, nesting, names, encodings --------------------------------

# file -> (key path or "" for the file as a whole, fragment of the message)
EXPECTED = {
    "binary_garbage.toml": ("", "expected a readable UTF-8 text file"),
    "bom_then_syntax_error.toml": ("", "expected valid TOML, found Invalid value (at line 2, column 10)"),
    "customers_70_bits.toml": ("customers", "expected an integer <= 10,000,000"),
    "customers_trillion.toml": ("customers", "expected an integer <= 10,000,000, found 1000000000000"),
    "grid_million_points.toml": ("grid", "at most 10,000 grid points, found 1000 x 1000 = 1,000,000"),
    "grid_months_overflow.toml": ("months", "expected an integer <= 1,200, found 50000; at grid point"),
    "lhs_billion_samples.toml": ("grid.latin_hypercube.samples", "expected an integer in 1..10,000"),
    "linspace_billion.toml": ('grid."market.offers.discount".linspace', "count <= 10,000"),
    "months_infinity.toml": ("months", "expected an integer, found number Infinity"),
    "months_overflow.toml": ("months", "expected an integer <= 1,200, found 40000"),
    "name_too_long.toml": ("name", "at most 100 characters"),
    "nesting_20_deep.toml": ("", "nested at most 16 deep"),
    "nesting_400_deep.toml": ("", "nested at most 16 deep"),
    "replications_billion.toml": ("replications", "expected an integer <= 10,000, found 1000000000"),
    "runs_over_limit.toml": ("replications", "at most 200,000 runs"),
    "strategy_name_too_long.toml": ("strategies.sss", "a strategy name of at most 100 characters"),
    "term_months_overflow.toml": (
        "strategies.contract.programs[0].params.term_months",
        "expected an integer <= 1,200 (months), found 40000",
    ),
}


def test_the_adversarial_corpus_and_its_table_match():
    assert {p.name for p in CORPUS.iterdir()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_adversarial_file_is_refused_at_once_and_nothing_is_written(name, tmp_path):
    key, fragment = EXPECTED[name]
    file = CORPUS / name
    started = time.perf_counter()
    result = run_cli("sweep", file, "--out", tmp_path / "out", "--workers", "1", "--no-report")
    assert time.perf_counter() - started < 10  # no planning of a billion runs first
    where = f"{file}: {key}" if key else f"{file}: expected"
    assert_one_line(result, where, fragment)
    assert not (tmp_path / "out").exists()


def test_a_deeper_nesting_than_python_can_parse_is_one_line(tmp_path):
    """Issue 14: deeply nested TOML ended in a RecursionError traceback."""
    file = tmp_path / "deep.toml"
    file.write_text('[strategies]\nrare_contact = ["rare_contact"]\n[market]\nx = ' + "[" * 5000 + "]" * 5000)
    assert_one_line(run_cli("validate", file), f"{file}: expected tables and arrays nested at most 16 deep")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    """Issue 14: a BOM (Windows editors) was refused as 'Invalid statement (line 1, col 1)'."""
    file = tmp_path / "bom.toml"
    file.write_bytes(b"\xef\xbb\xbf" + SMALL.encode())
    rc, out, err = run_cli("validate", file)
    assert (rc, err) == (0, "") and "ok: 'hostile'" in out


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    file = tmp_path / "huge.toml"
    file.write_text(SMALL + "#" * 1_000_001 + "\n")
    assert_one_line(run_cli("validate", file), f"{file}: expected a scenario file of at most 1,000,000 bytes")


# --- regular files only -------------------------------------------------------------------------


def test_dev_zero_as_scenario_is_refused():
    """Issue 14: /dev/zero as a scenario read until memory ran out."""
    result = run_cli("validate", "/dev/zero")
    assert_one_line(result, "/dev/zero: expected a scenario file, found a character device")


def test_a_fifo_as_scenario_is_refused_without_blocking(tmp_path):
    """Issue 14: a FIFO as scenario file blocked forever."""
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(run_cli("validate", fifo)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # unblock the reader, then fail
        with open(fifo, "w"):
            pass
        pytest.fail("reading a FIFO as scenario blocked")
    assert_one_line(outcome[0], f"{fifo}: expected a scenario file, found a named pipe (FIFO)")


@pytest.mark.parametrize("option", ["--curve", "--scenario"])
def test_calibrate_refuses_devices_as_inputs(option, small, tmp_path):
    files = {"--curve": str(REPO / "data" / "fader-hardie-2007-high-end.csv"), "--scenario": str(small)}
    files[option] = "/dev/zero"
    args = ["calibrate", "--curve", files["--curve"], "--scenario", files["--scenario"]]
    result = run_cli(*args, "--fit", "market.offers.offer_rate_per_month", "--out", tmp_path / "c.toml")
    assert_one_line(result, "/dev/zero: expected a", "found a character device")


# --- curves -----------------------------------------------------------------------------------

CURVES = {
    "infinity.csv": ("year,share\n0,1\n1,0.8\ninf,0.5\n", "data row 4: expected a whole year"),
    "nan.csv": ("year,share\n0,1\nnan,0.8\n2,0.5\n", "data row 3: expected a whole year"),
    "huge.csv": ("year,share\n0,1\n1,0.8\n1e300,0.5\n", "data row 4: expected a whole year in 0..1200"),
    "binary.csv": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "expected a readable UTF-8 text file, found bytes"
    ),
}


@pytest.mark.parametrize("name", sorted(CURVES))
def test_a_broken_curve_is_one_line_naming_it(name, small, tmp_path):
    """Issue 14: inf gave an OverflowError, a binary file a bug in the error handler itself,
    nan a message without the file ('cannot convert float NaN to integer')."""
    content, fragment = CURVES[name]
    curve = tmp_path / name
    curve.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "calibrated.toml"
    result = run_cli("calibrate", "--curve", curve, "--scenario", small,
                     "--fit", "market.offers.offer_rate_per_month", "--out", out)
    assert_one_line(result, f"{curve}: ", fragment)
    assert not out.exists()


def test_a_curve_with_a_byte_order_mark_is_read(tmp_path):
    from sim.analysis.calibration import read_curve

    curve = tmp_path / "bom.csv"
    curve.write_bytes(b"\xef\xbb\xbfyear,share\n0,1\n1,0.8\n2,0.7\n")
    assert read_curve(curve).unit == "year"


# --- result folders as input --------------------------------------------------------------------

DAMAGE = {
    "truncated summary": ("summary.parquet", lambda p: p.write_bytes(p.read_bytes()[:100])),
    "garbage monthly": ("monthly.parquet", lambda p: p.write_bytes(b"PAR1 not really" * 10)),
    "manifest not JSON": ("manifest.json", lambda p: p.write_text("{'status': 'complete'")),
    "manifest not an object": ("manifest.json", lambda p: p.write_text("[1, 2, 3]")),
}


@pytest.mark.parametrize("command", ["report", "survival", "economics"])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_result_folder_is_one_line_naming_the_file(results, command, damage):
    """Issue 14: a truncated or garbage Parquet, an invalid or non-object manifest.json gave
    tracebacks in report, survival and economics."""
    name, spoil = DAMAGE[damage]
    if command == "survival" and name == "summary.parquet":
        name, spoil = "monthly.parquet", DAMAGE["truncated summary"][1]  # survival reads monthly
    spoil(results / name)
    args = [command, results, "--format", "html"] if command == "report" else [command, results]
    line = assert_one_line(run_cli(*args), f"{results / name}: expected")
    assert "report.html" not in os.listdir(results)
    assert line


@pytest.mark.parametrize("analysis", ["claims", "sensitivity"])
def test_a_damaged_analysis_table_in_a_result_folder_is_one_line(results, analysis):
    """A garbage claims.parquet or sensitivity.parquet gave 'internal error: ComputeError'."""
    (results / f"{analysis}.parquet").write_bytes(b'{"a": [1, 2')
    assert_one_line(
        run_cli("report", results, "--format", "html"),
        f"{results / analysis}.parquet: expected a Parquet file", f"loyalty-sim {analysis} ... --out",
    )
    assert "report.html" not in os.listdir(results)


@pytest.mark.parametrize("damage", ["truncated summary", "truncated runs", "manifest not JSON"])
def test_table_of_a_damaged_result_folder_is_one_line_naming_the_file(results, damage):
    """A truncated summary.parquet gave 'internal error: ComputeError' (exit 1), a damaged
    manifest 'no finished sweep here (no manifest.json ...)', which was there."""
    name, spoil = {**DAMAGE, "truncated runs": ("runs.parquet", DAMAGE["truncated summary"][1])}[damage]
    spoil(results / name)
    assert_one_line(run_cli("table", results, "--baseline", "point_card"), f"{results / name}: expected")


@pytest.mark.parametrize("damage", ["truncated summary", "garbage monthly", "truncated runs"])
def test_resume_rewrites_damaged_tables_as_the_error_says(results, small, damage):
    """'run the sweep again with --resume to rewrite it', said the error; --resume answered
    'nothing ran, nothing was rewritten' (or crashed on the summary) and the report kept failing.
    Resume now combines the tables again from the checked parts, running nothing."""
    name, spoil = {**DAMAGE, "truncated runs": ("runs.parquet", DAMAGE["truncated summary"][1])}[damage]
    spoil(results / name)
    assert run_cli("report", results, "--format", "html")[0] == 2
    rc, _, err = run_cli("sweep", small, "--out", results, "--resume", "--workers", "1", "--no-report")
    assert rc == 0 and "Traceback" not in err, err
    assert "12 runs done (12 from before)" in err, err  # nothing ran again
    assert run_cli("report", results, "--format", "html")[0] == 0


def test_a_broken_scenario_inside_a_manifest_names_the_manifest(results):
    manifest = json.loads((results / "manifest.json").read_text())
    manifest["scenario"]["text"] = manifest["scenario"]["text"].replace("customers = 300", "customers = -3")
    (results / "manifest.json").write_text(json.dumps(manifest))
    assert_one_line(
        run_cli("report", results, "--format", "html"),
        f"{results / 'manifest.json'} (scenario.text): customers: expected an integer >= 1",
    )


# --- output paths checked before the work --------------------------------------------------------


def _outputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return {
        "under a file": (blocker / "results", "which is not a directory"),
        "300-character name": (tmp_path / ("r" * 300), "a name of 300 bytes (at most 255)"),
    }


@pytest.mark.parametrize("case", ["under a file", "300-character name"])
@pytest.mark.parametrize("command", ["sweep", "claims", "sensitivity", "discover", "report", "calibrate"])
def test_an_unwritable_output_fails_before_the_work(command, case, small, results, tmp_path, monkeypatch):
    """Issue 14: OSError tracebacks after the work (a claims audit computed, then lost), with
    results/ created anyway."""
    out, fragment = _outputs(tmp_path)[case]

    def no_work(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    for module, name in (("sim.analysis.statistics", "sweep_and_summarise"), ("sim.analysis.claims", "audit"),
                         ("sim.analysis.sensitivity", "sensitivity"), ("sim.analysis.discovery", "discover"),
                         ("sim.report", "build_report"), ("sim.analysis.calibration", "calibrate")):
        monkeypatch.setattr(f"{module}.{name}", no_work)
    args = {
        "sweep": ["sweep", small, "--workers", "1"],
        "claims": ["claims", small, "--workers", "1", "--check", "C1"],
        "sensitivity": ["sensitivity", small, "--workers", "1"],
        "discover": ["discover", small, "--outcome", "cohort_loss:point_card", "--threshold", "0.5"],
        "report": ["report", results],
        "calibrate": ["calibrate", "--curve", REPO / "data" / "fader-hardie-2007-high-end.csv",
                      "--scenario", small, "--fit", "market.offers.offer_rate_per_month"],
    }[command]
    target = out / "calibrated.toml" if command == "calibrate" and case == "under a file" else out
    assert_one_line(run_cli(*args, "--out", target), "--out", fragment)
    with pytest.raises(OSError):  # not there (or a name too long to look up)
        os.stat(out)


def test_a_read_only_output_folder_fails_before_the_work(small, tmp_path, monkeypatch):
    """A read-only filesystem (simulated: tests may run as root, who may write anywhere)."""
    locked = tmp_path / "read-only"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    assert_one_line(run_cli("sweep", small, "--out", locked / "results"), "read-only or not ours to write")
    assert not (locked / "results").exists()


# --- options -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_discover_refuses_a_threshold_that_is_not_a_number(value, small):
    """Issue 14: --threshold nan exited 0 with 'nowhere in the sampled space'."""
    result = run_cli("discover", small, "--outcome", "cohort_loss:point_card", "--threshold", value)
    assert_one_line(result, "--threshold: expected a finite number")


@pytest.mark.parametrize("command", ["sensitivity", "discover"])
def test_samples_of_two_to_the_forty_are_refused_before_any_work(command, small):
    """Issue 14: --samples 2^40 ended in a MemoryError traceback."""
    extra = ["--outcome", "cohort_loss:point_card", "--threshold", "0.5"] if command == "discover" else []
    rc, _, err = run_cli(command, small, "--samples", str(2**40), *extra)
    assert rc == 2 and "Traceback" not in err and "--samples" in err


def test_replications_beyond_the_run_limit_are_refused(tmp_path):
    wide = tmp_path / "wide.toml"
    wide.write_text(SMALL.replace("samples = 3", "samples = 30"))  # 2 x 30 x 10,000 runs
    result = run_cli("sweep", wide, "--replications", "10000", "--out", tmp_path / "out")
    assert_one_line(result, "--replications: expected at most 200,000 runs")
    assert not (tmp_path / "out").exists()


def test_ctrl_c_during_start_up_is_one_line(tmp_path):
    """Issue 14: Ctrl-C while the command line imported gave a 64-line KeyboardInterrupt."""
    env = {k: v for k, v in os.environ.items() if k != "LOYALTY_SIM_DEBUG"}
    # Ctrl-C must land after the interpreter's own start-up (nothing of ours runs before it):
    # wait twice as long as a bare interpreter takes to start on this machine right now.
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare_start_up = time.monotonic() - started
    # On a loaded machine the command may finish before the signal lands (its whole listing is
    # printed): that is no start-up, so try again sooner, still after the interpreter's own.
    for delay in (max(0.3, factor * bare_start_up) for factor in (2.0, 1.5, 1.2)):
        process = subprocess.Popen([str(CLI), "programs"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env={**env, "PYTHONUNBUFFERED": "1"})
        time.sleep(delay)  # the imports take longer
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        if process.returncode != 130 and "lock_in_contract" in out:
            continue  # finished before the signal
        break
    assert process.returncode == 130, (out, err)
    assert err.strip() == "interrupted"


@pytest.mark.parametrize(
    ("address", "fragment"),
    [("garbage", "missing port number"), ("tcp://host", "missing port number"),
     ("ftp://x:1", "unknown address")],
)
def test_a_malformed_scheduler_address_is_one_line(small, tmp_path, address, fragment):
    """'--scheduler garbage' gave 'internal error: ValueError' from Dask's address parser."""
    out = tmp_path / "out"
    result = run_cli("sweep", small, "--out", out, "--scheduler", address)
    assert_one_line(result, "--scheduler: expected 'local' or a scheduler's", f"'{address}'", fragment)
    assert not out.exists()
