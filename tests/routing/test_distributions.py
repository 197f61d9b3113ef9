"""The scalar normal functions and LogNormal.quantile_beyond agree with their numpy forms."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from routing.distributions import LogNormal, norm_ppf, norm_ppf1, norm_sf, norm_sf1

PROBABILITIES = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
Z = st.floats(min_value=-40.0, max_value=40.0, allow_nan=False)


@given(PROBABILITIES)
def test_scalar_normal_quantile_matches_the_vectorised_one(p: float) -> None:
    assert math.isclose(norm_ppf1(p), float(norm_ppf(np.array([p]))[0]), rel_tol=1e-12, abs_tol=1e-12)


@given(Z)
def test_scalar_normal_survival_matches_the_vectorised_one(z: float) -> None:
    assert math.isclose(norm_sf1(z), float(norm_sf(np.array([z]))[0]), rel_tol=1e-12, abs_tol=1e-300)


@given(
    st.floats(min_value=-2.0, max_value=6.0),
    st.floats(min_value=0.03, max_value=2.0),
    st.floats(min_value=0.01, max_value=0.99),
    st.floats(min_value=-1.0, max_value=5000.0),
)
def test_quantile_beyond_is_one_value_of_sample_beyond(
    mu: float, sigma: float, q: float, elapsed: float
) -> None:
    dist = LogNormal(mu, sigma)
    expected = float(dist.sample_beyond(np.array([q]), elapsed)[0])
    got = dist.quantile_beyond(q, elapsed)
    assert math.isclose(got, expected, rel_tol=1e-9)
    if elapsed > 0:
        assert got >= elapsed
