"""The compiled kernels (sim.kernels) against their pure-NumPy twins, and the counter-based
random numbers: uniform, independent of which customers are asked, and common to strategies."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kernels
from sim.model import LoyaltyModel
from sim.strategy import ProgramSpec, Strategy, builtin_strategies
from sim.targeting import Target

SLOTS = np.concatenate([np.arange(50_000), np.array([2**40, 2**62 - 1])]).astype(np.int64)


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
def test_compiled_draws_equal_the_numpy_twins_bit_for_bit():
    for key in (0, 1, 2**63 + 12345, 2**64 - 1):
        np.testing.assert_array_equal(kernels.uniforms(key, SLOTS), kernels.uniforms_numpy(key, SLOTS))
        np.testing.assert_allclose(
            kernels.normals(key, SLOTS), kernels.normals_numpy(key, SLOTS), rtol=1e-6, atol=1e-6
        )


def test_counter_draws_are_uniform_and_normal_and_depend_only_on_the_slot():
    u = kernels.uniforms_numpy(7, SLOTS)
    assert u.dtype == np.float32 and u.min() >= 0.0 and u.max() < 1.0
    counts = np.histogram(u, bins=10, range=(0.0, 1.0))[0]
    assert np.all(np.abs(counts - u.size / 10) < 5 * np.sqrt(u.size / 10))  # chi-square-ish
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02  # neighbouring slots are not related
    z = kernels.normals_numpy(7, SLOTS)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02
    # a slot's number does not depend on which other slots are drawn with it
    np.testing.assert_array_equal(kernels.uniforms_numpy(7, SLOTS[::7]), u[::7])
    assert not np.array_equal(kernels.uniforms_numpy(8, SLOTS), u)  # another stream


def test_a_run_on_the_numpy_twins_equals_the_compiled_run(monkeypatch):
    strategy = builtin_strategies()["status_tiers"]  # uniforms and normals
    compiled = LoyaltyModel(strategy, customers=1_500, months=8, rng=3).run().monthly
    monkeypatch.setattr(kernels, "COMPILED", False)
    twins = LoyaltyModel(strategy, customers=1_500, months=8, rng=3).run().monthly
    assert compiled.equals(twins)  # the monthly sums too: integers, or floats added in the same order


def test_asking_for_some_customers_gives_their_numbers_of_the_whole_draw():
    model = LoyaltyModel(builtin_strategies()["rare_contact"], customers=2_000, months=3, rng=5)
    model.step()  # joiners hold slots after the initial cohort's
    ids = np.flatnonzero(model.population.active)[::3]
    np.testing.assert_array_equal(model.uniforms("probe", ids), model.uniforms("probe")[ids])
    np.testing.assert_array_equal(model.normals("probe", ids), model.normals("probe")[ids])


def _scrambled(make_model, programs: tuple[str, ...] = ("point_card", "lock_in_contract")) -> LoyaltyModel:
    """A model (default: with points and contracts) whose states are spread over their whole ranges."""
    model = make_model(*programs, customers=3_000, rng=4)
    pop, rng = model.population, np.random.default_rng(1)
    for name in ("bond", "satisfaction", "reward_expectation", "reward_received", "resentment", "attention"):
        getattr(pop, name)[:] = rng.random(len(pop), dtype=np.float32)
    pop.reward_received[::3] = 0.0
    pop.bond_transient[:] = rng.uniform(-0.3, 0.2, len(pop)).astype(np.float32)
    if "point_card" in programs:
        pop.points[:] = rng.uniform(0.0, 60.0, len(pop)).astype(np.float32)
    if "lock_in_contract" in programs:
        pop.contract_months_left[::2] = 5
    pop.months_since_personal_contact[:] = rng.integers(0, 120, len(pop))
    pop.deactivate(np.arange(0, len(pop), 7))
    return model


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
@pytest.mark.parametrize("programs", [
    ("point_card", "lock_in_contract"),  # points and contracts: the pass over the active rows
    ("rare_contact",),  # neither: the pass over every row (departed rows written back unchanged)
])
def test_the_decay_and_adaptation_kernels_equal_the_numpy_twins_bit_for_bit(
    make_model, monkeypatch, programs
):
    from sim.mechanisms import adaptation, attention

    results = []
    for compiled in (True, False):
        monkeypatch.setattr(kernels, "COMPILED", compiled)
        model = _scrambled(make_model, programs)
        adaptation.decay_and_adapt(model)
        attention.fade(model)
        results.append(model.population.to_dict())
    for name, values in results[0].items():
        np.testing.assert_array_equal(values, results[1][name], err_msg=name)


def test_a_boolean_mask_instead_of_ids_is_refused():
    model = LoyaltyModel(builtin_strategies()["rare_contact"], customers=100, months=1, rng=1)
    with pytest.raises(TypeError, match="row numbers"):
        model.uniforms("probe", model.population.active)


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
def test_the_exit_hazard_kernels_equal_the_numpy_twin_bit_for_bit(make_model):
    from sim.mechanisms import decision

    model = _scrambled(make_model)  # forgiveness 2 (the kernel's; another exponent runs the twin)
    pop, rng = model.population, np.random.default_rng(2)
    pop.price_focus[:] = rng.random(len(pop), dtype=np.float32)
    pop.rational_value[:] = rng.random(len(pop), dtype=np.float32)
    model.flows.failure_path[::5] = 1 + np.arange(len(pop))[::5] % 4
    switch = rng.random(len(pop), dtype=np.float32)
    ids = pop.active_ids()
    compiled = decision._hazards_compiled(model, ids, switch)
    twin = decision._hazards_numpy(model, ids, switch)
    for name, a, b in zip(("relationship", "service", "background", "price"), compiled, twin, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
@pytest.mark.parametrize("specs", [
    (ProgramSpec("rare_contact"),),  # the fused phases 1, 4, 5 and the tally of the stayers in phase 5
    # per-customer service levels (a targeted program)
    (ProgramSpec("service_excellence", target=Target(share=0.5)), ProgramSpec("point_card")),
    (ProgramSpec("lock_in_contract"),),  # contracts: phase 5's NumPy path with the hazard kernels
])
def test_the_fused_phases_leave_every_customer_as_the_numpy_twins_do(monkeypatch, specs):
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(kernels, "COMPILED", compiled)
        runs.append(LoyaltyModel(Strategy("s", specs), customers=2_000, months=6, rng=5).run(customers=True))
    assert runs[0].customer_records.equals(runs[1].customer_records)
    assert runs[0].monthly.equals(runs[1].monthly)


@pytest.mark.skipif(not kernels.COMPILED, reason="numba is not installed")
@pytest.mark.parametrize("spend", [0.3, float("nan"), 2.0**40])
def test_revenue_in_fixed_point_falls_back_to_the_sum_in_row_order(monkeypatch, spend):
    """Spends the fixed-point sum cannot take exactly (below 0.5 EUR, NaN, huge): the compiled
    record adds the spend in float64 in row order, as the twin does, and gets its revenue."""
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(kernels, "COMPILED", compiled)
        model = LoyaltyModel(builtin_strategies()["rare_contact"], customers=1_000, months=3, rng=2)
        model.population.spend_per_month[::7] = np.float32(0.1 + np.arange(0, 1_000, 7) % 13 / 10)
        model.population.spend_per_month[5] = np.float32(spend)
        runs.append(model.run().monthly)
    np.testing.assert_array_equal(runs[0]["revenue"], runs[1]["revenue"])
    assert runs[0].equals(runs[1]) or np.isnan(spend)  # NaN != NaN


def test_below_picks_the_customers_whose_number_is_below_the_probability():
    model = LoyaltyModel(builtin_strategies()["rare_contact"], customers=5_000, months=2, rng=2)
    model.step()
    ids = model.population.active_ids()[::2]
    u = model.uniforms("probe", ids)
    per_row = np.random.default_rng(1).random(len(model.population), dtype=np.float32)
    # float64 values compare in float64, as NumPy's comparison does
    for probability in (0.3, per_row, per_row.astype(np.float64), np.float64(0.3)):
        expected = ids[u < (probability[ids] if isinstance(probability, np.ndarray) else probability)]
        np.testing.assert_array_equal(model.below("probe", probability, ids), expected)
    everyone = model.population.active_ids()
    np.testing.assert_array_equal(model.below("probe", 0.3), model.below("probe", 0.3, everyone))
