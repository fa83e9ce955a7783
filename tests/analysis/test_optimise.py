"""``loyalty-sim optimise``: a known optimum is found, the search is reproducible and resumable,
the finalists are re-run on fresh seeds, and every bad key is one line (exit 2)."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from sim import scenario as scenarios
from sim.analysis.decisions import set_values, tokens
from sim.analysis.optimise import candidate, fresh_seeds, optimise, search_seeds, settings_of
from sim.analysis.space import AnalysisError
from sim.cli import app
from sim.executors import DaskExecutor, LocalPoolExecutor, SerialExecutor
from sim.i18n import short_number
from sim.runs import run_strategies
from sim.strategy import ProgramSpec, Strategy

# Contacts without a capacity limit: more contacts keep more customers and cost more, both
# monotonically, so under a budget the best number of contacts is the one that spends it.
KNOWN = """\
name = "known-optimum"
customers = 400
months = 12
seed = 5

[strategies]
rare_contact = ["rare_contact"]
care = [{{ program = "personal_appreciation", params = {{ capacity_per_1000_customers_month = 5000.0 }} }}]

[optimise]
strategy = "care"
objectives = {objectives}
{budget}
evaluations = {evaluations}
replications = 2
batch = 4
finalists = 2
final_replications = 3

[optimise.variables]
"strategies.care.programs[0].params.contacts_per_year" = [0.0, 12.0]
{extra}
"""

runner = CliRunner()


def _scenario(tmp_path, objectives='["retained"]', budget="", evaluations=8, extra=""):
    path = tmp_path / "known.toml"
    path.write_text(KNOWN.format(objectives=objectives, budget=budget, evaluations=evaluations, extra=extra))
    return scenarios.load(path)


def _cost(scenario, contacts: float) -> float:
    params = {"capacity_per_1000_customers_month": 5000.0, "contacts_per_year": contacts}
    strategy = Strategy("care", (ProgramSpec("personal_appreciation", params),))
    runs = run_strategies([strategy], None, scenario.customers, scenario.months, search_seeds(scenario, 2))
    return float(np.mean([r.result.summary()["program_cost"] for r in runs]))


def test_the_known_optimum_under_a_budget_is_found(tmp_path):
    probe = _scenario(tmp_path)
    budget = _cost(probe, 6.0)  # by construction the best feasible number of contacts is 6
    scenario = _scenario(tmp_path, budget=f"budget = {budget}", evaluations=20)
    found = optimise(scenario, tmp_path / "out", SerialExecutor())
    contacts = found.summary["winner"]["params"]["strategies.care.programs[0].params.contacts_per_year"]
    assert 5.0 <= contacts <= 6.0 + 1e-9
    assert (
        found.trials.filter(~found.trials["feasible"])["cost_mean"].min() > budget
    )  # infeasible = over budget


def test_finalists_are_rerun_on_fresh_seeds_with_the_baseline(tmp_path):
    scenario = _scenario(tmp_path)
    found = optimise(scenario, tmp_path / "out", SerialExecutor())
    assert set(fresh_seeds(scenario, 3)).isdisjoint(search_seeds(scenario, 3))
    row = found.finalists.row(0, named=True)
    assert row["retained_ci_low"] < row["retained_mean"] < row["retained_ci_high"]
    assert row["retained_diff_mean"] == pytest.approx(row["retained_mean"] - row["retained_baseline_mean"])
    winner = scenarios.load(tmp_path / "out" / "winner.toml")  # a scenario that runs as it is
    name = f"care_optimised_{found.winner}"
    assert set(winner.strategies) == {"rare_contact", name}
    assert "optimise" not in winner.raw
    # named for people, in every language, with its settings in words
    contacts = found.summary["winner"]["params"]["strategies.care.programs[0].params.contacts_per_year"]
    assert winner.display[name]["label"] == {"en": "Care A", "de": "Care A"}
    assert winner.display[name]["description"]["en"] == (
        f"Personal appreciation, capacity per 1000 customers month 5,000, {short_number(contacts, 'en')} "
        "contacts a year"
    )
    assert winner.display[name]["description"]["de"].startswith("Persönliche Wertschätzung, ")
    assert found.summary["winner"]["label"]["en"] == "Care A"
    assert found.summary["winner"]["description"] == winner.display[name]["description"]


def test_an_interrupted_search_resumes_without_rerunning_and_reaches_the_same_result(tmp_path):
    scenario = _scenario(tmp_path)
    whole = optimise(scenario, tmp_path / "whole", SerialExecutor())
    shutil.copytree(tmp_path / "whole", tmp_path / "part")
    trials = tmp_path / "part" / "optimise" / "trials"
    for number in (5, 6, 7):  # a round interrupted after its first candidate
        (trials / f"trial-{number:05d}.json").unlink()
    resumed = optimise(scenario, tmp_path / "part", SerialExecutor(), resume=True)
    assert resumed.evaluated == 3
    assert resumed.trials.equals(whole.trials)
    assert resumed.summary == whole.summary
    with pytest.raises(AnalysisError, match="--resume to complete it or --force"):
        optimise(scenario, tmp_path / "part", SerialExecutor())


def test_two_objectives_give_a_pareto_front_of_non_dominated_candidates(tmp_path):
    scenario = _scenario(tmp_path, objectives='["retained", "cost"]')
    found = optimise(scenario, tmp_path / "out", SerialExecutor())
    (tmp_path / "out" / "optimise" / "trials" / "trial-00006.json").unlink()  # NSGA-II resumes too
    assert optimise(scenario, tmp_path / "out", SerialExecutor(), resume=True).trials.equals(found.trials)
    assert set(found.finalists["candidate"]) <= set(found.trials.filter(found.trials["front"])["candidate"])
    front = found.trials.filter(found.trials["front"])
    for row in front.iter_rows(named=True):
        dominated = found.trials.filter(
            (found.trials["retained_mean"] >= row["retained_mean"])
            & (found.trials["cost_mean"] <= row["cost_mean"])
            & (
                (found.trials["retained_mean"] > row["retained_mean"])
                | (found.trials["cost_mean"] < row["cost_mean"])
            )
        )
        assert dominated.height == 0


def test_paths_reach_any_key_and_switch_programs_off():
    raw = {"strategies": {"s": ["point_card", {"program": "status_tiers"}]}}
    assert tokens("strategies.s.programs[1].params.x") == ["strategies", "s", "programs", 1, "params", "x"]
    out = set_values(
        raw,
        {"strategies.s.programs[1].params.x": 2, "strategies.s.programs[0].enabled": False},
        "f.toml",
        "optimise.variables",
    )
    assert out["strategies"]["s"] == [{"program": "status_tiers", "params": {"x": 2}}]
    assert raw["strategies"]["s"][0] == "point_card"  # the scenario itself is untouched


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            '"strategies.care.programs[0].params.contacts_per_yeer" = [0.0, 1.0]',
            [
                'optimise.variables."strategies.care.programs[0].params.contacts_per_yeer"',
                "contacts_per_year",
            ],
        ),
        ('"strategies.cair.programs[0].params.contacts_per_year" = [0.0, 1.0]', ["did you mean 'care'"]),
        ('"strategies.care.programs[3].start_month" = [1, 2]', ["expected an index below 1"]),
        ('"strategies.care.programs[0].start_month" = [5, 5]', ["empty range"]),
        ('"market.offers.discount" = [0.1, 7.0]', ["market.offers.discount", "expected"]),
    ],
)
def test_bad_decision_variables_are_one_line_naming_the_key(tmp_path, change, fragments):
    _scenario(tmp_path, extra=change)
    result = runner.invoke(app, ["optimise", str(tmp_path / "known.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and all(f in lines[0] for f in fragments), result.output
    assert str(tmp_path / "known.toml") in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()  # nothing written


@pytest.mark.parametrize(
    ("objectives", "budget", "fragment"),
    [
        ('["profit"]', "", "unknown objective 'profit'"),
        ('["clv", "margin", "cost"]', "", "1 to 2 objective names"),
        ('["clv"]', "budget = -5", "optimise.budget: expected a positive amount"),
        ('["clv"]', "budgett = 5", "did you mean 'budget'"),
    ],
)
def test_bad_objectives_and_budgets_are_one_line(tmp_path, objectives, budget, fragment):
    _scenario(tmp_path, objectives=objectives, budget=budget)
    result = runner.invoke(app, ["optimise", str(tmp_path / "known.toml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and fragment in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_a_budget_no_candidate_can_meet_is_bad_input(tmp_path):
    _scenario(
        tmp_path,
        budget="budget = 1.0",
        evaluations=4,
        extra='"strategies.care.programs[0].start_month" = [1, 2]',
    )
    path = tmp_path / "known.toml"
    path.write_text(path.read_text().replace("[0.0, 12.0]", "[2.0, 12.0]"))
    result = runner.invoke(app, ["optimise", str(path), "--out", str(tmp_path / "o"), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert "optimise.budget: expected a budget some candidate can meet" in result.output
    assert "below the cheapest settings'" in result.output  # found before the search: nothing written
    assert not (tmp_path / "o").exists()


def test_the_command_prints_the_finalists_and_json(tmp_path):
    _scenario(tmp_path, evaluations=4)
    command = ["optimise", str(tmp_path / "known.toml"), "--out", str(tmp_path / "o"), "--workers", "1"]
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    # the report's words: display names and settings in words, the code name for the file's author
    assert "Care A (recommended)" in result.stdout and "vs One-night brand" in result.stdout
    line = r"^Care A: Personal appreciation, .*, [\d.]+ contacts a year \(care_optimised_\d+ in front.toml\)$"
    assert re.search(line, result.stdout, re.M), result.stdout
    assert "programs[0]" not in result.stdout and "contacts_per_year" not in result.stdout
    result = runner.invoke(app, [*command, "--resume", "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "optimisation.json").read_text())
    assert summary["winner"]["candidate"] in [f["candidate"] for f in summary["finalists"]]
    assert summary["candidates"] == 4


def test_targeting_thresholds_are_decision_variables_like_any_key(tmp_path):
    targeted = '"strategies.care.programs[0].target.churn_risk_top_share" = [0.05, 0.5]'
    scenario = _scenario(tmp_path, extra=targeted)
    settings = settings_of(scenario)
    built = candidate(
        scenario, settings, {"strategies.care.programs[0].target.churn_risk_top_share": 0.3}, "c"
    )
    assert built.strategies["care"].programs[0].target.churn_risk_top_share == 0.3
    band = set_values({"t": {"tenure_months": [0, 120]}}, {"t.tenure_months[1]": 36}, "f.toml", "v")
    assert band["t"]["tenure_months"] == [0, 36]
    _scenario(tmp_path, extra=targeted.replace("churn_risk_top_share", "churn_risk_top_shar"))
    result = runner.invoke(app, ["validate", str(tmp_path / "known.toml")])
    assert result.exit_code == 2 and "did you mean 'churn_risk_top_share'" in result.output, result.output


@pytest.mark.slow
def test_the_search_is_the_same_on_a_pool_of_workers_and_on_dask(tmp_path):
    # the tasks group candidates by the number of workers: the result must not depend on it
    scenario = _scenario(tmp_path, evaluations=4)
    serial = optimise(scenario, tmp_path / "serial", SerialExecutor())
    with LocalPoolExecutor(2) as pool:
        pooled = optimise(scenario, tmp_path / "pool", pool)
    assert pooled.trials.equals(serial.trials) and pooled.summary == serial.summary
    with DaskExecutor("local", 2) as cluster:  # a real LocalCluster on loopback
        dask = optimise(scenario, tmp_path / "dask", cluster)
    assert dask.trials.equals(serial.trials) and dask.summary == serial.summary
