"""Scenario files: the shipped examples, grid expansion, grid points applied, forms and defaults,
and the examples in docs/scenarios.md."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.market import Market
from sim.mechanisms.offers import OffersParams
from sim.mechanisms.service import ServiceParams
from sim.population import DEFAULT_SEGMENTS
from sim.programs import PROGRAMS
from sim.scenario import DEFAULTS, ScenarioError, load, loads, point_id
from sim.strategy import BASELINE, ProgramSpec, Strategy, builtin_strategies

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
DOC = ROOT / "docs" / "scenarios.md"

MINIMAL = 'strategies = { rare_contact = ["rare_contact"], point_card = ["point_card"] }\n'


# --- the shipped scenario files -------------------------------------------------------------


def test_the_example_scenarios_are_there():
    names = {path.name for path in SCENARIOS}
    assert {
        "five-year-showdown.toml",
        "price-war.toml",
        "bargain-hunters.toml",
        "contract-end.toml",
        "program-termination.toml",
    } <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_scenario_file_loads(path):
    scenario = load(path)
    assert scenario.name == path.stem  # results/<name>/ matches the file a strategist copies
    assert scenario.baseline in scenario.strategies
    assert scenario.description
    for point in scenario.grid:
        market, strategies, customers, months = scenario.at(point)
        assert isinstance(market, Market)
        assert set(strategies) == set(scenario.strategies)
        assert customers >= 1 and months >= 1


def test_the_showdown_runs_every_builtin_strategy_on_the_default_market():
    scenario = load(ROOT / "scenarios" / "five-year-showdown.toml")
    assert scenario.strategies == builtin_strategies()
    assert scenario.market == Market()
    assert (scenario.customers, scenario.months, scenario.baseline) == (10_000, 60, BASELINE)
    assert scenario.grid == ((),)


def test_the_scenario_files_set_what_their_comments_promise():
    price_war = load(ROOT / "scenarios" / "price-war.toml")
    assert price_war.market.offers.price_war_start_month == 24
    assert {p[0][0] for p in price_war.grid} == {"market.offers.price_war_discount"}
    assert set(price_war.strategies) == {"rare_contact", "point_card", "personal_appreciation"}

    bargain = load(ROOT / "scenarios" / "bargain-hunters.toml")
    (segment,) = bargain.market.segments
    assert segment.price_focus.mean == 0.85 and segment.bond_need.mean == 0.1
    assert bargain.market.offers.offer_rate_per_month == 0.2 and bargain.market.offers.discount == 0.2
    assert segment.attentiveness.mean == 0.7 and bargain.market.adaptation.bond_decay_per_month == 0.06

    contract = load(ROOT / "scenarios" / "contract-end.toml")
    assert len(contract.grid) == 6
    terms = {dict(p)["programs.lock_in_contract.term_months"] for p in contract.grid}
    assert terms == {12, 24}

    termination = load(ROOT / "scenarios" / "program-termination.toml")
    (ends,) = termination.strategies["point_card_ends"].programs
    assert (ends.name, ends.start_month, ends.end_month) == ("point_card", 1, 25)
    (runs_on,) = termination.strategies["point_card_runs_on"].programs
    assert runs_on.end_month is None


# --- grid expansion -------------------------------------------------------------------------


def test_list_and_linspace_axes_form_a_full_factorial():
    scenario = loads(
        MINIMAL
        + """
