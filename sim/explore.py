"""``loyalty-sim explore [FILE]``: a live "what if" page for a workshop room.

A small HTTP server from the standard library, bound to 127.0.0.1, serves one page with sliders
for the main program parameters and the competitors' offer rate. Moving a slider (the page waits
until it rests for a moment) asks the server to rerun the model (a smallish population, one seed,
a few seconds at most) and the page redraws survival and churn (the report's own chart functions)
and the table of customers lost with the change against the previous run.

For a room, what changes must be what moves: the axes stay fixed for the whole session (survival
from 0 to 100%, churn up to the cap of the first run), the previous run stays as faint dashed
lines, and the table has a change column; a reset button restores the scenario's values. With a
scenario FILE the page runs that file's strategies on its market, with sliders for the programs
it uses (each slider sets its parameter in every strategy that runs the program, like a grid
path); without one, the baseline and three single-program strategies on the default market.
The page inlines Vega, Vega-Lite and vega-embed like the report, so the room needs no network.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl

from sim import defaults
from sim import scenario as scenarios
from sim.charts.churn import axis_cap, churn_chart
from sim.charts.frames import SHARE, mean_ci
from sim.charts.style import FORMAT_LOCALES, StrategyColours, check_language, for_projector, label, percent
from sim.charts.survival import survival_chart
from sim.i18n import display_name, number
from sim.report import fit_screen, inline_script, title_of
from sim.runs import run_strategies

EXPLORE_CUSTOMERS = 5_000  # small enough to rerun four strategies in about a second
EXPLORE_SEED = defaults.SEED
SESSIONS_KEPT = 16  # previous runs remembered, one per open page
DEFAULT_SCENARIO = """\
name = "explore"
months = 60
[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]
lock_in_contract = ["lock_in_contract"]
personal_appreciation = ["personal_appreciation"]
"""


@dataclass(frozen=True)
class Knob:
    """One slider: its query key, labels and unit, range, and the scenario path it sets (a grid
    path, ``programs.<program>.<parameter>`` or ``market...``) with the factor from the slider's
    value to the parameter's (a slider in % sets a share)."""

    key: str
    label_en: str
    label_de: str
    unit_en: str
    unit_de: str
    low: float
    high: float
    step: float
    default: float
    path: str
    factor: float = 1.0

    @property
    def program(self) -> str | None:
        return self.path.split(".")[1] if self.path.startswith("programs.") else None

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_de

    def unit(self, lang: str) -> str:
        return self.unit_en if lang == "en" else self.unit_de

    def read(self, query: dict[str, list[str]], default: float | None = None) -> float:
        raw = query.get(self.key, [str(self.default if default is None else default)])[0]
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{self.key}: expected a number, got '{raw}'") from None
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.key}: expected {self.low:g}..{self.high:g}, got {value:g}")
        return value


END_MONTH = "end_month"  # not a parameter: the month a program stops (``ProgramSpec.end_month``)

KNOBS: tuple[Knob, ...] = (
    Knob("appreciation_contacts_per_year", "Personal contacts per customer", "Persönliche Kontakte je Kunde",
         "a year", "im Jahr", 0.0, 12.0, 0.5, 2.0, "programs.personal_appreciation.contacts_per_year"),
    Knob("reward_percent", "Point card reward", "Punktekarte: Prämie", "% of spend", "% vom Umsatz",
         0.0, 10.0, 0.5, 3.0, "programs.point_card.reward_share_of_spend", 0.01),
    Knob("point_card_end_month", "Point card ends after month", "Punktekarte endet nach Monat",
         "(at the horizon: runs on)", "(am Ende: läuft weiter)", 6, 60, 6, 60,
         f"programs.point_card.{END_MONTH}"),
    Knob("contract_term_months", "Contract term", "Vertragslaufzeit", "months", "Monate", 6, 36, 6, 24,
         "programs.lock_in_contract.term_months"),
    Knob("offers_per_100_customers_month", "Competitor offers", "Konkurrenzangebote",
         "per 100 customers a month", "je 100 Kunden und Monat", 0.0, 20.0, 1.0, 5.0,
         "market.offers.offer_rate_per_month", 0.01),
)


