"""Wald t/z inference equals statsmodels' t-values, p-values and intervals on the same fits."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from warehouse_causal.algebra.inference import NORMAL, wald_inference

#: Both sides evaluate the same scipy t/normal distribution functions on the same numbers.
DIST_RTOL = 1e-10


def _fit(seed: int = 0, n: int = 150, groups: int = 12, **fit_kwargs):
    rng = np.random.default_rng(seed)
    x = sm.add_constant(rng.normal(size=(n, 2)))
    y = x @ np.array([1.0, 0.3, 0.0]) + rng.normal(size=n)
    g = rng.integers(0, groups, n)
    if fit_kwargs.get("cov_type") == "cluster":
        fit_kwargs["cov_kwds"] = {"groups": g}
    return sm.OLS(y, x).fit(**fit_kwargs)


def _check(res, df: float, alpha: float) -> None:
    stat, p, lo, hi = wald_inference(res.params, res.bse, df, alpha)
    ci = res.conf_int(alpha=alpha)
    np.testing.assert_allclose(stat, res.tvalues, rtol=DIST_RTOL)
    np.testing.assert_allclose(p, res.pvalues, rtol=DIST_RTOL)
    np.testing.assert_allclose(lo, ci[:, 0], rtol=DIST_RTOL)
    np.testing.assert_allclose(hi, ci[:, 1], rtol=DIST_RTOL)


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_iid_t_matches_statsmodels(alpha: float) -> None:
    res = _fit()
    _check(res, res.df_resid, alpha)  # ν = n − k


def test_hc_t_matches_statsmodels() -> None:
    res = _fit(1, cov_type="HC1", use_t=True)
    _check(res, res.df_resid, 0.05)


def test_cluster_t_uses_g_minus_one() -> None:
    res = _fit(2, cov_type="cluster", use_t=True)
    assert res.df_resid_inference == 11  # statsmodels: G − 1
    _check(res, 11, 0.05)


def test_normal_df_is_the_z_test() -> None:
    res = _fit(3, cov_type="HC0", use_t=False)
    _check(res, NORMAL, 0.05)
    _, _, lo, hi = wald_inference(np.array([0.0]), np.array([1.0]), NORMAL, 0.05)
    assert hi[0] == pytest.approx(1.959963984540054, rel=DIST_RTOL) and lo[0] == -hi[0]


def test_missing_and_degenerate_standard_errors() -> None:
    est = np.array([1.0, 1.0, 0.0, np.nan])
    se = np.array([np.nan, 0.0, 0.0, 1.0])
    stat, p, lo, hi = wald_inference(est, se, 20.0, 0.05)
    assert np.isnan(stat[0]) and np.isnan(p[0]) and np.isnan(lo[0]) and np.isnan(hi[0])
    assert stat[1] == np.inf and p[1] == 0.0 and lo[1] == hi[1] == 1.0  # zero se: a point
    assert np.isnan(stat[2]) and np.isnan(p[2])  # 0/0 has no test
    assert np.isnan(stat[3]) and np.isnan(p[3]) and np.isnan(lo[3])
