"""The workshop report of a sweep: ``report.html`` that works offline, and a PNG and SVG per chart.

``report.html`` is one self-contained file: Vega, Vega-Lite and vega-embed are inlined (the
bundle that vl-convert ships), chart data is inlined as aggregates (never per-customer rows),
and nothing is requested from any host, so it opens from a USB stick on a projector with no
network. It opens with a summary paragraph written from the numbers, then one section per
chart, then the scenario and the manifest for provenance.

Extension point: the report is the list :data:`SECTIONS`. A section is a key (the anchor in
the page and the stem of its PNG/SVG files), a function from :class:`ReportInput` to an Altair
chart (or :class:`Html` for a table, or ``None`` to leave the section out), and optionally
``needs``, a file of the results directory without which the section is skipped. Analyses that
write their own files add their section with one line, as the claims audit and the sensitivity
analysis do::

    Section("claims", lambda r: claims_table(_read(r, "claims.parquet"), r.lang), needs="claims.parquet")

Charts live in ``sim.charts`` and tables in ``sim.tables``, one per module. Headings come from
``sim.charts.style`` labels ``heading_<key>`` (English and German); a section without one uses
its key. Sections are numbered as they appear, so a skipped one leaves no gap.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import polars as pl
import vl_convert as vlc

from sim import scenario as scenarios
from sim.charts.bond_value import bond_value_chart
from sim.charts.churn import churn_chart
from sim.charts.churn_reasons import churn_reasons_chart
from sim.charts.cohort_loss import cohort_loss_chart
from sim.charts.cost_retained import cost_retained_chart
from sim.charts.cost_split import cost_split_chart
from sim.charts.grid import grid_chart
from sim.charts.loyalty_types import loyalty_types_chart
from sim.charts.sensitivity import sensitivity_chart
from sim.charts.style import FORMAT_LOCALES, StrategyColours, check_language, for_projector, label
from sim.charts.survival import survival_chart
from sim.errors import OptionError
from sim.io import write_atomic
from sim.results import Results, ResultsError, load
from sim.tables import Html
from sim.tables.claims import claims_table
from sim.tables.economics import economics_table
from sim.tables.lifetime import lifetime_table
from sim.tables.rows import comparison_rows

FORMATS: tuple[str, ...] = ("html", "png", "svg")
PNG_SCALE = 2  # pixels per CSS pixel: sharp on a projector and on a slide


@dataclass(frozen=True)
class ReportInput:
    """What sections draw from: the results, the scenario, and the frames at the shown grid point.

    Every section shows one grid point (the first) except the grid chart, which shows all of them.
    """

    results: Results
    scenario: scenarios.Scenario
    lang: str

    @functools.cached_property
    def point(self) -> str:
        return self.results.summary["point"][0]

    @functools.cached_property
    def has_grid(self) -> bool:
        return self.results.summary["point"].n_unique() > 1

    @functools.cached_property
    def colours(self) -> StrategyColours:
        return StrategyColours(
            tuple(self.results.summary["strategy"].unique(maintain_order=True)), self.baseline, self.lang
        )

    @property
    def baseline(self) -> str:
        return self.results.summary["baseline"][0]

    @functools.cached_property
    def months(self) -> int:
        return int(self.results.monthly["month"].max())

    def at_point(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("point") == self.point)

    @functools.cached_property
    def summary(self) -> pl.DataFrame:
        return self.at_point(self.results.summary)

    @functools.cached_property
    def monthly(self) -> pl.DataFrame:
        return self.at_point(self.results.monthly)

    @functools.cached_property
    def runs(self) -> pl.DataFrame:
        return self.at_point(self.results.runs).filter(pl.col("status") == "done")


SectionContent = alt.TopLevelMixin | Html | None


@dataclass(frozen=True)
class Section:
    key: str
    build: Callable[[ReportInput], SectionContent]
    needs: str | None = None  # a file in the results directory; the section is skipped without it


def _plane(report: ReportInput) -> SectionContent:
    plane = report.results.horizon_plane
    return None if plane is None else bond_value_chart(report.at_point(plane), report.colours, report.months)


def _read(report: ReportInput, name: str) -> pl.DataFrame:
    """A file an analysis wrote into the results directory (``claims.parquet``, ...)."""
    return pl.read_parquet(report.results.path / name)


SECTIONS: tuple[Section, ...] = (
    Section("survival", lambda r: survival_chart(r.monthly, r.colours)),
    Section("churn", lambda r: churn_chart(r.monthly, r.colours)),
    Section("cohort_loss", lambda r: cohort_loss_chart(r.summary, r.colours, r.months)),
    Section("churn_reasons", lambda r: churn_reasons_chart(r.runs, r.colours)),
    Section("loyalty_types", lambda r: loyalty_types_chart(r.monthly, r.colours)),
    Section("bond_value", _plane, needs="horizon_plane.parquet"),
    Section("cost_retained", lambda r: cost_retained_chart(r.summary, r.colours, r.scenario.customers)),
    Section("grid", lambda r: grid_chart(r.results.summary, r.colours) if r.has_grid else None),
    Section("lifetime", lambda r: lifetime_table(r.monthly, r.lang, r.colours.domain)),
    Section("cost_split", lambda r: cost_split_chart(r.summary, r.colours, r.months)),
    Section("economics", lambda r: economics_table(r.summary, r.lang)),
    Section("claims", lambda r: claims_table(_read(r, "claims.parquet"), r.lang), needs="claims.parquet"),
    Section(
        "sensitivity",
        lambda r: sensitivity_chart(_read(r, "sensitivity.parquet"), r.lang),
        needs="sensitivity.parquet",
    ),
)


@dataclass(frozen=True)
class ReportFiles:
    html: Path | None
    images: tuple[Path, ...]


def recorded_scenario(results: Results) -> scenarios.Scenario:
    """The scenario recorded in a sweep's manifest; a broken one is reported as the manifest's."""
    recorded = results.manifest.get("scenario")
    where = results.path / "manifest.json"
    if not isinstance(recorded, dict) or not isinstance(recorded.get("text"), str):
        raise ResultsError(f"{where}: scenario.text: expected the scenario's text, found none")
    return scenarios.loads(recorded["text"], file=f"{where} (scenario.text)")


def build_report(
    results_dir: str | Path,
    out: str | Path | None = None,
    lang: str = "en",
    formats: Sequence[str] = FORMATS,
    sections: Sequence[Section] = SECTIONS,
) -> ReportFiles:
    """Write ``report.html`` and ``charts/<nn>-<key>.png|svg`` for a sweep's results to ``out``
    (default: the results directory). Every file is written atomically."""
    check_language(lang)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        got = ",".join(unknown) or "nothing"
        raise OptionError(f"--format: expected a comma-separated subset of {','.join(FORMATS)}, got {got}")
    results = load(results_dir)
    if results.summary.height == 0:
        raise OptionError(f"{results.path}: no finished runs to report on")
    scenario = recorded_scenario(results)
    report = ReportInput(results, scenario, lang)
    out = Path(out) if out is not None else results.path
    out.mkdir(parents=True, exist_ok=True)
    built = _build_sections(report, sections)
    images = []
    if {"png", "svg"} & set(formats):
        (out / "charts").mkdir(exist_ok=True)
        locale = vlc.get_format_locale(FORMAT_LOCALES[lang])
        for number, (key, spec) in enumerate(built.items(), start=1):
            if isinstance(spec, Html):
                continue
            if "png" in formats:
                png = vlc.vegalite_to_png(spec, scale=PNG_SCALE, format_locale=locale)
                images.append(_write(out / "charts" / f"{number:02d}-{key}.png", png))
            if "svg" in formats:
                svg = vlc.vegalite_to_svg(spec, format_locale=locale)
                images.append(_write(out / "charts" / f"{number:02d}-{key}.svg", svg.encode()))
    page = None
    if "html" in formats:
        page = _write(out / "report.html", render_html(report, built).encode())
    return ReportFiles(page, tuple(images))


def _build_sections(report: ReportInput, sections: Sequence[Section]) -> dict[str, dict | Html]:
    """Each section's Vega-Lite spec (or HTML), by key; sections without input are left out."""
    built: dict[str, dict | Html] = {}
    for section in sections:
        if section.needs and not (report.results.path / section.needs).exists():
            continue
        content = section.build(report)
        if content is not None:
            built[section.key] = content if isinstance(content, Html) else for_projector(content).to_dict()
    return built


