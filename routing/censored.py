"""Fitting a log-normal to durations some of which are still running (right-censored), with a prior."""

from __future__ import annotations

import math

import numpy as np

from routing.distributions import SIGMA_RANGE, LogNormal, inverse_mills
from routing.holidays_calendar import FloatArray

EM_ROUNDS = 40


def censored_fit(
    complete: FloatArray, w_complete: FloatArray, censored: FloatArray, w_censored: FloatArray,
    prior: LogNormal, strength: float,
) -> LogNormal:
    """Weighted log-normal EM fit with right-censored log-times and the prior as pseudo-observations."""
    mu, sigma = prior.mu, prior.sigma
    total = float(w_complete.sum() + w_censored.sum()) + strength
    prior_second = prior.sigma**2 + prior.mu**2
    for _ in range(EM_ROUNDS):
        alpha = (censored - mu) / sigma
        lam = inverse_mills(alpha)
        first = mu + sigma * lam
        second = sigma**2 * (1 + alpha * lam - lam**2) + first**2
        new_mu = (w_complete @ complete + w_censored @ first + strength * prior.mu) / total
        moment = (w_complete @ complete**2 + w_censored @ second + strength * prior_second) / total
        new_sigma = float(np.clip(math.sqrt(max(float(moment - new_mu**2), 1e-6)), *SIGMA_RANGE))
        converged = abs(new_mu - mu) < 1e-6 and abs(new_sigma - sigma) < 1e-6
        mu, sigma = float(new_mu), new_sigma
        if converged:
            break
    return LogNormal(mu, sigma)
