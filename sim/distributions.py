"""Trait distributions for customer segments: heterogeneity, not constants."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from sim.params import ParamError


@dataclass(frozen=True)
class Beta:
    """A share on [0, 1] drawn from Beta(mean * concentration, (1 - mean) * concentration).

    ``concentration`` (dimensionless) is a + b: higher means customers are more alike.
    """

    mean: float
    concentration: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 < self.mean < 1.0:
            raise ParamError("mean", f"must be in (0, 1), got {self.mean}")
        if self.concentration <= 0:
            raise ParamError("concentration", f"must be > 0, got {self.concentration}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        a = self.mean * self.concentration
        return rng.beta(a, self.concentration - a, size=n).astype(np.float32)


@dataclass(frozen=True)
class LogNormal:
    """A positive quantity with the given median and log-scale spread ``sigma`` (0 = constant)."""

    median: float
    sigma: float = 0.5

    def __post_init__(self) -> None:
        if self.median <= 0:
            raise ParamError("median", f"must be > 0, got {self.median}")
        if self.sigma < 0:
            raise ParamError("sigma", f"must be >= 0, got {self.sigma}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return (self.median * np.exp(self.sigma * rng.standard_normal(n))).astype(np.float32)


@dataclass(frozen=True)
class Gamma:
    """A positive multiplier with the given ``mean`` and coefficient of variation ``cv``.

    Shape ``1 / cv**2``, scale ``mean * cv**2``; ``cv = 0`` is the constant ``mean`` and draws
    no random numbers.
    """

    mean: float
    cv: float = 1.0

    def __post_init__(self) -> None:
        if self.mean < 0:
            raise ParamError("mean", f"must be >= 0, got {self.mean}")
        if self.cv < 0:
            raise ParamError("cv", f"must be >= 0, got {self.cv}")

    def sample(
        self, rng: np.random.Generator, n: int, scores: np.ndarray | None = None, correlation: float = 0.0
    ) -> np.ndarray:
        """Draw by inverse CDF from one uniform per customer, so a customer's multiplier moves
        smoothly with ``cv`` and ``mean`` under common random numbers (calibration fits ``cv``;
        NumPy's rejection sampler would re-draw every customer for any change of it).

        With ``scores`` (standard normal scores of another trait, one per customer), the draw's
        normal score is ``correlation * scores + sqrt(1 - correlation**2) * own``: a Gaussian
        copula, which keeps this distribution and couples it to the other trait."""
        if self.cv == 0 or self.mean == 0:
            return np.full(n, self.mean, dtype=np.float32)
        from scipy import special  # scipy.special only: a light import, unlike scipy.stats

        uniforms = rng.random(n)
        if scores is not None and correlation:
            own = special.ndtri(uniforms)
            uniforms = special.ndtr(correlation * scores + np.sqrt(1.0 - correlation**2) * own)
        return (
            self.mean * self.cv**2
            * np.exp(np.interp(special.logit(uniforms), _LOGIT_GRID, _log_quantiles(1.0 / self.cv**2)))
        ).astype(np.float32)


# Quantiles on a logit grid, interpolated in log space: smooth in cv and in the uniform, relative
# error below 1e-4, several times faster than gammaincinv for every customer. The grid of a shape
# is computed once per process: joiners draw in blocks of 128, and recomputing it for every
# block took a third of a run's time.
_LOGIT_GRID = np.linspace(-25.0, 25.0, 2001)


@functools.lru_cache(maxsize=64)
def _log_quantiles(shape: float) -> np.ndarray:
    from scipy import special

    quantiles = np.log(np.maximum(special.gammaincinv(shape, special.expit(_LOGIT_GRID)), 1e-300))
    quantiles.flags.writeable = False
    return quantiles
