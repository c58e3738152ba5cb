"""Randomization inference from per-cluster sums: every re-drawn assignment's studentized statistic
equals a statsmodels WLS fit with CR0 errors on the rows, p-values count those fits, and the test is
exact: over all assignments, p ≤ α at most a share α of the time."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm

from warehouse_causal.algebra.randomization import (
    ClusterMoments,
    assignment_coefficient,
    assignment_draws,
    randomization_interval,
    randomization_p_value,
    studentized_statistics,
)

#: Cluster sums vs statsmodels' row-level QR fit.
LINALG_RTOL = 1e-8


def _rows(seed: int = 0, clusters: int = 8, instrument: bool = False):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), rng.integers(5, 15, clusters))
    c = rng.normal(size=g.size) + rng.normal(size=clusters)[g]
    c -= c.mean()
    w = rng.uniform(0.5, 2.0, g.size)
    y0 = 1.0 + 0.5 * c + rng.normal(size=clusters)[g] + rng.normal(size=g.size)
    comply = rng.uniform(size=g.size) < 0.7 if instrument else np.ones(g.size, bool)
    return g, c, w, y0, comply


def _moments(g, c, w, y, d, assigned, interacted: bool) -> ClusterMoments:
    u = np.column_stack([np.ones(g.size), c])
    k0, groups = u.shape[1], g.max() + 1
    gram, cross, treated = np.zeros((groups, k0, k0)), np.zeros((groups, k0)), np.zeros((groups, k0))
    np.add.at(gram, g, w[:, None, None] * u[:, :, None] * u[:, None, :])
    np.add.at(cross, g, (w * y)[:, None] * u)
    np.add.at(treated, g, (w * d)[:, None] * u)
    return ClusterMoments(gram, cross, treated, assigned, interacted)


def _statsmodels_t(g, c, w, y, z_g, interacted: bool) -> tuple[float, float]:
    z = z_g[g].astype(float)
    x = np.column_stack([np.ones(g.size), z, c] + ([z * c] if interacted else []))
    res = sm.WLS(y, x, weights=w).fit(cov_type="cluster", cov_kwds={"groups": g, "use_correction": False})
    return res.params[1], res.tvalues[1]


@pytest.mark.parametrize("interacted", [False, True])
def test_statistics_match_statsmodels_cr0_for_every_draw(interacted: bool) -> None:
    g, c, w, y0, _ = _rows()
    assigned = np.arange(8) % 2 == 1
    draws, exact = assignment_draws(assigned, 1000, 0)
    assert exact and len(draws) == math.comb(8, 4) and (draws[0] == assigned).all()
    assert len({d.tobytes() for d in draws}) == 70 and (draws.sum(1) == 4).all()
    y = y0 + 0.8 * assigned[g]
    cm = _moments(g, c, w, y, assigned[g].astype(float), assigned, interacted)
    got = studentized_statistics(cm, cm.cross, draws)
    expected = [_statsmodels_t(g, c, w, y, z_g, interacted)[1] for z_g in draws]
    np.testing.assert_allclose(got, expected, rtol=LINALG_RTOL)
    assert assignment_coefficient(cm, cm.cross) == pytest.approx(
        _statsmodels_t(g, c, w, y, assigned, interacted)[0], rel=LINALG_RTOL)


def test_p_value_counts_draws_with_instrument() -> None:
    g, c, w, y0, comply = _rows(1, instrument=True)
    assigned = np.isin(np.arange(8), [0, 3, 4, 6])
    d = (assigned[g] & comply).astype(float)  # treatment received ≠ assignment
    y = y0 + 1.5 * d
    cm = _moments(g, c, w, y, d, assigned, True)
    draws, _ = assignment_draws(assigned, 1000, 0)
    for tau0 in (0.0, 1.5, 4.0):
        t = np.array([_statsmodels_t(g, c, w, y - tau0 * d, z_g, True)[1] for z_g in draws])
        expected = np.mean(np.abs(t) >= np.abs(t[0]) * (1 - 1e-12))
        assert randomization_p_value(cm, tau0, draws) == pytest.approx(expected, abs=1e-15)


def test_test_is_exact_over_all_assignments() -> None:
    g, c, w, y0, _ = _rows(2)
    alpha = 0.1
    all_draws, _ = assignment_draws(np.arange(8) < 4, 1000, 0)
    p = []
    for assigned in all_draws:  # sharp null true (τ = 0): each assignment taken as the observed one
        cm = _moments(g, c, w, y0, assigned[g].astype(float), assigned, False)
        p.append(randomization_p_value(cm, 0.0, assignment_draws(assigned, 1000, 0)[0]))
    assert np.mean(np.array(p) <= alpha) <= alpha
    assert min(p) >= 1 / 70  # the observed draw is counted


def test_interval_is_the_inverted_test() -> None:
    g, c, w, y0, _ = _rows(3, clusters=9)
    assigned = np.arange(9) < 4
    cm = _moments(g, c, w, y0 + 2.0 * assigned[g], assigned[g].astype(float), assigned, False)
    draws, _ = assignment_draws(assigned, 1000, 0)
    est, alpha, scale = assignment_coefficient(cm, cm.cross), 0.05, 0.5
    lo, hi = randomization_interval(cm, est, scale, draws, alpha, tol=1e-4)
    assert lo < est < hi
    step = 1e-3 * scale  # well beyond the bisection tolerance
    assert randomization_p_value(cm, lo + step, draws) > alpha >= randomization_p_value(cm, lo - step, draws)
    assert randomization_p_value(cm, hi - step, draws) > alpha >= randomization_p_value(cm, hi + step, draws)


def test_too_few_draws_give_an_unbounded_interval() -> None:
    g, c, w, y0, _ = _rows(4, clusters=4)
    assigned = np.array([True, False, True, False])
    cm = _moments(g, c, w, y0, assigned[g].astype(float), assigned, False)
    draws, exact = assignment_draws(assigned, 1000, 0)
    assert exact and len(draws) == 6  # smallest p-value 1/6 > 0.05: never rejects
    assert randomization_interval(cm, 0.0, 1.0, draws, 0.05) == (-math.inf, math.inf)


def test_sampled_draws_keep_the_observed_first_and_the_arm_size() -> None:
    assigned = np.arange(30) < 11
    draws, exact = assignment_draws(assigned, 500, seed=7)
    assert not exact and draws.shape == (500, 30)
    assert (draws[0] == assigned).all() and (draws.sum(1) == 11).all()
    np.testing.assert_array_equal(draws, assignment_draws(assigned, 500, seed=7)[0])  # reproducible


def test_singular_draw_gives_nan() -> None:
    """Cluster-level covariate, interacted: with clusters 0 and 1 (both c = 1) in the arm, z·c = z, so
    the assignment coefficient is not identified. Documented: NaN there (and a NaN p-value)."""
    g = np.repeat(np.arange(6), 5)
    c = np.array([1.0, 1.0, -1.0, -1.0, 0.5, -0.5])[g]
    y = np.random.default_rng(5).normal(size=g.size)
    assigned = np.arange(6) < 2
    cm = _moments(g, c, np.ones(g.size), y, assigned[g].astype(float), assigned, True)
    draws, _ = assignment_draws(assigned, 100, 0)
    assert np.isnan(studentized_statistics(cm, cm.cross, draws[:1])[0])
    assert math.isnan(randomization_p_value(cm, 0.0, draws))
