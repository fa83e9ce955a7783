"""``loyalty-sim new-plugin NAME --kind program|behaviour``: a plugin package that works at once.

The package has what ``docs/extending.md`` describes: a frozen ``Params`` dataclass with units,
one hook, a monthly reporter, the entry point that makes ``loyalty-sim`` find it once
installed, a test that compares runs with and without the plugin on the same seed, and a
scenario that uses it (a behaviour on/off as paired variants; a program against the baseline).
"""

from __future__ import annotations

import keyword
from pathlib import Path

from sim.errors import UserError

KINDS = ("program", "behaviour")


class ScaffoldError(UserError):
    """A plugin name or folder that cannot be used."""


def new_plugin(name: str, kind: str, parent: Path) -> Path:
    """Write the package of plugin ``name`` into ``parent/<name>``; return that folder."""
    if kind not in KINDS:
        raise ScaffoldError(f"--kind: expected one of {', '.join(KINDS)}, got '{kind}'")
    if not (name.isidentifier() and name.islower() and not keyword.iskeyword(name)):
        expected = "a lower-case Python identifier (letters, digits, _)"
        raise ScaffoldError(f"NAME: expected {expected}, got '{name}'")
    root = parent / name
    if root.exists():
        raise ScaffoldError(f"{root} exists already; choose another NAME or folder (--dir)")
    values = {
        "name": name,
        "kind": kind,
        "Kind": kind.capitalize(),
        "Class": "".join(part.capitalize() for part in name.split("_")) or "Plugin",
        "distribution": f"loyalty-sim-{name.replace('_', '-')}",
    }
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"src/{name}/__init__.py": BEHAVIOUR_CODE if kind == "behaviour" else PROGRAM_CODE,
        f"tests/test_{name}.py": BEHAVIOUR_TEST if kind == "behaviour" else PROGRAM_TEST,
        f"{name}.toml": BEHAVIOUR_SCENARIO if kind == "behaviour" else PROGRAM_SCENARIO,
    }
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    return root


PYPROJECT = '''\
[project]
name = "{distribution}"
version = "0.1.0"
description = "loyalty-sim {kind}: {name}"
readme = "README.md"
requires-python = ">=3.12"
dependencies = ["loyalty-sim", "numpy>=2.0"]

# This is how loyalty-sim finds the {kind} once the package is installed.
[project.entry-points."loyalty_sim.{kind}s"]
{name} = "{name}:{Class}"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/{name}"]

# `uv add --editable ./{name}` in a loyalty-sim checkout makes this package a member of its
# workspace; then loyalty-sim resolves to that checkout. Outside one, delete these two lines.
[tool.uv.sources]
loyalty-sim = {{ workspace = true }}
'''

README = '''\
# {distribution}

A loyalty-sim {kind}. Install it into the environment of your loyalty-sim checkout so that it
stays installed when `uv sync` runs (`uv pip install` would be undone by the next sync):

    uv add --editable ./{name}
    uv run loyalty-sim {kind}s                     # lists {name} with its parameters
    uv run pytest {name}/tests                     # its test
    uv run loyalty-sim sweep {name}/{name}.toml    # its scenario

Edit `src/{name}/__init__.py`: the docstring's first line is the summary that
`loyalty-sim {kind}s` shows; every parameter's unit and meaning come from `param(...)`.
'''

BEHAVIOUR_CODE = '''\
"""{Class}: customers who have stayed longer are less tempted by competitor offers.

Replace this with your hypothesis and its equation; the first line is what
`loyalty-sim behaviours` shows. Each month (phase 5, before the draw) a customer's price-exit
hazard is scaled by ``1 - damping * min(1, tenure_months / saturation_months)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.api import Behaviour, ExitHazards, Reporter, check_positive, check_range, param


@dataclass(frozen=True)
class {Class}Params:
    damping: float = param(0.5, "share 0..1", "how much a long-standing customer's price exits are damped")
    saturation_months: float = param(24.0, "months", "tenure at which the damping is complete")

    def __post_init__(self) -> None:
        check_range(self, ("damping",), 0.0, 1.0)
        check_positive(self, ("saturation_months",))


class {Class}(Behaviour):
    Params = {Class}Params
    reporters = (
        Reporter("{name}_mean_factor", "factor", "mean_factor", "mean factor on the price-exit hazard"),
    )

    def setup(self, model) -> None:
        self._mean_factor = 1.0

    def exit_hazards(self, model, ids: np.ndarray, hazards: ExitHazards) -> None:
        p: {Class}Params = self.params
        tenure = model.population.tenure_months[ids]
        factor = 1.0 - p.damping * np.minimum(1.0, tenure / p.saturation_months)
        hazards.price *= factor  # in place: a new array would be ignored
        self._mean_factor = float(factor.mean()) if factor.size else 1.0

    def mean_factor(self, model) -> float:
        return self._mean_factor
'''

