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


@given(
    st.lists(st.floats(min_value=-1e7, max_value=1e7, allow_nan=False), min_size=1, max_size=300),
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=4),
)
def test_percentiles_match_numpy_bit_for_bit(values: list[float], qs: list[float]) -> None:
    from routing.eta import percentiles

    array = np.array(values)
    assert percentiles(array, qs) == [float(v) for v in np.quantile(array, qs)]
    assert percentiles(array, (0.1, 0.5, 0.9)) == [float(v) for v in np.percentile(array, [10, 50, 90])]


def test_a_plans_uniforms_are_the_first_draws_of_its_stream() -> None:
    from routing.plans import Plan

    plan = Plan("svc", ("a", "b"), (), seed=1234)
    stream = np.random.default_rng(1235).random(2000)
    assert np.array_equal(plan.uniforms(2000), stream)
    assert np.array_equal(plan.uniforms(37), np.random.default_rng(1235).random(37))
    assert plan.uniforms(37).base is plan.uniforms(2000).base  # drawn once, shared
