"""Collinearity diagnosis, equilibrated solves and the design diagnostics against scipy/statsmodels."""

from __future__ import annotations

import numpy as np
import scipy.stats
import statsmodels.api as sm

from warehouse_causal.algebra.diagnostics import first_stage_f, sample_ratio_test, standardized_difference
from warehouse_causal.algebra.linalg import collinear_sets, condition_number, solve_spd


def test_collinear_sets_names_the_dependent_columns() -> None:
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 200))
    x = np.column_stack([np.ones(200), a, b, c, a - 2 * b, np.zeros(200)])
    sets = collinear_sets(x.T @ x)
    assert [5] in sets
    assert [1, 2, 4] in sets


def test_full_rank_has_no_sets() -> None:
    x = np.random.default_rng(1).normal(size=(50, 4))
    assert collinear_sets(x.T @ x) == []
    assert condition_number(x.T @ x) < 10


def test_solve_spd_survives_bad_scaling() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3)) * np.array([1e-6, 1.0, 1e6])
    beta = np.array([1e6, 2.0, 3e-6])
    y = x @ beta
    np.testing.assert_allclose(solve_spd(x.T @ x, x.T @ y), beta, rtol=1e-9)


def test_sample_ratio_test_is_pearson_chi2() -> None:
    stat, p = sample_ratio_test(np.array([510.0, 490.0, 1000.0]), np.array([1.0, 1.0, 2.0]))
    ref = scipy.stats.chisquare([510, 490, 1000], [500, 500, 1000])
    assert np.isclose(stat, ref.statistic, rtol=1e-12) and np.isclose(p, ref.pvalue, rtol=1e-12)


def test_first_stage_f_equals_statsmodels_partial_f() -> None:
    rng = np.random.default_rng(3)
    n = 500
    cov, z1, z2 = rng.normal(size=(3, n))
    d = 0.2 * z1 + 0.1 * z2 + cov + rng.normal(size=n)
    z = np.column_stack([np.ones(n), z1, z2, cov])
    full = sm.OLS(d, z).fit()
    ref = full.compare_f_test(sm.OLS(d, z[:, [0, 3]]).fit())[0]
    got = first_stage_f(z.T @ z, (z.T @ d)[:, None], np.array([d @ d]),
                        np.array([False, True, True, False]), n)
    assert np.isclose(got[0], ref, rtol=1e-9)


def test_standardized_difference() -> None:
    smd, p = standardized_difference(1.2, 1.0, 2.0, 100, 100)
    assert np.isclose(smd, 0.1)
    assert np.isclose(p, 2 * scipy.stats.norm.sf(0.1 / np.sqrt(0.02)))
    assert standardized_difference(1.0, 1.0, 0.0, 10, 10) == (0.0, 1.0)
