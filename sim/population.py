"""Customers as a struct of NumPy arrays, driven by one declared schema.

The schema (:data:`SCHEMA`) is the single source of truth for every per-customer column:
its dtype, its initial value and its meaning. It drives allocation, growth when customers
join, Parquet export and the table in ``docs/ODD.md``. Rows are never removed: a customer
who leaves keeps their row with ``active = False``, ``exit_month`` and ``exit_reason`` set.

The rows of the active customers are kept as an index array (:meth:`Population.active_ids`),
updated when customers join or leave (:meth:`Population.deactivate`), so that the monthly
phases visit only the customers still here: departed customers cost no time after they leave.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from sim.distributions import Beta, Gamma, LogNormal
from sim.params import check_range


class ExitReason(IntEnum):
    """Why a customer left; ``STILL_ACTIVE`` while they have not."""

    STILL_ACTIVE = 0
    PRICE = 1  # accepted a competitor's offer
    SERVICE = 2  # an unrecovered service failure or lasting dissatisfaction
    RELATIONSHIP = 3  # neglect: a customer who needs a bond and has none drifts away
    CONTRACT_END = 4  # left at the end of a contract term
    RESENTMENT = 5  # broke out of a running contract despite the exit fee
    BACKGROUND = 6  # life events: moving, death, no longer needing the product

    @property
    def label(self) -> str:
        return self.name.lower()


EXIT_REASONS: tuple[str, ...] = tuple(r.label for r in ExitReason if r is not ExitReason.STILL_ACTIVE)


@dataclass(frozen=True)
class Column:
    """One per-customer array: name, NumPy dtype, value of a new row, meaning (with unit)."""

    name: str
    dtype: str
    initial: float | int | bool
    meaning: str
    kind: str = "state"  # "trait" (fixed at creation) or "state" (changes monthly)


SCHEMA: tuple[Column, ...] = (
    Column("segment", "int8", 0, "index of the segment the customer was drawn from", "trait"),
    Column("price_focus", "float32", 0.0, "weight of rational value in decisions, 0..1", "trait"),
    Column("bond_need", "float32", 0.0, "weight of emotional ties in decisions, 0..1", "trait"),
    Column(
        "contact_tolerance_per_year", "float32", 0.0,
        "standardised contacts per year the customer accepts before feeling annoyed", "trait",
    ),
    Column(
        "background_exit_per_month", "float32", 0.0,
        "probability per month of leaving for life events (moves, death)", "trait",
    ),
    Column(
        "restlessness", "float32", 1.0,
        "multiplier on voluntary exit hazards: variety seekers > 1 > creatures of habit", "trait",
    ),
    Column(
        "churn_propensity", "float32", 1.0,
        "multiplier on every exit hazard, Gamma-distributed over customers (market.heterogeneity)",
        "trait",
    ),
    Column(
        "attentiveness", "float32", 0.3,
        "resting attention to the deal: chance of weighing an offer in a quiet month, 0..1", "trait",
    ),
    Column("spend_per_month", "float32", 0.0, "revenue from the customer per active month, EUR", "trait"),
    Column("join_month", "int16", 0, "month the customer joined; 0 = initial cohort", "trait"),
    Column("active", "bool", True, "still a customer"),
    Column("bond", "float32", 0.0, "emotional bond: trust plus felt appreciation, 0..1"),
    Column(
        "bond_transient", "float32", 0.0,
        "part of the bond that time takes back: minus the failure losses not yet forgiven "
        "(market.adaptation.transient_bond_fade_per_month), bond units",
    ),
    Column("rational_value", "float32", 0.0, "reward balance and price advantage, 0..1"),
    Column("satisfaction", "float32", 0.75, "smoothed recent experience, 0..1; new customers start content"),
    Column("reward_expectation", "float32", 0.0, "reward the customer expects per month, share of spend"),
    Column("reward_received", "float32", 0.0, "reward received this month, share of spend"),
    Column("resentment", "float32", 0.0, "felt constraint from a lock-in, 0..1"),
    Column(
        "attention", "float32", 0.3,
        "chance of weighing an offer, or of acting at a term end, this month, 0..1; starts at attentiveness",
    ),
    Column("complaint_months_left", "int8", 0, "months until an open complaint is resolved; 0 = none open"),
    Column(
        "first_failure_path", "int8", 0, "FailurePath code of the customer's first service failure; 0 = none"
    ),
    Column("first_failure_large", "bool", False, "the first service failure was large"),
    Column("first_failure_month", "int16", -1, "month of the first service failure; -1 = none yet"),
    Column("tenure_months", "int16", 0, "months as a customer"),
    Column("months_since_personal_contact", "int16", 0, "months since the last personal contact"),
    Column("exit_month", "int16", -1, "month the customer left; -1 = not yet"),
    Column("exit_reason", "int8", 0, "ExitReason code; 0 = still active"),
)

TRAITS: tuple[str, ...] = tuple(c.name for c in SCHEMA if c.kind == "trait")
# Traits drawn from a segment's distributions (the others are the segment and the join month).
DRAWN_TRAITS: tuple[str, ...] = tuple(
    t for t in TRAITS if t not in ("segment", "join_month", "churn_propensity")
)


@dataclass(frozen=True)
class Segment:
    """A kind of customer: its share of the market and the distribution of each trait.

    Defaults describe a "convenience buyer". Spreads are deliberately wide: heterogeneity is
    what makes yearly retention of a cohort rise with tenure (Fader & Hardie, J. Interactive
    Marketing 21(1), 2007), because the customers most likely to leave leave first.
    """

    name: str
    share: float
    price_focus: Beta = Beta(0.5, 6.0)
    bond_need: Beta = Beta(0.5, 6.0)
    # contacts per year; a monthly newsletter (12/yr) annoys about two thirds of the customers
    contact_tolerance_per_year: LogNormal = LogNormal(10.0, 0.6)
    # Life events alone: about 1.5% a year leave regardless of the firm (median 0.0008 a month
    # times the mean churn propensity 1.7 of market.heterogeneity and the lognormal mean factor).
    background_exit_per_month: LogNormal = LogNormal(0.0008, 0.6)
    # Some customers switch for the sake of it, others never look around; an sBG-like spread.
    restlessness: LogNormal = LogNormal(1.0, 0.8)
    spend_per_month: LogNormal = LogNormal(50.0, 0.4)  # EUR
    # Resting attention to the deal (sim.mechanisms.attention): most customers roll on without
    # looking; bargain hunters watch. Assumption, set with the Ofcom term-end figures (47% act).
    attentiveness: Beta = Beta(0.25, 4.0)
    # The durable bond a new customer brings, below what good service sustains
    # (market.adaptation.satisfaction_bond_share * satisfaction), so trust grows slowly with tenure;
    # the courting before the sale adds a transient premium (market.acquisition.courted_bond_premium).
    initial_bond: Beta = Beta(0.25, 8.0)

    def __post_init__(self) -> None:
        check_range(self, ("share",), 0.0, 1.0)


DEFAULT_SEGMENTS: tuple[Segment, ...] = (
    Segment(
        "bargain_hunters", 0.25,
        price_focus=Beta(0.8, 8.0), bond_need=Beta(0.2, 8.0),
        contact_tolerance_per_year=LogNormal(6.0, 0.6), spend_per_month=LogNormal(40.0, 0.4),
        initial_bond=Beta(0.15, 8.0), attentiveness=Beta(0.6, 4.0),
    ),
    Segment(
        "relationship_seekers", 0.35,
        price_focus=Beta(0.25, 8.0), bond_need=Beta(0.8, 8.0),
        contact_tolerance_per_year=LogNormal(12.0, 0.6), spend_per_month=LogNormal(55.0, 0.4),
        attentiveness=Beta(0.2, 4.0),
    ),
    Segment("convenience_buyers", 0.40),
)


class Population:
    """Struct-of-arrays customer table with spare capacity for customers who join later.

    Column arrays are read as attributes (``pop.bond``) and are views of the first ``n``
    rows; update them in place (``pop.bond[ids] += x``, ``np.clip(..., out=pop.bond)``).
    ``active`` is read-only: customers leave through :meth:`deactivate`, which keeps the index
    of active rows (:meth:`active_ids`) in step.
    """

    def __init__(self, capacity: int, extra_columns: tuple[Column, ...] = ()) -> None:
        columns = SCHEMA + tuple(extra_columns)
        names = [c.name for c in columns]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate population columns: {names}")
        object.__setattr__(self, "columns", {c.name: c for c in columns})
        object.__setattr__(self, "n", 0)
        object.__setattr__(self, "_data", {c.name: self._empty(c, max(capacity, 1)) for c in columns})
        # The active rows, ascending, in the first _active_count entries of a buffer with room.
        object.__setattr__(self, "_active_rows", np.empty(max(capacity, 1), dtype=np.int64))
        object.__setattr__(self, "_active_count", 0)

    @staticmethod
    def _empty(column: Column, capacity: int) -> np.ndarray:
        # Zeros from the allocator cost nothing until a row is used (pages are mapped lazily);
        # a million-customer run reserves room for twice its joiners. Rows get their column's
        # initial value when they are added (add), not here: filling the spare rows would write
        # every page of them up front.
        return np.zeros(capacity, dtype=column.dtype)

    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__["_data"]
        if name not in data:
            raise AttributeError(name)
        column = data[name][: self.__dict__["n"]]
        if name == "active":  # written only through deactivate(), which keeps active_ids in step
            column.flags.writeable = False
        return column

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"update population columns in place, e.g. pop.{name}[:] = ...")

    def __len__(self) -> int:
        return self.n

    def add(
        self,
        rng: np.random.Generator,
        count: int,
        segments: tuple[Segment, ...],
        month: int,
        traits: Mapping[str, Beta | Gamma | LogNormal] | None = None,
        segment_codes: np.ndarray | None = None,
        proneness_correlation: float = 0.0,
    ) -> np.ndarray:
        """Append ``count`` new customers drawn from ``segments``; return their ids.

        ``traits`` gives market-wide distributions of further traits (``churn_propensity``:
        ``Market.customer_traits``), drawn in their order after the segment
        traits so that they do not shift them; traits left out keep their initial value.
        ``proneness_correlation`` couples the churn propensity to the initial bond (a Gaussian
        copula on the two draws' normal scores, ``market.heterogeneity``): customers prone to
        relationships start with a stronger bond and are less inclined to leave.
        """
        start = self.n
        stop = start + count
        self._reserve(stop)
        weights = np.array([s.share for s in segments], dtype=float)
        if segment_codes is None:
            seg = rng.choice(len(segments), size=count, p=weights / weights.sum()).astype(np.int8)
        else:  # known segments (the firm's own customers, sim.customer_base)
            seg = segment_codes.astype(np.int8)
        object.__setattr__(self, "n", stop)
        self._append_active(start, stop)
        rows = slice(start, stop)
        for name, column in self.columns.items():
            if column.initial != 0:
                self._data[name][rows] = column.initial
        self.segment[rows] = seg
        self.join_month[rows] = month
        for index, segment in enumerate(segments):
            ids = start + np.flatnonzero(seg == index)
            for trait in DRAWN_TRAITS:
                getattr(self, trait)[ids] = getattr(segment, trait).sample(rng, ids.size)
            self.bond[ids] = segment.initial_bond.sample(rng, ids.size)
        coupled = {}
        if proneness_correlation:
            coupled = {"scores": -self._bond_scores(rows, segments), "correlation": proneness_correlation}
        for trait, distribution in (traits or {}).items():
            extra = coupled if trait == "churn_propensity" else {}
            getattr(self, trait)[rows] = distribution.sample(rng, count, **extra)
        added = self.background_exit_per_month[rows]  # a view: older rows are clipped already
        np.clip(added, 0.0, 0.5, out=added)
        return np.arange(start, stop)

    def _bond_scores(self, rows: slice, segments: tuple[Segment, ...]) -> np.ndarray:
        """Standard normal scores of the initial bonds of ``rows`` within their segment's Beta."""
        from scipy import special

        shape = np.array([(s.initial_bond.mean * s.initial_bond.concentration, s.initial_bond.concentration)
                          for s in segments])[self.segment[rows]]
        rank = special.betainc(shape[:, 0], shape[:, 1] - shape[:, 0], self.bond[rows].astype(np.float64))
        return special.ndtri(np.clip(rank, 1e-9, 1.0 - 1e-9))

    def truncate(self, size: int) -> None:
        """Drop the rows from ``size`` on, resetting them to their initial values (used to keep
        part of a block of drawn customers, see ``sim.mechanisms.acquisition.draw_rows``)."""
        for name, array in self._data.items():
            array[size : self.n] = self.columns[name].initial
        object.__setattr__(self, "n", min(self.n, size))
        rows = self._active_rows[: self._active_count]
        object.__setattr__(self, "_active_count", int(np.searchsorted(rows, size)))

    def remove(self, start: int, stop: int) -> None:
        """Drop rows ``start..stop-1``, moving the later rows down (used to keep part of a block
        of drawn customers, see ``sim.mechanisms.acquisition.draw_rows``)."""
        if stop > start:
            n = self.n
            for array in self._data.values():
                array[start : n - (stop - start)] = array[stop:n]
            rows = self._active_rows[: self._active_count]
            first, last = np.searchsorted(rows, (start, stop))  # rows from start on move or go
            tail = rows[last:] - (stop - start)
            rows[first : first + tail.size] = tail
            object.__setattr__(self, "_active_count", int(first + tail.size))
            self.truncate(n - (stop - start))

    def _reserve(self, size: int) -> None:
        data = self._data
        capacity = next(iter(data.values())).size
        if size <= capacity:
            return
        new_capacity = max(size, int(capacity * 1.5))
        for name, array in data.items():
            grown = self._empty(self.columns[name], new_capacity)
            grown[: self.n] = array[: self.n]
            data[name] = grown
        rows = np.empty(new_capacity, dtype=np.int64)
        rows[: self._active_count] = self._active_rows[: self._active_count]
        object.__setattr__(self, "_active_rows", rows)

    def _append_active(self, start: int, stop: int) -> None:
        """New rows ``start..stop-1`` are active (after every earlier row)."""
        count = self._active_count
        self._active_rows[count : count + stop - start] = np.arange(start, stop)
        object.__setattr__(self, "_active_count", count + stop - start)

    def active_ids(self) -> np.ndarray:
        """The rows of the active customers, ascending (read-only: kept up to date, not rebuilt)."""
        rows = self._active_rows[: self._active_count]
        rows.flags.writeable = False
        return rows

    @property
    def capacity(self) -> int:
        """Rows allocated: customers can join up to this many rows before the arrays grow."""
        return self._active_rows.size

    def deactivate(self, ids: np.ndarray, stayers: np.ndarray | None = None) -> None:
        """Customers ``ids`` (rows, active) leave: ``active`` becomes False and they drop out of
        :meth:`active_ids`. ``stayers``: the active rows without ``ids``, ascending, where the
        caller has them already (a compiled pass that decided who leaves); the start of a new
        int64 array of :attr:`capacity` entries is taken over as it is."""
        self._data["active"][ids] = False
        if stayers is None:
            rows = self._active_rows[: self._active_count]
            stayers = rows[self._data["active"][rows]]
        rows = stayers.base
        if not (
            isinstance(rows, np.ndarray) and rows.dtype == np.int64 and rows.size == self.capacity
            and rows is not self._active_rows and stayers.ctypes.data == rows.ctypes.data
        ):  # a new buffer: arrays that active_ids() returned before keep their rows
            rows = np.empty(self.capacity, dtype=np.int64)
            rows[: stayers.size] = stayers
        object.__setattr__(self, "_active_rows", rows)
        object.__setattr__(self, "_active_count", int(stayers.size))

    def to_dict(self, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """Copies of the named columns (all by default), e.g. for a polars DataFrame."""
        return {name: getattr(self, name).copy() for name in (names or list(self.columns))}
