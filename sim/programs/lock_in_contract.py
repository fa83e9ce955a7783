"""Lock-in contract: a minimum term with an exit fee (C3).

When the program starts, every active customer signs a contract of ``term_months``; customers
who join later sign on joining. The decision phase blocks voluntary exits during the term
(resentment grows instead), lets a customer break out when resentment beats the barrier set by
``exit_fee_months``, and makes the term's end a decision point. A share
``auto_renewal_share`` of contracts renews for another term; the rest roll on monthly, free to
leave (German TKG 2021: terms of at most 24 months, then one month's notice). When the program
stops, running contracts run out and nobody renews.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import check_range
from sim.plugins import param
from sim.programs import Program, register


@dataclass(frozen=True)
class LockInContractParams:
    """Contract terms."""

    term_months: int = param(24, "months", "minimum term of a contract (TKG 2021 maximum: 24)")
    exit_fee_months: float = param(3.0, "months of spend", "fee for leaving during the term")
    auto_renewal_share: float = param(0.5, "share", "contracts that renew for a full term when they end")
    admin_cost_per_contract_month: float = param(0.1, "EUR per contract-month", "contract administration")

    def __post_init__(self) -> None:
        check_range(self, ("term_months",), 1)
        check_range(self, ("exit_fee_months", "admin_cost_per_contract_month"))
        check_range(self, ("auto_renewal_share",), 0.0, 1.0)


@register("lock_in_contract")
class LockInContract(Program):
    Params = LockInContractParams

    def start(self, model) -> None:
        self.onboard(model, model.population.active_ids())

    def onboard(self, model, ids: np.ndarray) -> None:
        p: LockInContractParams = self.params
        pop = model.population
        pop.contract_months_left[ids] = p.term_months
        pop.exit_fee_months[ids] = p.exit_fee_months
        renews = model.uniforms(self.stream_key)[ids] < p.auto_renewal_share
        pop.renewal_term_months[ids] = np.where(renews, p.term_months, 0)

    def act(self, model) -> None:
        pop = model.population
        under_contract = np.count_nonzero(pop.active & (pop.contract_months_left > 0))
        model.charge(self.name, self.params.admin_cost_per_contract_month * under_contract, "admin")

    def stop(self, model) -> None:
        model.population.renewal_term_months[:] = 0