@dataclass
class Explorer:
    """A scenario made explorable: the sliders of the programs it uses, set to its own values."""

    scenario: scenarios.Scenario
    lang: str = "en"
    customers: int = EXPLORE_CUSTOMERS

    def __post_init__(self) -> None:
        check_language(self.lang)
        used = {spec.name for s in self.scenario.strategies.values() for spec in s.programs}
        knobs = [k for k in KNOBS if k.program is None or k.program in used]
        self.knobs = tuple(dataclasses.replace(k, **self._range(k)) for k in knobs)
        months = self.scenario.months  # a program's end runs up to the horizon ("runs on")
        self.knobs = tuple(
            dataclasses.replace(k, high=float(months), default=min(k.default, months))
            if k.path.endswith(f".{END_MONTH}") else k
            for k in self.knobs
        )
        self.defaults = {k.key: k.default for k in self.knobs}

    def _range(self, knob: Knob) -> dict[str, float]:
        """The scenario's own value as the slider's default, the range widened to include it."""
        value = self._scenario_value(knob)
        if value is None:
            return {}
        shown = round(value / knob.factor, 6)
        return {"default": shown, "low": min(knob.low, shown), "high": max(knob.high, shown)}

    def _scenario_value(self, knob: Knob) -> float | None:
        if knob.path.startswith("market."):
            holder: Any = self.scenario.market
            for part in knob.path.split(".")[1:]:
                holder = getattr(holder, part)
            return float(holder)
        from sim.programs import PROGRAMS

        name, parameter = knob.path.split(".")[1:3]
        for strategy in self.scenario.strategies.values():
            for spec in strategy.programs:
                if spec.name == name:
                    if parameter == END_MONTH:
                        return float(spec.end_month - 1) if spec.end_month else float(self.scenario.months)
                    if parameter in spec.params:
                        return float(spec.params[parameter])
                    return float(getattr(PROGRAMS.get(name).Params(), parameter))
        return None

    def values(self, query: dict[str, list[str]]) -> dict[str, float]:
        return {k.key: k.read(query, self.defaults[k.key]) for k in self.knobs}

    def names(self) -> dict[str, str]:
        own = self.scenario.display
        return {n: display_name(n, self.lang, own.get(n, {}).get("label")) for n in self.scenario.strategies}

    def build(self, values: dict[str, float]) -> tuple[Any, dict[str, Any]]:
        """The market and strategies with the sliders' values applied."""
        point = []
        ends: dict[str, int] = {}
        for knob in self.knobs:
            value = values[knob.key] * knob.factor
            if knob.program and knob.path.endswith(f".{END_MONTH}"):
                ends[knob.program] = int(values[knob.key])
                continue
            whole = float(knob.step).is_integer() and knob.factor == 1  # months, counts: integers
            point.append((knob.path, round(value) if whole else value))
        market, strategies, _, months = self.scenario.at(tuple(sorted(point)))
        if ends:
            def ended(spec: Any) -> Any:
                if spec.name not in ends:
                    return spec
                end = ends[spec.name]
                return dataclasses.replace(spec, end_month=None if end >= months else end + 1)

            strategies = {
                name: dataclasses.replace(strategy, programs=tuple(ended(s) for s in strategy.programs))
                for name, strategy in strategies.items()
            }
        return market, strategies

    def simulate(self, values: dict[str, float], before: dict | None = None) -> dict:
        """Run every strategy once on the same seed; the charts (Vega-Lite specs, the previous run
        ``before`` as faint lines, its axes kept), the cohort loss of each strategy and its change."""
        started = time.perf_counter()
        market, strategies = self.build(values)
        names = self.names()
        months = self.scenario.months
        frames, losses = [], []
        for run in run_strategies(list(strategies.values()), market, self.customers, months, [EXPLORE_SEED]):
            code, result = run.strategy.name, run.result
            frames.append(result.monthly.with_columns(strategy=pl.lit(names[code]), replication=pl.lit(0)))
            loss = result.summary()["cohort_loss"]
            losses.append({"key": code, "strategy": names[code], "cohort_loss": loss})
        monthly = pl.concat(frames)
        previous = {row["key"]: row["cohort_loss"] for row in before["losses"]} if before else {}
        for row in losses:
            row["text"] = percent(row["cohort_loss"], self.lang, 1)
            change = (row["cohort_loss"] - previous[row["key"]]) * 100 if row["key"] in previous else None
            row["change"] = "" if change is None else f"{change:+.1f} pp".replace("+0.0", "±0.0")
        baseline = names[self.scenario.baseline]
        shown = tuple(names[c] for c in strategies)
        colours = StrategyColours(shown, baseline, self.lang)
        subtitle = label(self.lang, "explore_subtitle", seed=EXPLORE_SEED)
        # the churn axis of the first run, with room to rise, is kept for the session
        first_cap = axis_cap(mean_ci(monthly, ["strategy", "month"], "churn_rate", SHARE)) * 1.5
        cap = before["cap"] if before else first_cap
        old = before["monthly"] if before else None
        survival = for_projector(survival_chart(monthly, colours, subtitle, previous=old, low=0.0)).to_dict()
        churn = for_projector(churn_chart(monthly, colours, subtitle, previous=old, cap=cap)).to_dict()
        return {
            "survival": fit_screen(survival),
            "churn": fit_screen(churn),
            "titles": {"survival": title_of(survival), "churn": title_of(churn)},
            "losses": losses,
            "seconds": round(time.perf_counter() - started, 2),
            "cap": cap,
            "monthly": monthly,
        }


