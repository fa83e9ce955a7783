"""The per-customer reference model: the same rules, written the way a Mesa user writes them first.

One ``mesa.Agent`` per customer with a ``step()`` method that runs the customer's month
(service encounter, the firm's programs, decay and adaptation, a competitor offer, stay or
leave) with plain Python floats and ``self.random``. It reads the same parameter dataclasses
as :class:`sim.model.LoyaltyModel` (market, segments, programs), draws the same kinds of
random variables (uniforms for events, Beta and log-normal traits, a Poisson number of
joiners), and writes the monthly columns that :func:`sim.outcomes.run_summary` needs.

It is the yardstick twice over: for speed (``python -m benchmarks reference``) and for
correctness, because its outcome distributions must agree with the vectorised model's
(``tests/test_reference.py``). The numbers are not equal draw for draw: the two models use
different random streams, so they agree in distribution only.

Customers are independent within a month except through counts (costs, the staff capacity of
personal appreciation), so running each customer's whole month in turn, in random order, is
the same model as running each phase over all customers.
"""

from __future__ import annotations

import math

import mesa
import polars as pl
from scipy import special

from sim.market import Market
from sim.mechanisms.service import FailurePath, ServiceLevel
from sim.outcomes import COST_CATEGORIES, run_summary
from sim.population import EXIT_REASONS, ExitReason, Segment
from sim.programs import PROGRAMS
from sim.strategy import ProgramSpec, Strategy

_CLAMPED = ("bond", "satisfaction", "rational_value", "resentment")


def _beta(rng, distribution) -> float:
    a = distribution.mean * distribution.concentration
    return rng.betavariate(a, distribution.concentration - a)


def _lognormal(rng, distribution) -> float:
    return distribution.median * math.exp(distribution.sigma * rng.gauss())


def _gamma(rng, distribution, score: float = 0.0, correlation: float = 0.0) -> float:
    """A Gamma draw whose normal score is ``correlation * score`` plus independent noise."""
    if distribution.cv == 0 or distribution.mean == 0:
        return distribution.mean
    shape, scale = 1.0 / distribution.cv**2, distribution.mean * distribution.cv**2
    if not correlation:
        return rng.gammavariate(shape, scale)
    z = correlation * score + math.sqrt(1.0 - correlation**2) * rng.gauss()
    return float(special.gammaincinv(shape, special.ndtr(z))) * scale


def _score(bond: float, distribution) -> float:
    """The standard normal score of an initial bond within its Beta distribution."""
    a = distribution.mean * distribution.concentration
    rank = float(special.betainc(a, distribution.concentration - a, bond))
    return float(special.ndtri(min(max(rank, 1e-9), 1.0 - 1e-9)))


