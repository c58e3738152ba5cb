"""Monitoring statistics against statsmodels (cluster-robust mean, WLS slope, LPM R²) and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import special, stats

from warehouse_causal.algebra.monitoring import (
    ClusterSums,
    cluster_mean,
    difference_test,
    membership_r2,
    one_sided_harm_p,
    per_period_tests,
    slope_test,
    spent_alpha,
    standardized_difference,
    trend_test,
)

#: Closed forms vs statsmodels' QR / scipy on identical inputs.
ALGEBRA_RTOL = 1e-9
#: 20 000 draws: binomial SE of a 5% rejection rate is ~0.0015; allow 4 SE.
RATE_TOL = 0.006


def test_spent_alpha_sums_to_alpha() -> None:
    """Σ_{k≤K} 1/k² = π²/6 − ψ'(K + 1) (trigamma), so Σ_{k≤K} α_k = α (1 − 6ψ'(K + 1)/π²) → α."""
    looks = 5000
    total = sum(spent_alpha(0.05, k) for k in range(1, looks + 1))
    assert total == pytest.approx(0.05 * (1 - 6 * special.polygamma(1, looks + 1) / np.pi**2), rel=1e-12)
    assert total < 0.05
    with pytest.raises(ValueError, match="from 1"):
        spent_alpha(0.05, 0)


def test_difference_test_and_refusals() -> None:
    res = difference_test(1.3, 0.4, 0.5, 0.3, 0.05)
    assert res.statistic == pytest.approx(0.8 / 0.5, rel=1e-14)
    assert res.p_value == pytest.approx(2 * stats.norm.cdf(-1.6), rel=ALGEBRA_RTOL)
    assert not res.rejected and res.level == 0.05
    for bad in [difference_test(1.0, 0.0, 0.0, 0.0, 0.05), difference_test(np.nan, 1.0, 0.0, 1.0, 0.05),
                difference_test(1.0, np.nan, 0.0, 1.0, 0.05)]:
        assert math.isnan(bad.statistic) and math.isnan(bad.p_value) and not bad.rejected


def test_cluster_mean_matches_statsmodels_cluster_se() -> None:
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 9, 60)
    g = np.repeat(np.arange(60), sizes)
    y = rng.normal(size=60)[g] + rng.exponential(size=g.size)
    s = np.bincount(g, weights=y)
    sums = ClusterSums(sizes.sum(), s.sum(), np.sum(s**2), np.sum(sizes * s), np.sum(sizes**2), 60)
    mean, se = cluster_mean(sums)
    res = sm.OLS(y, np.ones(g.size)).fit(cov_type="cluster", cov_kwds={"groups": g})  # CR1, k = 1
    assert mean == pytest.approx(y.mean(), rel=ALGEBRA_RTOL)
    assert se == pytest.approx(res.bse[0], rel=ALGEBRA_RTOL)
    m1, se1 = cluster_mean(ClusterSums(4.0, 2.0, 4.0, 8.0, 16.0, 1.0))
    assert m1 == 0.5 and math.isnan(se1)  # one unit: no spread
    m0, se0 = cluster_mean(ClusterSums(0.0, 0.0, 0.0, 0.0, 0.0, 0.0))
    assert math.isnan(m0) and math.isnan(se0)


def test_standardized_difference() -> None:
    assert standardized_difference(1.0, 4.0, 2.0, 2.0) == pytest.approx(1.0 / np.sqrt(3.0), rel=1e-15)
    assert standardized_difference(3.0, 0.0, 3.0, 0.0) == 0.0
    assert standardized_difference(3.0, 0.0, 2.0, 0.0) == -math.inf


def test_membership_r2_matches_linear_probability_model() -> None:
    rng = np.random.default_rng(1)
    x_e, x_p = rng.normal(size=(300, 2)), rng.normal(size=(200, 2)) + np.array([0.4, 0.0])
    got = membership_r2(300, x_e.sum(0), x_e.T @ x_e, 200, x_p.sum(0), x_p.T @ x_p)
    m = np.r_[np.zeros(300), np.ones(200)]
    assert got == pytest.approx(sm.OLS(m, sm.add_constant(np.vstack([x_e, x_p]))).fit().rsquared,
                                rel=ALGEBRA_RTOL)
    mirrored = 2 * x_e.mean(0) - x_e  # same means, other shape: the LPM sees nothing
    assert membership_r2(300, x_e.sum(0), x_e.T @ x_e, 300, mirrored.sum(0), mirrored.T @ mirrored
                         ) == pytest.approx(0.0, abs=1e-12)


def test_per_period_tests_spend_alpha() -> None:
    values, ses = np.array([1.0, 2.0, np.nan]), np.array([0.5, 0.5, 0.5])
    out = per_period_tests(values, ses, 0.2, 0.3, 0.05)
    for k, res in enumerate(out, start=1):
        assert res.level == pytest.approx(spent_alpha(0.05, k), rel=1e-15)
    assert out[1].p_value == pytest.approx(difference_test(2.0, 0.5, 0.2, 0.3, 1).p_value, rel=1e-15)
    assert math.isnan(out[2].p_value) and not out[2].rejected
    # Union bound: over any number of looks the levels add up to less than α.
    many = per_period_tests(np.zeros(2000), np.ones(2000), 0.0, 1.0, 0.05)
    assert sum(r.level for r in many) < 0.05 and not any(r.rejected for r in many)


def test_slope_matches_wls_with_known_variances() -> None:
    rng = np.random.default_rng(3)
    var = rng.uniform(0.2, 2.0, 8)
    y = 0.1 * np.arange(8) + rng.normal(size=8) * np.sqrt(var)
    y[3] = np.nan  # skipped
    slope, res = slope_test(y, var, 0.01)
    keep = ~np.isnan(y)
    ref = sm.WLS(y[keep], sm.add_constant(np.arange(8.0)[keep]), weights=1 / var[keep]).fit(
        cov_type="fixed scale")
    assert slope == pytest.approx(ref.params[1], rel=ALGEBRA_RTOL)
    assert res.statistic == pytest.approx(ref.tvalues[1], rel=ALGEBRA_RTOL)
    assert res.p_value == pytest.approx(ref.pvalues[1], rel=ALGEBRA_RTOL)
    _, trend = trend_test(y, var, 0.05)
    assert trend.level == spent_alpha(0.05, 8) and trend.p_value == res.p_value
    short, none = slope_test(np.array([1.0, 2.0, np.nan]), np.ones(3), 0.05)
    assert math.isnan(short) and math.isnan(none.p_value) and not none.rejected  # < 3 usable periods


def test_one_sided_harm_p() -> None:
    est, se = np.array([0.5, -0.2, 0.1]), np.array([0.2, 0.1, 0.0])
    z = (est[:2] - 0.1) / se[:2]
    np.testing.assert_allclose(one_sided_harm_p(est[:2], se[:2], "<", 0.1), 1 - stats.norm.cdf(z), rtol=1e-12)
    np.testing.assert_allclose(one_sided_harm_p(est[:2], se[:2], ">", 0.1), stats.norm.cdf(z), rtol=1e-12)
    assert np.isnan(one_sided_harm_p(est, se, "<", 0.1)[2])  # 0/0: no test
    draws = np.random.default_rng(4).normal(0.1, 1.0, 20_000)  # effect exactly at the tolerance
    assert np.mean(one_sided_harm_p(draws, np.ones_like(draws), "<", 0.1) < 0.05) == pytest.approx(
        0.05, abs=RATE_TOL)
