"""The contract every registered program keeps, including those researchers add later.

Each program builds from its default parameters, runs inside a model without breaking the
model's invariants, acts only inside its window, and rejects invalid parameters with a
``ValueError`` that names the field.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict

import numpy as np
import pytest

from sim.programs import PROGRAMS, Program
from sim.strategy import ProgramSpec

ALL_PROGRAMS = PROGRAMS.names()
HOOKS = ("service", "act", "acquisition_multiplier", "onboard")
# Built-in programs that spend money every month they run under default parameters.
RUNNING_COSTS = {
    "rare_contact",
    "point_card",
    "lock_in_contract",
    "personal_appreciation",
    "mass_contact",
    "new_customer_deals",
    "service_excellence",
    "status_tiers",
}


def numeric_fields(name: str, kinds: tuple[type, ...] = (int, float)) -> list[str]:
    """Fields with a numeric default of one of ``kinds``, and optional months (None = never)."""
    params = PROGRAMS.get(name).Params()
    fields = []
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        numeric = isinstance(value, kinds) and not isinstance(value, bool)
        optional_month = value is None and field.name.endswith("_month") and int in kinds
        if numeric or optional_month:
            fields.append(field.name)
    return fields


INVALID_CASES = [(name, field) for name in ALL_PROGRAMS for field in numeric_fields(name)]
NAN_CASES = [(name, field) for name in ALL_PROGRAMS for field in numeric_fields(name, (float,))]


def test_every_builtin_program_is_registered():
    assert set(ALL_PROGRAMS) >= RUNNING_COSTS


@pytest.mark.parametrize("name", ALL_PROGRAMS)
def test_builds_from_default_params(name):
    cls = PROGRAMS.get(name)
    assert issubclass(cls, Program)
    assert cls.name == name
    assert dataclasses.is_dataclass(cls.Params)
    params = cls.Params()
    for field in dataclasses.fields(params):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(params, field.name, getattr(params, field.name))
    program = ProgramSpec(name).build()
    assert isinstance(program, cls)
    assert program.params == cls.Params()
    assert (program.start_month, program.end_month) == (1, None)


@pytest.mark.parametrize("name", ALL_PROGRAMS)
def test_runs_500_customers_for_24_months_keeping_the_invariants(name, make_model, check_invariants):
    model = make_model(name, customers=500, months=24, rng=11)
    result = model.run()
    check_invariants(model, result)
    if name in RUNNING_COSTS:  # from month 2: welcome deals need joiners, who arrive at a month's end
        assert np.all(result.monthly["program_cost"].to_numpy()[1:] > 0)


@pytest.mark.parametrize("name", ALL_PROGRAMS)
def test_hooks_run_only_inside_the_window(name, make_model):
    start, end, months = 5, 9, 12
    model = make_model(
        ProgramSpec(name, start_month=start, end_month=end), customers=500, months=months, rng=12
    )
    program = model.programs[0]
    calls: dict[str, list[int]] = defaultdict(list)

    def recording(hook: str):
        original = getattr(program, hook)

        def wrapper(*args, **kwargs):
            calls[hook].append(model.month)
            return original(*args, **kwargs)

        return wrapper

    for hook in (*HOOKS, "start", "stop"):
        setattr(program, hook, recording(hook))
    monthly = model.run().monthly

    assert calls["start"] == [start]
    assert calls["stop"] == [end]
    for hook in ("service", "act", "acquisition_multiplier"):
        assert calls[hook] == list(range(start, end)), hook
    assert all(start <= month < end for month in calls["onboard"])

    cost = monthly["program_cost"].to_numpy()
    outside = (np.arange(1, months + 1) < start) | (np.arange(1, months + 1) >= end)
    np.testing.assert_array_equal(cost[outside], 0.0)
    if name in RUNNING_COSTS:  # after the first month of the window: welcome deals need joiners
        assert np.all(cost[start : end - 1] > 0)


@pytest.mark.parametrize("name", ALL_PROGRAMS)
def test_a_window_beyond_the_horizon_never_starts(name, make_model):
    model = make_model(ProgramSpec(name, start_month=30), customers=200, months=6, rng=13)
    program = model.programs[0]
    for hook in (*HOOKS, "start", "stop"):
        setattr(program, hook, lambda *a, _hook=hook, **k: pytest.fail(f"{_hook} called outside the window"))
    monthly = model.run().monthly
    np.testing.assert_array_equal(monthly["program_cost"].to_numpy(), 0.0)


@pytest.mark.parametrize(("start", "end"), [(0, None), (-3, 5), (5, 5), (6, 2)])
def test_invalid_windows_raise(start, end):
    with pytest.raises(ValueError, match=r"start_month|end_month"):
        ProgramSpec(ALL_PROGRAMS[0], start_month=start, end_month=end).build()


@pytest.mark.parametrize(("name", "field"), INVALID_CASES)
def test_a_negative_value_raises_naming_the_field(name, field):
    with pytest.raises(ValueError, match=field):
        ProgramSpec(name, {field: -1}).build()


@pytest.mark.parametrize(("name", "field"), NAN_CASES)
def test_nan_raises_naming_the_field(name, field):
    with pytest.raises(ValueError, match=field):
        PROGRAMS.get(name).Params(**{field: math.nan})


@pytest.mark.parametrize("name", ALL_PROGRAMS)
def test_an_unknown_parameter_is_rejected_with_the_valid_ones(name):
    valid = [f.name for f in dataclasses.fields(PROGRAMS.get(name).Params)]
    with pytest.raises(ValueError, match="no_such_parameter") as caught:
        ProgramSpec(name, {"no_such_parameter": 1}).build()
    for field in valid:
        assert field in str(caught.value)
