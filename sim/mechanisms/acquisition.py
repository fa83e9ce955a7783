"""Phase 8, new customers: an open cohort joins the firm.

The number joining each month is Poisson with mean
``new_customers_per_month_share * initial customers * acquisition multiplier``, where programs
in the ``acquire`` phase (new-customer deals) raise the multiplier. It is drawn by inversion of
one uniform number (:func:`poisson_quantile`), so runs with the same seed and different
multipliers get counts as alike as their means allow. New customers draw their
traits from the market's segments like the initial cohort and start with the bond of a fresh
sale: their segment's initial bond plus ``courted_bond_premium``, the courting before the sale,
which fades in the months after it (``bond_transient``, phase 3). The initial cohort is tracked
separately, so cohort loss is unaffected by joiners.

Common random numbers hold for joiners too (slots, as in Starsim): the ``k``-th joiner of
month ``m`` is the same customer under every strategy run with the same seed, however many
others join. Its segment and traits come from the stream of its *block* of
:data:`JOIN_BLOCK` joiners (``acquisition.joiners.<block>`` of month ``m``), drawn for the
whole block and cut to the count; its per-customer random numbers (``model.uniforms``) come
from its *slot*, a fixed position in every month's random array (:class:`Slots`), not from
its row, whose number depends on how many joined before. The initial cohort is drawn the same
way, by blocks of :data:`COHORT_BLOCK` slots (:func:`cohort`), so that a shard of the market
(``sim.shards``) draws its customers exactly as the whole market's run does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.mechanisms import MECHANISMS
from sim.params import check_range, param

JOIN_BLOCK = 1024  # joiners drawn together from one stream; the unused rest of a block is dropped
# (1024 rather than 128: a block costs ~0.4 ms of Python and NumPy calls, and a million
# customers gain ~10,000 a month; drawing a whole block for 20 joiners costs ~0.3 ms)


@MECHANISMS.register("acquisition")
@dataclass(frozen=True)
class AcquisitionParams:
    """New customers per month, as a share of the initial cohort size."""

    new_customers_per_month_share: float = param(
        0.01, "share of the initial cohort per month",
        "new customers per month; about 12% a year (assumption)",
    )

    courted_bond_premium: float = param(
        0.1, "bond 0..1",
        "bond a new customer holds on top of their segment's initial bond from the courting before "
        "the sale; it is transient and fades at market.adaptation.transient_bond_fade_per_month "
        "(the honeymoon of a new relationship: Levinthal & Fichman, Administrative Science "
        "Quarterly 33(3), 1988; the one-night brand, C1). Assumption for the size: a tenth of the "
        "bond scale, so failure-free customers lose well over a tenth of their bond in two years",
    )

    def __post_init__(self) -> None:
        check_range(self, ("new_customers_per_month_share", "courted_bond_premium"), 0.0, 1.0)


def court(model, ids: np.ndarray) -> None:
    """New customers ``ids`` get the courted premium on their bond, booked as transient."""
    pop = model.population
    bond = pop.bond[ids]
    premium = np.minimum(np.float32(model.market.acquisition.courted_bond_premium), 1.0 - bond)
    pop.bond[ids] = bond + premium
    pop.bond_transient[ids] += premium


def expected_joiners(model, multiplier: float) -> float:
    params: AcquisitionParams = model.market.acquisition
    return params.new_customers_per_month_share * model.initial_customers * multiplier


def poisson_quantile(u: float, mean: float) -> int:
    """The smallest ``k`` with ``P(K <= k) >= u`` for ``K ~ Poisson(mean)`` (inversion)."""
    if mean <= 0.0:
        return 0
    top = int(mean + 12.0 * math.sqrt(mean) + 20.0)
    k = np.arange(top + 1)
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, top + 1)))])
    cdf = np.cumsum(np.exp(k * math.log(mean) - mean - log_factorial))
    return int(min(np.searchsorted(cdf, u), top))


def capacity(params: AcquisitionParams, customers: int, months: int) -> int:
    """Rows to allocate up front for a run: the initial cohort, its expected joiners twice over
    (the population grows by half when a program lifts acquisition beyond that), 10% slack."""
    return int(customers * (1.1 + 2 * params.new_customers_per_month_share * months))


def join(model, count: int, first: int = 0, total: int | None = None) -> np.ndarray:
    """Add joiners ``first..first+count-1`` of the month's ``total`` (default ``count``) in month
    ``model.month``, drawn by blocks; return their ids. A shard (``sim.shards``) adds its share."""
    pop = model.population
    start = pop.n

    def stream(block: int) -> np.random.Generator:
        return model.stream(f"acquisition.joiners.{block}")

    draw_rows(pop, stream, JOIN_BLOCK, range(first, first + count), model.market, month=model.month)
    model.slots.join(model.month, count, first, total)
    return np.arange(start, start + count)


COHORT_BLOCK = 1 << 20  # initial customers drawn together from one stream (the first: "population")


def cohort(model, customers: range) -> None:
    """Add the initial customers ``customers`` (all, or a shard's slots) of a cohort of
    ``model.initial_customers``, drawn by blocks of :data:`COHORT_BLOCK` slots: customer ``i``
    gets the same segment and traits however the cohort is split into shards."""
    draw_rows(
        model.population, lambda block: model.stream(f"population.{block}" if block else "population"),
        COHORT_BLOCK, customers, model.market, month=0, end=model.initial_customers,
    )


def draw_rows(pop, stream, block: int, rows: range, market, month: int, end: int | None = None) -> None:
    """Append customers ``rows`` of a sequence drawn by blocks: block ``b`` (positions
    ``b * block`` on) draws ``block`` customers (fewer where ``end`` cuts the sequence short) from
    ``stream(b)``; what the blocks hold before or after ``rows`` is dropped."""
    start = pop.n
    for b in range(rows.start // block, math.ceil(rows.stop / block)):
        size = block if end is None else min(block, end - b * block)
        pop.add(stream(b), size, market.segments, month=month, traits=market.customer_traits(),
                proneness_correlation=market.heterogeneity.proneness_correlation)
    head = rows.start - rows.start // block * block  # drawn positions before the first row
    pop.truncate(start + head + len(rows))
    pop.remove(start, start + head)


class Slots:
    """Each customer row's position in the per-customer random arrays of ``model.uniforms``.

    The initial cohort holds slots ``0..customers-1``; joiner ``k`` of month ``m`` holds slot
    ``customers + (m - 1) * per_month + k``, where ``per_month`` is three times the expected
    joiners of a month plus ten standard deviations: a month with more joiners (a program
    tripling acquisition) gives the excess slots after every month's, in order, and only those
    lose their pairing. A random array drawn for ``end`` slots has the same leading numbers
    whatever ``end`` is, so a slot's number does not depend on how many others joined.
    """

    def __init__(
        self, params: AcquisitionParams, customers: int, months: int, held: range | None = None
    ) -> None:
        expected = params.new_customers_per_month_share * customers
        self.customers = customers
        self.per_month = int(3 * expected + 10 * math.sqrt(expected) + 16)
        self.months = months
        self.overflow_start = customers + months * self.per_month
        self.overflow = 0  # overflow slots given out, in the whole market
        held = range(customers) if held is None else held  # the initial slots of this model (a shard's)
        self._slots = np.arange(held.start, held.stop, dtype=np.int64)  # a buffer with room to grow
        self._count = len(held)
        self.end = held.stop  # one more than the highest slot held

    @property
    def of_row(self) -> np.ndarray:
        """The slot of each row so far."""
        return self._slots[: self._count]

    def join(self, month: int, count: int, first: int = 0, total: int | None = None) -> None:
        """Slots for joiners ``first..first+count-1`` of the month's ``total`` (default ``count``)."""
        total = count if total is None else total
        per_month = self.per_month if month <= self.months else 0  # stepped past the horizon
        k = first + np.arange(count, dtype=np.int64)
        regular = self.customers + (month - 1) * self.per_month + k
        self._append(np.where(k < per_month, regular, self.overflow_start + self.overflow + k - per_month))
        self.overflow += max(0, total - per_month)

    def rows(self, n: int) -> np.ndarray:
        """The slots of rows ``0..n-1``; rows added without :func:`join` get overflow slots."""
        if n > self.of_row.size:
            self._append(self._extra(n - self.of_row.size))
        return self.of_row

    def _extra(self, count: int) -> np.ndarray:
        slots = self.overflow_start + self.overflow + np.arange(count, dtype=np.int64)
        self.overflow += count
        return slots

    def _append(self, slots: np.ndarray) -> None:
        if slots.size:
            count = self._count + slots.size
            if count > self._slots.size:  # grow by half, so that appending a month costs its joiners
                grown = np.empty(max(count, int(1.5 * self._slots.size)), dtype=np.int64)
                grown[: self._count] = self.of_row
                self._slots = grown
            self._slots[self._count : count] = slots
            self._count = count
            self.end = max(self.end, int(slots.max()) + 1)
