"""Lock-in contract: a minimum term with an exit fee, and what happens when it ends (C3).

When the program starts, every active customer signs a contract of ``term_months``; customers
who join later sign on joining. The decision phase blocks voluntary exits during the term
(resentment grows instead) and lets a customer break out when resentment beats the barrier set
by ``exit_fee_months``. The term's end is a decision for customers who pay attention
(``sim.mechanisms.decision``): they switch or re-contract; the others roll on. This program
owns the contract rules (its ``term_end`` hook)::

    re-contracted                      -> a new term of term_months, with the exit fee
    rolled on, renewal clause          -> a new term of term_months (auto-renewal by inertia)
    rolled on, no renewal clause       -> free, cancellable monthly (TKG 2021: one month's notice)

A share ``auto_renewal_share`` of contracts carries the renewal clause, fixed at signing.
With ``end_of_contract_notice`` the firm tells each customer in the last month of the term
that it ends, which raises their attention by ``notice_attention_gain`` (Ofcom's
end-of-contract notifications: 47% of broadband customers act at the end of a contract
without one, 62% with one, the rise mostly re-contracting; Ofcom 2021). When the program
stops, running contracts run out and end free (nobody renews or re-contracts).

The program owns its state: the columns ``contract_months_left``, ``exit_fee_months`` and
``renewal_term_months``, the countdown of the term (its ``age`` hook, phase 6) and what binds a
customer, which the core reads through its ``terms`` hook (``sim.programs.Terms``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.mechanisms.attention import raise_attention
from sim.params import check_range
from sim.plugins import param
from sim.population import Column
from sim.programs import Program, Terms, register


@dataclass(frozen=True)
class LockInContractParams:
    """Contract terms."""

    term_months: int = param(24, "months", "minimum term of a contract (TKG 2021 maximum: 24)")
    exit_fee_months: float = param(3.0, "months of spend", "fee for leaving during the term")
    auto_renewal_share: float = param(0.5, "share", "contracts that renew for a full term when they end")
    end_of_contract_notice: bool = param(
        False, "-", "tell customers in the term's last month that it ends (Ofcom's notification)"
    )
    notice_attention_gain: float = param(
        0.45, "share of 1 - attention",
        "attention raised by the notice (set so that 47% -> 62% act, Ofcom 2021)",
    )
    admin_cost_per_contract_month: float = param(0.1, "EUR per contract-month", "contract administration")

    def __post_init__(self) -> None:
        check_range(self, ("term_months",), 1)
        check_range(self, ("exit_fee_months", "admin_cost_per_contract_month"))
        check_range(self, ("auto_renewal_share", "notice_attention_gain"), 0.0, 1.0)


@register("lock_in_contract")
class LockInContract(Program):
    Params = LockInContractParams
    columns = (
        Column("contract_months_left", "int16", 0, "months left on the current contract term; 0 = free"),
        Column("exit_fee_months", "float32", 0.0, "fee for leaving during the term, months of spend"),
        Column("renewal_term_months", "int16", 0, "term the contract renews into at its end; 0 = free"),
    )

    def start(self, model) -> None:
        self.onboard(model, model.population.active_ids())

    def onboard(self, model, ids: np.ndarray) -> None:
        p: LockInContractParams = self.params
        pop = model.population
        self._sign(pop, ids)
        renews = model.uniforms(self.stream_key, ids) < p.auto_renewal_share
        pop.renewal_term_months[ids] = np.where(renews, p.term_months, 0)

    def _sign(self, pop, ids: np.ndarray) -> None:
        pop.contract_months_left[ids] = self.params.term_months
        pop.exit_fee_months[ids] = self.params.exit_fee_months

    def act(self, model) -> None:
        p: LockInContractParams = self.params
        pop = model.population
        under_contract = np.flatnonzero(pop.active & (pop.contract_months_left > 0))
        if p.end_of_contract_notice:
            ending = under_contract[pop.contract_months_left[under_contract] == 1]
            raise_attention(model, ending, p.notice_attention_gain)
        model.charge(self.name, p.admin_cost_per_contract_month * under_contract.size, "admin")

    def term_end(self, model, ids: np.ndarray, recontracted: np.ndarray) -> None:
        pop = model.population
        renewing = ids[recontracted | (pop.renewal_term_months[ids] > 0)]
        self._sign(pop, renewing)
        free = ids[pop.contract_months_left[ids] == 0]
        pop.exit_fee_months[free] = 0.0

    def stop(self, model) -> None:
        model.population.renewal_term_months[:] = 0

    def age(self, model) -> None:
        """A running term gets one month shorter for every customer who stayed; it ends in the
        month its clock shows 1 (and shows 0 after that month's ageing)."""
        pop = model.population
        running = np.flatnonzero(pop.contract_months_left > 0)
        running = running[pop.active[running]]
        pop.contract_months_left[running] -= 1

    def terms(self, model, ids: np.ndarray) -> Terms:
        pop = model.population
        return Terms(pop.contract_months_left[ids], pop.exit_fee_months[ids])
