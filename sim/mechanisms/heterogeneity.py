"""Unobserved heterogeneity: a per-customer propensity to leave, on top of the segments.

Each customer draws, once at creation, a ``churn_propensity`` from a Gamma distribution with
mean ``propensity_mean`` and coefficient of variation ``propensity_cv``::

    churn_propensity ~ Gamma(shape = 1 / cv**2, scale = mean * cv**2)     (cv = 0: all = mean)

It multiplies every exit hazard of the customer, voluntary (relationship, service, price, and
through them the pull at a term's end and in a break-out) and background (life events), in
phase 5. Customers with a high propensity leave first, so the survivors of a cohort are ever
more loyal and yearly retention rises with tenure, the shape of real cohorts (Fader & Hardie,
"How to project customer retention", J. Interactive Marketing 21(1), 2007: their shifted-beta-
geometric model mixes a constant churn probability over customers with a beta distribution; a
Gamma-mixed hazard is its continuous-time counterpart, the Pareto/NBD's exponential-gamma
lifetime: Schmittlein, Morrison & Colombo, Management Science 33(1), 1987).

Both parameters are fittable (``--fit market.heterogeneity.propensity_cv``): the mean scales
the overall churn level, the spread how strongly retention rises with tenure.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.distributions import Gamma
from sim.mechanisms import MECHANISMS
from sim.params import check_range, param


@MECHANISMS.register("heterogeneity")
@dataclass(frozen=True)
class HeterogeneityParams:
    """The distribution of the per-customer churn propensity."""

    propensity_mean: float = param(
        1.7, "-", "multiplier on every exit hazard, averaged over new customers (1 = hazards as written); "
        "1.7 brings the baseline's five-year loss to just over half (Reichheld 1996; DESIGN: about "
        "70% of firms lose more than half) once the spread has let the most loyal customers stay",
    )
    propensity_cv: float = param(
        1.2, "-",
        "coefficient of variation of the Gamma-distributed multiplier; 0 = identical customers. "
        "Assumption, set with the default market (DESIGN section 4): 1.2 (a Gamma shape of 0.7, "
        "like the sBG's alpha below 1 of real cohorts) makes the baseline's yearly retention "
        "rise by about 6 points from year 1 to year 5, as real cohorts' does (Fader & Hardie 2007: "
        "+6 to +26 pp), while the segments and state keep the rest of the spread",
    )

    def __post_init__(self) -> None:
        check_range(self, ("propensity_mean",), 0.0, 100.0)
        check_range(self, ("propensity_cv",), 0.0, 10.0)

    def distribution(self) -> Gamma:
        return Gamma(self.propensity_mean, self.propensity_cv)