class Customer(mesa.Agent):
    """One customer: traits drawn from a segment, states as in ``sim.population.SCHEMA``."""

    def __init__(self, model: ReferenceModel, segment: Segment, join_month: int) -> None:
        super().__init__(model)
        rng = model.random
        self.join_month = join_month
        self.price_focus = _beta(rng, segment.price_focus)
        self.bond_need = _beta(rng, segment.bond_need)
        self.contact_tolerance_per_year = _lognormal(rng, segment.contact_tolerance_per_year)
        self.background_exit_per_month = min(0.5, _lognormal(rng, segment.background_exit_per_month))
        self.restlessness = _lognormal(rng, segment.restlessness)
        self.spend_per_month = _lognormal(rng, segment.spend_per_month)
        self.bond = _beta(rng, segment.initial_bond)
        self.bond_transient = 0.0
        if model.market.customer_base is None:
            self.bond_transient = min(model.market.acquisition.courted_bond_premium, 1.0 - self.bond)
            self.bond += self.bond_transient
        self.attentiveness = _beta(rng, segment.attentiveness)
        heterogeneity = model.market.heterogeneity
        self.churn_propensity = _gamma(
            rng, heterogeneity.distribution(), -_score(self.bond - self.bond_transient, segment.initial_bond),
            heterogeneity.proneness_correlation,
        )
        self.attention = self.attentiveness
        self.complaint_months_left = 0
        self.failure_path, self.failure_large = FailurePath.NONE, False
        self.satisfaction = 0.75
        self.rational_value = self.reward_expectation = self.reward_received = 0.0
        self.resentment = self.points = self.exit_fee_months = 0.0
        self.contract_months_left = self.renewal_term_months = 0
        self.tenure_months = self.months_since_personal_contact = 0
        self.exit_reason = ExitReason.STILL_ACTIVE

    def step(self) -> None:
        model = self.model
        self.reward_received = 0.0
        self.encounter(model.level)
        for program in model.running:
            program.act(model, self)
        self.decay_and_adapt()
        self.clamp()
        switch = self.competitor_offer()
        self.stay_or_leave(switch)
        self.clamp()

    def encounter(self, level: ServiceLevel) -> None:
        params = self.model.market.service
        rnd = self.random.random
        path, large = FailurePath.NONE, False
        if rnd() < level.failure_per_month:
            large = rnd() < params.large_failure_share
            complained = rnd() < (params.complaint_share_large if large else params.complaint_share)
            u = rnd()
            path = FailurePath.SILENT
            if complained:
                path = FailurePath.UNRESOLVED
                if u < level.recovery_share:
                    fast = u < level.recovery_share * params.fast_resolution_share
                    path = FailurePath.FAST if fast else FailurePath.SLOW
        self.failure_path, self.failure_large = path, large
        due = self.complaint_months_left == 1
        experience = params.slow_recovered_experience if due else level.quality
        if self.complaint_months_left > 0:
            self.complaint_months_left -= 1
        if path != FailurePath.NONE:
            experience = (0.5 if large else 1.0) * params.failure_experience
            if path == FailurePath.UNRESOLVED:
                experience = params.unresolved_experience
            elif path == FailurePath.FAST:
                experience = params.recovered_experience
            elif path == FailurePath.SLOW:
                self.complaint_months_left = params.slow_resolution_months
        self.satisfaction += params.satisfaction_adaptation * (experience - self.satisfaction)
        loss = {
            FailurePath.NONE: 0.0, FailurePath.SILENT: params.failure_bond_loss,
            FailurePath.UNRESOLVED: params.unresolved_bond_loss, FailurePath.SLOW: params.slow_bond_loss,
            FailurePath.FAST: 0.0,
        }[path] * (params.large_failure_weight if large else 1.0)
        lost = min(self.bond, loss * (1.0 - self.bond))
        self.bond -= lost
        self.bond_transient -= lost
        if level.staff_bond_gain:
            self.bond += level.staff_bond_gain * self.bond_need * (1.0 - self.bond)
        if path == FailurePath.FAST or due:
            self.months_since_personal_contact = 0

    def decay_and_adapt(self) -> None:
        params = self.model.market.adaptation
        excess = self.bond - params.satisfaction_bond_share * self.satisfaction
        if excess > 0:
            silence = self.months_since_personal_contact / params.silence_doubling_months
            self.bond -= params.bond_decay_per_month * (1.0 + silence) * excess
        else:
            self.bond -= params.trust_recovery_per_month * excess
        fade = params.transient_bond_fade_per_month * self.bond_transient
        self.bond -= fade
        self.bond_transient -= fade
        gap = max(self.reward_expectation - self.reward_received, 0.0)
        self.satisfaction -= params.disappointment_satisfaction_loss * gap
        self.bond -= params.disappointment_bond_loss * gap
        surprise = max(0.0, self.reward_received - params.reward_habituation * self.reward_expectation)
        self.reward_expectation += params.expectation_adaptation * (
            self.reward_received - self.reward_expectation
        )
        self.rational_value = min(
            1.0,
            surprise / params.reward_reference
            + self.points / (self.spend_per_month * params.points_reference_months),
        )
        if self.contract_months_left == 0:
            self.resentment *= 1.0 - params.resentment_decay_per_month
        attention = self.model.market.attention
        self.attention += attention.attention_fade_per_month * (self.attentiveness - self.attention)

    def competitor_offer(self) -> float:
        params = self.model.market.offers
        rate, discount = params.terms(self.model.month)
        if self.random.random() >= rate:
            return 0.0
        focus = self.price_focus
        pull = focus * (discount / params.discount_reference) - focus * self.rational_value
        return params.switch_max * min(1.0, max(0.0, pull)) * (1.0 - self.bond) ** params.bond_shield

    def stay_or_leave(self, switch: float) -> None:
        params = self.model.market.decision
        restlessness = self.restlessness * self.churn_propensity
        background = min(1.0, self.background_exit_per_month * self.churn_propensity)
        hold = restlessness * math.exp(
            -params.rational_hold * self.price_focus * self.rational_value - params.emotional_hold * self.bond
        )
        weight = {
            FailurePath.NONE: 0.0, FailurePath.SILENT: 1.0,
            FailurePath.UNRESOLVED: params.unresolved_exit_weight,
            FailurePath.SLOW: params.slow_exit_weight, FailurePath.FAST: params.fast_exit_weight,
        }[self.failure_path] * (self.model.market.service.large_failure_weight if self.failure_large else 1.0)
        relationship = min(
            1.0, params.relationship_exit_per_month * self.bond_need * (1 - self.bond) ** 2 * hold
        )
        service = min(
            1.0,
            (
                params.failure_exit_share * weight * (1 - self.bond) ** params.forgiveness
                + params.dissatisfaction_exit_per_month
                * max(0.0, 1.0 - self.satisfaction / params.content_level)
            )
            * hold,
        )
        term_ends = self.contract_months_left == 1
        if term_ends:
            self.attention += self.model.market.attention.term_end_gain * (1.0 - self.attention)
        price = min(1.0, switch * restlessness * self.attention)
        pull = 1.0 - (1.0 - relationship) * (1.0 - service) * (1.0 - price)

        locked = self.contract_months_left > 0
        voluntary = pull
        breakout = False
        if locked:
            self.resentment = min(1.0, self.resentment + params.resentment_per_blocked_exit * pull)
            barrier = 1.0 - math.exp(-self.exit_fee_months / params.fee_reference_months)
            breakout = self.resentment > barrier
            voluntary = min(1.0, params.breakout_share * pull) if breakout else 0.0
        acts = term_ends and self.random.random() < self.attention
        if term_ends:
            voluntary = 1.0 - math.exp(
                -(params.term_end_resentment_weight * self.resentment + params.term_end_window_months * pull)
            ) if acts else 0.0
        leave = 1.0 - (1.0 - background) * (1.0 - voluntary)
        if locked:
            self.bond -= params.trapped_bond_loss * self.resentment
        if self.random.random() < leave:
            free = 0.0 if locked else 1.0
            weights = (
                free * price,
                free * service,
                free * relationship,
                voluntary if term_ends else 0.0,
                voluntary if breakout and not term_ends else 0.0,
                background,
            )
            self.exit_reason = self.random.choices(_REASONS, weights)[0]
            if locked and not term_ends:  # leaving during the term costs the exit fee
                self.model.exit_fees += self.exit_fee_months * self.spend_per_month
            self.model.leave(self)
            return
        # ageing (phase 6), then the contract program's rule at a term end (phase 7)
        self.tenure_months += 1
        self.months_since_personal_contact += 1
        if locked:
            self.contract_months_left -= 1
        if term_ends:
            for program in self.model.running:
                program.term_end(self.model, self, acts)

    def clamp(self) -> None:
        for name in _CLAMPED:
            setattr(self, name, min(1.0, max(0.0, getattr(self, name))))