def default_explorer(lang: str = "en", customers: int = EXPLORE_CUSTOMERS) -> Explorer:
    return Explorer(scenarios.loads(DEFAULT_SCENARIO, file="<explore>"), lang, customers)


def simulate(values: dict[str, float], lang: str = "en", customers: int = EXPLORE_CUSTOMERS) -> dict:
    """One run of the default explorer (no previous run): charts and cohort losses."""
    result = default_explorer(lang, customers).simulate(values)
    result.pop("monthly")
    return result


def make_server(
    port: int,
    lang: str = "en",
    customers: int = EXPLORE_CUSTOMERS,
    scenario: scenarios.Scenario | None = None,
) -> ThreadingHTTPServer:
    """The explorer's server on 127.0.0.1:``port`` (0: a free port); call ``serve_forever``.

    ``/run?<slider>=<value>&...&session=<id>`` reruns the model; the server remembers each
    session's previous run (its lines, losses and churn axis), ``reset=1`` forgets it."""
    explorer = default_explorer(lang, customers) if scenario is None else Explorer(scenario, lang, customers)
    page = render_page(explorer).encode()
    one_run_at_a_time = threading.Lock()  # two presenters dragging sliders must not overload the laptop
    sessions: OrderedDict[str, dict] = OrderedDict()

    def run(query: dict[str, list[str]]) -> dict:
        values = explorer.values(query)
        session = query.get("session", [""])[0][:64]
        with one_run_at_a_time:
            if query.get("reset", ["0"])[0] == "1":
                sessions.pop(session, None)
            result = explorer.simulate(values, sessions.get(session))
            sessions[session] = result
            sessions.move_to_end(session)
            while len(sessions) > SESSIONS_KEPT:
                sessions.popitem(last=False)
        return {k: v for k, v in result.items() if k != "monthly"}

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


