"""The firm's own customers as the initial cohort: what the table says, and the rest drawn.

A :class:`CustomerBase` holds a validated customer table (read by ``sim.customer_table``);
``Market.customer_base`` carries it to every run, and the model starts from it instead of
drawing its initial customers. :meth:`CustomerBase.populate` sets what is known and draws
what is not, conditioned on what is known:

* **Known, set as given:** the segment, tenure, monthly spend; the points balance and the
  months left on a contract (into the ``points`` and ``contract_months_left`` columns, where
  the population has them), the exit fee; bond and satisfaction when the table has them.
* **Drawn from the customer's segment** (``market.segments``), as for a synthetic customer:
  price focus, bond need, contact tolerance, background exits, restlessness, attentiveness.
  The segment's trait distributions are independent of spend, so conditioning on the known
  spend leaves them as they are.
* **The churn propensity, conditioned on tenure:** a customer who has stayed ``t`` months is
  less likely to be a leaver (survivor selection). The propensity's Gamma prior (shape ``k``,
  rate ``r``; ``market.heterogeneity``) becomes Gamma(``k``, ``r + h t``) after ``t`` months of
  survival with hazard ``h`` per unit propensity per month, which is the prior draw scaled by
  ``r / (r + h t)``. ``h`` = :data:`SURVIVAL_HAZARD_PER_MONTH`.
* **Bond from the NPS band** when no bond is given: drawn from the segment's initial-bond
  distribution within the band's quantiles (:data:`NPS_BOND_QUANTILES`: detractors the lower
  40%, passives the next 35%, promoters the top 25%); satisfaction from the band
  (:data:`NPS_SATISFACTION`) when none is given.

The same table and seed give the same customers: every draw comes from the model's
``population`` stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.distributions import Beta, Gamma, LogNormal
from sim.population import Population, Segment

# Hazard per unit churn propensity and month behind the survivor selection above. Assumption:
# the default market's baseline loses about half its customers in five years (1.15% a month)
# at a mean propensity of 1.7, so about 0.7% a month per unit propensity.
SURVIVAL_HAZARD_PER_MONTH = 0.007
NPS_BANDS = ("detractor", "passive", "promoter")
# Quantiles of the segment's initial-bond distribution each band draws from. Assumption: the
# shares of detractors, passives and promoters typical of a subscription business.
NPS_BOND_QUANTILES = {"detractor": (0.0, 0.4), "passive": (0.4, 0.75), "promoter": (0.75, 1.0)}
# Satisfaction (0..1) of a band: the middle of its 0-10 recommendation scores (0-6, 7-8, 9-10)
# divided by 10. Assumption.
NPS_SATISFACTION = {"detractor": 0.3, "passive": 0.75, "promoter": 0.95}


@dataclass(frozen=True, eq=False)
class CustomerBase:
    """A validated customer table, one entry per customer; NaN (or -1) where unknown."""

    file: str
    sha256: str  # of the file's bytes
    customer_id: np.ndarray  # str, unique
    segment: np.ndarray  # str, a segment name of the market
    tenure_months: np.ndarray  # int16, months as a customer
    spend_per_month: np.ndarray  # float32, EUR
    contract_months_left: np.ndarray  # int16, 0 = free
    exit_fee_months: np.ndarray  # float32, months of spend
    points: np.ndarray  # float32, EUR value of unredeemed points
    bond: np.ndarray  # float32 0..1, NaN = unknown
    satisfaction: np.ndarray  # float32 0..1, NaN = unknown
    nps_band: np.ndarray  # int8 index into NPS_BANDS, -1 = unknown

    def __len__(self) -> int:
        return int(self.customer_id.size)

    def populate(
        self,
        population: Population,
        rng: np.random.Generator,
        segments: tuple[Segment, ...],
        traits: Mapping[str, Beta | Gamma | LogNormal],
    ) -> np.ndarray:
        """Add these customers to ``population`` as the initial cohort; return their rows."""
        names = [s.name for s in segments]
        missing = sorted(set(self.segment.tolist()) - set(names))
        if missing:
            raise ValueError(f"{self.file}: segments {missing} are not segments of the market ({names})")
        codes = np.array([names.index(s) for s in self.segment.tolist()], dtype=np.int8)
        ids = population.add(rng, len(self), segments, month=0, traits=traits, segment_codes=codes)
        population.spend_per_month[ids] = self.spend_per_month
        population.tenure_months[ids] = self.tenure_months
        propensity = traits.get("churn_propensity")
        if isinstance(propensity, Gamma) and propensity.cv > 0 and propensity.mean > 0:
            shape = 1.0 / propensity.cv**2
            rate = shape / propensity.mean
            survived = rate / (rate + SURVIVAL_HAZARD_PER_MONTH * self.tenure_months.astype(np.float64))
            population.churn_propensity[ids] *= survived.astype(np.float32)
        for column in ("points", "contract_months_left", "exit_fee_months"):
            if column in population.columns:  # whoever declares them (core or a program)
                getattr(population, column)[ids] = getattr(self, column)
        self._bond_and_satisfaction(population, rng, segments, codes, ids)
        return ids

    def _bond_and_satisfaction(
        self,
        population: Population,
        rng: np.random.Generator,
        segments: tuple[Segment, ...],
        codes: np.ndarray,
        ids: np.ndarray,
    ) -> None:
        from scipy import special  # the inverse regularised incomplete beta: the Beta quantile

        u = rng.random(len(self))
        for band, name in enumerate(NPS_BANDS):
            low, high = NPS_BOND_QUANTILES[name]
            in_band = (self.nps_band == band) & np.isnan(self.bond)
            for index, segment in enumerate(segments):
                rows = np.flatnonzero(in_band & (codes == index))
                a = segment.initial_bond.mean * segment.initial_bond.concentration
                b = segment.initial_bond.concentration - a
                population.bond[ids[rows]] = special.betaincinv(a, b, low + (high - low) * u[rows])
            told = (self.nps_band == band) & np.isnan(self.satisfaction)
            population.satisfaction[ids[told]] = NPS_SATISFACTION[name]
        known = np.flatnonzero(~np.isnan(self.bond))
        population.bond[ids[known]] = self.bond[known]
        known = np.flatnonzero(~np.isnan(self.satisfaction))
        population.satisfaction[ids[known]] = self.satisfaction[known]
