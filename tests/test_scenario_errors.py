"""Broken scenario files: every defect is reported, not crashed on.

Each file in ``scenario_corpus/`` has exactly one defect. ``loyalty-sim validate FILE`` must
exit with code 2, print no traceback, and name the file, the dotted key path of the defect
and what is wrong (the table below). The console script itself is slow to start (about 4 s
of imports per process), so every file goes through the same entry point in-process
(``sim.cli.main``); the console script itself runs one file of each kind of defect in the
``slow`` suite and two files (``validate`` and ``sweep``) in the fast suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

CORPUS = Path(__file__).resolve().parent / "scenario_corpus"
CLI = Path(sys.executable).parent / "loyalty-sim"

# file name -> (dotted key path, fragment of the message); "" = the file as a whole
EXPECTED: dict[str, tuple[str, str]] = {
    "bad_beta_mean.toml": ("market.segments[0].price_focus.mean", "expected a value in (0, 1), found 1.5"),
    "bad_grid_path.toml": ('grid."prices.discount"', "expected a parameter path"),
    "behaviour_parameter_out_of_range.toml": (
        "behaviours[0].params.follow_per_leaver",
        "expected a value in [0, 1], found 1.5",
    ),
    "behaviour_twice.toml": ("behaviours[1].behaviour", "found 'word_of_mouth' again"),
    "behaviours_not_array.toml": ("behaviours", "expected an array of behaviour names or tables"),
    "baseline_missing.toml": ("baseline", "unknown strategy 'one_night_brand'"),
    "boolean_for_integer.toml": ("months", "expected an integer, found boolean true"),
    "customers_string.toml": ("customers", 'expected an integer, found string "10000"'),
    "distribution_as_number.toml": ("market.segments[0].price_focus", "expected a table, found number 0.8"),
    "duplicate_segment_names.toml": ("market.segments", "expected unique names"),
    "empty_strategies.toml": ("strategies", "expected a table of at least one strategy, found table {}"),
    "float_for_integer.toml": (
        "strategies.contract.programs[0].params.term_months",
        "expected an integer, found number 12.5",
    ),
    "grid_empty_values.toml": ('grid."market.offers.discount"', "found array []"),
    "grid_fractional_customers.toml": ("customers", "found number 1500.5; at grid point"),
    "grid_linspace_count_one.toml": ('grid."market.offers.discount".linspace', "count >= 2"),
    "grid_not_table.toml": ("grid", "expected a table, found array"),
    "grid_path_twice.toml": ('grid."market.offers.discount"', "also a grid.latin_hypercube range"),
    "grid_program_not_run.toml": (
        'grid."programs.lock_in_contract.term_months"',
        "programs.<program run by a strategy>.<parameter>",
    ),
    "grid_behaviour_not_enabled.toml": (
        'grid."behaviours.word_of_mouth.follow_per_leaver"',
        "expected behaviours.<behaviour the scenario enables>.<parameter>",
    ),
    "grid_unknown_parameter.toml": ("market.offers.discont", "did you mean 'discount'? (at grid point"),
    "grid_unquoted_path.toml": ('grid."market"', 'quote dotted paths in [grid]: "market.offers.discount"'),
    "grid_value_out_of_range.toml": (
        "market.offers.discount",
        'expected a value in [0, 1], found 1.5; at grid point {"market.offers.discount": 1.5}',
    ),
    "lhs_low_not_below_high.toml": (
        'grid.latin_hypercube."market.offers.discount"',
        "expected [low, high] with low < high, found array [0.3, 0.1]",
    ),
    "lhs_without_ranges.toml": ("grid.latin_hypercube", "expected at least one parameter range"),
    "lhs_zero_samples.toml": ("grid.latin_hypercube.samples", "expected an integer >= 1, found integer 0"),
    "lognormal_negative_sigma.toml": ("market.segments[0].spend_per_month.sigma", "expected a value >= 0"),
    "missing_strategies.toml": ("strategies", "expected a table of at least one strategy, found nothing"),
    "misspelled_behaviour.toml": ("behaviours[0].behaviour", "did you mean 'word_of_mouth'?"),
    "misspelled_program.toml": ("strategies.cards.programs[0].program", "did you mean 'point_card'?"),
    "name_with_slash.toml": ("name", "a name usable as a folder name"),
    "nan_value.toml": ("market.offers.discount", "expected a finite number, found nan"),
    "negative_customers.toml": ("customers", "expected an integer >= 1, found -100"),
    "not_utf8.toml": ("", "expected a readable UTF-8 text file"),
    "parameter_out_of_range.toml": ("service.failure_per_month", "expected a value in [0, 1], found 1.5"),
    "program_not_a_name.toml": ("strategies.odd.programs[0]", "expected a program name or a table"),
    "segment_share_out_of_range.toml": (
        "market.segment_shares.bargain_hunters",
        "expected a value in [0, 1], found 1.5",
    ),
    "segment_shares_not_summing.toml": ("market.segment_shares", "expected shares that sum to 1"),
    "segment_shares_unknown_segment.toml": (
        "market.segment_shares.bargain",
        "did you mean 'bargain_hunters'?",
    ),
    "segment_without_name.toml": ("market.segments[0].name", "expected a value (required), found nothing"),
    "service_inside_market.toml": ("market.service", "'service' belongs in service (a top-level table)"),
    "service_not_table.toml": ("service", "expected a table, found boolean false"),
    "shares_not_summing.toml": ("market.segments", "expected shares that sum to 1, found 0.9"),
    "start_after_end.toml": (
        "strategies.late_card.programs[0].end_month",
        "expected a month after start_month (30), found 25",
    ),
    "start_beyond_horizon.toml": (
        "strategies.late_card.programs[0].start_month",
        "expected a month within the horizon (1..24), found 30",
    ),
    "start_month_zero.toml": ("strategies.card.programs[0].start_month", "expected a month >= 1, found 0"),
    "strategy_empty_programs.toml": ("strategies.nothing.programs", "expected a non-empty array of programs"),
    "string_for_number.toml": ("market.offers.discount", 'expected a number, found string "20%"'),
    "toml_syntax_error.toml": (
        "",
        "expected valid TOML, found Illegal character '\\n' (at line 4, column 15)",
    ),
    "unknown_market_section.toml": ("market.ofers", "did you mean 'offers'?"),
    "unknown_parameter.toml": ("market.offers.discont", "did you mean 'discount'?"),
    "unknown_program_entry_key.toml": ("strategies.card.programs[0].stop_month", "unknown key 'stop_month'"),
    "unknown_program_parameter.toml": (
        "strategies.card.programs[0].params.reward_share",
        "did you mean 'reward_share_of_spend'?",
    ),
    "unknown_top_level_key.toml": ("replication", "did you mean 'replications'?"),
    "zero_replications.toml": ("replications", "expected an integer >= 1, found 0"),
    "target_unknown_key.toml": (
        "strategies.riskiest.programs[0].target.churn_risk_top_shar",
        "did you mean 'churn_risk_top_share'?",
    ),
    "target_unknown_segment.toml": (
        "strategies.seekers.programs[0].target.segments[0]",
        "did you mean 'relationship_seekers'?",
    ),
    "target_share_out_of_range.toml": (
        "strategies.half.programs[0].target.share",
        "expected a value in [0, 1]",
    ),
    "budget_unknown_period.toml": (
        "strategies.capped.programs[0].budget.per",
        "unknown budget period 'week'",
    ),
    "budget_negative.toml": ("strategies.capped.programs[0].budget.eur", "expected a number >= 0 (EUR)"),
    "population_missing_file.toml": (  # the table's path, next to the scenario file
        f"population: {CORPUS / 'no-such-customers.csv'}",
        "expected an existing customer table (CSV), found no such file",
    ),
}

# Defects that are not files: (name, how to make the path in tmp_path, key path, fragment).
NOT_FILES = {
    "missing": ("no_such_scenario.toml", None, "expected an existing scenario file, found no such file"),
    "directory": ("a_directory.toml", "mkdir", "expected a scenario file, found a directory"),
}


def _not_a_file(kind: str, tmp_path: Path) -> tuple[Path, str]:
    name, make, fragment = NOT_FILES[kind]
    path = tmp_path / name
    if make == "mkdir":
        path.mkdir()
    return path, fragment


def _check(file: Path, code: int, out: str, err: str, key: str, fragment: str) -> None:
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    where = f"{file}: {key}: expected" if key else f"{file}: expected"
    assert where in err, err
    assert fragment in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err  # one defect per file, one message


def _validate_in_process(file: Path, capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["loyalty-sim", "validate", str(file)])
    with pytest.raises(SystemExit) as stop:
        main()
    captured = capsys.readouterr()
    return stop.value.code, captured.out, captured.err


def _validate_console(file: Path) -> tuple[int, str, str]:
    done = subprocess.run([str(CLI), "validate", str(file)], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_the_corpus_and_the_table_match():
    files = {path.name for path in CORPUS.glob("*.toml")}
    assert files == set(EXPECTED)
    assert len(files) + len(NOT_FILES) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_defect_is_reported_in_process(name, capsys, monkeypatch):
    key, fragment = EXPECTED[name]
    file = CORPUS / name
    _check(file, *_validate_in_process(file, capsys, monkeypatch), key, fragment)


@pytest.mark.parametrize("kind", sorted(NOT_FILES))
def test_path_that_is_not_a_file_is_reported_in_process(kind, tmp_path, capsys, monkeypatch):
    file, fragment = _not_a_file(kind, tmp_path)
    _check(file, *_validate_in_process(file, capsys, monkeypatch), "", fragment)


# One file per kind of defect: TOML syntax, encoding, unknown names, types, ranges, sums, windows, grid.
CONSOLE_SAMPLE = (
    "toml_syntax_error.toml", "not_utf8.toml", "misspelled_program.toml", "unknown_top_level_key.toml",
    "string_for_number.toml", "negative_customers.toml", "shares_not_summing.toml", "start_after_end.toml",
    "bad_grid_path.toml", "empty_strategies.toml",
)


@pytest.mark.slow
@pytest.mark.parametrize("name", CONSOLE_SAMPLE)
def test_defect_is_reported_by_the_console_script(name):
    key, fragment = EXPECTED[name]
    file = CORPUS / name
    _check(file, *_validate_console(file), key, fragment)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(NOT_FILES))
def test_path_that_is_not_a_file_is_reported_by_the_console_script(kind, tmp_path):
    file, fragment = _not_a_file(kind, tmp_path)
    _check(file, *_validate_console(file), "", fragment)


def test_console_script_reports_a_defect():
    """One file through the real console script in the fast suite (the slow suite runs them all)."""
    name = "toml_syntax_error.toml"
    _check(CORPUS / name, *_validate_console(CORPUS / name), *EXPECTED[name])


def test_sweep_with_a_broken_file_writes_nothing(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text((CORPUS / "misspelled_program.toml").read_text())
    done = subprocess.run(
        [str(CLI), "sweep", str(broken), "--workers", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    _check(broken, done.returncode, done.stdout, done.stderr, *EXPECTED["misspelled_program.toml"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.toml"]  # no results/ directory


@pytest.mark.parametrize(
    ("replications", "summary"),
    [(1, "1 strategy x 1 replication = 1 run of"), (2, "1 strategy x 2 replications = 2 runs of")],
)
def test_validate_counts_in_words_that_agree_with_the_number(
    tmp_path, capsys, monkeypatch, replications, summary
):
    file = tmp_path / "one.toml"
    file.write_text(
        f'customers = 300\nmonths = 6\nreplications = {replications}\n[strategies]\nrare = ["rare_contact"]\n'
    )
    code, out, err = _validate_in_process(file, capsys, monkeypatch)
    assert (code, err) == (0, "")
    assert summary in out
