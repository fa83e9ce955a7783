"""Word of mouth: customers know each other; a neighbour's exit pulls, apostles bring newcomers.

Customers sit on a social network (a small-world or scale-free graph from networkx, node ``i`` =
customer row ``i``), stored as a sparse CSR adjacency matrix so that a month costs one sparse
matrix-vector product. Two mechanisms:

**Churn contagion** (phase 5, then phase 4 of the next months). Every exit is remembered by the
leaver's neighbours, fading with ``memory_months``::

    exposure <- exposure * exp(-1 / memory_months) + A @ left_this_month

and each month a customer follows the remembered leavers to a competitor with probability::

    follow = (1 - (1 - follow_per_leaver) ** exposure) * (1 - bond) ** bond_shield

which is combined with the competitor-offer switch probability, ``switch = 1 - (1 - switch)(1 -
follow)`` (so the exit counts as reason ``price``: the friend's new provider is the offer).

**Apostle referrals** (phase 6). Apostles (very satisfied and strongly bonded, the thresholds of
``sim.outcomes.LoyaltyTypes``) bring ``referrals_per_apostle_year / 12`` newcomers a month each
on top of the market's joiners. A referred newcomer is tied to the apostle who brought them and
starts with some of the apostle's trust (``referred_bond_bonus``); every newcomer also gets
``mean_degree // 2`` ties to random active customers.

Calibration, in direction: social contagion of churn in telecom call graphs (Nitzan &
Libai, J. Marketing 75(6), 2011: exposure to a defecting neighbour raises one's hazard by about
80%); referred customers are more loyal (Schmitt, Skiera & Van den Bulte, J. Marketing 75(1), 2011).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from sim.api import Behaviour, Column, ParamError, Reporter, check_range, param
from sim.outcomes import LoyaltyTypes

NETWORKS = ("small_world", "scale_free")


@dataclass(frozen=True)
class WordOfMouthParams:
    """The network, churn contagion and referrals."""

    network: str = param("small_world", "-", "small_world (Watts-Strogatz) or scale_free (Barabasi-Albert)")
    mean_degree: int = param(6, "ties per customer", "acquaintances among the customers (even)")
    rewiring_share: float = param(0.1, "share", "small world: share of ties rewired at random")
    follow_per_leaver: float = param(0.05, "probability per month", "chance to follow one remembered leaver")
    memory_months: float = param(3.0, "months", "how long a neighbour's exit is remembered (e-folding)")
    bond_shield: float = param(2.0, "exponent", "how strongly one's own bond protects against following")
    referrals_per_apostle_year: float = param(0.5, "per apostle-year", "newcomers an apostle brings")
    referred_bond_bonus: float = param(0.1, "share of gap", "trust a newcomer takes from their apostle")

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise ParamError("network", f"must be one of {', '.join(NETWORKS)}, got {self.network!r}")
        check_range(self, ("mean_degree",), 2)
        check_range(self, ("rewiring_share", "follow_per_leaver", "referred_bond_bonus"), 0.0, 1.0)
        check_range(self, ("memory_months",), 0.1)
        check_range(self, ("bond_shield", "referrals_per_apostle_year"))


class WordOfMouth(Behaviour):
    Params = WordOfMouthParams
    columns = (
        Column("exposure", "float32", 0.0, "neighbours who left recently, fading with memory_months"),
        Column("referred_by", "int32", -1, "row of the apostle who brought the customer; -1 = none"),
    )
    reporters = (
        Reporter("word_of_mouth_exposed", "share 0..1", lambda model: _exposed_share(model.population),
                 "share of active customers who remember a neighbour's exit"),
        Reporter("word_of_mouth_referred", "customers", "referred_this_month",
                 "newcomers brought by an apostle this month"),
    )

    def setup(self, model) -> None:
        p: WordOfMouthParams = self.params
        n = len(model.population)
        seed = int(model.stream("word_of_mouth.network").integers(2**31))
        if p.network == "small_world":
            graph = nx.watts_strogatz_graph(n, min(p.mean_degree, n - 1), p.rewiring_share, seed=seed)
        else:
            graph = nx.barabasi_albert_graph(n, max(1, min(p.mean_degree // 2, n - 1)), seed=seed)
        self.adjacency = nx.to_scipy_sparse_array(graph, nodelist=range(n), dtype=np.float32, format="csr")
        self._apostles = np.empty(0, dtype=np.int64)
        self._referral_share = 0.0
        self._referred = 0

    def referred_this_month(self, model) -> int:
        """Newcomers brought by an apostle this month (a monthly reporter)."""
        return self._referred

    def offers(self, model, switch: np.ndarray) -> None:
        p: WordOfMouthParams = self.params
        pop = model.population
        ids = np.flatnonzero(pop.active & (pop.exposure > 0))
        follow = 1.0 - (1.0 - p.follow_per_leaver) ** pop.exposure[ids]
        follow *= (1.0 - pop.bond[ids]) ** p.bond_shield
        switch[ids] = 1.0 - (1.0 - switch[ids]) * (1.0 - follow)

    def stay_or_leave(self, model, leavers: np.ndarray) -> None:
        pop = model.population
        left = np.zeros(len(pop), dtype=np.float32)
        left[leavers] = 1.0
        pop.exposure[:] = pop.exposure * np.exp(-1.0 / self.params.memory_months) + self.adjacency @ left

    def acquisition_multiplier(self, model) -> float:
        p: WordOfMouthParams = self.params
        pop, types = model.population, LoyaltyTypes()
        self._apostles = np.flatnonzero(
            pop.active & (pop.satisfaction >= types.apostle_satisfaction) & (pop.bond >= types.apostle_bond)
        )
        referred = p.referrals_per_apostle_year / 12 * self._apostles.size
        self._referred = 0  # counted in onboard, if anyone joins this month
        base = model.market.acquisition.new_customers_per_month_share * model.initial_customers
        self._referral_share = referred / (base + referred) if base + referred > 0 else 0.0
        return 1.0 + referred / base if base > 0 else 1.0  # referrals ride on the market's joiners

    def onboard(self, model, ids: np.ndarray) -> None:
        p: WordOfMouthParams = self.params
        pop = model.population
        rng = model.stream("word_of_mouth.onboard")
        referred = ids[rng.random(ids.size) < self._referral_share] if self._apostles.size else ids[:0]
        apostles = rng.choice(self._apostles, size=referred.size) if referred.size else referred
        pop.referred_by[referred] = apostles
        self._referred = referred.size
        pop.bond[referred] += p.referred_bond_bonus * (1.0 - pop.bond[referred])
        # Ties: referred newcomers to their apostle; everyone to a few random active customers.
        active = pop.active_ids()
        active = active[active < ids[0]]
        random_ties = max(1, p.mean_degree // 2)
        newcomers = np.repeat(ids, random_ties)
        friends = rng.choice(active, size=newcomers.size) if active.size else newcomers
        rows = np.concatenate([referred, newcomers])
        cols = np.concatenate([apostles, friends])
        n = len(pop)
        ties = sp.csr_array((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n, n))
        # Symmetric, and a repeated tie counts once.
        self.adjacency = ((_grown(self.adjacency, n) + ties + ties.T) > 0).astype(np.float32).tocsr()


def _exposed_share(pop) -> float:
    active = pop.active
    count = np.count_nonzero(active)
    return float(np.count_nonzero(active & (pop.exposure > 0.05)) / count) if count else float("nan")


def _grown(adjacency: sp.csr_array, n: int) -> sp.csr_array:
    """The same ties in an ``n`` x ``n`` matrix: the new rows and columns are empty."""
    indptr = np.pad(adjacency.indptr, (0, n - adjacency.shape[0]), mode="edge")
    return sp.csr_array((adjacency.data, adjacency.indices, indptr), shape=(n, n))
