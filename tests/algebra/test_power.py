"""Power planning: the variances equal statsmodels OLS on the rows, the design effect recovers a known
intra-cluster correlation, and the MDE attains the planned power in statsmodels' NormalIndPower."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.special import lambertw
from statsmodels.stats.power import NormalIndPower

from warehouse_causal.algebra.anytime import optimal_g, t_radius
from warehouse_causal.algebra.power import mde, sequential_radius, two_arm_se, unit_variances

#: Moments vs statsmodels' QR on the same rows.
LINALG_RTOL = 1e-9
#: NormalIndPower adds the far tail Φ(−2z_{α/2} − z_β) < 1e-5 to the power.
FAR_TAIL = 1e-5
#: 3000 clusters of 5: the ICC estimate's SE is ~0.01, so the design effect's is ~0.05.
DEFF_TOL = 0.15


def _rows(seed: int, units: int, size: int | None, icc: float):
    rng = np.random.default_rng(seed)
    sizes = np.full(units, size) if size else rng.integers(1, 8, units)
    g = np.repeat(np.arange(units), sizes)
    x = rng.normal(size=g.size)
    y = 0.8 * x + np.sqrt(icc) * rng.normal(size=units)[g] + np.sqrt(1 - icc) * rng.normal(size=g.size)
    return np.column_stack([np.ones(g.size), x]), np.column_stack([y, 2 * y + rng.normal(size=g.size)]), g


def _moments(u, y, g):
    uc, yc = np.zeros((g.max() + 1, u.shape[1])), np.zeros((g.max() + 1, y.shape[1]))
    np.add.at(uc, g, u)
    np.add.at(yc, g, y)
    return u.T @ u, u.T @ y, y.T @ y, uc.T @ uc, uc.T @ yc, yc.T @ yc, len(y), g.max() + 1.0


def test_row_variances_match_statsmodels_ols() -> None:
    u, y, g = _rows(0, 400, None, 0.3)
    uv = unit_variances(*_moments(u, y, g))
    for m in range(2):
        res = sm.OLS(y[:, m], u).fit()
        assert uv.residual[m] == pytest.approx(res.scale, rel=LINALG_RTOL)
        assert uv.raw[m] == pytest.approx(np.var(y[:, m], ddof=1), rel=LINALG_RTOL)
        assert uv.variance_reduction[m] == pytest.approx(res.rsquared_adj, rel=LINALG_RTOL)
        e_g = np.bincount(g, weights=res.resid)  # loop re-derivation: per-unit residual sums
        s_e2 = np.sum(e_g**2) / (400 - 2)
        assert uv.unit[m] == pytest.approx(s_e2 / uv.rows_per_unit**2, rel=LINALG_RTOL)
        assert uv.design_effect[m] == pytest.approx(s_e2 / (uv.rows_per_unit * res.scale), rel=LINALG_RTOL)


@pytest.mark.parametrize("icc", [0.0, 0.25])
def test_design_effect_recovers_kish(icc: float) -> None:
    u, y, g = _rows(1, 3000, 5, icc)
    uv = unit_variances(*_moments(u, y, g))
    assert uv.design_effect[0] == pytest.approx(1 + 4 * icc, abs=DEFF_TOL)  # 1 + (m − 1)ρ


def test_without_clusters_unit_is_residual() -> None:
    u, y, _ = _rows(2, 500, 1, 0.0)
    uv = unit_variances(*_moments(u, y, np.arange(500)))
    np.testing.assert_allclose(uv.unit, uv.residual, rtol=LINALG_RTOL)
    np.testing.assert_allclose(uv.design_effect, 1.0, rtol=LINALG_RTOL)


def test_too_few_rows_or_units_is_refused() -> None:
    u, y, g = _rows(3, 2, 3, 0.0)
    with pytest.raises(ValueError, match="more rows"):
        unit_variances(*_moments(u, y, g))


@pytest.mark.parametrize(("share", "tests", "compliance"), [(0.5, 1, 1.0), (0.2, 3, 1.0), (0.5, 1, 0.6)])
def test_mde_has_the_planned_power(share: float, tests: int, compliance: float) -> None:
    sigma2, units, alpha, power = 4.0, 10_000, 0.05, 0.8
    se = two_arm_se(sigma2, units, share, 1 - share)
    assert se == pytest.approx(np.sqrt(sigma2 / (units * share) + sigma2 / (units * (1 - share))), rel=1e-14)
    effect = mde(se, alpha, power, tests=tests, compliance=compliance) * compliance  # the ITT effect
    got = NormalIndPower().power(effect / np.sqrt(sigma2), nobs1=units * share, alpha=alpha / tests,
                                 ratio=(1 - share) / share)
    assert got == pytest.approx(power, abs=FAR_TAIL)


def test_kish_scales_variance_and_radius_replaces_z() -> None:
    plain = two_arm_se(1.0, 100.0, 0.5, 0.5)
    assert two_arm_se(1.0, 100.0, 0.5, 0.5, kish=1.44) == pytest.approx(1.2 * plain, rel=1e-14)
    assert mde(2.0, 0.05, 0.9, radius=3.5) == pytest.approx((3.5 + stats.norm.ppf(0.9)) * 2.0, rel=1e-14)
    np.testing.assert_allclose(two_arm_se(np.array([1.0, 4.0]), 100.0, 0.5, 0.5), [0.2, 0.4], rtol=1e-14)


@pytest.mark.parametrize("clustered", [False, True])
def test_sequential_radius_is_wider_than_fixed_z(clustered: bool) -> None:
    r = sequential_radius(5000, 4, 0.05, clustered)
    assert stats.norm.ppf(0.975) < r < 5.0  # a confidence sequence costs width, not infinitely
    if clustered:  # the asymptotic mixture, re-derived from its formula at ρ² tuned to n
        a = -lambertw(-(0.05**2) / np.e, k=-1).real  # n ρ² + 1
        assert r == pytest.approx(np.sqrt(a / (a - 1) * np.log(a / 0.05**2)), rel=1e-12)
    else:
        assert r == pytest.approx(t_radius(optimal_g(5000, 4, 0.05), 5000, 4, 0.05), rel=1e-12)
