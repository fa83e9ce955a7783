"""``loyalty-sim explore``: the what-if server, started as a presenter starts it, driven in
headless Chromium: moving a slider reruns the model and changes the numbers on the page."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sim.explore import KNOBS, Explorer, make_server, render_page, simulate
from sim.scenario import loads as load_text

_SCRIPT = Path(sys.executable).with_name("loyalty-sim")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from sim.cli import main; main()"]
DEFAULTS = {knob.key: knob.default for knob in KNOBS}
SCENARIO = """\
months = 24
baseline = "base"
[market.offers]
offer_rate_per_month = 0.08
[strategies]
base = {programs = ["rare_contact"], label = {en = "Base", de = "Basis"}}
cards = {programs = [{program = "point_card", end_month = 13}], label = {en = "Cards", de = "Karten"}}
[strategies.warmth]
programs = [{program = "personal_appreciation", params = {contacts_per_year = 6.0}}]
label = {de = "Wärme"}
"""


def test_simulate_returns_both_charts_and_a_loss_per_strategy():
    result = simulate(DEFAULTS, customers=500)
    assert [row["key"] for row in result["losses"]] == [
        "rare_contact",
        "point_card",
        "lock_in_contract",
        "personal_appreciation",
    ]
    assert result["losses"][0]["strategy"] == "One-night brand"  # names for people
    assert all(0 <= row["cohort_loss"] <= 1 for row in result["losses"])
    assert result["survival"]["layer"][1]["mark"]["type"] == "line"
    assert result["churn"]["layer"][0]["mark"]["type"] == "line"
    assert result["survival"]["width"] == "container"  # the charts grow with the window


def test_a_slider_changes_the_outcome():
    generous = simulate({**DEFAULTS, "appreciation_contacts_per_year": 12.0}, customers=500)
    none = simulate({**DEFAULTS, "appreciation_contacts_per_year": 0.0}, customers=500)
    loss = {
        name: {r["key"]: r["cohort_loss"] for r in result["losses"]}
        for name, result in (("generous", generous), ("none", none))
    }
    assert loss["generous"]["personal_appreciation"] < loss["none"]["personal_appreciation"]
    assert loss["generous"]["rare_contact"] == loss["none"]["rare_contact"]  # the same customers and seed


def test_the_previous_run_stays_with_fixed_axes_and_a_change_column():
    explorer = Explorer(load_text(SCENARIO), customers=400)
    first = explorer.simulate(explorer.defaults)
    # Fewer contacts than the file's 6 a year (staff capacity, 3 a year, binds above it): more lost.
    again = explorer.simulate({**explorer.defaults, "appreciation_contacts_per_year": 1.0}, first)
    assert again["cap"] == first["cap"]  # the churn axis of the first run, for the whole session
    assert again["survival"]["layer"][0]["mark"]["strokeDash"]  # the previous run, faint and dashed
    survival_axis = [layer["encoding"]["y"].get("scale") for layer in again["survival"]["layer"][1:2]]
    assert survival_axis[0]["domain"] == [0.0, 1.0]
    changes = {row["key"]: row["change"] for row in again["losses"]}
    assert changes["cards"] == "±0.0 pp" and changes["warmth"] != "±0.0 pp"  # only the moved program
    assert {row["key"]: row["change"] for row in first["losses"]}["cards"] == ""  # nothing to compare


def test_a_scenario_file_brings_its_strategies_market_and_values():
    explorer = Explorer(load_text(SCENARIO), lang="de", customers=400)
    keys = [knob.key for knob in explorer.knobs]
    assert "contract_term_months" not in keys  # no strategy runs a contract: no slider for it
    assert explorer.defaults["appreciation_contacts_per_year"] == 6.0  # the file's value
    assert explorer.defaults["offers_per_100_customers_month"] == pytest.approx(8.0)
    assert explorer.defaults["point_card_end_month"] == 12  # the file ends the card after month 12
    result = explorer.simulate(explorer.defaults)
    assert [row["strategy"] for row in result["losses"]] == ["Basis", "Karten", "Wärme"]
    units = render_page(explorer)
    assert "im Jahr" in units and "Auf die Werte des Szenarios" in units


@pytest.fixture
def explorer():
    """The explorer's server on a free port, in a thread of this process."""
    server = make_server(0, customers=1_000)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_server_listens_on_localhost_only_and_refuses_bad_values(explorer):
    host, port = explorer.server_address[:2]
    assert host == "127.0.0.1"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/run?reward_percent=50", timeout=60)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["error"] == "reward_percent: expected 0..10, got 50"


def test_moving_a_slider_changes_the_numbers_on_the_page(explorer, offline_page, screenshots):
    page = offline_page
    page.goto(f"http://127.0.0.1:{explorer.server_address[1]}/")
    page.wait_for_selector("body[data-state=ready]", timeout=60_000)
    before = page.inner_text("#loss-personal_appreciation")
    rare_before = page.inner_text("#loss-rare_contact")
    assert page.locator("#survival svg g.role-mark > path").count() > 0
    assert page.locator("#churn svg g.role-mark > path").count() > 0
    page.locator("#appreciation_contacts_per_year").fill("12")  # as if dragged and released
    assert page.inner_text("#appreciation_contacts_per_year-value") == "12"
    page.wait_for_function(
        "(before) => document.body.dataset.state === 'ready' && "
        "document.querySelector('#loss-personal_appreciation').textContent !== before",
        arg=before,
        timeout=60_000,
    )
    after = page.inner_text("#loss-personal_appreciation")
    assert float(after.rstrip("%")) < float(before.rstrip("%"))  # more personal contact, fewer lost
    assert page.inner_text("#loss-rare_contact") == rare_before
    assert page.refused == [] and page.errors == []
    page.screenshot(path=screenshots / "explore.png", full_page=True)


@pytest.mark.slow
def test_explore_command_prints_its_address_and_stops_on_ctrl_c():
    process = subprocess.Popen(
        [*COMMAND, "explore", "--port", "0", "--customers", "500"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, (line, process.stderr.read() if process.poll() is not None else "")
        with urllib.request.urlopen(url.group(0), timeout=60) as response:
            assert response.status == 200 and b"window.vegaEmbed" in response.read()
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "explore: stopped" in out and "Traceback" not in err


def test_a_busy_port_is_a_clear_error(explorer):
    from typer.testing import CliRunner

    from sim.cli import app

    result = CliRunner().invoke(app, ["explore", "--port", str(explorer.server_address[1])])
    assert result.exit_code == 2
    assert "--port: cannot listen on 127.0.0.1:" in result.output and "choose another port" in result.output


# --- Host header and client disconnects (issue 14) ---------------------------------------------


def _get(port: int, host: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_explore_answers_only_to_its_own_host_names(explorer):
    """Issue 14: no Host check, so a page using DNS rebinding could drive the model."""
    port = explorer.server_address[1]
    for host in ("127.0.0.1", f"127.0.0.1:{port}", "localhost", f"LOCALHOST:{port}"):
        assert _get(port, host) == 200, host
    foreign = ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", f"127.0.0.1:{port + 1}", "")
    for host in foreign:
        assert _get(port, host) == 403, host


def test_explore_is_quiet_when_a_client_disconnects_mid_response(explorer, capfd):
    """Issue 14: clients that disconnected mid-response printed tracebacks on the presenter's screen."""
    port = explorer.server_address[1]
    for _ in range(3):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(f"GET /run HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        client.close()  # a reset while the server still computes the answer
    time.sleep(3)  # the runs finish and their answers meet closed sockets
    assert _get(port, "127.0.0.1") == 200  # still serving
    assert "Traceback" not in capfd.readouterr().err
