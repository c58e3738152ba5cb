"""PPI/PPI++ from sums: the row-level formulas of Angelopoulos et al. (2023), λ̂ at the variance
minimum, and a simulation in which the judge is biased but the interval still covers the truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from warehouse_causal.algebra.ppi import ArmSums, audit_mean, judge_mean, ppi_lambda, ppi_mean

#: Sums vs numpy's row-level means and variances.
ALGEBRA_RTOL = 1e-9
#: λ̂ uses the pooled S variance; the exact minimizer uses each sample's: they differ by O(n^-1/2).
LAMBDA_TOL = 0.03
#: 1000 replications: binomial SE of a 95% coverage is ~0.007; allow ~3.5 SE.
COVERAGE_TOL = 0.025


def _rows(rng: np.random.Generator, n: int, big_n: int, slope: float = 0.8, bias: float = 0.5):
    y = rng.normal(1.0, 1.0, n + big_n)
    s = slope * y + bias + rng.normal(0.0, 0.6, n + big_n)  # a biased, noisy judge
    return y[:n], s[:n], s[n:]


def _sums(y, s, s_u) -> ArmSums:
    return ArmSums(len(y), y.sum(), s.sum(), y @ y, s @ s, y @ s, len(s_u), s_u.sum(), s_u @ s_u)


@pytest.mark.parametrize("lam", [0.0, 0.4, 1.0])
def test_ppi_mean_matches_row_formula(lam: float) -> None:
    y, s, s_u = _rows(np.random.default_rng(0), 300, 3000)
    est, se = ppi_mean(_sums(y, s, s_u), lam)
    rect = y - lam * s
    assert est == pytest.approx(lam * s_u.mean() + rect.mean(), rel=ALGEBRA_RTOL)
    assert se == pytest.approx(np.sqrt(lam**2 * s_u.var() / len(s_u) + rect.var() / len(y)), rel=ALGEBRA_RTOL)
    if lam == 0.0:  # no judge: the audit mean
        assert (est, se) == pytest.approx(audit_mean(_sums(y, s, s_u)), rel=ALGEBRA_RTOL)


def test_lambda_minimizes_the_variance() -> None:
    y, s, s_u = _rows(np.random.default_rng(1), 2000, 20_000)
    sums = _sums(y, s, s_u)
    best = optimize.minimize_scalar(lambda lam: ppi_mean(sums, lam)[1], bounds=(0, 1), method="bounded").x
    assert ppi_lambda(sums) == pytest.approx(best, abs=LAMBDA_TOL)
    assert 0.0 < ppi_lambda(sums) < 1.0


def test_lambda_is_clipped() -> None:
    rng = np.random.default_rng(2)
    y, s, s_u = _rows(rng, 500, 500, slope=-1.0)  # judge anti-correlated: λ̂ < 0 → 0
    assert ppi_lambda(_sums(y, s, s_u)) == 0.0
    y, s, s_u = _rows(rng, 500, 500, slope=0.3)
    assert ppi_lambda(_sums(10 * y, s, s_u)) == 1.0  # Cov/((1 + n/N) Var) ≈ 3.3 → 1


def test_judge_and_audit_means() -> None:
    y, s, s_u = _rows(np.random.default_rng(3), 200, 800)
    both = np.concatenate([s, s_u])
    assert judge_mean(_sums(y, s, s_u)) == pytest.approx((both.mean(), both.std() / np.sqrt(1000)),
                                                         rel=ALGEBRA_RTOL)
    assert audit_mean(_sums(y, s, s_u)) == pytest.approx((y.mean(), y.std() / np.sqrt(200)), rel=ALGEBRA_RTOL)


def test_ppi_plus_plus_covers_the_human_mean_where_the_judge_does_not() -> None:
    rng = np.random.default_rng(4)
    truth, reps = 1.0, 1000
    ppi_hits = judge_hits = 0
    for _ in range(reps):
        sums = _sums(*_rows(rng, 150, 1500))
        est, se = ppi_mean(sums, ppi_lambda(sums))
        ppi_hits += abs(est - truth) <= 1.96 * se
        j_est, j_se = judge_mean(sums)
        judge_hits += abs(j_est - truth) <= 1.96 * j_se
    assert ppi_hits / reps == pytest.approx(0.95, abs=COVERAGE_TOL)
    assert judge_hits / reps < 0.5  # the judge's scale is off by 0.8·1 + 0.5 − 1 = 0.3