def _write(path: Path, data: bytes) -> Path:
    write_atomic(path, lambda tmp: tmp.write_bytes(data))
    return path


# --- the summary paragraph ------------------------------------------------------------------


def summary_paragraph(report: ReportInput) -> str:
    """One paragraph (HTML) from the comparison table: the strategy that kept the most initial
    customers, its loss, and its paired difference to the baseline with the 95% CI."""
    lang, baseline = report.lang, report.baseline
    summary = report.summary
    rows = {row["strategy"]: row for row in comparison_rows(summary)}
    best = summary.sort("cohort_loss_mean").row(0, named=True)
    loss_column, diff_column = "cohort loss [95% CI]", f"vs {baseline} (pp)"
    values = {
        "months": report.months,
        "replications": label(
            lang,
            "replication_one" if best["replications"] == 1 else "replication_count",
            n=best["replications"],
        ),
        "customers": f"{report.scenario.customers:,}"
        if lang == "en"
        else f"{report.scenario.customers:,}".replace(",", "."),
        "best": _strong(best["strategy"]),
        "baseline": _strong(baseline),
        "loss": _local(rows[best["strategy"]][loss_column], lang),
        "baseline_loss": _local(rows[baseline][loss_column], lang) if baseline in rows else "-",
        "diff": _local(rows[best["strategy"]][diff_column], lang),
    }
    if best["strategy"] == baseline:
        text = label(lang, "summary_baseline_best", **values)
    else:
        high = best["cohort_loss_diff_ci_high"]
        clear = high is not None and high < 0
        text = (
            label(lang, "summary", **values)
            + " "
            + label(lang, "summary_clear" if clear else "summary_unclear")
        )
    if report.has_grid:
        text += " " + label(lang, "summary_grid", point=html.escape(_point_text(report.point)))
    return text


