"""Ratio effects by the delta method: the estimate from raw sums, the gradient by finite differences,
and g'Σg against the per-arm ratio variance of Deng, Knoblich & Lu (2018, eq. 3)."""

from __future__ import annotations

import numpy as np
import pytest

from warehouse_causal.algebra.ratio import ratio_effect

#: Same arithmetic on the same means.
ALGEBRA_RTOL = 1e-10
#: Central differences with step 1e-6 on O(1) means: truncation and rounding ~1e-9.
FD_RTOL = 1e-6
#: 500 replications: binomial SE of a 95% coverage is ~0.01; allow 3 SE.
COVERAGE_TOL = 0.03
#: θ = [num intercept, num arm effect, den intercept, den arm effect]: the delta rows of a
#: two-arm regression of each metric on [1, arm].
B_NUM, D_NUM, B_DEN, D_DEN = np.eye(4)


def _arms(rng: np.random.Generator, n: int = 800):
    """Sessions (den) and clicks (num) per user; the arm raises clicks per session by 10%."""
    arm = rng.uniform(size=n) < 0.4
    den = rng.poisson(3.0, n) + 1.0
    num = rng.binomial(den.astype(int), np.where(arm, 0.33, 0.30)).astype(float)
    return arm, num, den


def _theta_and_cov(arm, num, den):
    """θ and its HC0 covariance for the saturated regressions: per-arm means and their covariances."""
    theta = np.zeros(4)
    c, t = ~arm, arm
    theta[:] = [num[c].mean(), num[t].mean() - num[c].mean(), den[c].mean(), den[t].mean() - den[c].mean()]
    to_theta = np.array([[1, 0, 0, 0], [-1, 1, 0, 0], [0, 0, 1, 0], [0, 0, -1, 1]], dtype=float)
    means_cov = np.zeros((4, 4))  # order: num_c, num_t, den_c, den_t
    for rows, (i, j) in ((c, (0, 2)), (t, (1, 3))):
        block = np.cov(np.vstack([num[rows], den[rows]]), ddof=0) / rows.sum()
        means_cov[np.ix_([i, j], [i, j])] = block
    return theta, to_theta @ means_cov @ to_theta.T


def _deng_var(num, den) -> float:
    """Var(X̄/Ȳ) ≈ Var(X̄)/μ_y² − 2μ_x Cov(X̄,Ȳ)/μ_y³ + μ_x² Var(Ȳ)/μ_y⁴ (population moments)."""
    mx, my, n = num.mean(), den.mean(), len(num)
    c = np.cov(num, den, ddof=0) / n
    return c[0, 0] / my**2 - 2 * mx * c[0, 1] / my**3 + mx**2 * c[1, 1] / my**4


def test_absolute_effect_matches_sums_and_deng() -> None:
    arm, num, den = _arms(np.random.default_rng(0))
    theta, cov = _theta_and_cov(arm, num, den)
    est, grad, dens = ratio_effect(theta, D_NUM, B_NUM, D_DEN, B_DEN, relative=False)
    r_t, r_c = num[arm].sum() / den[arm].sum(), num[~arm].sum() / den[~arm].sum()
    assert est == pytest.approx(r_t - r_c, rel=ALGEBRA_RTOL)
    assert dens == pytest.approx((den[~arm].mean(), den[arm].mean()), rel=ALGEBRA_RTOL)
    assert grad @ cov @ grad == pytest.approx(_deng_var(num[arm], den[arm]) + _deng_var(num[~arm], den[~arm]),
                                              rel=ALGEBRA_RTOL)


@pytest.mark.parametrize("relative", [False, True])
def test_gradient_is_the_derivative(relative: bool) -> None:
    def plain(th: np.ndarray) -> float:
        r_c, r_t = th[0] / th[2], (th[0] + th[1]) / (th[2] + th[3])
        return r_t / r_c - 1 if relative else r_t - r_c

    theta = np.array([0.9, 0.15, 3.0, -0.2])
    est, grad, _ = ratio_effect(theta, D_NUM, B_NUM, D_DEN, B_DEN, relative=relative)
    assert est == pytest.approx(plain(theta), rel=ALGEBRA_RTOL)
    step = 1e-6
    numeric = [(plain(theta + step * e) - plain(theta - step * e)) / (2 * step) for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=FD_RTOL)


def test_relative_lift_interval_covers_the_truth() -> None:
    rng = np.random.default_rng(1)
    truth, reps, hits = 0.33 / 0.30 - 1, 500, 0
    for _ in range(reps):
        theta, cov = _theta_and_cov(*_arms(rng))
        est, grad, _ = ratio_effect(theta, D_NUM, B_NUM, D_DEN, B_DEN, relative=True)
        hits += abs(est - truth) <= 1.96 * np.sqrt(grad @ cov @ grad)
    assert hits / reps == pytest.approx(0.95, abs=COVERAGE_TOL)
