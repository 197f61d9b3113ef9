"""Duration distributions: log-normal legs and dwells, fitted to priors and sampled in bulk with numpy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from routing.holidays_calendar import FloatArray
from routing.network import TimeRange

Z95 = 1.6448536269514722  # the standard normal's 95th centile
SIGMA_RANGE = (0.03, 2.0)

# Acklam's rational approximation of the normal quantile function (relative error below 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


def norm_ppf(p: FloatArray) -> FloatArray:
    """The standard normal quantile of each probability in ``p`` (vectorised, no SciPy)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    low = p < 0.02425
    high = p > 1 - 0.02425
    q = np.sqrt(-2 * np.log(np.where(low, p, np.where(high, 1 - p, 0.5))))
    tail = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
        (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1
    )
    r = (p - 0.5) ** 2
    mid = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * (p - 0.5) / (
        ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1
    )
    return np.asarray(np.where(low, tail, np.where(high, -tail, mid)), dtype=np.float64)


def norm_ppf1(p: float) -> float:
    """:func:`norm_ppf` of one probability, without numpy's per-call overhead (the same formulas)."""
    p = min(max(p, 1e-15), 1 - 1e-15)
    if p < 0.02425 or p > 1 - 0.02425:
        q = math.sqrt(-2 * math.log(p if p < 0.5 else 1 - p))
        tail = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1
        )
        return tail if p < 0.5 else -tail
    r = (p - 0.5) ** 2
    return (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * (p - 0.5) / (
        ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1
    )


def norm_sf1(z: float) -> float:
    """:func:`norm_sf` of one value, without numpy's per-call overhead (the same formula)."""
    x = abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * x)
    poly = -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    erfc = t * math.exp(poly)
    return 0.5 * erfc if z >= 0 else 1.0 - 0.5 * erfc


def norm_sf(z: FloatArray) -> FloatArray:
    """The standard normal survival function 1 − Φ(z) (Numerical Recipes' erfc, error below 1.2e-7)."""
    x = np.abs(np.asarray(z, dtype=np.float64)) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * x)
    poly = -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    return np.asarray(np.where(np.asarray(z) >= 0, 0.5 * erfc, 1.0 - 0.5 * erfc), dtype=np.float64)


def norm_pdf(z: FloatArray) -> FloatArray:
    """The standard normal density."""
    return np.asarray(np.exp(-0.5 * np.square(z)) / math.sqrt(2 * math.pi), dtype=np.float64)


def inverse_mills(alpha: FloatArray) -> FloatArray:
    """φ(α)/(1 − Φ(α)): the mean excess of a standard normal truncated below at α."""
    alpha = np.asarray(alpha, dtype=np.float64)
    safe = np.minimum(alpha, 8.0)
    exact = norm_pdf(safe) / np.maximum(norm_sf(safe), 1e-300)
    return np.asarray(np.where(alpha > 8.0, alpha + 1.0 / np.maximum(alpha, 8.0), exact), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """A log-normal duration in hours: log-time is normal with mean ``mu`` and deviation ``sigma``."""

    mu: float
    sigma: float

    @classmethod
    def from_range(cls, prior: TimeRange) -> LogNormal:
        """Fit a prior range: typical as the median, max as the 95th centile (min if max adds no spread)."""
        typical = max(prior.typical, 1e-3)
        spread = math.log(max(prior.max, typical) / typical) / Z95
        if spread < SIGMA_RANGE[0]:
            spread = math.log(typical / max(prior.min, 1e-3)) / Z95
        return cls(math.log(typical), float(np.clip(spread, *SIGMA_RANGE)))

    @property
    def median(self) -> float:
        """The median in hours."""
        return math.exp(self.mu)

    def quantile(self, p: float) -> float:
        """The ``p`` quantile in hours."""
        return float(np.exp(self.mu + self.sigma * norm_ppf(np.array([p]))[0]))

    def sample(self, z: FloatArray) -> FloatArray:
        """Durations for standard normal draws ``z``."""
        return np.asarray(np.exp(self.mu + self.sigma * z), dtype=np.float64)

    def sample_beyond(self, u: FloatArray, elapsed: float) -> FloatArray:
        """Total durations for uniform draws ``u``, given that ``elapsed`` hours have already passed."""
        if elapsed <= 0:
            return self.sample(norm_ppf(u))
        z0 = (math.log(elapsed) - self.mu) / self.sigma
        if z0 > 8.0:
            # Far in the tail: the excess over z0 is close to exponential with rate z0.
            z = z0 - np.log1p(-u * (1 - 1e-12)) / z0
        else:
            below = 1.0 - float(norm_sf(np.array([z0]))[0])
            z = norm_ppf(below + u * (1.0 - below))
        return np.maximum(self.sample(z), elapsed)

    def quantile_beyond(self, q: float, elapsed: float) -> float:
        """The ``q`` quantile of the total duration given that ``elapsed`` hours have passed: one value of
        :meth:`sample_beyond`, in plain floats (a lookup's hot path)."""
        if elapsed <= 0:
            return math.exp(self.mu + self.sigma * norm_ppf1(q))
        z0 = (math.log(elapsed) - self.mu) / self.sigma
        if z0 > 8.0:
            z = z0 - math.log1p(-q * (1 - 1e-12)) / z0
        else:
            below = 1.0 - norm_sf1(z0)
            z = norm_ppf1(below + q * (1.0 - below))
        return max(math.exp(self.mu + self.sigma * z), elapsed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {"mu": round(self.mu, 6), "sigma": round(self.sigma, 6)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogNormal:
        """Read the form written by :meth:`to_dict`."""
        return cls(float(data["mu"]), float(data["sigma"]))