def _strong(text: str) -> str:
    return f"<strong>{html.escape(text)}</strong>"


def _local(text: str, lang: str) -> str:
    """Decimal commas in German; interval bounds then separated by a semicolon."""
    return html.escape(text if lang == "en" else text.replace(", ", "; ").replace(".", ","))


def _point_text(point: str) -> str:
    return ", ".join(f"{path.rsplit('.', 1)[-1]} = {value:g}" for path, value in json.loads(point).items())


# --- the page ---------------------------------------------------------------------------------


def render_html(report: ReportInput, sections: dict[str, dict | Html]) -> str:
    """The whole page as one string: styles, the inlined JS bundle, sections, provenance."""
    lang = report.lang
    manifest = report.results.manifest
    parts = []
    for number, (key, content) in enumerate(sections.items(), start=1):
        # numbered as they appear (sections without input are left out), like the image files
        name = label(lang, f"heading_{key}") if _has_label(lang, f"heading_{key}") else key
        heading = html.escape(f"{number}. {name}")
        if isinstance(content, Html):
            body = content.text
        else:
            spec = json.dumps(content, separators=(",", ":")).replace("</", "<\\/")
            body = (
                f'<div class="chart" id="chart-{key}" data-chart="{key}"></div>\n'
                f'<script type="application/json" id="spec-{key}">{spec}</script>'
            )
        parts.append(f'<section id="{key}">\n<h2>{heading}</h2>\n{body}\n</section>')
    name = html.escape(manifest["scenario"]["name"])
    provenance = label(
        lang,
        "provenance",
        code=html.escape(str(manifest.get("code_version"))),
        finished=html.escape(str(manifest.get("finished"))),
        status=html.escape(str(manifest.get("status"))),
    )
    embed_options = {
        "renderer": "svg",
        "actions": False,
        "formatLocale": vlc.get_format_locale(FORMAT_LOCALES[lang]),
    }
    return _PAGE.format(
        lang=lang,
        heading=html.escape(label(lang, "heading_report")),
        name=name,
        created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        summary_heading=html.escape(label(lang, "heading_summary")),
        summary=summary_paragraph(report),
        legend_hint=html.escape(label(lang, "legend_hint")),
        sections="\n".join(parts),
        scenario_heading=html.escape(label(lang, "heading_scenario")),
        scenario_text=html.escape(manifest["scenario"]["text"]),
        manifest_heading=html.escape(label(lang, "heading_manifest")),
        provenance=provenance,
        manifest=html.escape(json.dumps(manifest, indent=2)),
        bundle=inline_script(),
        embed_options=json.dumps(embed_options),
        error=json.dumps(label(lang, "chart_error")),
    )


