"""The market: customer segments, competitor behaviour, service and behavioural parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.behaviours import BehaviourSpec
from sim.customer_base import CustomerBase
from sim.distributions import Gamma
from sim.mechanisms.acquisition import AcquisitionParams
from sim.mechanisms.adaptation import AdaptationParams
from sim.mechanisms.attention import AttentionParams
from sim.mechanisms.decision import DecisionParams
from sim.mechanisms.heterogeneity import HeterogeneityParams
from sim.mechanisms.offers import OffersParams
from sim.mechanisms.service import ServiceParams
from sim.params import ParamError, check_range
from sim.population import DEFAULT_SEGMENTS, Segment


@dataclass(frozen=True)
class Market:
    """Everything about customers and competitors that the firm's strategy does not choose."""

    segments: tuple[Segment, ...] = DEFAULT_SEGMENTS
    service: ServiceParams = field(default_factory=ServiceParams)
    adaptation: AdaptationParams = field(default_factory=AdaptationParams)
    offers: OffersParams = field(default_factory=OffersParams)
    decision: DecisionParams = field(default_factory=DecisionParams)
    acquisition: AcquisitionParams = field(default_factory=AcquisitionParams)
    heterogeneity: HeterogeneityParams = field(default_factory=HeterogeneityParams)
    attention: AttentionParams = field(default_factory=AttentionParams)
    gross_margin_share: float = 0.3  # share of revenue left after the cost of goods
    behaviours: tuple[BehaviourSpec, ...] = ()  # customer behaviours beyond the core mechanisms
    # The firm's own customers as the initial cohort (sim.customer_base); None: drawn customers.
    customer_base: CustomerBase | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.segments:
            raise ParamError("segments", "must list at least one segment")
        total = sum(s.share for s in self.segments)
        if abs(total - 1.0) > 1e-6:
            raise ParamError("segments", f"shares must sum to 1, got {total:g}")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ParamError("segments", f"names must be unique, got {names}")
        check_range(self, ("gross_margin_share",), 0.0, 1.0)

    def customer_traits(self) -> dict[str, Gamma]:
        """Market-wide trait distributions every new customer draws after the segment traits."""
        return {"churn_propensity": self.heterogeneity.distribution()}
