"""A small real sweep to build reports from, and headless Chromium with the network cut off.

The tests here cover ``sim/report.py`` and ``sim/explore.py``; those that open a browser use
Debian's ``/usr/bin/chromium`` through Playwright (never a downloaded browser) and skip, with the
reason, where it is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from sim.analysis.claims import AUDIT_SCHEMA
from sim.analysis.sensitivity import SENSITIVITY_SCHEMA
from sim.analysis.statistics import sweep_and_summarise
from sim.executors import SerialExecutor
from sim.provenance import write_stamped
from sim.scenario import load

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL = ("file:", "data:", "blob:", "about:", "http://127.0.0.1")

SMALL = """\
name = "report-small"
customers = 400
months = 30
replications = 2
seed = 3

[strategies]
rare_contact = ["rare_contact"]
point_card_ends = [{ program = "point_card", end_month = 13 }]
lock_in_contract = [{ program = "lock_in_contract", params = { term_months = 12 } }]
personal_appreciation = ["personal_appreciation"]
"""


def run_sweep(tmp: Path, text: str) -> Path:
    (tmp / "scenario.toml").write_text(text)
    out = tmp / "results"
    sweep_and_summarise(load(tmp / "scenario.toml"), out, SerialExecutor())
    return out


@pytest.fixture(scope="session")
def sweep_results():
    """``sweep_results(folder, scenario_text)`` runs a sweep in-process and returns its results."""
    return run_sweep


@pytest.fixture(scope="session")
def small_results(tmp_path_factory) -> Path:
    """The result directory of a finished 4-strategy x 2-replication sweep of 400 customers."""
    return run_sweep(tmp_path_factory.mktemp("report-small"), SMALL)


def write_analyses(results: Path) -> None:
    """``claims.parquet`` and ``sensitivity.parquet`` as ``loyalty-sim claims|sensitivity --out``
    write them (their documented schemas), with one check of each verdict."""
    audit = [
        {"check": check, "claim": check, "statement": statement, "effect": "5-year cohort loss, a - b",
         "estimate": estimate, "ci_low": estimate - 0.02, "ci_high": estimate + 0.02, "region": "> 0",
         "verdict": verdict, "replications": 6}
        for check, statement, estimate, verdict in (
            ("C3", "lock-in does not bind", 0.14, "holds"),
            ("C7", "service keeps more customers", -0.04, "fails"),
            ("F2a", "appreciation loses fewer", 0.01, "inconclusive"),
        )
    ]
    own = json.loads((results / "manifest.json").read_text())["scenario"]["sha256"]
    write_stamped(results / "claims.parquet", pl.DataFrame(audit, schema=AUDIT_SCHEMA), own)
    indices = [
        {"method": "sobol", "output": output, "parameter": parameter, "index": index, "value": value,
         "ci_low": value - 0.05, "ci_high": value + 0.05, "evaluations": 256}
        for output in ("cohort_loss:point_card", "cohort_loss:personal_appreciation-point_card")
        for parameter, value in (("market.offers.discount", 0.6), ("service.failure_per_month", 0.2))
        for index in ("S1", "ST")
    ]
    # the sensitivity analysis of another scenario: the report must say so
    write_stamped(results / "sensitivity.parquet", pl.DataFrame(indices, schema=SENSITIVITY_SCHEMA), "f" * 64)


@pytest.fixture(scope="session")
def analysed_results(small_results, tmp_path_factory) -> Path:
    """A copy of ``small_results`` with a claims audit and a sensitivity analysis beside it."""
    results = tmp_path_factory.mktemp("report-analysed") / "results"
    shutil.copytree(small_results, results)
    write_analyses(results)
    return results


@pytest.fixture(scope="session")
def browser(tmp_path_factory) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1100, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def offline_page(browser):
    """A page whose every request to anything but a local file or 127.0.0.1 is refused and
    recorded in ``page.refused``, so a test can assert that none was attempted."""
    page = browser.new_page()
    page.refused = []

    def guard(route):
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    page.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where tests save screenshots: a temporary folder, or LOYALTY_SIM_SCREENSHOTS when set so
    that a person can look at them afterwards."""
    target = os.environ.get("LOYALTY_SIM_SCREENSHOTS")
    if not target:
        return tmp_path
    Path(target).mkdir(parents=True, exist_ok=True)
    return Path(target)