PROGRAM_CODE = '''\
"""{Class}: a personal thank-you call to long-standing customers, once a year.

Replace this with your program and its equation; the first line is what `loyalty-sim programs`
shows. Each month a twelfth of the active customers with at least ``min_tenure_months`` get a
call, which closes ``bond_gain`` of the gap to a full bond; each call costs ``cost_per_call``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.api import Program, Reporter, check_range, param


@dataclass(frozen=True)
class {Class}Params:
    bond_gain: float = param(0.05, "share of gap", "share of the gap to a full bond closed by one call")
    min_tenure_months: int = param(12, "months", "tenure from which a customer is called")
    cost_per_call: float = param(3.0, "EUR", "staff time per call")

    def __post_init__(self) -> None:
        check_range(self, ("bond_gain",), 0.0, 1.0)
        check_range(self, ("min_tenure_months", "cost_per_call"))


class {Class}(Program):
    Params = {Class}Params
    reporters = (Reporter("{name}_calls", "calls", "calls", "calls made this month"),)
    _calls = 0

    def stop(self, model) -> None:
        self._calls = 0

    def act(self, model) -> None:
        p: {Class}Params = self.params
        pop = model.population
        ids = pop.active_ids()
        ids = ids[(pop.tenure_months[ids] >= p.min_tenure_months) & (model.uniforms(self.name, ids) < 1 / 12)]
        pop.bond[ids] += p.bond_gain * (1.0 - pop.bond[ids])  # in place, on whole arrays
        model.charge(self.name, p.cost_per_call * ids.size, "contacts")
        self._calls = ids.size

    def calls(self, model) -> int:
        return self._calls
'''

_TEST_HEAD = '''\
"""The {kind} changes what it should, on the same seed (common random numbers)."""

from sim.api import register_{kind}
from sim.{kind}s import {REGISTRY}
from sim.model import LoyaltyModel

from {name} import {Class}

if "{name}" not in {REGISTRY}:  # not installed (uv add --editable): register it for the test
    register_{kind}("{name}")({Class})

'''

BEHAVIOUR_TEST = _TEST_HEAD.replace("{REGISTRY}", "BEHAVIOURS") + '''
def test_{name}_lowers_price_exits_on_the_same_seed():
    plain = LoyaltyModel("point_card", customers=1_000, months=12, rng=1).run()
    with_it = LoyaltyModel("point_card", customers=1_000, months=12, rng=1, behaviours=["{name}"]).run()
    price = "churned_price"
    assert with_it.monthly[price].sum() < plain.monthly[price].sum()
    assert with_it.monthly["{name}_mean_factor"][-1] < 1.0  # tenure grows, the damping with it
'''

PROGRAM_TEST = _TEST_HEAD.replace("{REGISTRY}", "PROGRAMS") + '''
def test_{name}_keeps_more_customers_than_the_baseline_on_the_same_seed():
    baseline = LoyaltyModel("rare_contact", customers=1_000, months=24, rng=1).run()
    called = LoyaltyModel("{name}", customers=1_000, months=24, rng=1).run()
    assert called.summary()["cohort_loss"] < baseline.summary()["cohort_loss"]
    assert called.monthly["{name}_calls"].sum() > 0
    assert called.summary()["program_cost"] > baseline.summary()["program_cost"]
'''

BEHAVIOUR_SCENARIO = '''\
# The {kind} on and off as paired variants: both run on the same seeds and customers.
#   uv run loyalty-sim validate {name}/{name}.toml
#   uv run loyalty-sim sweep {name}/{name}.toml
name = "{name}"
customers = 5000
months = 36
replications = 5

[[behaviours]]
behaviour = "{name}"

[variants]
with_{name} = {{}}
without = {{ behaviours = [] }}

[strategies]
rare_contact = ["rare_contact"]
point_card = ["point_card"]
'''

PROGRAM_SCENARIO = '''\
# The {kind} against the rare-contact baseline (paired: same seeds and customers).
#   uv run loyalty-sim validate {name}/{name}.toml
#   uv run loyalty-sim sweep {name}/{name}.toml
name = "{name}"
customers = 5000
months = 36
replications = 5

[strategies]
rare_contact = ["rare_contact"]
{name} = ["{name}"]
'''
