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
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import polars as pl
import vl_convert as vlc

from sim import scenario as scenarios
from sim.charts.churn import churn_chart
from sim.charts.churn_reasons import churn_reasons_chart
from sim.charts.cohort_loss import cohort_loss_chart
from sim.charts.cost_retained import cost_retained_chart
from sim.charts.cost_split import cost_split_chart
from sim.charts.grid import grid_chart, numeric_grid_columns
from sim.charts.loyalty_types import loyalty_types_chart
from sim.charts.metric import metric_charts, plugin_metrics
from sim.charts.paired import has_paired, paired_chart
from sim.charts.robustness import robustness_chart
from sim.charts.sensitivity import sensitivity_chart
from sim.charts.style import (
    FORMAT_LOCALES,
    LANGUAGES,
    StrategyColours,
    check_language,
    for_projector,
    label,
)
from sim.charts.survival import survival_chart
from sim.errors import OptionError
from sim.i18n import description, display_name, number, percent
from sim.io import write_atomic
from sim.provenance import scenario_of
from sim.results import Results, ResultsError, load, read_frame
from sim.seeds import point_text
from sim.tables import Html
from sim.tables.claims import claims_table
from sim.tables.comparison import result_order, return_on_spend
from sim.tables.comparison import rows as comparison_rows
from sim.tables.decisions import recommendation
from sim.tables.economics import economics_table
from sim.tables.lifetime import lifetime_table
from sim.tables.strategies import strategies_table

FORMATS: tuple[str, ...] = ("html", "png", "svg")
PNG_SCALE = 2  # pixels per CSS pixel: sharp on a projector and on a slide


@dataclass(frozen=True)
class ReportInput:
    """What sections draw from: the results, the scenario, and the frames at the shown grid point.

    Every section shows one grid point (the first) except the grid chart, which shows all of them.
    Strategies are named as people read them: the frames' ``strategy`` and ``baseline`` columns
    hold display names (``sim.i18n.display_name``: the scenario's label in the report's language,
    the built-in name, or a readable version of the code name).
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
    def codes(self) -> list[str]:
        """The strategies' code names in file order."""
        return self.results.summary["strategy"].unique(maintain_order=True).to_list()

    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Display name of each strategy's code name (unique: a clash keeps the code in brackets)."""
        own = self.scenario.display
        names = {c: display_name(c, self.lang, own.get(c, {}).get("label")) for c in self.codes}
        clashes = {n for n in names.values() if list(names.values()).count(n) > 1}
        return {c: f"{n} ({c})" if n in clashes else n for c, n in names.items()}

    def named(self, frame: pl.DataFrame) -> pl.DataFrame:
        columns = [c for c in ("strategy", "baseline") if c in frame.columns]
        return frame.with_columns(pl.col(c).replace_strict(self.names, default=pl.col(c)) for c in columns)

    @functools.cached_property
    def colours(self) -> StrategyColours:
        order = tuple(self.names[c] for c in result_order(self.at_point(self.results.summary)))
        return StrategyColours(tuple(self.names[c] for c in self.codes), self.baseline, self.lang, order)

    @property
    def baseline(self) -> str:
        return self.names[self.results.summary["baseline"][0]]

    @functools.cached_property
    def months(self) -> int:
        return int(self.results.monthly["month"].max())

    def at_point(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("point") == self.point)

    @functools.cached_property
    def summary(self) -> pl.DataFrame:
        return self.named(self.at_point(self.results.summary))

    @functools.cached_property
    def all_points(self) -> pl.DataFrame:
        return self.named(self.results.summary)

    @functools.cached_property
    def monthly(self) -> pl.DataFrame:
        return self.named(self.at_point(self.results.monthly))

    @functools.cached_property
    def runs(self) -> pl.DataFrame:
        return self.named(self.at_point(self.results.runs).filter(pl.col("status") == "done"))


SectionContent = alt.TopLevelMixin | Html | None


@dataclass(frozen=True)
class Section:
    key: str
    build: Callable[[ReportInput], SectionContent]
    needs: str | None = None  # a file in the results directory; the section is skipped without it


def _plugin_metrics(report: ReportInput) -> SectionContent:
    """One chart per monthly reporter of the sweep's plugins (``sim.api.Reporter``), if any."""
    columns = plugin_metrics(report.monthly)
    if not columns:
        return None
    from sim.behaviours import BEHAVIOURS
    from sim.plugins import reporter_units
    from sim.programs import PROGRAMS

    units = reporter_units(PROGRAMS, BEHAVIOURS)
    return metric_charts(report.monthly, columns, report.colours, units)


