"""``sim.report`` on a small real sweep: files, sizes, the summary paragraph, offline HTML,
languages, the section extension point, bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from sim.i18n import display_name
from sim.report import FORMATS, SECTIONS, Html, Section, build_report

CHART_KEYS = (
    "survival",
    "churn",
    "cohort_loss",
    "churn_reasons",
    "loyalty_types",
    "cost_retained",
    "cost_split",
)
# Sections of a sweep without a grid, claims.parquet or sensitivity.parquet, numbered as they
# appear; tables (strategies, lifetime, economics) take a number but have no image.
SECTION_KEYS = ("strategies", *CHART_KEYS[:6], "lifetime", "cost_split", "economics")
_SCRIPT = Path(sys.executable).with_name("loyalty-sim")


@pytest.fixture(scope="module")
def report(small_results, tmp_path_factory):
    out = tmp_path_factory.mktemp("report-en")
    return build_report(small_results, out), out


def test_report_writes_html_and_a_png_and_svg_per_chart(report):
    files, out = report
    assert files.html == out / "report.html"
    names = sorted(p.name for p in files.images)
    expected = sorted(
        f"{i:02d}-{key}.{ext}"
        for i, key in enumerate(SECTION_KEYS, start=1)
        if key in CHART_KEYS
        for ext in ("png", "svg")
    )
    assert names == expected  # no grid in this sweep: no grid chart
    for path in files.images:
        size = path.stat().st_size
        assert 5_000 < size < 3_000_000, (path.name, size)
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert path.read_text().lstrip().startswith("<svg") and "<path" in path.read_text()
    assert not list(out.rglob(".*.tmp"))  # atomic writes leave nothing behind


def test_report_html_is_self_contained(report):
    text = report[0].html.read_text()
    assert 500_000 < len(text) < 5_000_000  # the JS bundle is inlined, the data is aggregated
    assert not re.search(r"<script[^>]+src=", text) and not re.search(r"<link[^>]+href=", text)
    assert "window.vegaEmbed" in text
    for key in CHART_KEYS:
        spec = re.search(rf'<script type="application/json" id="spec-{key}">(.*?)</script>', text, re.S)
        assert spec, key
        assert "url" not in json.loads(spec.group(1)).get("data", {})  # data inlined, nothing to fetch


def test_summary_paragraph_is_written_from_the_comparison(small_results, report):
    text = report[0].html.read_text()
    paragraph = re.search(r'<p class="summary">(.*?)</p>', text, re.S).group(1)
    summary = pl.read_parquet(small_results / "summary.parquet").sort("cohort_loss_mean")
    best = summary.row(0, named=True)
    name = display_name(best["strategy"], "en")  # "personal_appreciation": "Personal appreciation"
    assert f"<strong>{name}</strong> kept the most customers" in paragraph
    assert f"lost {best['cohort_loss_mean'] * 100:.1f}% [{best['cohort_loss_ci_low'] * 100:.1f}," in paragraph
    diff = f"{best['cohort_loss_diff_mean'] * 100:.1f} [{best['cohort_loss_diff_ci_low'] * 100:.1f}, "
    assert diff in paragraph
    clear = best["cohort_loss_diff_ci_high"] < 0
    assert ("not chance" in paragraph) == clear and ("more replications" in paragraph) == (not clear)
    # the money side as well: extra spend, lifetime value against the baseline's, the richest strategy
    assert "In money:" in paragraph
    assert "kEUR more on its programs than <strong>One-night brand</strong>" in paragraph
    richest = summary.sort("clv_mean", descending=True).row(0, named=True)
    assert f"{richest['clv_mean']:,.0f} EUR" in paragraph


def test_report_closes_with_scenario_and_manifest(small_results, report):
    text = report[0].html.read_text()
    assert text.index('id="summary"') < text.index('id="survival"') < text.index('id="scenario"')
    assert "name = &quot;report-small&quot;" in text
    manifest = json.loads((small_results / "manifest.json").read_text())
    assert manifest["code_version"] in text[text.index('id="manifest"') :]


def test_german_report(small_results, tmp_path):
    files = build_report(small_results, tmp_path, lang="de", formats=["html"])
    text = files.html.read_text()
    assert '<html lang="de">' in text and "Zusammenfassung" in text and "hielt" in text
    assert "Verbleib der Anfangskunden" in text and files.images == ()


def test_presentation_mode(report):
    """Charts fill their screen (width and height from the page), one section per screen with
    keys to step through them, titles as HTML that wraps, names for people, no strategy legends."""
    text = report[0].html.read_text()
    spec = json.loads(re.search(r'id="spec-survival">(.*?)</script>', text, re.S).group(1))
    assert spec["width"] == "container" and spec["height"] == "container" and "title" not in spec
    assert spec["config"]["axis"]["labelFontSize"] >= 20
    assert '<section id="survival" class="slide chart">' in text and "scroll-snap-type" in text
    assert 'addEventListener("keydown"' in text and '"ArrowRight"' in text
    assert re.search(r"<h2>[^<]+ keeps the most customers: ", text)  # the takeaway, as a heading
    cast = text[text.index('<section id="strategies"') : text.index('<section id="survival"')]
    assert "One-night brand" in cast and "rare_contact" in cast and "unscheduled personal contacts" in cast


def test_a_rebuilt_report_keeps_its_language(small_results, tmp_path):
    build_report(small_results, tmp_path, lang="de", formats=["html"])
    again = build_report(small_results, tmp_path, formats=["html"])  # no language asked for
    assert '<html lang="de">' in again.html.read_text()


def test_a_new_section_is_one_line(small_results, tmp_path):
    assert not (small_results / "discovery.parquet").exists()
    table = Section(
        "discovery", lambda r: Html("<table id='rules'><tr><td>R1</td></tr></table>"),
        needs="discovery.parquet",
    )
    without = build_report(small_results, tmp_path / "a", formats=["html"], sections=(*SECTIONS, table))
    assert "id='rules'" not in without.html.read_text()
    results = tmp_path / "results"
    shutil.copytree(small_results, results)
    pl.DataFrame({"rule": ["R1"]}).write_parquet(results / "discovery.parquet")
    with_rules = build_report(results, tmp_path / "b", formats=["html"], sections=(*SECTIONS, table))
    text = with_rules.html.read_text()
    number = len(SECTION_KEYS) + 1
    assert '<section id="discovery" class="slide table">' in text and f"<h2>{number}. discovery</h2>" in text


def test_bad_input_is_refused_before_anything_is_written(small_results, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no manifest\.json"):
        build_report(tmp_path / "nothing", tmp_path / "out")
    with pytest.raises(
        ValueError, match=r"--format: expected a comma-separated subset of html,png,svg, got pdf"
    ):
        build_report(small_results, tmp_path / "out", formats=["pdf"])
    with pytest.raises(ValueError, match="--lang"):
        build_report(small_results, tmp_path / "out", lang="fr")
    assert not (tmp_path / "out").exists()
    assert set(FORMATS) == {"html", "png", "svg"}


def test_analyses_in_the_results_directory_become_sections(analysed_results, tmp_path):
    """claims.parquet and sensitivity.parquet next to the sweep's files: both reach the report,
    numbered after the sweep's own sections, the sensitivity chart also as PNG/SVG."""
    files = build_report(analysed_results, tmp_path, formats=["html", "svg"])
    text = files.html.read_text()
    first = len(SECTION_KEYS) + 1
    assert f"<h2>{first}. Claims audit</h2>" in text
    assert f"{first + 1}. Which parameters matter</p>" in text  # a chart: the heading above its title
    # claims.parquet carries this sweep's scenario hash; sensitivity.parquet another one
    claims = text[text.index('<section id="claims"') : text.index('<section id="sensitivity"')]
    sensitivity = text[text.index('<section id="sensitivity"') : text.index('<section id="scenario"')]
    assert "another scenario" not in claims and "was made for another scenario" in sensitivity
    assert text.count('class="verdict verdict-') == 3
    assert "1 of 3 checks hold, 1 fail, 1 inconclusive." in text
    assert 'id="spec-sensitivity"' in text
    assert f"{first + 1:02d}-sensitivity.svg" in [p.name for p in files.images]
    german = build_report(analysed_results, tmp_path / "de", lang="de", formats=["html"]).html.read_text()
    assert "Prüfung der Behauptungen" in german and "widerlegt" in german
    assert "Welche Parameter zählen" in german


