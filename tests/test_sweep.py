"""Sweeps: determinism across executors, seeds as identities, resume, overwrite protection,
failed runs, result loading and the statistics of the summary.

Scenarios are small (hundreds of customers, 12-24 months) and written to ``tmp_path``. Sweeps
that start worker processes or a Dask cluster are marked slow.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sim import results
from sim import scenario as scenarios
from sim.analysis.statistics import SUMMARY_OUTCOMES, sweep_summary, t_interval
from sim.analysis.statistics import sweep_and_summarise as sweep  # the orchestrator plus summary.parquet
from sim.executors import DaskExecutor, LocalPoolExecutor, SerialExecutor
from sim.programs import PROGRAMS, NoParams, Program, register
from sim.sweep import RUN_OUTCOMES, SweepError, SweepInterrupted

FRAMES = ("runs", "monthly", "summary")
# Manifest fields that legitimately differ between two sweeps of the same scenario.
VOLATILE_MANIFEST_FIELDS = ("started", "finished", "executor", "workers", "set_aside")
# Traits drawn with the population; programs never change them.
TRAITS = (
    "customer_id",
    "segment",
    "price_focus",
    "bond_need",
    "contact_tolerance_per_year",
    "background_exit_per_month",
    "restlessness",
    "spend_per_month",
)


def write_scenario(
    directory: Path,
    file: str = "scenario.toml",
    *,
    strategies: tuple[str, ...] = ("rare_contact", "point_card"),
    grid: tuple[float, ...] | None = (0.1, 0.2),
    replications: int = 2,
    seed: int = 7,
    customers: int = 400,
    months: int = 12,
    extra: str = "",
) -> scenarios.Scenario:
    """A small scenario file (one single-program strategy per name) and its loaded form."""
    lines = [
        'name = "sweep-test"',
        f"customers = {customers}",
        f"months = {months}",
        f"replications = {replications}",
        f"seed = {seed}",
        "",
        "[strategies]",
        *(f'{name} = {{ programs = ["{name}"] }}' for name in strategies),
        extra,
    ]
    if grid is not None:
        lines += ["", "[grid]", f'"market.offers.discount" = [{", ".join(map(str, grid))}]']
    path = directory / file
    path.write_text("\n".join(lines) + "\n")
    return scenarios.load(path)


def read_frames(out: Path) -> dict[str, pl.DataFrame]:
    names = [*FRAMES, "customers"] if (out / "customers.parquet").exists() else FRAMES
    return {name: pl.read_parquet(out / f"{name}.parquet") for name in names}


def read_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def assert_same_results(out: Path, reference: Path) -> None:
    """Every result frame identical (values, types, column and row order) and the same manifest
    apart from times and the executor."""
    frames, expected = read_frames(out), read_frames(reference)
    assert frames.keys() == expected.keys()
    for name, frame in frames.items():
        assert frame.schema == expected[name].schema, name
        assert frame.equals(expected[name]), name
    manifest, reference_manifest = read_manifest(out), read_manifest(reference)
    for field in VOLATILE_MANIFEST_FIELDS:
        manifest.pop(field, None)
        reference_manifest.pop(field, None)
    assert manifest == reference_manifest


def part_files(out: Path) -> dict[str, tuple[int, int]]:
    """Name -> (size, mtime in ns) of every part, to tell whether a part was written again."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted((out / "parts").iterdir())}