[grid]
"market.offers.discount" = [0.1, 0.2]
"service.failure_per_month" = { linspace = [0.02, 0.1, 3] }
"""
    )
    assert len(scenario.grid) == 2 * 3
    assert scenario.runs == 2 * 6 * DEFAULTS["replications"]
    pairs = {
        (dict(p)["market.offers.discount"], round(dict(p)["service.failure_per_month"], 9))
        for p in scenario.grid
    }
    assert pairs == {(d, f) for d in (0.1, 0.2) for f in (0.02, 0.06, 0.1)}
    # Each point is a sorted tuple of (path, value).
    assert all(list(p) == sorted(p) for p in scenario.grid)


def test_repeated_values_are_run_once():
    scenario = loads(MINIMAL + '[grid]\n"market.offers.discount" = [0.1, 0.2, 0.1]\n')
    assert [dict(p)["market.offers.discount"] for p in scenario.grid] == [0.1, 0.2]


LHS = """
[grid.latin_hypercube]
samples = 7
"market.offers.discount" = [0.05, 0.3]
"service.failure_per_month" = [0.01, 0.1]
"""


def test_latin_hypercube_gives_samples_within_ranges_one_per_stratum():
    scenario = loads(MINIMAL + LHS)
    assert len(scenario.grid) == 7
    for path, (low, high) in (
        ("market.offers.discount", (0.05, 0.3)),
        ("service.failure_per_month", (0.01, 0.1)),
    ):
        values = np.array([dict(p)[path] for p in scenario.grid])
        assert np.all((values >= low) & (values <= high))
        strata = np.floor((values - low) / (high - low) * 7).astype(int)
        assert sorted(strata) == list(range(7))  # the Latin hypercube property


def test_latin_hypercube_is_deterministic_for_a_seed_and_changes_with_it():
    first, again = loads("seed = 3\n" + MINIMAL + LHS), loads("seed = 3\n" + MINIMAL + LHS)
    assert first.grid == again.grid
    assert loads("seed = 4\n" + MINIMAL + LHS).grid != first.grid


def test_latin_hypercube_combines_with_every_factorial_point():
    scenario = loads(MINIMAL + '[grid]\n"programs.point_card.reward_share_of_spend" = [0.01, 0.03]\n' + LHS)
    assert len(scenario.grid) == 2 * 7
    shares = [dict(p)["programs.point_card.reward_share_of_spend"] for p in scenario.grid]
    assert shares.count(0.01) == shares.count(0.03) == 7


# --- Scenario.at ----------------------------------------------------------------------------

AT = """
[strategies]
rare_contact = ["rare_contact"]
card = ["point_card"]
card_and_appreciation = [
    "personal_appreciation",
    { program = "point_card", end_month = 25, params = { cut_month = 12 } },
]

[service]
recovery_share = 0.7

[grid]
"market.offers.discount" = [0.25]
"service.failure_per_month" = [0.02]
"programs.point_card.reward_share_of_spend" = [0.05]
"months" = [36]
"""


def test_at_applies_market_service_program_and_top_level_values():
    scenario = loads(AT)
    (point,) = scenario.grid
    market, strategies, customers, months = scenario.at(point)
    assert market.offers == dataclasses.replace(OffersParams(), discount=0.25)
    assert market.service == ServiceParams(failure_per_month=0.02, recovery_share=0.7)  # file value kept
    assert (customers, months) == (10_000, 36)
    # The program parameter is set in every strategy that runs the program, whatever its form...
    (card,) = strategies["card"].programs
    assert card.params == {"reward_share_of_spend": 0.05}
    appreciation, card_in_mix = strategies["card_and_appreciation"].programs
    assert card_in_mix.params == {"cut_month": 12, "reward_share_of_spend": 0.05}
    assert (card_in_mix.start_month, card_in_mix.end_month) == (1, 25)
    assert appreciation == ProgramSpec("personal_appreciation")
    # ...and nowhere else.
    assert strategies["rare_contact"] == Strategy("rare_contact", (ProgramSpec("rare_contact"),))
    # The scenario itself is unchanged.
    assert scenario.market.offers.discount == OffersParams().discount
    assert scenario.strategies["card"].programs[0].params == {}


def test_at_without_a_grid_returns_the_scenario_as_written():
    scenario = loads(MINIMAL)
    assert scenario.grid == ((),)
    assert scenario.at(()) == (scenario.market, scenario.strategies, scenario.customers, scenario.months)


def test_a_grid_value_overrides_the_value_written_in_the_file():
    scenario = loads(
        """
[strategies]
rare_contact = ["rare_contact"]
card = [{ program = "point_card", params = { reward_share_of_spend = 0.01 } }]

[grid]
"programs.point_card.reward_share_of_spend" = [0.02, 0.04]
"""
    )
    shares = [scenario.at(p)[1]["card"].programs[0].params["reward_share_of_spend"] for p in scenario.grid]
    assert shares == [0.02, 0.04]
    assert scenario.strategies["card"].programs[0].params == {"reward_share_of_spend": 0.01}


# --- forms and defaults ---------------------------------------------------------------------


def test_short_long_and_table_forms_of_a_strategy_are_equivalent():
    scenario = loads(
        """