def _read(report: ReportInput, name: str) -> pl.DataFrame:
    """A file an analysis wrote into the results directory (``claims.parquet``, ...)."""
    command = name.removesuffix(".parquet")
    return read_frame(
        report.results.path / name,
        f"run `loyalty-sim {command} ... --out {report.results.path}` again to rewrite it, or delete it",
    )


def decision_file(report: ReportInput, name: str) -> dict | None:
    """``optimisation.json`` or ``robustness.json``: in the results folder, else beside the swept
    scenario file (``loyalty-sim optimise`` writes ``front.toml`` next to its own), if it speaks
    of this sweep's strategies (the recommended one, or one it tested); None otherwise."""
    recorded = Path(str(report.results.manifest["scenario"].get("file") or ""))
    for folder in (report.results.path, recorded.parent if recorded.name else None):
        if folder is None or not (folder / name).is_file():
            continue
        try:
            found = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if isinstance(found, dict) and _speaks_of(found, set(report.codes)):
            return found
    return None


def _speaks_of(summary: dict, strategies: set[str]) -> bool:
    if isinstance(summary.get("winner"), dict):
        return summary["winner"].get("name") in strategies
    return any(row.get("strategy") in strategies for row in summary.get("strategies") or [])


def _decision(report: ReportInput) -> Html | None:
    sentences = recommendation(
        decision_file(report, "optimisation.json"),
        decision_file(report, "robustness.json"),
        report.lang,
        report.names,
    )
    if not sentences:
        return None
    # the recommendation (or the robustness verdict) in the summary's box, the evidence under it
    lead, *rest = sentences
    return Html(
        f'<p class="summary">{html.escape(lead)}</p>\n'
        + "\n".join(f'<p class="decision">{html.escape(s)}</p>' for s in rest)
    )


def _robustness(report: ReportInput) -> SectionContent:
    summary = decision_file(report, "robustness.json")
    return robustness_chart(summary, report.lang, report.names) if summary else None


def _strategies(report: ReportInput) -> Html:
    own = report.scenario.display
    return strategies_table(
        [
            (report.names[c], description(c, report.lang, own.get(c, {}).get("description")), c,
             report.colours.colour_of(report.names[c]))
            for c in result_order(report.at_point(report.results.summary))
        ],
        report.lang,
    )