@pytest.mark.slow
def test_report_command(small_results, tmp_path):
    command = (
        [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from sim.cli import main; main()"]
    )
    done = subprocess.run(
        [
            *command,
            "report",
            str(small_results),
            "--out",
            str(tmp_path),
            "--lang",
            "de",
            "--format",
            "html,svg",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").exists()
    assert len(list((tmp_path / "charts").glob("*.svg"))) == len(CHART_KEYS)
    assert not list((tmp_path / "charts").glob("*.png"))
    bad = subprocess.run(
        [*command, "report", str(tmp_path / "none")], capture_output=True, text=True, timeout=300
    )
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: ") and "no manifest.json" in bad.stderr


TINY = """\
name = "tiny"
customers = 200
months = 6
replications = 2

[strategies]
rare_contact = ["rare_contact"]
personal_appreciation = ["personal_appreciation"]
"""


@pytest.mark.slow
def test_sweep_builds_the_report_unless_told_not_to(tmp_path):
    command = (
        [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from sim.cli import main; main()"]
    )
    (tmp_path / "tiny.toml").write_text(TINY)
    plain = subprocess.run(
        [*command, "sweep", "tiny.toml", "--workers", "1", "--out", "a", "--no-report"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert plain.returncode == 0, plain.stderr
    assert (tmp_path / "a" / "summary.parquet").exists() and not (tmp_path / "a" / "report.html").exists()
    full = subprocess.run(
        [*command, "sweep", "tiny.toml", "--workers", "1", "--out", "b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert full.returncode == 0, full.stderr
    assert (tmp_path / "b" / "report.html").exists()
    assert len(list((tmp_path / "b" / "charts").glob("*.png"))) == len(CHART_KEYS)
    assert f"report: {Path('b') / 'report.html'}" in full.stderr
