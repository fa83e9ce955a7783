"""The firm's own customers: the table is checked, what it says is used, the rest is drawn
conditioned on it, results come back keyed by its ids, and the same file and seed give the same
results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim import customer_table
from sim.cli import app
from sim.customer_table import CustomerPanel, CustomerTableError
from sim.market import Market
from sim.model import LoyaltyModel
from sim.runs import run_strategies
from sim.scenario import ScenarioError, loads
from sim.strategy import ProgramSpec, Strategy
from sim.targeting import Target

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "customers-example.csv"
SEGMENTS = ("bargain_hunters", "relationship_seekers", "convenience_buyers")
HEADER = "customer_id,tenure_months,spend_per_month,segment,contract_end,points,nps_band,bond"
GOOD = [
    "a1,0,40,bargain_hunters,,0,detractor,",
    "a2,120,55.5,relationship_seekers,2026-07-15,12.5,promoter,",
    "a3,12,50,convenience_buyers,,3,,0.6",
]


def _write(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_the_example_table_has_5000_customers_of_the_default_segments():
    base = customer_table.load(EXAMPLE, SEGMENTS, as_of="2026-01-01")
    assert len(base) == 5000
    assert set(base.segment.tolist()) == set(SEGMENTS)
    assert (base.contract_months_left > 0).any() and (base.points > 0).any() and (base.nps_band >= 0).any()


def test_what_the_table_says_is_what_the_model_starts_from(tmp_path):
    base = customer_table.load(_write(tmp_path, GOOD), SEGMENTS, as_of="2026-01-01")
    # The card and the contract carry the points and contract columns, wherever they are declared.
    programs = (ProgramSpec("point_card"), ProgramSpec("lock_in_contract", start_month=12))
    model = LoyaltyModel(Strategy("s", programs), Market(customer_base=base), months=1, rng=1)
    pop = model.population
    assert len(pop) == 3 and model.initial_customers == 3
    assert pop.segment.tolist() == [0, 1, 2]
    assert pop.tenure_months.tolist() == [0, 120, 12]
    assert pop.spend_per_month.tolist() == pytest.approx([40.0, 55.5, 50.0])
    assert pop.points.tolist() == pytest.approx([0.0, 12.5, 3.0])
    assert pop.contract_months_left.tolist() == [0, 7, 0]  # 2026-07-15 from 2026-01-01: in month 7
    assert pop.bond[2] == pytest.approx(0.6)
    assert pop.satisfaction[0] < pop.satisfaction[1]  # a detractor is less satisfied than a promoter


def test_unknown_traits_are_drawn_conditioned_on_what_is_known(tmp_path):
    rows = [f"o{i},120,50,relationship_seekers,,0,promoter," for i in range(2000)]
    rows += [f"n{i},0,50,relationship_seekers,,0,detractor," for i in range(2000)]
    base = customer_table.load(_write(tmp_path, rows), SEGMENTS, as_of="2026-01-01")
    model = LoyaltyModel(
        Strategy("s", (ProgramSpec("rare_contact"),)), Market(customer_base=base), months=1, rng=1
    )
    pop = model.population
    old, new = slice(0, 2000), slice(2000, 4000)
    # Survivors of ten years are, on average, far less prone to leave than newcomers.
    assert pop.churn_propensity[old].mean() < 0.6 * pop.churn_propensity[new].mean()
    # Promoters draw their bond from the top of the segment's distribution, detractors from the bottom.
    assert pop.bond[old].min() >= pop.bond[new].max()


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (
            GOOD,
            "customer_id,tenure_months,segment",
            "header: expected the columns customer_id, tenure_months, "
            "spend_per_month, segment, found no spend_per_month",
        ),
        (["x,1,-5,bargain_hunters,,0,,"], HEADER, "row 2, column spend_per_month: expected a number >= 0"),
        (
            [GOOD[0], GOOD[0]],
            HEADER,
            "row 3, column customer_id: expected unique ids, found 'a1' again (first in row 2)",
        ),
        (
            ["x,1,5,bargain_hunters,2026-13-45,0,,"],
            HEADER,
            "row 2, column contract_end: expected a date YYYY-MM-DD",
        ),
        (["x,1,5,bargain_hunter,,0,,"], HEADER, "did you mean 'bargain_hunters'?"),
        (GOOD, HEADER.replace("points", "pionts"), "found 'pionts' (did you mean 'points'?)"),
        (["x,1.5,5,bargain_hunters,,0,,"], HEADER, "row 2, column tenure_months: expected a whole number"),
        (["x,1,5,bargain_hunters,,0,fan,"], HEADER, "row 2, column nps_band: expected one of detractor"),
        (["x,1,5,bargain_hunters,,0,,1.5"], HEADER, "row 2, column bond: expected a number in [0, 1]"),
        ([], HEADER, "expected at least one customer row"),
    ],
)
def test_a_bad_table_is_reported_by_file_row_and_column(tmp_path, rows, header, message):
    path = _write(tmp_path, rows, header)
    with pytest.raises(CustomerTableError) as error:
        customer_table.load(path, SEGMENTS, as_of="2026-01-01")
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_a_table_saved_by_a_spreadsheet_set_to_german_reads_as_meant(tmp_path):
    """';' between cells and decimal commas (what Excel writes in Germany or France): the same
    customers as the ',' table. A dot is never taken for a thousands separator."""
    german = [line.replace(",", ";").replace("55.5", "55,5") for line in GOOD]
    plain = customer_table.load(_write(tmp_path, GOOD), SEGMENTS, as_of="2026-01-01")
    (tmp_path / "de").mkdir()
    base = customer_table.load(
        _write(tmp_path / "de", german, HEADER.replace(",", ";")), SEGMENTS, as_of="2026-01-01"
    )
    for column in ("customer_id", "segment", "tenure_months", "spend_per_month", "points", "nps_band"):
        assert getattr(base, column).tolist() == getattr(plain, column).tolist(), column
    thousands = [german[0].replace(";40;", ";1.234,5;")]
    with pytest.raises(CustomerTableError, match="row 2, column spend_per_month"):
        customer_table.load(_write(tmp_path / "de", thousands, HEADER.replace(",", ";")), SEGMENTS)


def test_a_utf16_table_says_how_to_save_it(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("\n".join([HEADER, *GOOD]) + "\n", encoding="utf-16")
    with pytest.raises(CustomerTableError, match=r"UTF-16 .*save it as 'CSV UTF-8'"):
        customer_table.load(path, SEGMENTS, as_of="2026-01-01")


def test_contract_end_needs_an_as_of_date(tmp_path):
    with pytest.raises(CustomerTableError, match="as_of"):
        customer_table.load(_write(tmp_path, GOOD), SEGMENTS)


def test_the_scenario_key_reads_the_table_next_to_the_scenario(tmp_path):
    _write(tmp_path, GOOD)
    scenario_file = tmp_path / "s.toml"
    scenario_file.write_text(
        'population = { file = "customers.csv", as_of = "2026-01-01" }\ncustomers = 99\n'
        '[strategies]\nrare_contact = ["rare_contact"]\n'
    )
    from sim.scenario import load

    chosen = load(scenario_file)
    assert chosen.customers == 3 and len(chosen.market.customer_base) == 3
    with pytest.raises(
        ScenarioError, match=r"population: .*customers\.csv: row 2, column spend_per_month: expected"
    ):
        _write(tmp_path, ["x,1,-5,bargain_hunters,,0,,"])
        load(scenario_file)
    with pytest.raises(ScenarioError, match=r"population\.as_of: expected a string"):
        loads(
            'population = { file = "x.csv", as_of = 2026 }\n[strategies]\nrare_contact = ["rare_contact"]\n'
        )


def test_bad_input_on_the_command_line_exits_2_and_writes_nothing(tmp_path):
    table = _write(tmp_path, ["x,1,-5,bargain_hunters,,0,,"])
    panel = tmp_path / "panel.parquet"
    result = CliRunner().invoke(
        app,
        ["run", "--population", str(table), "--as-of", "2026-01-01", "--months", "2", "--panel", str(panel)],
    )
    assert result.exit_code == 2
    assert "row 2, column spend_per_month: expected a number >= 0" in result.output
    assert "Traceback" not in result.output and not panel.exists()


def test_the_panel_is_keyed_by_the_tables_ids_and_the_same_file_and_seed_give_the_same_panel(tmp_path):
    table = _write(tmp_path, [f"id{i},{i % 50},{30 + i % 40},{SEGMENTS[i % 3]},,0,," for i in range(400)])
    panels = []
    for name in ("one.parquet", "not/yet/made/two.parquet"):  # missing folders are made
        result = CliRunner().invoke(
            app,
            [
                "run",
                "--population",
                str(table),
                "--months",
                "4",
                "-s",
                "point_card",
                "--panel",
                str(tmp_path / name),
                "--seed",
                "5",
            ],
        )
        assert result.exit_code == 0, result.output
        panels.append(pl.read_parquet(tmp_path / name))
    assert panels[0].equals(panels[1])
    panel = panels[0]
    assert set(panel["strategy"].unique()) == {"point_card", "rare_contact"}
    first = panel.filter((pl.col("month") == 1) & (pl.col("strategy") == "point_card"))
    assert first["customer_id"].to_list() == [f"id{i}" for i in range(400)]
    left = panel.filter(~pl.col("active"))
    assert (
        left["exit_reason"].null_count() == 0
        and panel.filter(pl.col("active"))["exit_reason"].null_count() > 0
    )


def test_a_run_from_a_table_is_deterministic_under_targeting():
    base = customer_table.load(EXAMPLE, SEGMENTS, as_of="2026-01-01")
    market = Market(customer_base=base)
    spec = ProgramSpec("personal_appreciation", target=Target(churn_risk_top_share=0.2))
    runs = [
        run_strategies(
            [Strategy("s", (spec,))],
            market,
            months=3,
            seeds=[2],
            probes={"p": lambda: CustomerPanel(base.customer_id)},
        )[0]
        for _ in range(2)
    ]
    assert runs[0].result.monthly.equals(runs[1].result.monthly)
    assert runs[0].probes["p"].equals(runs[1].probes["p"])
    assert np.unique(runs[0].probes["p"]["customer_id"].to_numpy()).size == 5000


def test_a_sweep_starts_from_the_table_given_on_the_command_line(tmp_path):
    table = _write(tmp_path, [f"id{i},{i % 50},{30 + i % 40},{SEGMENTS[i % 3]},,0,," for i in range(60)])
    scenario = tmp_path / "s.toml"  # its 9999 customers are replaced by the table's 60
    scenario.write_text('customers = 9999\nmonths = 2\nreplications = 1\n'
                        '[strategies]\ncard = ["point_card"]\n')
    out = tmp_path / "out"
    arguments = ["sweep", str(scenario), "--population", str(table), "--workers", "1", "--no-report"]
    arguments += ["--customer-records"]
    result = CliRunner().invoke(app, [*arguments, "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    monthly = pl.read_parquet(out / "monthly.parquet").filter(pl.col("month") == 1)
    assert 50 <= monthly["active_initial"].item() <= 60  # the table's 60 customers, not the file's 9999
    # per-customer records carry the table's ids, for a CRM to join back; joiners have none
    records = pl.read_parquet(out / "customers.parquet").sort("customer_id")
    initial = records.filter(pl.col("customer_id") < 60)
    assert initial["table_customer_id"].to_list() == [f"id{i}" for i in range(60)]
    joined = records.filter(pl.col("customer_id") >= 60)
    assert joined.height > 0 and joined["table_customer_id"].null_count() == joined.height


def test_a_pinned_table_that_changed_is_refused(tmp_path):
    table = _write(tmp_path, GOOD)
    pin = "0" * 64
    text = f'population = {{ file = "{table}", as_of = "2026-01-01", sha256 = "{pin}" }}\n'
    text += '[strategies]\nrare = ["rare_contact"]\n'
    with pytest.raises(ScenarioError, match=r"population\.sha256: expected the table whose SHA-256 is 0000"):
        loads(text)
    assert loads(text.replace(pin, customer_table.sha256(table))).customers == 3


def test_a_row_the_csv_reader_cannot_read_is_a_table_error(tmp_path):
    path = _write(tmp_path, [f"x,1,5,bargain_hunters,,0,,{'9' * 200_000}"])
    with pytest.raises(CustomerTableError, match=r"row 2: expected a readable CSV row, found field larger"):
        customer_table.load(path, SEGMENTS)


@settings(max_examples=40, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 1999), st.binary(max_size=3)), min_size=1, max_size=4))
def test_a_mangled_table_loads_or_is_refused_as_a_table_error(tmp_path_factory, edits):
    data = bytearray(EXAMPLE.read_bytes()[:2000])
    for at, replacement in edits:
        data[at : at + 1] = replacement
    path = tmp_path_factory.mktemp("mangled") / "customers.csv"
    path.write_bytes(bytes(data))
    try:
        base = customer_table.load(path, SEGMENTS, as_of="2026-01-01")
    except CustomerTableError as error:
        assert str(error).startswith(f"{path}: ")
        return
    assert len(base) >= 1 and (base.spend_per_month >= 0).all()


def test_a_table_from_the_command_line_and_one_in_the_file_are_refused_together(tmp_path):
    from sim.scenario import with_population

    table = _write(tmp_path, GOOD)
    text = f'population = "{table}"\n[strategies]\nrare = ["rare_contact"]\n'
    with pytest.raises(ScenarioError, match="one in the file and one from --population"):
        with_population(text, "s.toml", table)
