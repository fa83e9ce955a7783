"""Registries by name: helpful errors for misspelled program and mechanism names."""

from __future__ import annotations

import pytest

from sim.mechanisms import MECHANISMS
from sim.programs import PROGRAMS
from sim.registry import Registry, UnknownNameError
from sim.strategy import ProgramSpec

BUILTIN_PROGRAMS = {
    "rare_contact",
    "point_card",
    "lock_in_contract",
    "personal_appreciation",
    "mass_contact",
    "new_customer_deals",
    "service_excellence",
    "status_tiers",
}


def test_builtin_programs_and_mechanisms_are_registered():
    assert set(PROGRAMS.names()) >= BUILTIN_PROGRAMS
    assert {"service", "adaptation", "offers", "decision", "acquisition"} <= set(MECHANISMS.names())
    for name in PROGRAMS:
        assert PROGRAMS.get(name).name == name


def test_unknown_program_lists_valid_names_and_suggests_the_closest():
    with pytest.raises(UnknownNameError) as caught:
        PROGRAMS.get("pointcard")
    error = caught.value
    message = str(error)
    assert isinstance(error, KeyError)
    assert error.suggestion == "point_card"
    assert "did you mean 'point_card'" in message
    assert "'pointcard'" in message
    for name in PROGRAMS.names():
        assert name in message
    assert error.valid == PROGRAMS.names()


def test_program_spec_fails_early_with_the_suggestion():
    with pytest.raises(UnknownNameError, match="did you mean 'lock_in_contract'"):
        ProgramSpec("lockin_contract")


def test_unknown_mechanism_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="did you mean 'decision'") as caught:
        MECHANISMS.get("decisions")
    assert caught.value.kind == "mechanism"


def test_no_suggestion_for_a_name_unlike_any():
    with pytest.raises(UnknownNameError) as caught:
        PROGRAMS.get("zzzzzzzz")
    assert caught.value.suggestion is None
    assert "did you mean" not in str(caught.value)
    assert "valid:" in str(caught.value)


def test_register_rejects_a_second_class_under_the_same_name():
    registry: Registry[type] = Registry("widget")

    class A:
        pass

    class B:
        pass

    assert registry.register("a")(A) is A
    registry.register("a")(A)  # registering the same class again is harmless
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a")(B)
    assert registry.get("a") is A
    assert "a" in registry and "b" not in registry
    assert list(registry) == ["a"]
