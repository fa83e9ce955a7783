"""``loyalty-sim explore``: a live "what if" page for a workshop room.

A small HTTP server from the standard library, bound to 127.0.0.1, serves one page with sliders
for the main program parameters. Releasing a slider asks the server to rerun the model (a
smallish population, one seed, a few seconds at most) and the page redraws survival and churn
(the report's own chart functions) and the table of customers lost. The page inlines Vega,
Vega-Lite and vega-embed like the report, so the room needs no network.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import polars as pl

from sim import defaults
from sim.charts.churn import churn_chart
from sim.charts.style import FORMAT_LOCALES, StrategyColours, check_language, for_projector, label, percent
from sim.charts.survival import survival_chart
from sim.market import Market
from sim.runs import run_strategies
from sim.strategy import BASELINE, ProgramSpec, Strategy

EXPLORE_CUSTOMERS = 5_000  # small enough to rerun four strategies in about a second
EXPLORE_MONTHS = defaults.MONTHS
EXPLORE_SEED = defaults.SEED


@dataclass(frozen=True)
class Knob:
    """One slider: its query key, labels, range and default (the model's default)."""

    key: str
    label_en: str
    label_de: str
    low: float
    high: float
    step: float
    default: float

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_de

    def read(self, query: dict[str, list[str]]) -> float:
        raw = query.get(self.key, [str(self.default)])[0]
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{self.key}: expected a number, got '{raw}'") from None
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.key}: expected {self.low:g}..{self.high:g}, got {value:g}")
        return value


KNOBS: tuple[Knob, ...] = (
    Knob(
        "appreciation_contacts_per_year",
        "Personal contacts per customer and year",
        "Persönliche Kontakte je Kunde und Jahr",
        0.0,
        12.0,
        0.5,
        2.0,
    ),
    Knob(
        "reward_percent",
        "Point card reward (% of spend)",
        "Punktekarte: Prämie (% vom Umsatz)",
        0.0,
        10.0,
        0.5,
        3.0,
    ),
    Knob(
        "point_card_end_month",
        "Point card ends after month (60 = runs on)",
        "Punktekarte endet nach Monat (60 = läuft weiter)",
        6,
        60,
        6,
        60,
    ),
    Knob("contract_term_months", "Contract term (months)", "Vertragslaufzeit (Monate)", 6, 36, 6, 24),
    Knob(
        "offers_per_100_customers_month",
        "Competitor offers per 100 customers and month",
        "Konkurrenzangebote je 100 Kunden und Monat",
        0.0,
        20.0,
        1.0,
        5.0,
    ),
)


def strategies_for(values: dict[str, float]) -> tuple[Strategy, ...]:
    """The baseline and one strategy per slider-driven program, with the sliders' values."""
    end = int(values["point_card_end_month"])
    return (
        Strategy(BASELINE, (ProgramSpec("rare_contact"),)),
        Strategy(
            "point_card",
            (
                ProgramSpec(
                    "point_card",
                    {"reward_share_of_spend": values["reward_percent"] / 100},
                    end_month=None if end >= EXPLORE_MONTHS else end + 1,
                ),
            ),
        ),
        Strategy(
            "lock_in_contract",
            (ProgramSpec("lock_in_contract", {"term_months": int(values["contract_term_months"])}),),
        ),
        Strategy(
            "personal_appreciation",
            (
                ProgramSpec(
                    "personal_appreciation", {"contacts_per_year": values["appreciation_contacts_per_year"]}
                ),
            ),
        ),
    )


def simulate(values: dict[str, float], lang: str = "en", customers: int = EXPLORE_CUSTOMERS) -> dict:
    """Run every strategy once on the same seed and return the charts (Vega-Lite specs) and the
    cohort loss of each strategy, ready for the page."""
    started = time.perf_counter()
    market = Market()
    market = dataclasses.replace(
        market,
        offers=dataclasses.replace(
            market.offers, offer_rate_per_month=values["offers_per_100_customers_month"] / 100
        ),
    )
    strategies = strategies_for(values)
    frames, losses = [], []
    for run in run_strategies(strategies, market, customers, EXPLORE_MONTHS, seeds=[EXPLORE_SEED]):
        strategy, result = run.strategy, run.result
        frames.append(result.monthly.with_columns(strategy=pl.lit(strategy.name), replication=pl.lit(0)))
        loss = result.summary()["cohort_loss"]
        losses.append({"strategy": strategy.name, "cohort_loss": loss, "text": percent(loss, lang, 1)})
    monthly = pl.concat(frames)
    colours = StrategyColours(tuple(s.name for s in strategies), BASELINE, lang)
    subtitle = label(lang, "explore_subtitle", seed=EXPLORE_SEED)
    return {
        "survival": for_projector(survival_chart(monthly, colours, subtitle)).to_dict(),
        "churn": for_projector(churn_chart(monthly, colours, subtitle)).to_dict(),
        "losses": losses,
        "seconds": round(time.perf_counter() - started, 2),
    }


def make_server(port: int, lang: str = "en", customers: int = EXPLORE_CUSTOMERS) -> ThreadingHTTPServer:
    """The explorer's server on 127.0.0.1:``port`` (0: a free port); call ``serve_forever``."""
    check_language(lang)
    page = render_page(lang).encode()
    one_run_at_a_time = threading.Lock()  # two presenters dragging sliders must not overload the laptop

    def run(query: dict[str, list[str]]) -> dict:
        values = {knob.key: knob.read(query) for knob in KNOBS}
        with one_run_at_a_time:
            return simulate(values, lang, customers)

    server = _QuietServer(("127.0.0.1", port), _handler(page, run))
    server.daemon_threads = True
    return server


