"""Property tests: for any valid strategy and market, a run keeps the model's invariants.

Strategies are any non-empty subset of the registered programs, each with a random window
and, for the built-in ones, random valid parameters; markets vary offers, service failures,
price wars and acquisition. Invariants: no NaN in the monthly table, states in range, stock
and flow accounting, exits by reason add up, loyalty-type shares sum to 1, cohort loss in [0, 1].
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.market import Market
from sim.mechanisms.acquisition import AcquisitionParams
from sim.mechanisms.offers import OffersParams
from sim.mechanisms.service import ServiceParams
from sim.model import LoyaltyModel
from sim.programs import PROGRAMS
from sim.strategy import ProgramSpec, Strategy

MONTHS = st.integers(1, 24)
unit = st.floats(0.0, 1.0, allow_nan=False)


def params(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """Any subset of the given fields, each drawn from its strategy."""
    return st.fixed_dictionaries({}, optional=fields)


PROGRAM_PARAMS: dict[str, st.SearchStrategy[dict]] = {
    "rare_contact": params(sales_contacts_per_year=st.floats(0.0, 12.0), silence_months=st.integers(0, 24)),
    "point_card": params(
        reward_share_of_spend=st.floats(0.0, 0.5),
        redemption_threshold=st.floats(1.0, 200.0),
        forfeit_points_at_end=st.booleans(),
        cut_month=st.none() | MONTHS,
        cut_to_share=st.floats(0.0, 0.5),
    ),
    "lock_in_contract": params(
        term_months=st.integers(1, 24),
        exit_fee_months=st.floats(0.0, 24.0),
        auto_renewal_share=unit,
    ),
    "personal_appreciation": params(
        contacts_per_year=st.floats(0.0, 12.0),
        capacity_per_1000_customers_month=st.floats(0.0, 1000.0),
        bond_gain=unit,
        # a positive value below float32 resolution gives NaN: see test_personal_appreciation.py
        habituation_months=st.just(0.0) | st.floats(0.01, 12.0),
    ),
    "mass_contact": params(
        # a positive rate below float32 resolution divides by zero (harmless, but it warns)
        contacts_per_year=st.just(0.0) | st.floats(0.01, 365.0),
        annoyance_bond_loss=unit,
    ),
    "new_customer_deals": params(
        deal_months=st.integers(0, 12),
        acquisition_multiplier=st.floats(0.0, 5.0),
        visibility_per_month=unit,
    ),
    "service_excellence": params(failure_reduction=unit, quality_gain=unit, staff_bond_gain=unit),
}


@st.composite
def strategies(draw) -> Strategy:
    names = draw(st.lists(st.sampled_from(PROGRAMS.names()), min_size=1, unique=True))
    specs = []
    for name in names:
        start = draw(st.integers(1, 24))
        end = draw(st.none() | st.integers(start + 1, 30))
        specs.append(ProgramSpec(name, draw(PROGRAM_PARAMS.get(name, st.just({}))), start, end))
    return Strategy("+".join(names), tuple(specs))


@st.composite
def markets(draw) -> Market:
    offers = OffersParams(
        offer_rate_per_month=draw(unit),
        discount=draw(unit),
        price_war_start_month=draw(st.none() | MONTHS),
    )
    service = ServiceParams(failure_per_month=draw(unit), recovery_share=draw(unit))
    acquisition = AcquisitionParams(new_customers_per_month_share=draw(st.floats(0.0, 0.5)))
    return Market(service=service, offers=offers, acquisition=acquisition)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    strategy=strategies(),
    market=markets(),
    customers=st.integers(50, 500),
    months=MONTHS,
    seed=st.integers(0, 2**32 - 1),
)
def test_any_valid_run_keeps_the_invariants(strategy, market, customers, months, seed, check_invariants):
    model = LoyaltyModel(strategy, market=market, customers=customers, months=months, rng=seed)
    check_invariants(model, model.run())


def test_the_step_runs_the_declared_phases_in_order(make_model, monkeypatch):
    from sim import model as model_module

    model = make_model(customers=50)
    called = []
    for phase in model_module.PHASES:
        original = getattr(model, phase.method)
        monkeypatch.setattr(model, phase.method, lambda o=original, n=phase.name: (called.append(n), o())[1])
    model.step()
    assert called == [p.name for p in model_module.PHASES]
    assert called.index("ageing") > called.index("stay or leave")


def test_failures_and_term_ends_add_up_in_the_monthly_table(make_model):
    from sim.strategy import ProgramSpec

    spec = ProgramSpec("lock_in_contract", {"term_months": 6})
    monthly = make_model(spec, customers=2000, months=13).run().monthly
    paths = sum(monthly[f"failures_{p}"] for p in ("silent", "unresolved", "slow", "fast"))
    assert (monthly["failures"] == paths).all() and monthly["failures"].sum() > 0
    assert (monthly["failures_large"] <= monthly["failures"]).all()
    ends = monthly["term_ends_switched"] + monthly["term_ends_recontracted"] + monthly["term_ends_rolled_on"]
    assert ends[5] > 0 and ends[11] > 0 and ends[:5].sum() == 0
    assert ((monthly["mean_attention"] > 0) & (monthly["mean_attention"] < 1)).all()
