"""Provenance of a result folder: what made it, and whether it is finished, without the model.

Light on purpose (no Mesa, no SciPy): re-printing a finished sweep, ``loyalty-sim table`` and the
report read it. The manifest (``sim.sweep``) records the code version, the Python and package
versions (:func:`versions`), the distributions and versions of the plugins the scenario uses
(:func:`plugins_used`) and the command line. An analysis written into a result folder
(``claims.parquet``, ``sensitivity.parquet``) carries the hash of the scenario it analysed in
its Parquet metadata (:func:`stamp`), so the report can tell an analysis of another scenario.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES: tuple[str, ...] = ("numpy", "polars", "mesa", "scipy", "dask", "distributed", "salib")
SCENARIO_HASH_KEY = "loyalty_sim.scenario_sha256"


def code_version() -> str:
    """``<package version>+<git commit>[.dirty]`` when run from a git checkout, else the version."""
    version = metadata.version("loyalty-sim")
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=here, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+{commit}{'.dirty' if dirty else ''}" if commit else version


def versions() -> dict[str, str]:
    """Python and the versions of the packages results depend on (``-`` where one is missing)."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "-"
    return found


def plugins_used(scenario: Any) -> dict[str, dict[str, str]]:
    """Every program and behaviour the scenario names: ``{name: {"source": ..., "version": ...}}``;
    built-ins say ``built-in`` and the package version."""
    from sim.behaviours import BEHAVIOURS
    from sim.plugins import source_of
    from sim.programs import PROGRAMS

    names = {("program", spec.name) for s in scenario.strategies.values() for spec in s.programs}
    names |= {("behaviour", spec.name) for spec in scenario.market.behaviours}
    used = {}
    for kind, name in sorted(names):
        cls = (PROGRAMS if kind == "program" else BEHAVIOURS).get(name)
        source = source_of(cls)
        distribution = "loyalty-sim" if source == "built-in" else source
        try:
            version = metadata.version(distribution)
        except (metadata.PackageNotFoundError, ValueError):
            version = "-"
        used[f"{kind}:{name}"] = {"source": source, "version": version}
    return used


def command_line() -> str:
    """The command that is running, as typed (``loyalty-sim sweep ...``)."""
    import shlex

    program = Path(sys.argv[0]).name if sys.argv else "python"
    return shlex.join([program, *sys.argv[1:]])


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest as a dict, or None when it is missing or damaged."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def is_complete(manifest: dict[str, Any] | None, scenario_hash: str, replications: int) -> bool:
    """Whether ``manifest`` records a finished sweep of this very scenario and replications."""
    return (
        manifest is not None
        and isinstance(manifest.get("scenario"), dict)
        and manifest["scenario"].get("sha256") == scenario_hash
        and manifest.get("replications") == replications
        and str(manifest.get("status", "")).startswith("complete")
    )


def reprintable(folder: Path, manifest: dict[str, Any] | None, scenario_hash: str, replications: int) -> bool:
    """Whether ``folder`` holds a finished sweep (:func:`is_complete`) whose comparison can be
    re-printed as it is: without ``summary.parquet`` the sweep goes on and writes it again."""
    return is_complete(manifest, scenario_hash, replications) and (folder / "summary.parquet").is_file()


def finished_sweep(
    file: Path, out: Path | None, replications: int | None
) -> tuple[Path, dict[str, Any]] | None:
    """``(result folder, manifest)`` when ``out`` (default ``results/<name>``) already holds a
    finished sweep of exactly this scenario text and these replications, else ``None``.

    Reads the file's text and its top-level keys only (no validation, no model import): a
    finished sweep's manifest holds the hash of text that was validated when it ran, so an equal
    hash means the same, valid scenario. ``None`` whenever it cannot tell; the caller then loads
    and checks the file as usual."""
    import hashlib
    import tomllib

    try:
        text = file.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name, wanted = raw.get("name") or file.stem, replications or raw.get("replications")
    if not isinstance(name, str) or not isinstance(wanted, int):
        return None
    folder = out or Path("results") / name
    manifest = read_manifest(folder)
    if not reprintable(folder, manifest, hashlib.sha256(text.encode()).hexdigest(), wanted):
        return None
    return folder, manifest


def code_changed(manifest: dict[str, Any]) -> str | None:
    """One line when the code now differs from the code that made the runs, else ``None``."""
    then, now = manifest.get("code_version"), code_version()
    if then and then != now:
        return f"note: these runs were made by code version {then}; this is {now}"
    return None


def write_stamped(path: Path, frame: Any, scenario_hash: str | None) -> None:
    """Write an analysis into a result folder (atomically) with the hash of the scenario it
    analysed in the Parquet metadata."""
    from sim.io import write_atomic

    metadata_ = {SCENARIO_HASH_KEY: scenario_hash or ""}
    write_atomic(path, lambda tmp: frame.write_parquet(tmp, metadata=metadata_))


def scenario_of(parquet: Path) -> str | None:
    """The scenario hash stamped into an analysis file; ``None`` for an unstamped file (written
    before stamps, or of the default market without a scenario file)."""
    import polars as pl

    return pl.read_parquet_metadata(parquet).get(SCENARIO_HASH_KEY) or None
