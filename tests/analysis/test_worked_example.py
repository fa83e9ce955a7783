"""The README's decision example runs as written, step by step, on a small copy of its scenario."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[2]
SMALLER = {  # key = value lines of scenarios/decide.toml, made small enough for a test
    "customers": "150",
    "months": "12",
    "replications": "2",
    "evaluations": "4",
    "batch": "2",
    "finalists": "2",
    "final_replications": "2",
    "markets": "3",
}


def _commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## What should we do?") :]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1).replace("\\\n", " ")
    lines = [line.split("#")[0].strip() for line in block.splitlines()]
    return [shlex.split(line)[3:] for line in lines if line.startswith("uv run loyalty-sim ")]


@pytest.mark.slow
def test_the_readme_decision_example_runs(tmp_path, monkeypatch):
    text = (ROOT / "scenarios" / "decide.toml").read_text(encoding="utf-8")
    for key, value in SMALLER.items():
        text, count = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {value} ", text)
        assert count >= 1, key
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "decide.toml").write_text(text)
    # the first four years of the observed curve: the same command, a shorter fit
    curve = (ROOT / "data" / "fader-hardie-2007-regular.csv").read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(curve) if line.startswith("year"))
    (tmp_path / "data").mkdir()
    for shipped in (ROOT / "data").iterdir():  # the other data files as they are (a customer table)
        (tmp_path / "data" / shipped.name).symlink_to(shipped)
    (tmp_path / "data" / "fader-hardie-2007-regular.csv").unlink()
    (tmp_path / "data" / "fader-hardie-2007-regular.csv").write_text("\n".join(curve[: header + 5]) + "\n")
    monkeypatch.chdir(tmp_path)
    commands = _commands()
    names = [c[0] for c in commands]
    assert names == ["run", "calibrate", "optimise", "robustness", "sweep"], names
    assert "--population" in commands[0] and "--panel" in commands[0]  # the firm's own customers
    for command in commands:
        fewer = ["--replications", "1"] if command[0] == "calibrate" else []  # half the fit's runs
        serial = [] if command[0] == "run" else ["--workers", "1"]  # run is always one process
        result = CliRunner().invoke(app, [*command, *fewer, *serial], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (command, result.output)
    # the last step's comparison names the finalists as optimise and robustness did; the codes
    # (what --strategies takes) only in its caption
    table, caption = result.stdout.split("mean over replications")
    assert "Mix A" in table and "mix_optimised_" not in table, result.stdout
    assert "Mix A = mix_optimised_" in " ".join(caption.split()), result.stdout
    report = next((tmp_path / "results").glob("*-optimised/report.html")).read_text()
    assert "What should we do" in report and "Recommended: Mix A: Personal appreciation, " in report
    assert "mix_optimised_" not in report.split('id="strategies"')[0]  # the decision speaks to people
    assert (tmp_path / "results" / "own-customers-panel.parquet").is_file()
