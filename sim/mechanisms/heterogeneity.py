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

A stable relationship proneness couples the propensity to the bond a customer starts with: the
normal score of a new customer's propensity is ``-proneness_correlation`` times that of their
initial bond (within its segment's distribution) plus independent noise (a Gaussian copula: both
distributions are kept). Customers prone to relationships build bonds more readily and are less
inclined to leave (consumer relationship proneness raises relationship quality, and through it
behavioural loyalty: De Wulf, Odekerken-Schroder & Iacobucci, J. Marketing 65(4), 2001), so the
bond a customer holds predicts how long they stay beyond what the bond itself does.

The level and spread are fittable (``--fit market.heterogeneity.propensity_cv``): the mean scales
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

    proneness_correlation: float = param(
        0.5, "correlation of normal scores",
        "coupling of a new customer's initial bond and (minus) churn propensity through relationship "
        "proneness (De Wulf et al. 2001: proneness raises trust, commitment and loyalty); 0 = "
        "independent. Assumption for the size: 0.75 would make the most bonded third at month 12 "
        "stay 1.5x as long as the least bonded over months 13-60 (Motista 2018), but then calibrate "
        "predicted the regular Fader-Hardie cohort's held-out years within 6.4 customers, not 4.4",
    )

    def __post_init__(self) -> None:
        check_range(self, ("propensity_mean",), 0.0, 100.0)
        check_range(self, ("proneness_correlation",), 0.0, 0.99)
        check_range(self, ("propensity_cv",), 0.0, 10.0)

    def distribution(self) -> Gamma:
        return Gamma(self.propensity_mean, self.propensity_cv)