class CountingExecutor(SerialExecutor):
    """A serial executor that records which batches it ran."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def submit(self, fn, task):
        self.ran.append(task.batch_id)
        return super().submit(fn, task)


# --- determinism across executors --------------------------------------------------------


@pytest.mark.slow
def test_every_executor_gives_identical_results(tmp_path):
    scenario = write_scenario(
        tmp_path, strategies=("rare_contact", "point_card", "personal_appreciation"), replications=3
    )
    outs = {name: tmp_path / name for name in ("serial", "pool", "dask")}
    with SerialExecutor() as executor:
        sweep(scenario, outs["serial"], executor, record_customers=True)
    with LocalPoolExecutor(workers=2) as executor:
        sweep(scenario, outs["pool"], executor, record_customers=True)
    with DaskExecutor("local", workers=2) as executor:
        assert executor.workers == 2
        assert executor.name.startswith("dask tcp://127.0.0.1:")
        sweep(scenario, outs["dask"], executor, record_customers=True)

    runs = pl.read_parquet(outs["serial"] / "runs.parquet")
    assert runs.height == 3 * 2 * 3
    assert runs["status"].unique().to_list() == ["done"]
    for name in ("pool", "dask"):
        assert_same_results(outs[name], outs["serial"])
    executors = {name: read_manifest(out)["executor"] for name, out in outs.items()}
    assert executors["serial"] == "serial"
    assert executors["pool"] == "local-pool"
    assert executors["dask"].startswith("dask tcp://127.0.0.1:")


# --- seeds are identities ------------------------------------------------------------------


def _matching_rows(frame: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    keys = ["strategy", "point", "replication"]
    return frame.join(reference.select(keys), on=keys, how="semi").sort(keys)


@pytest.mark.parametrize(
    "change",
    [
        # New entries go first, so positions change while identities do not.
        {"strategies": ("service_excellence", "rare_contact", "point_card")},
        {"replications": 3},
        {"grid": (0.05, 0.1, 0.2)},
    ],
    ids=["strategy", "replication", "grid-point"],
)
def test_adding_to_a_scenario_leaves_existing_runs_unchanged(tmp_path, change):
    before = write_scenario(tmp_path, "before.toml")
    after = write_scenario(tmp_path, "after.toml", **change)
    sweep(before, tmp_path / "before", SerialExecutor())
    sweep(after, tmp_path / "after", SerialExecutor())

    old = pl.read_parquet(tmp_path / "before" / "runs.parquet")
    new = pl.read_parquet(tmp_path / "after" / "runs.parquet")
    assert new.height > old.height
    kept = _matching_rows(new, old)
    assert kept.height == old.height
    assert kept.equals(old.sort(["strategy", "point", "replication"]))

    old_monthly = pl.read_parquet(tmp_path / "before" / "monthly.parquet")
    new_monthly = pl.read_parquet(tmp_path / "after" / "monthly.parquet")
    keys = ["strategy", "point", "replication", "month"]
    kept_monthly = new_monthly.join(old_monthly.select(keys), on=keys, how="semi").sort(keys)
    assert kept_monthly.equals(old_monthly.sort(keys))


def test_a_different_root_seed_gives_different_numbers(tmp_path):
    sweep(write_scenario(tmp_path, "a.toml", seed=7), tmp_path / "a", SerialExecutor())
    sweep(write_scenario(tmp_path, "b.toml", seed=8), tmp_path / "b", SerialExecutor())
    a = pl.read_parquet(tmp_path / "a" / "runs.parquet")
    b = pl.read_parquet(tmp_path / "b" / "runs.parquet")
    assert a["run_id"].to_list() == b["run_id"].to_list()
    assert set(a["seed"]).isdisjoint(set(b["seed"]))
    # Every run differs (a few hundred customers leave by chance in each).
    assert (a["revenue"] != b["revenue"]).all()
    assert (a["cohort_loss"] != b["cohort_loss"]).sum() >= a.height // 2


def test_strategies_of_a_batch_share_their_seed_and_initial_customers(tmp_path):
    scenario = write_scenario(tmp_path, strategies=("rare_contact", "point_card", "lock_in_contract"))
    report = sweep(scenario, tmp_path / "out", SerialExecutor(), record_customers=True)
    runs = pl.read_parquet(tmp_path / "out" / "runs.parquet")

    seeds = runs.group_by("point", "replication").agg(pl.col("seed").n_unique().alias("n"), pl.first("seed"))
    assert seeds.height == 2 * 2  # grid points x replications
    assert (seeds["n"] == 1).all()  # one seed per batch, shared by its strategies ...
    assert seeds["seed"].n_unique() == seeds.height  # ... and a different one for every batch
    manifest_seeds = read_manifest(tmp_path / "out")["seeds"]["batches"]
    assert sorted(json.dumps(s) for s in manifest_seeds.values()) == sorted(seeds["seed"])

    customers = pl.read_parquet(tmp_path / "out" / "customers.parquet")
    initial = customers.filter(pl.col("join_month") == 0)
    assert initial.height == 3 * 4 * scenario.customers
    by_strategy = {
        name: initial.filter(pl.col("strategy") == name).select("point", "replication", *TRAITS)
        for name in scenario.strategies
    }
    first = by_strategy["rare_contact"]
    for name, frame in by_strategy.items():
        assert frame.equals(first), name
    # ... while the strategies do lead to different outcomes.
    assert runs.group_by("point", "replication").agg(pl.col("program_cost").n_unique())[
        "program_cost"
    ].min() == len(scenario.strategies)
    assert report.failed == 0


# --- interruption and resume ---------------------------------------------------------------


def test_interrupted_sweep_resumes_only_missing_batches(tmp_path):
    scenario = write_scenario(tmp_path, replications=3)  # 2 points x 3 replications = 6 batches
    out, n_strategies = tmp_path / "out", len(scenario.strategies)
    progress: list[tuple[int, int]] = []

    def stop_after_two_batches(done: int, total: int) -> None:
        progress.append((done, total))
        if done >= 2 * n_strategies:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as stopped:
        sweep(scenario, out, SerialExecutor(), on_progress=stop_after_two_batches)
    assert (stopped.value.done, stopped.value.total) == (2 * n_strategies, 6 * n_strategies)
    assert progress == [(0, 12), (2, 12), (4, 12)]

    manifest = read_manifest(out)
    assert manifest["status"] == "interrupted"
    assert manifest["finished"] is None
    statuses = list(manifest["runs"].values())
    assert len(statuses) == 12
    assert statuses.count("done") == 4
    assert statuses.count("pending") == 8
    kept = part_files(out)
    kinds = sorted(name.split("-")[0] for name in kept)
    assert kinds == ["horizon_plane"] * 2 + ["monthly"] * 2 + ["runs"] * 2
    assert not any((out / f"{name}.parquet").exists() for name in FRAMES)
    interrupted = r"no summary\.parquet \(the sweep is interrupted\); run the sweep again with --resume"
    with pytest.raises(FileNotFoundError, match=interrupted):
        results.load(out)

    executor = CountingExecutor()
    report = sweep(scenario, out, executor, resume=True)
    assert len(executor.ran) == 4  # only the missing batches
    finished_before = {name.removeprefix("runs-").removesuffix(".parquet") for name in kept}
    assert finished_before.isdisjoint(executor.ran)
    assert (report.total, report.done, report.failed, report.skipped) == (12, 12, 0, 4)
    assert {name: kept[name] for name in kept} == {name: part_files(out)[name] for name in kept}
    manifest = read_manifest(out)
    assert manifest["status"] == "complete"
    assert set(manifest["runs"].values()) == {"done"}

    sweep(scenario, tmp_path / "reference", SerialExecutor())
    assert_same_results(out, tmp_path / "reference")


def test_resume_of_a_complete_sweep_runs_nothing(tmp_path):
    scenario = write_scenario(tmp_path)
    sweep(scenario, tmp_path / "out", SerialExecutor())
    before = part_files(tmp_path / "out")
    executor = CountingExecutor()
    report = sweep(scenario, tmp_path / "out", executor, resume=True)
    assert executor.ran == []
    assert (report.done, report.skipped) == (8, 8)
    assert part_files(tmp_path / "out") == before
    sweep(scenario, tmp_path / "reference", SerialExecutor())
    assert_same_results(tmp_path / "out", tmp_path / "reference")


def test_resume_without_earlier_results_is_a_fresh_sweep(tmp_path):
    report = sweep(write_scenario(tmp_path), tmp_path / "new", SerialExecutor(), resume=True)
    assert (report.done, report.skipped) == (8, 0)


def test_resume_removes_temporary_files_of_a_killed_sweep(tmp_path):
    """A sweep killed while writing a part leaves a '.<name>.<pid>.tmp' file behind."""
    scenario = write_scenario(tmp_path)
    out = tmp_path / "out"
    sweep(scenario, out, SerialExecutor())
    parts = out / "parts"
    victim = sorted(parts.glob("runs-*.parquet"))[0]
    victim.unlink()  # that batch never finished ...
    stale = parts / f".{victim.name}.99999.tmp"
    stale.write_bytes(b"PAR1 half a parquet file")  # ... its runs part was being written

    executor = CountingExecutor()
    sweep(scenario, out, executor, resume=True)
    assert executor.ran == [victim.name.removeprefix("runs-").removesuffix(".parquet")]
    assert not stale.exists()
    assert victim.exists()
    sweep(scenario, tmp_path / "reference", SerialExecutor())
    assert_same_results(out, tmp_path / "reference")


# --- existing results ----------------------------------------------------------------------


def test_existing_results_are_not_overwritten_without_force(tmp_path):
    scenario = write_scenario(tmp_path)
    out = tmp_path / "out"
    sweep(scenario, out, SerialExecutor())
    parts = {p: p.read_bytes() for p in (out / "parts").iterdir()}
    runs = pl.read_parquet(out / "runs.parquet")

    # The same, complete sweep again: nothing runs and nothing is rewritten (the manifest keeps the
    # times and code version of the runs); the comparison comes from the finished runs.
    files = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    executor = CountingExecutor()
    report = sweep(scenario, out, executor)
    assert executor.ran == [] and report.skipped == report.total
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()} == files
    assert {p: p.read_bytes() for p in (out / "parts").iterdir()} == parts
    assert pl.read_parquet(out / "runs.parquet").equals(runs)
    assert report.summary.equals(pl.read_parquet(out / "summary.parquet"))

    # A different sweep into the same directory is refused.
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(SweepError, match=r"--resume.*--force"):
        sweep(scenario, out, SerialExecutor(), replications=3)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files


def test_force_starts_over(tmp_path):
    scenario = write_scenario(tmp_path)
    out = tmp_path / "out"
    sweep(scenario, out, SerialExecutor(), replications=3, record_customers=True)
    assert len(list((out / "parts").glob("runs-*"))) == 6
    (out / "notes.txt").write_text("mine")  # --out may name a directory with other files in it

    executor = CountingExecutor()
    report = sweep(scenario, out, executor, force=True)
    assert len(executor.ran) == 4  # everything again, nothing kept
    assert (report.done, report.skipped) == (8, 0)
    assert len(list((out / "parts").glob("runs-*"))) == 4  # parts of the old sweep are gone
    assert not (out / "customers.parquet").exists()
    assert read_manifest(out)["replications"] == 2
    assert (out / "notes.txt").read_text() == "mine"  # only what a sweep writes is removed
    sweep(scenario, tmp_path / "reference", SerialExecutor())
    assert_same_results(out, tmp_path / "reference")


def test_resume_with_a_changed_scenario_is_refused(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(SweepInterrupted):
        sweep(write_scenario(tmp_path, replications=3), out, SerialExecutor(), on_progress=_stop_after(2))
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    changed = write_scenario(tmp_path, replications=4)
    with pytest.raises(SweepError, match="different version"):
        sweep(changed, out, SerialExecutor(), resume=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files
    # --force starts the changed scenario over
    report = sweep(changed, out, SerialExecutor(), force=True)
    assert (report.done, report.skipped) == (16, 0)


def test_a_file_as_result_directory_is_refused(tmp_path):
    (tmp_path / "out").write_text("not a directory")
    with pytest.raises(SweepError, match="expected a writable directory, found a file"):
        sweep(write_scenario(tmp_path), tmp_path / "out", SerialExecutor())


def _stop_after(runs: int):
    def stop(done: int, total: int) -> None:
        if done >= runs:
            raise KeyboardInterrupt

    return stop


# --- failed runs ---------------------------------------------------------------------------


@pytest.fixture
def exploding_program(monkeypatch):
    """Register a program whose every run raises, for this test only."""
    monkeypatch.setattr(PROGRAMS, "_entries", dict(PROGRAMS._entries))

    @register("exploding")
    class Exploding(Program):
        Params = NoParams

        def act(self, model) -> None:
            if model.month == 3:
                raise RuntimeError(f"exploded in month {model.month}")

    return Exploding


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, exploding_program):
    scenario = write_scenario(tmp_path, strategies=("rare_contact", "exploding", "point_card"))
    report = sweep(scenario, tmp_path / "out", SerialExecutor())
    assert (report.total, report.done, report.failed) == (12, 8, 4)

    runs = pl.read_parquet(tmp_path / "out" / "runs.parquet")
    failed = runs.filter(pl.col("status") == "failed")
    assert failed["strategy"].unique().to_list() == ["exploding"]
    assert failed.height == 4
    for error in failed["error"]:
        assert error.startswith("PluginRunError: program 'exploding' (from module test_sweep) failed in hook")
        assert error.endswith(")") and "RuntimeError: exploded in month 3 (test_sweep.py:" in error
        assert "\n" not in error
    assert failed.select(RUN_OUTCOMES).null_count().row(0) == (4,) * len(RUN_OUTCOMES)
    done = runs.filter(pl.col("status") == "done")
    assert done.height == 8
    assert done["error"].null_count() == 8
    assert done.select(RUN_OUTCOMES[:2]).null_count().row(0) == (0, 0)

    manifest = read_manifest(tmp_path / "out")
    assert manifest["status"] == "complete with failed runs"
    assert sorted(k for k, v in manifest["runs"].items() if v == "failed") == sorted(failed["run_id"])
    assert sum(v == "done" for v in manifest["runs"].values()) == 8

    monthly = pl.read_parquet(tmp_path / "out" / "monthly.parquet")
    assert "exploding" not in monthly["strategy"].unique().to_list()
    summary = report.summary
    assert summary["strategy"].to_list() == ["rare_contact", "rare_contact", "point_card", "point_card"]
    assert summary["replications"].to_list() == [2, 2, 2, 2]

    # A resumed sweep does not retry failed runs: they are finished, with their error.
    assert sweep(scenario, tmp_path / "out", CountingExecutor(), resume=True).failed == 4


def test_a_sweep_whose_runs_all_fail_completes(tmp_path, exploding_program):
    scenario = write_scenario(tmp_path, strategies=("exploding",))
    report = sweep(scenario, tmp_path / "out", SerialExecutor())
    assert (report.done, report.failed) == (0, 4)
    assert report.summary.is_empty()
    runs = pl.read_parquet(tmp_path / "out" / "runs.parquet")
    assert set(RUN_OUTCOMES) <= set(runs.columns)
    assert read_manifest(tmp_path / "out")["status"] == "complete with failed runs"
    assert not (tmp_path / "out" / "monthly.parquet").exists()


def test_result_column_types_do_not_depend_on_the_data(tmp_path, exploding_program):
    """A column that happens to be all null is stored with its type, not as type Null."""
    sweep(write_scenario(tmp_path, "a.toml"), tmp_path / "a", SerialExecutor())
    sweep(write_scenario(tmp_path, "b.toml", months=60, customers=300), tmp_path / "b", SerialExecutor())
    scenario = write_scenario(tmp_path, "c.toml", strategies=("rare_contact", "exploding"))
    sweep(scenario, tmp_path / "c", SerialExecutor())
    a, b, c = (pl.read_parquet(tmp_path / name / "runs.parquet") for name in "abc")
    assert a["half_life_months"].null_count() == a.height  # 12 months: censored
    assert b["half_life_months"].null_count() < b.height
    assert a["error"].null_count() == a.height
    for column in ("error", "half_life_months", "cost_per_retained_customer", *RUN_OUTCOMES):
        assert a.schema[column] == b.schema[column] == c.schema[column], column
    summary_a = pl.read_parquet(tmp_path / "a" / "summary.parquet")
    summary_b = pl.read_parquet(tmp_path / "b" / "summary.parquet")
    assert summary_a.schema == summary_b.schema


# --- loading results and the summary -------------------------------------------------------


def test_load_returns_the_frames_with_intervals_and_paired_differences(tmp_path):
    scenario = write_scenario(tmp_path, replications=3)
    sweep(scenario, tmp_path / "out", SerialExecutor(), record_customers=True)
    loaded = results.load(tmp_path / "out")
    assert loaded.runs.equals(pl.read_parquet(tmp_path / "out" / "runs.parquet"))
    assert loaded.monthly.height == 2 * 2 * 3 * scenario.months
    assert loaded.customers is not None
    assert loaded.manifest["status"] == "complete"
    assert loaded.manifest["scenario"]["text"] == scenario.text

    summary = loaded.summary
    assert summary.height == 2 * 2  # strategies x grid points
    assert (summary["replications"] == 3).all()
    assert (summary["baseline"] == "rare_contact").all()
    for outcome in SUMMARY_OUTCOMES:
        for suffix in ("mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high"):
            assert f"{outcome}_{suffix}" in summary.columns

    baseline = summary.filter(pl.col("strategy") == "rare_contact")
    for outcome in ("cohort_loss", "revenue", "program_cost", "margin"):
        for suffix in ("diff_mean", "diff_ci_low", "diff_ci_high"):
            assert (baseline[f"{outcome}_{suffix}"] == 0.0).all(), (outcome, suffix)
        # intervals contain their means
        assert (summary[f"{outcome}_ci_low"] <= summary[f"{outcome}_mean"]).all()
        assert (summary[f"{outcome}_mean"] <= summary[f"{outcome}_ci_high"]).all()

    # Means, intervals and paired differences agree with a computation straight from the runs.
    runs = loaded.runs
    for row in summary.iter_rows(named=True):
        own = runs.filter((pl.col("strategy") == row["strategy"]) & (pl.col("point") == row["point"]))
        base = runs.filter((pl.col("strategy") == "rare_contact") & (pl.col("point") == row["point"]))
        for outcome in ("cohort_loss", "margin"):
            values = own.sort("replication")[outcome].to_numpy()
            low, high = stats.t.interval(0.95, len(values) - 1, values.mean(), stats.sem(values))
            assert row[f"{outcome}_mean"] == pytest.approx(values.mean())
            assert (row[f"{outcome}_ci_low"], row[f"{outcome}_ci_high"]) == pytest.approx((low, high))
            differences = values - base.sort("replication")[outcome].to_numpy()
            assert row[f"{outcome}_diff_mean"] == pytest.approx(differences.mean(), abs=1e-12)
            if row["strategy"] != "rare_contact":
                low, high = stats.t.interval(
                    0.95, len(differences) - 1, differences.mean(), stats.sem(differences)
                )
                assert (row[f"{outcome}_diff_ci_low"], row[f"{outcome}_diff_ci_high"]) == pytest.approx(
                    (low, high)
                )


def test_one_replication_has_no_intervals(tmp_path):
    sweep(write_scenario(tmp_path, replications=1), tmp_path / "out", SerialExecutor())
    summary = results.load(tmp_path / "out").summary
    assert (summary["replications"] == 1).all()
    for outcome in SUMMARY_OUTCOMES:
        for suffix in ("ci_low", "ci_high", "diff_ci_low", "diff_ci_high"):
            assert summary[f"{outcome}_{suffix}"].null_count() == summary.height, (outcome, suffix)
    assert summary["cohort_loss_mean"].null_count() == 0
    assert summary["cohort_loss_diff_mean"].null_count() == 0


def test_load_of_missing_results_names_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no manifest\.json"):
        results.load(tmp_path)
    # a finished sweep whose tables were deleted: not "complete it", which it is
    (tmp_path / "manifest.json").write_text('{"status": "complete"}')
    with pytest.raises(FileNotFoundError, match=r"tables are missing\); run the sweep again with --resume"):
        results.load(tmp_path)


# --- statistics ----------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_t_interval_matches_scipy(level):
    sample = np.array([0.212, 0.187, 0.254, 0.199, 0.231, 0.176, 0.243])
    mean, std, n = sample.mean(), sample.std(ddof=1), sample.size
    low, high = t_interval(np.array([mean]), np.array([std]), np.array([n]), level)
    expected = stats.t.interval(level, n - 1, loc=mean, scale=stats.sem(sample))
    assert (low[0], high[0]) == pytest.approx(expected, rel=1e-12)
    # scipy's one-sample t-test gives the same interval
    ci = stats.ttest_1samp(sample, 0.0).confidence_interval(level)
    assert (low[0], high[0]) == pytest.approx((ci.low, ci.high), rel=1e-12)


def test_t_interval_is_undefined_below_two_observations():
    low, high = t_interval(np.array([1.0, 2.0, 3.0]), np.array([np.nan, 0.0, 1.0]), np.array([1, 0, 2]))
    assert math.isnan(low[0]) and math.isnan(high[0])
    assert math.isnan(low[1]) and math.isnan(high[1])
    assert low[2] < 3.0 < high[2]


def test_t_interval_is_cut_to_the_range_of_the_quantity():
    mean, std, n = np.array([0.05, 0.5]), np.array([0.2, 0.01]), np.array([2, 2])
    low, high = t_interval(mean, std, n)
    assert low[0] < 0.0 and high[0] > 1.0  # two replications: t = 12.7
    cut_low, cut_high = t_interval(mean, std, n, bounds=(0.0, 1.0))
    assert (cut_low[0], cut_high[0]) == (0.0, 1.0)
    assert (cut_low[1], cut_high[1]) == (low[1], high[1])  # inside the range: unchanged


def test_summary_intervals_stay_within_what_an_outcome_can_take():
    """Two replications of very different cohort losses: the interval of the loss stays within
    0-100%, the difference of two losses within -100..+100 pp, a cost stays >= 0, and a margin
    (which can be negative) keeps its whole t interval."""
    rows = [
        {"strategy": strategy, "point": "{}", "replication": r, "status": "done",
         **dict.fromkeys(SUMMARY_OUTCOMES, 0.0),
         "cohort_loss": loss, "program_cost": cost, "margin": margin}
        for strategy, losses in (("base", (0.95, 0.97)), ("other", (0.02, 0.9)))
        for r, (loss, cost, margin) in enumerate(zip(losses, (1.0, 900.0), (-50.0, 40.0), strict=True))
    ]
    summary = sweep_summary(pl.DataFrame(rows), "base", ["base", "other"])
    other = summary.filter(pl.col("strategy") == "other").row(0, named=True)
    assert (other["cohort_loss_ci_low"], other["cohort_loss_ci_high"]) == (0.0, 1.0)
    assert other["cohort_loss_diff_ci_low"] == -1.0
    assert other["program_cost_ci_low"] == 0.0
    assert other["margin_ci_low"] < -50.0 and other["margin_ci_high"] > 40.0


def test_paired_differences_are_tighter_than_unpaired_ones(tmp_path):
    """Common random numbers: strategies of a replication start from the same customers and,
    where their programs draw the same random numbers, live through the same events. A strategy
    that only pays more per contact then differs from the baseline in cost alone: its paired
    differences are (nearly) constant while two independent means scatter by the sampling noise.
    """
    extra = 'costly = { programs = [{ program = "rare_contact", params = { cost_per_contact = 2.0 } }] }'
    scenario = write_scenario(
        tmp_path, strategies=("rare_contact",), extra=extra, grid=None, replications=6, customers=600
    )
    report = sweep(scenario, tmp_path / "out", SerialExecutor())
    runs = pl.read_parquet(tmp_path / "out" / "runs.parquet")
    row = report.summary.filter(pl.col("strategy") == "costly").row(0, named=True)
    costly = runs.filter(pl.col("strategy") == "costly").sort("replication")["margin"].to_numpy()
    base = runs.filter(pl.col("strategy") == "rare_contact").sort("replication")["margin"].to_numpy()
    unpaired = stats.ttest_ind(costly, base, equal_var=False).confidence_interval()
    paired_width = row["margin_diff_ci_high"] - row["margin_diff_ci_low"]
    assert paired_width < 0.2 * (unpaired.high - unpaired.low)
    assert row["margin_diff_ci_high"] < 0  # the higher cost is resolved by paired differences
    assert row["margin_diff_mean"] == pytest.approx(costly.mean() - base.mean())
    # The customers live through the same events: no difference in churn or revenue at all.
    for outcome in ("cohort_loss", "revenue"):
        diff = [row[f"{outcome}_diff_{suffix}"] for suffix in ("mean", "ci_low", "ci_high")]
        assert diff == [0.0, 0.0, 0.0], outcome