[strategies]
short = ["point_card", "personal_appreciation"]
long = [
    { program = "point_card", start_month = 1, params = {} },
    { program = "personal_appreciation" },
]

[strategies.table]
programs = [{ program = "point_card" }, "personal_appreciation"]
"""
    )
    programs = {name: s.programs for name, s in scenario.strategies.items()}
    assert programs["short"] == programs["long"] == programs["table"]
    assert programs["short"] == (ProgramSpec("point_card"), ProgramSpec("personal_appreciation"))


def test_defaults_are_applied(tmp_path):
    path = tmp_path / "my-first-scenario.toml"
    path.write_text('strategies = { card = ["point_card"], appreciation = ["personal_appreciation"] }\n')
    scenario = load(path)
    assert scenario.name == "my-first-scenario"
    assert scenario.description == ""
    assert (scenario.customers, scenario.months, scenario.replications, scenario.seed) == (
        DEFAULTS["customers"],
        DEFAULTS["months"],
        DEFAULTS["replications"],
        DEFAULTS["seed"],
    )
    assert tuple(DEFAULTS[k] for k in ("customers", "months", "replications", "seed")) == (10_000, 60, 20, 1)
    assert scenario.baseline == "card"  # no rare_contact strategy: the first one
    assert scenario.market == Market()
    assert scenario.market.segments == DEFAULT_SEGMENTS
    assert scenario.grid == ((),)
    assert scenario.strategies["card"].programs == (ProgramSpec("point_card", {}, 1, None),)
    assert loads(MINIMAL).baseline == "rare_contact"
    assert loads(MINIMAL).name == "scenario"


def test_segment_shares_reweight_the_default_segments():
    scenario = loads(MINIMAL + "[market.segment_shares]\nbargain_hunters = 0.6\nconvenience_buyers = 0.4\n")
    shares = {s.name: s.share for s in scenario.market.segments}
    assert shares == {"bargain_hunters": 0.6, "relationship_seekers": 0.0, "convenience_buyers": 0.4}
    assert scenario.market.segments[0].price_focus == DEFAULT_SEGMENTS[0].price_focus


def test_distribution_defaults_fill_in():
    scenario = loads(
        MINIMAL
        + """
[[market.segments]]
name = "everyone"
share = 1.0
bond_need = { mean = 0.3 }
spend_per_month = { median = 20.0 }
"""
    )
    (segment,) = scenario.market.segments
    assert (segment.bond_need.mean, segment.bond_need.concentration) == (0.3, 10.0)
    assert (segment.spend_per_month.median, segment.spend_per_month.sigma) == (20.0, 0.5)


# --- identity of grid points ----------------------------------------------------------------


def test_point_identity_does_not_depend_on_key_order_in_the_file():
    forward = loads(
        MINIMAL
        + """
[grid]
"market.offers.discount" = [0.1, 0.2]
"programs.point_card.reward_share_of_spend" = [0.01, 0.03]

[grid.latin_hypercube]
samples = 3
"service.failure_per_month" = [0.01, 0.1]
"market.decision.rational_hold" = [1.0, 2.0]
"""
    )
    backward = loads(
        MINIMAL
        + """
[grid.latin_hypercube]
"market.decision.rational_hold" = [1.0, 2.0]
"service.failure_per_month" = [0.01, 0.1]
samples = 3

