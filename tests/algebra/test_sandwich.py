"""The sandwich pieces reproduce statsmodels (WLS) and linearmodels (IV2SLS) covariances."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS

from warehouse_causal.algebra.iv import two_stage_least_squares
from warehouse_causal.algebra.sandwich import (
    iid_covariance,
    leverage_power,
    quadratic_form,
    sandwich,
    small_sample_factor,
    without_cross_metric_blocks,
)

#: Same normal equations solved by different factorizations.
LINALG_RTOL = 1e-9


def _data(seed: int = 0, n: int = 300):
    rng = np.random.default_rng(seed)
    z1, c = rng.normal(size=n), rng.normal(size=n)
    d = z1 + 0.5 * c + rng.normal(size=n)
    x = np.column_stack([np.ones(n), d, c])
    z = np.column_stack([np.ones(n), z1, c])
    y = np.column_stack([1 + 2 * d + c + rng.normal(size=n) * (1 + np.abs(c)), -d + rng.normal(size=n)])
    return x, z, y, rng.uniform(0.5, 2.0, n), rng.integers(0, 20, n)


def _ours(x, z, y, w, g, kind: str) -> np.ndarray:
    """Covariance from the module's pieces; meat built from weighted scores w z e."""
    wz = z * w[:, None]
    sol = two_stage_least_squares(wz.T @ z, wz.T @ x, wz.T @ y)
    e = y - x @ sol.params
    scores = np.hstack([wz * e[:, [m]] for m in range(y.shape[1])])
    if kind.startswith("CR"):
        sums = np.zeros((g.max() + 1, scores.shape[1]))
        np.add.at(sums, g, scores)
        meat = sums.T @ sums
    else:
        h = w * np.einsum("ia,ab,ib->i", z, np.linalg.inv(wz.T @ z), z)
        meat = (scores / ((1 - h) ** leverage_power(kind))[:, None]).T @ scores
    n, k = x.shape
    return sandwich(sol.projection, meat, small_sample_factor(kind, n, k, len(np.unique(g))))


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3", "CR0", "CR1"])
def test_wls_matches_statsmodels(kind: str) -> None:
    x, _, y, w, g = _data()
    cov = _ours(x, x, y, w, g, kind)  # Z = X: weighted OLS
    k = x.shape[1]
    for m in range(y.shape[1]):
        if kind.startswith("CR"):
            res = sm.WLS(y[:, m], x, weights=w).fit(
                cov_type="cluster", cov_kwds={"groups": g, "use_correction": kind == "CR1"})
        else:
            res = sm.WLS(y[:, m], x, weights=w).fit(cov_type=kind)
        np.testing.assert_allclose(cov[m * k:(m + 1) * k, m * k:(m + 1) * k], res.cov_params(),
                                   rtol=LINALG_RTOL)


@pytest.mark.parametrize("kind", ["HC1", "CR1"])
def test_iv_matches_linearmodels(kind: str) -> None:
    x, z, y, w, g = _data(1)
    cov = _ours(x, z, y, w, g, kind)
    model = IV2SLS(y[:, 0], x[:, [0, 2]], x[:, [1]], z[:, [1]], weights=w)
    res = (model.fit(cov_type="clustered", clusters=g, debiased=True) if kind == "CR1"
           else model.fit(cov_type="robust", debiased=True))
    order = [0, 2, 1]  # linearmodels puts exogenous regressors first
    np.testing.assert_allclose(cov[:3, :3][np.ix_(order, order)], res.cov, rtol=LINALG_RTOL)


def test_iid_matches_statsmodels_nonrobust() -> None:
    x, _, y, w, _ = _data(2)
    n, k = x.shape
    res = [sm.WLS(y[:, m], x, weights=w).fit() for m in range(2)]
    e = np.column_stack([r.resid for r in res])
    cov = iid_covariance(np.linalg.inv((x * w[:, None]).T @ x), (e * w[:, None]).T @ e, n - k)
    for m in range(2):
        np.testing.assert_allclose(cov[m * k:(m + 1) * k, m * k:(m + 1) * k], res[m].cov_params(),
                                   rtol=LINALG_RTOL)


def test_factors_and_leverage_powers() -> None:
    assert small_sample_factor("HC1", 100, 4) == 100 / 96
    assert small_sample_factor("CR1", 100, 4, 10) == pytest.approx(10 / 9 * 99 / 96, rel=1e-15)
    assert [small_sample_factor(t, 100, 4, 10) for t in ("iid", "HC0", "HC2", "HC3", "CR0")] == [1.0] * 5
    assert [leverage_power(t) for t in ("HC0", "HC1", "HC2", "HC3", "CR1")] == [0, 0, 1, 2, 0]


def test_skipped_cross_metric_meat_gives_exact_own_blocks() -> None:
    rng = np.random.default_rng(3)
    kz, k, m = 3, 2, 2
    s = rng.normal(size=(50, kz * m))
    full, h = s.T @ s, rng.normal(size=(kz, k))
    skipped = full.copy()
    skipped[:kz, kz:] = skipped[kz:, :kz] = 0.0
    marked = without_cross_metric_blocks(sandwich(h, skipped, 1.3), m)
    exact = sandwich(h, full, 1.3)
    for a in range(m):
        own = slice(a * k, (a + 1) * k)
        np.testing.assert_allclose(marked[own, own], exact[own, own], rtol=LINALG_RTOL)
    assert np.isnan(marked[:k, k:]).all() and np.isnan(marked[k:, :k]).all()
    # A contrast within metric 0 is exact; any pair that needs a cross-metric block is NaN.
    weights = np.array([[1.0, -1.0, 0.0, 0.0], [1.0, 0.0, 0.0, -1.0], [0.0, 0.0, 2.0, 1.0]])
    got, exact_q = quadratic_form(weights, marked), weights @ exact @ weights.T
    for i in range(3):
        for j in range(3):
            needs_unknown = any(weights[i, a] != 0 and weights[j, b] != 0 and np.isnan(marked[a, b])
                                for a in range(4) for b in range(4))
            assert np.isnan(got[i, j]) if needs_unknown else got[i, j] == pytest.approx(
                exact_q[i, j], rel=LINALG_RTOL)
    assert not np.isnan(got[0, 0]) and not np.isnan(got[2, 2]) and np.isnan(got[0, 2])
    np.testing.assert_allclose(quadratic_form(weights, exact), exact_q, rtol=LINALG_RTOL)
