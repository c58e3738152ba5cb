"""Outer (Deng–Knoblich–Lu) quantile intervals: the σ_p formula re-derived per cluster, the binomial
special case, the asymptotic standard error, and ~95% coverage under clustering where the iid
binomial interval under-covers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from warehouse_causal.algebra.quantile import outer_levels, quantile_standard_error, share_standard_error

#: Closed forms on identical sums.
ALGEBRA_RTOL = 1e-12
#: 800 replications: binomial SE of a 95% coverage is ~0.008; allow ~3.5 SE.
COVERAGE_TOL = 0.03
#: N = 20 000 normal values: the outer width's sampling error is a few per cent.
ASYMPTOTIC_RTOL = 0.1


def _interval(y: np.ndarray, g: np.ndarray, q: float, alpha: float, clustered: bool = True):
    xi = np.quantile(y, q, method="inverted_cdf")
    c, n = np.bincount(g, weights=y <= xi), np.bincount(g).astype(float)
    sigma = (share_standard_error(q, c @ c, c @ n, n @ n, len(y)) if clustered
             else np.sqrt(q * (1 - q) / len(y)))
    lo, hi = outer_levels(q, sigma, alpha)
    return np.quantile(y, lo, method="inverted_cdf"), np.quantile(y, hi, method="inverted_cdf")


def test_share_se_is_the_cluster_sum_of_squares() -> None:
    rng = np.random.default_rng(0)
    n_g = rng.integers(1, 7, 40).astype(float)
    c_g = np.floor(rng.uniform(size=40) * (n_g + 1))
    q, n = 0.3, n_g.sum()
    loop = np.sqrt(sum((c - q * m) ** 2 for c, m in zip(c_g, n_g, strict=True))) / n
    got = share_standard_error(q, c_g @ c_g, c_g @ n_g, n_g @ n_g, n)
    assert got == pytest.approx(loop, rel=ALGEBRA_RTOL)


def test_one_value_per_cluster_is_binomial() -> None:
    n, q = 1000, 0.25
    c = (np.arange(n) < q * n).astype(float)  # exactly q·N values at or below the quantile
    ones = np.ones(n)
    assert share_standard_error(q, c @ c, c @ ones, float(n), n) == pytest.approx(
        np.sqrt(q * (1 - q) / n), rel=ALGEBRA_RTOL)
    assert share_standard_error(0.5, 1.0, 2.0 + 1e-15, 4.0, 1.0) == 0.0  # rounding below 0: clipped


def test_levels_and_se_from_the_interval() -> None:
    z = stats.norm.ppf(0.975)
    assert outer_levels(0.5, 0.01, 0.05) == pytest.approx((0.5 - z * 0.01, 0.5 + z * 0.01), rel=ALGEBRA_RTOL)
    assert outer_levels(0.01, 0.05, 0.05) == (0.0, pytest.approx(0.01 + z * 0.05))  # kept in [0, 1]
    assert outer_levels(0.99, 0.05, 0.05)[1] == 1.0
    assert quantile_standard_error(1.0, 3.0, 0.05) == pytest.approx(1.0 / z, rel=ALGEBRA_RTOL)


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_se_matches_the_asymptotic_density_formula(q: float) -> None:
    y = np.random.default_rng(1).normal(size=20_000)
    lo, hi = _interval(y, np.arange(y.size), q, 0.05)
    expected = np.sqrt(q * (1 - q) / y.size) / stats.norm.pdf(stats.norm.ppf(q))
    assert quantile_standard_error(lo, hi, 0.05) == pytest.approx(expected, rel=ASYMPTOTIC_RTOL)


def _inverted_cdf(sorted_rows: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Q̂(p) = the ⌈pN⌉-th smallest value (numpy's ``inverted_cdf``), one level per row."""
    index = np.maximum(np.ceil(level * sorted_rows.shape[1]).astype(int), 1) - 1
    return np.take_along_axis(sorted_rows, index[:, None], axis=1)[:, 0]


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_clustered_coverage(q: float) -> None:
    """y = exp(u_g + e_i) with Var(u + e) = 1: every row is lognormal(0, 1), quantile exp(z_q).
    150 clusters of 1–9 rows (one layout), all replications at once."""
    rng = np.random.default_rng(2)
    truth, reps = np.exp(stats.norm.ppf(q)), 800
    sizes = rng.integers(1, 10, 150)
    g = np.repeat(np.arange(150), sizes)
    y = np.exp(0.8 * rng.normal(size=(reps, 150))[:, g] + 0.6 * rng.normal(size=(reps, g.size)))
    ys = np.sort(y, axis=1)
    xi = _inverted_cdf(ys, np.full(reps, q))
    c = np.add.reduceat(y <= xi[:, None], np.r_[0, np.cumsum(sizes)[:-1]], axis=1).astype(float)
    sigma = np.array([share_standard_error(q, row @ row, row @ sizes, sizes @ sizes, g.size) for row in c])

    def coverage(sigmas: np.ndarray) -> float:
        levels = np.array([outer_levels(q, s, 0.05) for s in sigmas])
        return float(np.mean((_inverted_cdf(ys, levels[:, 0]) <= truth)
                             & (truth <= _inverted_cdf(ys, levels[:, 1]))))

    assert coverage(sigma) == pytest.approx(0.95, abs=COVERAGE_TOL)
    assert coverage(np.full(reps, np.sqrt(q * (1 - q) / g.size))) < 0.9  # iid binomial σ_p under-covers