def render_page(explorer: Explorer) -> str:

    lang = explorer.lang
    sliders = "\n".join(
        f'<label for="{k.key}">{k.label(lang)}</label>'
        f'<input type="range" id="{k.key}" name="{k.key}" min="{k.low:g}" max="{k.high:g}" '
        f'step="{k.step:g}" value="{k.default:g}" data-default="{k.default:g}">'
        f'<p class="value"><output id="{k.key}-value" for="{k.key}">{k.default:g}</output> '
        f'<span class="unit">{k.unit(lang)}</span></p>'
        for k in explorer.knobs
    )
    return _PAGE.format(
        lang=lang,
        heading=label(lang, "explore_heading"),
        intro=label(lang, "explore_intro", customers=number(explorer.customers, lang),
                    months=explorer.scenario.months),
        sliders=sliders,
        loss_heading=label(lang, "cohort_loss_short"),
        change_heading=label(lang, "explore_change"),
        strategy=label(lang, "strategy"),
        reset=label(lang, "explore_reset"),
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
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading}</title>
<style>
  html {{ font-size: clamp(16px, 1.1vw, 24px); }}
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0;
         padding: 1.5vh 2vw; color: #1a1a1a; box-sizing: border-box; height: 100vh; display: flex;
         flex-direction: column; }}
  h1 {{ font-size: 1.6rem; margin: 0; }}
  .intro {{ margin: 0.2rem 0 0.6rem; color: #333; }}
  .layout {{ display: flex; gap: 2vw; flex: 1 1 0; min-height: 0; }}
  .controls {{ display: flex; flex-direction: column; gap: 0.15rem; flex: 0 0 22rem; overflow-y: auto; }}
  .controls label {{ font-weight: 600; margin-top: 0.4rem; }}
  .controls input {{ width: 100%; }}
  .controls .value {{ margin: 0; }}
  .controls output {{ font-weight: bold; font-size: 1.15rem; }}
  .unit {{ color: #555; }}
  button {{ font-size: 1rem; margin-top: 0.6rem; padding: 0.3rem 0.8rem; align-self: flex-start; }}
  .charts {{ flex: 1 1 0; min-width: 0; display: flex; flex-direction: column; }}
  .charts .chart {{ flex: 1 1 0; min-height: 0; width: 100%; }}
  .charts h2 {{ font-size: 1.25rem; margin: 0.2rem 0 0; }}
  .charts .subtitle {{ margin: 0 0 0.2rem; color: #333; }}
  table {{ border-collapse: collapse; margin-top: 0.8rem; font-size: 1.05rem; }}
  td, th {{ padding: 0.25rem 0.5rem; border-bottom: 1px solid #ddd; text-align: left; }}
  td.number {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
  #status {{ color: #555; min-height: 1.4rem; margin: 0.4rem 0 0; }}
</style>
{bundle}
</head>
<body>
<h1>{heading}</h1>
<p class="intro">{intro}</p>
<div class="layout">
<form class="controls" id="controls" onsubmit="return false">
{sliders}
<button type="button" id="reset">{reset}</button>
<p id="status"></p>
<table id="losses"><thead><tr><th>{strategy}</th><th>{loss_heading}</th><th>{change_heading}</th></tr></thead>
<tbody></tbody></table>
</form>
<div class="charts">
<h2 id="survival-title"></h2><p class="subtitle" id="survival-subtitle"></p>
<div id="survival" class="chart"></div>
<h2 id="churn-title"></h2><p class="subtitle" id="churn-subtitle"></p>
<div id="churn" class="chart"></div>
</div>
</div>
<script>
(function () {{
  const options = {embed_options};
  const form = document.getElementById("controls");
  const status = document.getElementById("status");
  const inputs = Array.from(form.querySelectorAll("input[type=range]"));
  const session = Math.random().toString(36).slice(2);
  const WAIT_MS = 450;  // rerun once a slider has rested this long (arrow keys, dragging)
  let latest = 0, timer = null;
  function fail(error) {{ status.textContent = String(error); document.body.dataset.state = "error"; }}
  function query(reset) {{
    return inputs.map(function (input) {{ return input.id + "=" + encodeURIComponent(input.value); }})
      .concat(["session=" + session, "reset=" + (reset ? 1 : 0)]).join("&");
  }}
  function show(input) {{ document.getElementById(input.id + "-value").textContent = input.value; }}
  function rerun(reset) {{
    const ticket = ++latest;
    status.textContent = {running};
    document.body.dataset.state = "running";
    fetch("/run?" + query(reset)).then(function (response) {{ return response.json(); }})
    .then(function (result) {{
      if (ticket !== latest) return;  // a newer slider position is on its way
      if (result.error) {{ fail(result.error); return; }}
      const body = document.querySelector("#losses tbody");
      body.textContent = "";
      result.losses.forEach(function (row) {{
        const tr = body.insertRow();
        tr.insertCell().textContent = row.strategy;
        const loss = tr.insertCell();
        loss.className = "number"; loss.id = "loss-" + row.key; loss.textContent = row.text;
        const change = tr.insertCell(); change.className = "number"; change.id = "change-" + row.key;
        change.textContent = row.change;
      }});
      ["survival", "churn"].forEach(function (key) {{
        document.getElementById(key + "-title").textContent = result.titles[key][0];
        document.getElementById(key + "-subtitle").textContent = result.titles[key][1];
      }});
      return Promise.all([
        vegaEmbed("#survival", result.survival, options),
        vegaEmbed("#churn", result.churn, options),
      ]).then(function () {{
        status.textContent = {took} + " " + result.seconds + " s";
        document.body.dataset.state = "ready";
      }});
    }}).catch(fail);
  }}
  inputs.forEach(function (input) {{
    input.addEventListener("input", function () {{
      show(input);
      clearTimeout(timer);
      timer = setTimeout(function () {{ rerun(false); }}, WAIT_MS);
    }});
  }});
  document.getElementById("reset").addEventListener("click", function () {{
    inputs.forEach(function (input) {{ input.value = input.dataset.default; show(input); }});
    clearTimeout(timer);
    rerun(true);
  }});
  rerun(true);
}})();
</script>
</body>
</html>
"""