_REASONS = (
    ExitReason.PRICE, ExitReason.SERVICE, ExitReason.RELATIONSHIP,
    ExitReason.CONTRACT_END, ExitReason.RESENTMENT, ExitReason.BACKGROUND,
)


class ReferenceModel(mesa.Model):
    """Customers as Mesa agents, stepped in random order once a month; same arguments as
    :class:`sim.model.LoyaltyModel` (``rng`` seeds Mesa's ``random`` and ``rng``)."""

    def __init__(
        self,
        strategy: Strategy,
        market: Market | None = None,
        customers: int = 10_000,
        months: int = 60,
        rng: int | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.random.seed(rng)  # customers draw from Python's ``random``: seed it from the run's seed too
        self.strategy = strategy
        self.market = market or Market()
        self.programs = [REFERENCE_PROGRAMS[spec.name](spec) for spec in strategy.programs]
        self.initial_customers, self.months, self.month = customers, months, 0
        self.running: list[ReferenceProgram] = []
        self.level = ServiceLevel.from_params(self.market.service)
        self.costs: dict[str, float] = {}
        self.cost_by_category: dict[str, float] = {}
        self.exit_fees = 0.0
        self.rows: list[dict[str, float]] = []
        self._exits: list[Customer] = []
        for _ in range(customers):
            self.join(month=0)

    def join(self, month: int) -> Customer:
        segments = self.market.segments
        segment = self.random.choices(segments, [s.share for s in segments])[0]
        return Customer(self, segment, month)

    def leave(self, customer: Customer) -> None:
        self._exits.append(customer)

    def charge(self, program: str, eur: float, category: str) -> None:
        self.costs[program] = self.costs.get(program, 0.0) + eur
        self.cost_by_category[category] = self.cost_by_category.get(category, 0.0) + eur

    def step(self) -> None:
        self.month += 1
        self.costs, self.cost_by_category = {}, {}
        self.exit_fees = 0.0
        self._exits = []
        customers = list(self.agents)
        previous = set(self.running)
        self.running = [p for p in self.programs if p.spec_runs_in(self.month)]
        for program in self.programs:
            if program in self.running and program not in previous:
                program.start(self)
            elif program in previous and program not in self.running:
                program.stop(self)
        self.level = ServiceLevel.from_params(self.market.service)
        for program in self.running:
            program.service(self, self.level)
        self.agents.shuffle_do("step")
        for customer in self._exits:
            customer.remove()

        multiplier = math.prod(p.acquisition_multiplier() for p in self.running)
        expected = self.market.acquisition.new_customers_per_month_share * self.initial_customers * multiplier
        joiners = [self.join(self.month) for _ in range(int(self.rng.poisson(expected)))]
        for customer in joiners:
            for program in self.running:
                program.onboard(self, customer)
        self._record(customers, len(joiners))

    def _record(self, at_start: list[Customer], acquired: int) -> None:
        exits = self._exits
        initial_at_start = sum(1 for c in at_start if c.join_month == 0)
        revenue = sum(c.spend_per_month for c in at_start)
        cost = sum(self.costs.values())
        row = {
            "month": self.month,
            "active_initial": sum(1 for c in self.agents if c.join_month == 0),
            "active_total": len(self.agents),
            "acquired": acquired,
            "churned_total": len(exits),
            **{
                f"churned_{r}": sum(1 for c in exits if c.exit_reason == i + 1)
                for i, r in enumerate(EXIT_REASONS)
            },
            "churn_rate": len(exits) / max(1, len(at_start)),
            "cohort_churn_rate": sum(1 for c in exits if c.join_month == 0) / max(1, initial_at_start),
            "revenue": revenue,
            "program_cost": cost,
            "margin": self.market.gross_margin_share * revenue - cost,
            **{f"cost_{c}": self.cost_by_category.get(c, 0.0) for c in COST_CATEGORIES},
            "exit_fees": self.exit_fees,
            "points_liability": sum(c.points for c in self.agents),
        }
        self.rows.append(row)

    def run(self) -> dict[str, object]:
        """Step to the horizon; return the same per-run summary as ``RunResult.summary()``."""
        while self.month < self.months:
            self.step()
        return run_summary(pl.DataFrame(self.rows), self.initial_customers)


class ReferenceProgram:
    """A program acting on one customer at a time; hooks as in :class:`sim.programs.Program`."""

    def __init__(self, spec: ProgramSpec) -> None:
        self.spec = spec
        self.params = PROGRAMS.get(spec.name).Params(**spec.params)
        self.name = spec.name

    def spec_runs_in(self, month: int) -> bool:
        end = self.spec.end_month
        return self.spec.start_month <= month and (end is None or month < end)

    def start(self, model: ReferenceModel) -> None: ...
    def stop(self, model: ReferenceModel) -> None: ...
    def service(self, model: ReferenceModel, level: ServiceLevel) -> None: ...
    def act(self, model: ReferenceModel, customer: Customer) -> None: ...
    def onboard(self, model: ReferenceModel, customer: Customer) -> None: ...
    def term_end(self, model: ReferenceModel, customer: Customer, recontracted: bool) -> None: ...

    def acquisition_multiplier(self) -> float:
        return 1.0


class RareContact(ReferenceProgram):
    def act(self, model, customer) -> None:
        p = self.params
        if customer.random.random() < p.sales_contacts_per_year / 12:
            model.charge(self.name, p.cost_per_contact, "contacts")
            customer.attention += model.market.attention.contact_gain * (1.0 - customer.attention)
            if customer.months_since_personal_contact >= p.silence_months:
                customer.bond *= 1.0 - p.pitch_after_silence_bond_loss


class PointCard(ReferenceProgram):
    def act(self, model, customer) -> None:
        p = self.params
        share = p.share_in(model.month)
        customer.reward_received = share
        customer.points += share * customer.spend_per_month
        model.charge(self.name, p.admin_cost_per_member_month, "admin")
        if customer.points >= p.redemption_threshold:
            model.charge(self.name, customer.points, "rewards")
            customer.points = 0.0

    def stop(self, model) -> None:
        if self.params.forfeit_points_at_end:
            for customer in model.agents:
                customer.points = 0.0


class LockInContract(ReferenceProgram):
    def start(self, model) -> None:
        for customer in model.agents:
            self.onboard(model, customer)

    def onboard(self, model, customer) -> None:
        p = self.params
        customer.contract_months_left = p.term_months
        customer.exit_fee_months = p.exit_fee_months
        customer.renewal_term_months = p.term_months if customer.random.random() < p.auto_renewal_share else 0

    def act(self, model, customer) -> None:
        if customer.contract_months_left > 0:
            model.charge(self.name, self.params.admin_cost_per_contract_month, "admin")
            if self.params.end_of_contract_notice and customer.contract_months_left == 1:
                customer.attention += self.params.notice_attention_gain * (1.0 - customer.attention)

    def term_end(self, model, customer, recontracted) -> None:
        p = self.params
        if recontracted or customer.renewal_term_months > 0:
            customer.contract_months_left = p.term_months
            customer.exit_fee_months = p.exit_fee_months
        else:
            customer.exit_fee_months = 0.0

    def stop(self, model) -> None:
        for customer in model.agents:
            customer.renewal_term_months = 0


class PersonalAppreciation(ReferenceProgram):
    def service(self, model, level) -> None:
        # Staff can contact this many customers this month; customers step in random order.
        self.capacity_left = int(self.params.capacity_per_1000_customers_month * len(model.agents) / 1000)

    def act(self, model, customer) -> None:
        p = self.params
        if customer.random.random() >= p.contacts_per_year / 12 or self.capacity_left == 0:
            return
        self.capacity_left -= 1
        silence = customer.months_since_personal_contact
        freshness = min(1.0, silence / p.habituation_months) if p.habituation_months else 1.0
        customer.bond += p.bond_gain * customer.bond_need * freshness * (1.0 - customer.bond)
        customer.satisfaction += p.satisfaction_gain * (1.0 - customer.satisfaction)
        customer.months_since_personal_contact = 0
        model.charge(self.name, p.cost_per_contact, "contacts")


class MassContact(ReferenceProgram):
    def act(self, model, customer) -> None:
        p = self.params
        if p.contacts_per_year == 0:
            return
        contacts = p.contacts_per_year / 12
        excess = max(0.0, 1.0 - customer.contact_tolerance_per_year / p.contacts_per_year)
        customer.bond += p.bond_gain_per_contact * contacts * (1.0 - customer.bond)
        customer.bond -= p.annoyance_bond_loss * contacts * excess
        customer.satisfaction -= p.annoyance_satisfaction_loss * contacts * excess
        model.charge(self.name, p.cost_per_contact * contacts, "contacts")
        if customer.random.random() < min(1.0, contacts):
            customer.attention += model.market.attention.contact_gain * (1.0 - customer.attention)


class NewCustomerDeals(ReferenceProgram):
    def act(self, model, customer) -> None:
        p = self.params
        since_joining = model.month - customer.join_month
        if customer.join_month >= self.spec.start_month and 0 < since_joining <= p.deal_months:
            model.charge(self.name, p.welcome_discount_share * customer.spend_per_month, "discounts")
        elif customer.random.random() < p.visibility_per_month:
            loyalty = min(1.0, customer.tenure_months / 12.0)
            customer.bond -= p.unfairness_bond_loss * loyalty
            customer.satisfaction -= p.unfairness_satisfaction_loss * loyalty

    def acquisition_multiplier(self) -> float:
        return self.params.acquisition_multiplier


class ServiceExcellence(ReferenceProgram):
    def service(self, model, level) -> None:
        p = self.params
        level.failure_per_month *= 1.0 - p.failure_reduction
        level.recovery_share = max(level.recovery_share, p.recovery_share_excellent)
        level.quality = min(1.0, level.quality + p.quality_gain)
        level.staff_bond_gain += p.staff_bond_gain
        model.charge(self.name, p.cost_per_customer_month * len(model.agents), "service")


# Every built-in program but status_tiers, which has no per-customer version yet.
REFERENCE_PROGRAMS: dict[str, type[ReferenceProgram]] = {
    "rare_contact": RareContact,
    "point_card": PointCard,
    "lock_in_contract": LockInContract,
    "personal_appreciation": PersonalAppreciation,
    "mass_contact": MassContact,
    "new_customer_deals": NewCustomerDeals,
    "service_excellence": ServiceExcellence,
}
