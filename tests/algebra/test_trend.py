"""The GLS trend slope equals statsmodels GLS (known covariance) and covers the true slope."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from warehouse_causal.algebra.monitoring import slope_test
from warehouse_causal.algebra.trend import gls_slope

#: Same GLS normal equations, Cholesky vs statsmodels' whitening.
LINALG_RTOL = 1e-9
#: 1000 replications: binomial SE of a 95% coverage is ~0.007; allow ~3.5 SE.
COVERAGE_TOL = 0.025


def _cov(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Effects sharing their control rows: a common positive component plus own noise."""
    own = rng.uniform(0.5, 2.0, len(points))
    return 0.6 * np.ones((len(points), len(points))) + np.diag(own)


def test_matches_statsmodels_gls() -> None:
    rng = np.random.default_rng(0)
    points = np.array([1.0, 3.0, 7.0, 14.0, 28.0])
    cov = _cov(points, rng)
    est = 2.0 - 0.05 * points + rng.multivariate_normal(np.zeros(5), cov)
    res = sm.GLS(est, sm.add_constant(points), sigma=cov).fit(cov_type="fixed scale")
    slope, se = gls_slope(points, est, cov)
    assert slope == pytest.approx(res.params[1], rel=LINALG_RTOL, abs=1e-12)
    assert se == pytest.approx(res.bse[1], rel=LINALG_RTOL, abs=1e-12)


def test_diagonal_covariance_is_the_weighted_slope() -> None:
    rng = np.random.default_rng(1)
    variances = rng.uniform(0.1, 1.0, 6)
    values = rng.normal(size=6)
    slope, se = gls_slope(np.arange(6.0), values, np.diag(variances))
    res = sm.WLS(values, sm.add_constant(np.arange(6.0)), weights=1 / variances).fit(cov_type="fixed scale")
    assert slope == pytest.approx(res.params[1], rel=LINALG_RTOL, abs=1e-12)
    assert se == pytest.approx(res.bse[1], rel=LINALG_RTOL, abs=1e-12)
    other, test = slope_test(values, variances, 0.05)  # monitoring's WLS slope agrees
    assert other == pytest.approx(slope, rel=LINALG_RTOL, abs=1e-12)
    assert test.statistic == pytest.approx(slope / se, rel=LINALG_RTOL, abs=1e-12)


def test_slope_interval_covers_the_truth() -> None:
    rng = np.random.default_rng(2)
    points = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0])
    cov = _cov(points, rng)
    truth = -0.1
    chol = np.linalg.cholesky(cov)
    z = stats.norm.ppf(0.975)
    draws = 1000
    hits = 0
    for noise in rng.standard_normal((draws, len(points))):
        slope, se = gls_slope(points, 1.0 + truth * points + chol @ noise, cov)
        hits += abs(slope - truth) <= z * se
    assert hits / draws == pytest.approx(0.95, abs=COVERAGE_TOL)


def test_common_shift_does_not_move_the_slope() -> None:
    """A shared control shock shifts every effect alike: the slope ignores it."""
    rng = np.random.default_rng(3)
    points = np.array([1.0, 2.0, 5.0])
    cov = _cov(points, rng)
    est = rng.normal(size=3)
    assert gls_slope(points, est + 10.0, cov)[0] == pytest.approx(gls_slope(points, est, cov)[0],
                                                                   rel=LINALG_RTOL, abs=1e-12)