SECTIONS: tuple[Section, ...] = (
    Section("decision", lambda r: _decision(r)),
    Section("strategies", _strategies),
    Section("survival", lambda r: survival_chart(r.monthly, r.colours)),
    Section("churn", lambda r: churn_chart(r.monthly, r.colours)),
    Section("cohort_loss", lambda r: cohort_loss_chart(r.summary, r.colours, r.months)),
    Section("churn_reasons", lambda r: churn_reasons_chart(r.runs, r.colours)),
    Section("loyalty_types", lambda r: loyalty_types_chart(r.monthly, r.colours)),
    Section("cost_retained", lambda r: cost_retained_chart(r.summary, r.colours, r.scenario.customers)),
    Section(
        "grid", lambda r: grid_chart(r.all_points, r.colours) if numeric_grid_columns(r.all_points) else None
    ),
    Section("paired", lambda r: paired_chart(r.all_points, r.colours) if has_paired(r.all_points) else None),
    Section("plugin_metrics", _plugin_metrics),
    Section("lifetime", lambda r: lifetime_table(r.monthly, r.lang, r.colours.domain)),
    Section("cost_split", lambda r: cost_split_chart(r.summary, r.colours, r.months)),
    Section("economics", lambda r: economics_table(r.summary, r.lang)),
    Section("claims", lambda r: claims_table(_read(r, "claims.parquet"), r.lang), needs="claims.parquet"),
    Section(
        "sensitivity",
        lambda r: sensitivity_chart(_read(r, "sensitivity.parquet"), r.lang),
        needs="sensitivity.parquet",
    ),
    Section("robustness", lambda r: _robustness(r)),
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


def previous_language(out: str | Path) -> str | None:
    """The language of the ``report.html`` already in ``out`` (``<html lang="..">``), if any."""
    try:
        head = (Path(out) / "report.html").read_text(encoding="utf-8")[:200]
    except OSError:
        return None
    found = re.search(r'<html lang="([a-z]+)"', head)
    return found.group(1) if found and found.group(1) in LANGUAGES else None


def build_report(
    results_dir: str | Path,
    out: str | Path | None = None,
    lang: str | None = None,
    formats: Sequence[str] = FORMATS,
    sections: Sequence[Section] = SECTIONS,
) -> ReportFiles:
    """Write ``report.html`` and ``charts/<nn>-<key>.png|svg`` for a sweep's results to ``out``
    (default: the results directory). Every file is written atomically. Without ``lang`` the
    report keeps the language of the one it replaces (English for a first report)."""
    lang = check_language(lang or previous_language(out if out is not None else results_dir) or "en")
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
    built, notes = _build_sections(report, sections)
    images = []
    if {"png", "svg"} & set(formats):
        (out / "charts").mkdir(exist_ok=True)
        locale = vlc.get_format_locale(FORMAT_LOCALES[lang])
        for position, (key, spec) in enumerate(built.items(), start=1):
            if isinstance(spec, Html):
                continue
            if "png" in formats:
                png = vlc.vegalite_to_png(spec, scale=PNG_SCALE, format_locale=locale)
                images.append(_write(out / "charts" / f"{position:02d}-{key}.png", png))
            if "svg" in formats:
                svg = vlc.vegalite_to_svg(spec, format_locale=locale)
                images.append(_write(out / "charts" / f"{position:02d}-{key}.svg", svg.encode()))
    page = None
    if "html" in formats:
        page = _write(out / "report.html", render_html(report, built, notes).encode())
    return ReportFiles(page, tuple(images))


def _build_sections(
    report: ReportInput, sections: Sequence[Section]
) -> tuple[dict[str, dict | Html], dict[str, str]]:
    """Each section's Vega-Lite spec (or HTML), by key, sections without input left out; and a
    warning per section whose analysis file was made for another scenario."""
    built: dict[str, dict | Html] = {}
    notes: dict[str, str] = {}
    for section in sections:
        if section.needs and not (report.results.path / section.needs).exists():
            continue
        content = section.build(report)
        if content is None:
            continue
        built[section.key] = content if isinstance(content, Html) else for_projector(content).to_dict()
        if section.needs:
            note = _analysis_note(report, section.needs)
            if note:
                notes[section.key] = note
    return built, notes


def _analysis_note(report: ReportInput, name: str) -> str | None:
    """A warning when an analysis file was not made for this sweep's scenario (its stamp differs,
    or it has none), else ``None``."""
    stamped = scenario_of(report.results.path / name)
    own = report.results.manifest["scenario"]["sha256"]
    if stamped == own:
        return None
    key = "analysis_unstamped" if stamped is None else "analysis_other_scenario"
    return label(report.lang, key, file=name, hash=(stamped or "")[:12], own=own[:12])


def _write(path: Path, data: bytes) -> Path:
    write_atomic(path, lambda tmp: tmp.write_bytes(data))
    return path


# --- the summary paragraph ------------------------------------------------------------------


def summary_paragraph(report: ReportInput) -> str:
    """One paragraph (HTML) from the comparison table: the strategy that kept the most initial
    customers, its loss and its paired difference to the baseline with the 95% CI; then the money
    side: what it spent beyond the baseline, its lifetime value against the baseline's, and which
    strategy has the highest lifetime value (often not the one that keeps the most customers)."""
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
        "customers": number(report.scenario.customers, lang),
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
    text += _money(report, best)
    if report.has_grid:
        text += " " + label(lang, "summary_grid", point=html.escape(_point_text(report.point)))
    return text


def _money(report: ReportInput, best: dict) -> str:
    """The money side of the summary; empty for results without lifetime values."""
    lang, summary = report.lang, report.summary
    if "clv_mean" not in summary.columns:
        return ""
    rows = {r["strategy"]: r for r in summary.iter_rows(named=True)}
    base = rows.get(report.baseline)
    richest = summary.sort("clv_mean", descending=True).row(0, named=True)
    text = ""
    if base is not None and best["strategy"] != report.baseline:
        text += " " + label(
            lang,
            "summary_money",
            best=_strong(best["strategy"]),
            baseline=_strong(report.baseline),
            extra=number((best["program_cost_mean"] - base["program_cost_mean"]) / 1e3, lang, 0),
            clv=number(best["clv_mean"], lang, 0),
            baseline_clv=number(base["clv_mean"], lang, 0),
            ros=html.escape(return_on_spend(best, base, lang)[0]),
        )
    if richest["strategy"] == best["strategy"]:
        text += " " + label(lang, "summary_money_same", best=_strong(best["strategy"]))
    else:
        text += " " + label(
            lang,
            "summary_money_top",
            top=_strong(richest["strategy"]),
            clv=number(richest["clv_mean"], lang, 0),
            loss=percent(richest["cohort_loss_mean"], lang, 1),
        )
    return text


def _strong(text: str) -> str:
    return f"<strong>{html.escape(text)}</strong>"


def _local(text: str, lang: str) -> str:
    """Decimal commas in German; interval bounds then separated by a semicolon."""
    return html.escape(text if lang == "en" else text.replace(", ", "; ").replace(".", ","))


def _point_text(point: str) -> str:
    return point_text(point, " = ")


# --- the page ---------------------------------------------------------------------------------


def fit_screen(spec: dict) -> dict:
    """The spec as report.html draws it: as wide and as tall as its box on the screen (single and
    layered charts; panels keep their sizes), its title taken out for the page to show as HTML."""
    spec = dict(spec)
    spec.pop("title", None)
    if "facet" not in spec and "hconcat" not in spec and "vconcat" not in spec:
        spec.update(width="container", height="container", autosize={"type": "fit", "contains": "padding"})
    return spec


def title_of(spec: dict) -> tuple[str, str]:
    """A spec's title and subtitle, as text."""
    heading = spec.get("title") or {}
    if isinstance(heading, str):
        return heading, ""
    text = heading.get("text", "")
    return (" ".join(text) if isinstance(text, list) else text), heading.get("subtitle", "") or ""


def render_html(
    report: ReportInput, sections: dict[str, dict | Html], notes: dict[str, str] | None = None
) -> str:
    """The whole page as one string: styles, the inlined JS bundle, sections, provenance.

    Presentation mode: every section fills the screen (its chart takes the height left under its
    title), the page snaps from section to section, and the arrow keys, Page Up/Down, space and
    ``j``/``k`` step to the next or previous one; ``f`` asks for full screen."""
    lang = report.lang
    notes = notes or {}
    manifest = report.results.manifest
    parts = []
    for position, (key, content) in enumerate(sections.items(), start=1):
        # numbered as they appear (sections without input are left out), like the image files
        name = label(lang, f"heading_{key}") if _has_label(lang, f"heading_{key}") else key
        kicker = html.escape(f"{position}. {name}")
        warning = f'<p class="warning">{html.escape(notes[key])}</p>\n' if key in notes else ""
        if isinstance(content, Html):
            body = f'<h2>{kicker}</h2>\n{warning}<div class="table-slide">{content.text}</div>'
            kind = "table"
        else:
            heading, subtitle = title_of(content)
            spec = json.dumps(fit_screen(content), separators=(",", ":")).replace("</", "<\\/")
            body = (
                f'<p class="kicker">{kicker}</p>\n<h2>{html.escape(heading)}</h2>\n'
                f'<p class="subtitle">{html.escape(subtitle)}</p>\n{warning}'
                f'<div class="chart" id="chart-{key}" data-chart="{key}"></div>\n'
                f'<script type="application/json" id="spec-{key}">{spec}</script>'
            )
            kind = "chart"
        parts.append(f'<section id="{key}" class="slide {kind}">\n{body}\n</section>')
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
        description=_described(report.scenario.description),
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


def _described(text: str) -> str:
    """The scenario's description before the date, or nothing."""
    return f"{html.escape(text)} &middot; " if text else ""


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
  /* Presentation mode: one section per screen, type that reads from the back of a room. */
  html {{ scroll-snap-type: y proximity; font-size: clamp(17px, 1.2vw, 26px); }}
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0;
         color: #1a1a1a; line-height: 1.4; }}
  .slide, header.slide {{ box-sizing: border-box; min-height: 100vh; padding: 2.5vh 3vw 2vh;
                          scroll-snap-align: start; display: flex; flex-direction: column; }}
  h1 {{ font-size: 2.4rem; margin: 0 0 0.3rem; }}
  h2 {{ font-size: 1.55rem; margin: 0 0 0.2rem; line-height: 1.25; }}
  .kicker {{ color: #555; margin: 0; font-size: 0.95rem; text-transform: uppercase; letter-spacing: 0.04em; }}
  .subtitle {{ color: #333; margin: 0 0 0.6rem; font-size: 1.05rem; }}
  .meta {{ color: #555; margin-top: 0; }}
  .summary {{ font-size: 1.25rem; background: #f4f6f8; padding: 1rem 1.4rem;
              border-left: 6px solid #1a1a1a; max-width: 75rem; }}
  .decision {{ font-size: 1.15rem; max-width: 75rem; margin: 0.5rem 0; }}
  .hint {{ color: #555; font-size: 0.95rem; }}
  .slide.chart {{ height: 100vh; }}  /* the chart takes what its title leaves of the screen */
  .chart {{ flex: 1 1 0; min-height: 0; width: 100%; }}
  .chart-error {{ color: #b00020; font-weight: bold; }}
  .warning {{ background: #fff3cd; border-left: 6px solid #1a1a1a; padding: 0.4rem 0.8rem;
              margin: 0.3rem 0; }}
  pre {{ background: #f7f7f7; padding: 0.8rem; overflow-x: auto; font-size: 0.75rem; }}
  table {{ border-collapse: collapse; }} td, th {{ padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; }}
  .table-wrap {{ overflow-x: auto; }}
  table.data {{ font-size: 1rem; margin: 0.4rem 0; }}
  table.data td, table.data th {{ padding: 0.3rem 0.6rem; }}
  table.data th {{ text-align: left; vertical-align: bottom; background: #f4f6f8; }}
  table.data td {{ vertical-align: top; }}
  table.data td.num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
  /* a narrow screen (a 1024 px projector): numbers may wrap, before their intervals only */
  @media (max-width: 1400px) {{ table.data td.num {{ white-space: normal; }} }}
  table.data td.key {{ font-weight: 600; white-space: nowrap; }}
  table.data td.code {{ font-family: ui-monospace, monospace; color: #555; font-size: 0.85rem; }}
  .swatch {{ display: inline-block; width: 1.4rem; height: 0.5rem; margin-right: 0.5rem;
             vertical-align: middle; border-radius: 2px; }}
  /* verdicts: shades and symbols, no hue (hues mean strategies) */
  td.verdict {{ font-weight: 700; white-space: nowrap; }}
  td.verdict-holds {{ background: #1a1a1a; color: #fff; }}
  td.verdict-fails {{ background: #d9d9d9; color: #1a1a1a; text-decoration: line-through; }}
  td.verdict-inconclusive {{ background: #fff; color: #555; font-style: italic; }}
  .table-lead {{ font-weight: 600; }}
  .table-note {{ color: #555; font-size: 0.9rem; max-width: 70rem; }}
  @media print {{ .slide {{ min-height: auto; break-after: page; }} .chart {{ height: 60vh; }} }}
</style>
{bundle}
</head>
<body>
<header class="slide" id="summary">
<h1>{heading}: {name}</h1>
<p class="meta">{description}{created}</p>
<h2>{summary_heading}</h2>
<p class="summary">{summary}</p>
<p class="hint">{legend_hint}</p>
</header>
{sections}
<section id="scenario" class="slide">
<h2>{scenario_heading}</h2>
<pre>{scenario_text}</pre>
</section>
<section id="manifest" class="slide">
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
  // keyboard: next / previous screen, as with slides
  const slides = Array.from(document.querySelectorAll(".slide"));
  function current() {{
    const middle = window.innerHeight / 3;
    let index = 0;
    slides.forEach(function (slide, i) {{ if (slide.getBoundingClientRect().top <= middle) index = i; }});
    return index;
  }}
  function go(step) {{
    const target = slides[Math.max(0, Math.min(slides.length - 1, current() + step))];
    target.scrollIntoView({{block: "start"}});
    document.body.dataset.slide = target.id;
  }}
  document.addEventListener("keydown", function (event) {{
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const next = ["ArrowRight", "ArrowDown", "PageDown", " ", "j", "n"];
    const back = ["ArrowLeft", "ArrowUp", "PageUp", "k", "p"];
    if (next.includes(event.key)) {{ event.preventDefault(); go(event.shiftKey ? -1 : 1); }}
    else if (back.includes(event.key)) {{ event.preventDefault(); go(-1); }}
    else if (event.key === "Home") {{ event.preventDefault(); slides[0].scrollIntoView(); }}
    else if (event.key === "End") {{ event.preventDefault(); slides[slides.length - 1].scrollIntoView(); }}
    else if (event.key === "f" && document.documentElement.requestFullscreen) {{
      document.documentElement.requestFullscreen();
    }}
  }});
}})();
</script>
</body>
</html>
"""