ALLOWED_HOSTS = ("127.0.0.1", "localhost")


class _QuietServer(ThreadingHTTPServer):
    """A browser that closes a tab or reloads mid-response is no error for the presenter's screen."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # reset, broken pipe, aborted
            super().handle_error(request, client_address)


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a request's Host header names this server: ``localhost`` or ``127.0.0.1``, with
    its port or none. Anything else is a page elsewhere that rebinds its DNS name to 127.0.0.1
    to drive the model (DNS rebinding)."""
    if not host:
        return False
    host = host.strip().lower()
    name, colon, given = host.rpartition(":")
    if not colon:
        name, given = host, ""
    return name in ALLOWED_HOSTS and given in ("", str(port))


def _handler(page: bytes, run: Callable[[dict[str, list[str]]], dict]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if not host_allowed(self.headers.get("Host"), self.server.server_address[1]):
                self._send(403, "text/plain", b"forbidden: open the page at http://127.0.0.1:<port>/")
            elif url.path == "/":
                self._send(200, "text/html; charset=utf-8", page)
            elif url.path == "/run":
                try:
                    body, status = run(parse_qs(url.query)), 200
                except ValueError as error:
                    body, status = {"error": str(error)}, 400
                self._send(status, "application/json", json.dumps(body).encode())
            else:
                self._send(404, "text/plain", b"not found")

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: the terminal is the presenter's
            pass

    return Handler


def render_page(lang: str) -> str:
    from sim.report import inline_script

    sliders = "\n".join(
        f'<label for="{k.key}">{k.label(lang)}</label>'
        f'<input type="range" id="{k.key}" name="{k.key}" min="{k.low:g}" max="{k.high:g}" '
        f'step="{k.step:g}" value="{k.default:g}">'
        f'<output id="{k.key}-value" for="{k.key}">{k.default:g}</output>'
        for k in KNOBS
    )
    return _PAGE.format(
        lang=lang,
        heading=label(lang, "explore_heading"),
        intro=label(lang, "explore_intro", customers=f"{EXPLORE_CUSTOMERS:,}", months=EXPLORE_MONTHS),
        sliders=sliders,
        loss_heading=label(lang, "cohort_loss_short"),
        strategy=label(lang, "strategy"),
        running=json.dumps(label(lang, "explore_running")),
        took=json.dumps(label(lang, "explore_took")),
        bundle=inline_script(),
        embed_options=json.dumps({"renderer": "svg", "actions": False, "formatLocale": _format_locale(lang)}),
    )


def _format_locale(lang: str) -> dict:
    import vl_convert

    return vl_convert.get_format_locale(FORMAT_LOCALES[lang])


_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{heading}</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 1rem 2rem;
         color: #1a1a1a; }}
  .layout {{ display: flex; gap: 2rem; align-items: flex-start; }}
  .controls {{ display: grid; grid-template-columns: 1fr; gap: 0.2rem; min-width: 300px; max-width: 320px;
              font-size: 1rem; }}
  .controls input {{ width: 100%; }}
  .controls output {{ font-weight: bold; margin-bottom: 0.8rem; }}
  table {{ border-collapse: collapse; margin-top: 1rem; font-size: 1.05rem; }}
  td, th {{ padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; }}
  td.number {{ text-align: right; font-variant-numeric: tabular-nums; }}
  #status {{ color: #555; min-height: 1.4rem; }}
</style>
{bundle}
</head>
<body>
<h1>{heading}</h1>
<p>{intro}</p>
<div class="layout">
<form class="controls" id="controls" onsubmit="return false">
{sliders}
<p id="status"></p>
<table id="losses"><thead><tr><th>{strategy}</th><th>{loss_heading}</th></tr></thead><tbody></tbody></table>
</form>
<div><div id="survival"></div><div id="churn"></div></div>
</div>
<script>
(function () {{
  const options = {embed_options};
  const form = document.getElementById("controls");
  const status = document.getElementById("status");
  let latest = 0;
  function fail(error) {{ status.textContent = String(error); document.body.dataset.state = "error"; }}
  function query() {{
    return Array.from(form.querySelectorAll("input[type=range]"))
      .map(function (input) {{ return input.id + "=" + encodeURIComponent(input.value); }}).join("&");
  }}
  function rerun() {{
    const ticket = ++latest;
    status.textContent = {running};
    document.body.dataset.state = "running";
    fetch("/run?" + query()).then(function (response) {{ return response.json(); }}).then(function (result) {{
      if (ticket !== latest) return;  // a newer slider position is on its way
      if (result.error) {{ fail(result.error); return; }}
      const rows = result.losses.map(function (row) {{
        return "<tr><td>" + row.strategy + "</td><td class=number id=\\"loss-" + row.strategy + "\\">" +
          row.text + "</td></tr>";
      }});
      document.querySelector("#losses tbody").innerHTML = rows.join("");
      return Promise.all([
        vegaEmbed("#survival", result.survival, options),
        vegaEmbed("#churn", result.churn, options),
      ]).then(function () {{
        status.textContent = {took} + " " + result.seconds + " s";
        document.body.dataset.state = "ready";
      }});
    }}).catch(fail);
  }}
  form.querySelectorAll("input[type=range]").forEach(function (input) {{
    input.addEventListener("input", function () {{
      document.getElementById(input.id + "-value").textContent = input.value;
    }});
    input.addEventListener("change", rerun);
  }});
  rerun();
}})();
</script>
</body>
</html>
"""
