"""2SLS and the sandwich from moments equal plain row-level numpy re-derivations."""

from __future__ import annotations

import numpy as np
import pytest

from warehouse_causal.algebra import (
    iid_covariance,
    residual_cross_products,
    sandwich,
    small_sample_factor,
    two_stage_least_squares,
)

#: Same normal equations, different summation order.
ALGEBRA_RTOL = 1e-9


def _data(seed: int = 0, n: int = 400):
    rng = np.random.default_rng(seed)
    z1 = rng.integers(0, 2, n).astype(float)
    z2 = rng.normal(size=n)
    w_cov = rng.normal(size=n)
    d = ((z1 + 0.5 * z2 + rng.normal(size=n)) > 0.5).astype(float)
    x = np.column_stack([np.ones(n), d, w_cov])
    z = np.column_stack([np.ones(n), z1, z2, w_cov])  # over-identified
    y = np.column_stack([1 + 2 * d + w_cov + rng.normal(size=n), -d + rng.normal(size=n)])
    w = rng.uniform(0.5, 2, n)
    g = rng.integers(0, 25, n)
    return x, z, y, w, g


def _solve(x, z, y, w):
    wz = z * w[:, None]
    return two_stage_least_squares(wz.T @ z, wz.T @ x, wz.T @ y)


def test_2sls_equals_second_stage_regression() -> None:
    x, z, y, w, _ = _data()
    sw = np.sqrt(w)[:, None]
    xhat = z @ np.linalg.lstsq(z * sw, x * sw, rcond=None)[0]
    expected = np.linalg.lstsq(xhat * sw, y * sw, rcond=None)[0]
    np.testing.assert_allclose(_solve(x, z, y, w).params, expected, rtol=ALGEBRA_RTOL)


def test_residual_cross_products_from_moments() -> None:
    x, z, y, w, _ = _data(1)
    beta = _solve(x, z, y, w).params
    e = y - x @ beta
    wx, wy = x * w[:, None], y * w[:, None]
    got = residual_cross_products(beta, wx.T @ x, wx.T @ y, wy.T @ y)
    np.testing.assert_allclose(got, (e * w[:, None]).T @ e, rtol=ALGEBRA_RTOL)


def _row_level_cov(x, z, y, w, g, kind: str) -> np.ndarray:
    """The sandwich by loops over rows and clusters, straight from the definitions."""
    sol = _solve(x, z, y, w)
    n, k = x.shape
    kz, m = z.shape[1], y.shape[1]
    e = y - x @ sol.params
    ztz_inv = np.linalg.inv((z * w[:, None]).T @ z)
    meat = np.zeros((kz * m, kz * m))
    if kind.startswith("CR"):
        for cluster in np.unique(g):
            rows = g == cluster
            s = np.concatenate([(w[rows, None] * z[rows] * e[rows, j, None]).sum(0) for j in range(m)])
            meat += np.outer(s, s)
    else:
        power = {"HC2": 1, "HC3": 2}.get(kind, 0)
        for i in range(n):
            h = w[i] * z[i] @ ztz_inv @ z[i]
            s = np.concatenate([w[i] * z[i] * e[i, j] for j in range(m)])
            meat += np.outer(s, s) / (1 - h) ** power
    bread = np.kron(np.eye(m), sol.projection)
    scale = small_sample_factor(kind, n, k, len(np.unique(g)))
    return scale * bread.T @ meat @ bread


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3", "CR0", "CR1"])
def test_sandwich_equals_row_level_loop(kind: str) -> None:
    x, z, y, w, g = _data(2)
    sol = _solve(x, z, y, w)
    e = y - x @ sol.params
    kz, m = z.shape[1], y.shape[1]
    if kind.startswith("CR"):
        scores = np.zeros((g.max() + 1, kz * m))
        for j in range(m):
            np.add.at(scores[:, j * kz:(j + 1) * kz], g, w[:, None] * z * e[:, j, None])
        meat = scores.T @ scores
    else:
        power = {"HC2": 1, "HC3": 2}.get(kind, 0)
        ztz_inv = np.linalg.inv((z * w[:, None]).T @ z)
        h = w * np.einsum("ia,ab,ib->i", z, ztz_inv, z)
        s = np.hstack([w[:, None] * z * e[:, j, None] for j in range(m)])
        meat = (s / ((1 - h) ** power)[:, None]).T @ s
    scale = small_sample_factor(kind, len(y), x.shape[1], len(np.unique(g)))
    np.testing.assert_allclose(sandwich(sol.projection, meat, scale), _row_level_cov(x, z, y, w, g, kind),
                               rtol=ALGEBRA_RTOL)


def test_iid_covariance_is_sigma_kron_bread() -> None:
    x, z, y, w, _ = _data(3)
    sol = _solve(x, z, y, w)
    e = y - x @ sol.params
    n, k = x.shape
    sigma = (e * w[:, None]).T @ e / (n - k)
    resid = residual_cross_products(sol.params, (x * w[:, None]).T @ x, (x * w[:, None]).T @ y,
                                    (y * w[:, None]).T @ y)
    np.testing.assert_allclose(iid_covariance(sol.a_inv, resid, n - k), np.kron(sigma, sol.a_inv),
                               rtol=ALGEBRA_RTOL)