[grid]
"programs.point_card.reward_share_of_spend" = [0.03, 0.01]
"market.offers.discount" = [0.2, 0.1]
"""
    )
    assert len(forward.grid) == 2 * 2 * 3
    assert {point_id(p) for p in forward.grid} == {point_id(p) for p in backward.grid}
    assert point_id((("a", 1), ("b", 2))) == point_id((("b", 2), ("a", 1)))


# --- problems fixed in the loader -----------------------------------------------------------


def _problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        loads(text, "x.toml")
    return [problem.render("x.toml") for problem in caught.value.problems]


def test_a_misspelled_grid_parameter_keeps_its_suggestion():
    (message,) = _problems(MINIMAL + '[grid]\n"market.offers.discont" = [0.1]\n')
    assert "did you mean 'discount'?" in message and "at grid point" in message


def test_bad_segment_shares_are_problems_not_crashes():
    (message,) = _problems(MINIMAL + "[market.segment_shares]\nbargain_hunters = 1.5\n")
    assert message.startswith("x.toml: market.segment_shares.bargain_hunters: expected a value in [0, 1]")
    (message,) = _problems(MINIMAL + "[market.segment_shares]\nbargain_hunters = 0.5\n")
    assert "market.segment_shares: expected shares that sum to 1" in message


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_non_finite_numbers_are_rejected(value):
    (message,) = _problems(MINIMAL + f"[market.offers]\ndiscount = {value}\n")
    assert "market.offers.discount: expected a finite number" in message


@pytest.mark.parametrize("name", ["../elsewhere", "a/b", "..", "tab\there"])
def test_a_name_must_be_a_plain_folder_name(name):
    (message,) = _problems(f'name = "{name}"\n' + MINIMAL)
    assert message.startswith("x.toml: name: expected a name usable as a folder name")


def test_a_falsy_service_value_is_not_ignored():
    (message,) = _problems("service = false\n" + MINIMAL)
    assert message == "x.toml: service: expected a table, found boolean false"


# --- docs/scenarios.md ----------------------------------------------------------------------


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_every_toml_example_in_the_docs_validates():
    blocks = _blocks("toml")
    assert len(blocks) >= 5
    checked = 0
    for index, block in enumerate(blocks):
        if block.startswith("# fragment"):
            continue
        try:
            loads(block, f"docs/scenarios.md toml block {index + 1}")
        except ScenarioError as error:
            pytest.fail(f"{error}\n--- block ---\n{block}")
        checked += 1
    assert checked >= 5


def test_the_docs_list_every_parameter_with_its_default():
    text = DOC.read_text(encoding="utf-8")
    sections = {
        "### `[market.offers]`": Market().offers,
        "### `[market.decision]`": Market().decision,
        "### `[market.adaptation]`": Market().adaptation,
        "### `[market.acquisition]`": Market().acquisition,
        "### `[market.heterogeneity]`": Market().heterogeneity,
        "### `[market.attention]`": Market().attention,
        "### Service": Market().service,
        **{f"**`{name}`**": PROGRAMS.get(name).Params() for name in PROGRAMS.names()},
    }
    for marker, params in sections.items():
        start = text.index(marker)
        following = text[start + len(marker) :]
        end = min(i for i in (following.find("\n#"), following.find("\n**`")) if i >= 0)
        section = following[:end]
        for field in dataclasses.fields(params):
            default = getattr(params, field.name)
            row = re.search(rf"^\| `{field.name}` \|[^|]*\| ([^|]*) \|", section, flags=re.M)
            assert row, f"{marker}: no row for {field.name}"
            if default is None:
                assert row.group(1).startswith("none"), (marker, field.name)
            else:
                expected = str(default).lower() if isinstance(default, bool) else repr(default)
                assert row.group(1) == f"`{expected}`", (marker, field.name, row.group(1))


def test_python_examples_in_the_docs_run(tmp_path, monkeypatch):
    """Run the doc's complete example as a tiny sweep, then the Python examples against it."""
    from sim.analysis.statistics import sweep_and_summarise
    from sim.executors import SerialExecutor

    (example,) = [b for b in _blocks("toml") if 'name = "showdown-mini"' in b]
    assert loads(example).runs == 3 * 3 * 5
    sizes = {
        "customers = 2000": "customers = 300",
        "months = 36": "months = 12",
        "replications = 5": "replications = 2",
    }
    for full, tiny in sizes.items():
        assert full in example
        example = example.replace(full, tiny)
    scenario = loads(example)
    with SerialExecutor() as executor:
        sweep_and_summarise(scenario, tmp_path / "results" / scenario.name, executor)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    blocks = _blocks("python")
    assert len(blocks) >= 2
    for index, block in enumerate(blocks):
        exec(compile(block, f"docs/scenarios.md python block {index + 1}", "exec"), {})