def _has_label(lang: str, key: str) -> bool:
    try:
        label(lang, key)
    except KeyError:
        return False
    return True


def inline_script() -> str:
    """``<script>`` with Vega, Vega-Lite and vega-embed, for a page that must work offline."""
    return "<script>\n" + javascript_bundle().replace("</script", "<\\/script") + "\n</script>"


@functools.cache
def javascript_bundle() -> str:
    """Vega, Vega-Lite (the version Altair writes specs for) and vega-embed, as one script."""
    from altair.utils._importers import vl_version_for_vl_convert

    return vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())


_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading}: {name}</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0 auto;
         max-width: 1000px; padding: 1.5rem; color: #1a1a1a; line-height: 1.45; }}
  h1 {{ font-size: 1.9rem; margin-bottom: 0.2rem; }}
  h2 {{ font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }}
  .meta {{ color: #555; margin-top: 0; }}
  .summary {{ font-size: 1.15rem; background: #f4f6f8; padding: 1rem 1.2rem;
              border-left: 5px solid #0072B2; }}
  .hint {{ color: #555; font-size: 0.95rem; }}
  .chart {{ overflow-x: auto; }}
  .chart-error {{ color: #b00020; font-weight: bold; }}
  pre {{ background: #f7f7f7; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }}
  table {{ border-collapse: collapse; }} td, th {{ padding: 0.2rem 0.6rem; border-bottom: 1px solid #ddd; }}
  .table-wrap {{ overflow-x: auto; }}
  table.data {{ font-size: 0.84rem; margin: 0.4rem 0; }}
  table.data td, table.data th {{ padding: 0.2rem 0.45rem; }}
  table.data th {{ text-align: left; vertical-align: bottom; background: #f4f6f8; }}
  table.data td {{ vertical-align: top; }}
  table.data td.num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
  table.data td.key {{ font-weight: 600; white-space: nowrap; }}
  td.verdict {{ font-weight: 700; white-space: nowrap; }}
  td.verdict-holds {{ background: #d7efe0; color: #0b5d2a; }}
  td.verdict-fails {{ background: #fbdccc; color: #9a3300; }}
  td.verdict-inconclusive {{ background: #ececec; color: #444; }}
  .table-lead {{ font-weight: 600; }}
  .table-note {{ color: #555; font-size: 0.9rem; max-width: 60rem; }}
</style>
{bundle}
</head>
<body>
<h1>{heading}: {name}</h1>
<p class="meta">{created}</p>
<section id="summary">
<h2>{summary_heading}</h2>
<p class="summary">{summary}</p>
<p class="hint">{legend_hint}</p>
</section>
{sections}
<section id="scenario">
<h2>{scenario_heading}</h2>
<pre>{scenario_text}</pre>
</section>
<section id="manifest">
<h2>{manifest_heading}</h2>
<p>{provenance}</p>
<details><summary>manifest.json</summary><pre>{manifest}</pre></details>
</section>
<script>
(function () {{
  const options = {embed_options};
  const charts = Array.from(document.querySelectorAll("div.chart"));
  const done = charts.map(function (div) {{
    const spec = JSON.parse(document.getElementById("spec-" + div.dataset.chart).textContent);
    return vegaEmbed(div, spec, options)
      .then(function () {{ div.dataset.rendered = "true"; }})
      .catch(function (error) {{
        div.classList.add("chart-error");
        div.textContent = {error} + " " + error;
      }});
  }});
  Promise.all(done).then(function () {{ document.body.dataset.chartsDone = "true"; }});
}})();
</script>
</body>
</html>
"""
