"""Anytime-valid formulas reproduce the avlm (R) and GrowthBook oracle values of
shared/reference/anytime_valid.md §6, and multiplicity adjustments match statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from warehouse_causal.algebra.anytime import (
    asymptotic_halfwidth,
    asymptotic_p_value,
    optimal_g,
    rho2_exact,
    t_p_value,
    t_radius,
)
from warehouse_causal.algebra.multiplicity import adjust_p_values

#: Closed-form formulas evaluated on the same inputs as the R reference.
ORACLE_RTOL = 1e-8
#: R's optimize() stops at tol ≈ 1.2e-4, so its optimal_g carries only ~4 digits.
R_OPTIMIZE_RTOL = 1e-4
G_README = 11.5815361621148  # avlm README: optimal_g(100, 8, .05)


def test_optimal_g_matches_avlm() -> None:
    assert optimal_g(100, 8, 0.05) == pytest.approx(G_README, rel=R_OPTIMIZE_RTOL)
    assert optimal_g(10_000, 5, 0.05) == pytest.approx(1217.17382493506, rel=R_OPTIMIZE_RTOL)
    assert optimal_g(32, 3, 0.05) == pytest.approx(3.32113730898913, rel=R_OPTIMIZE_RTOL)


def test_t_radius_and_confidence_sequence() -> None:
    assert t_radius(G_README, 100, 8, 0.05) == pytest.approx(3.1039381138101, rel=1e-10)
    h = t_radius(G_README, 100, 8, 0.05) * 0.158644679670
    beta = 0.9162962804297
    assert [beta - h, beta + h] == pytest.approx([0.423873012649, 1.408719548211], rel=1e-9)
    h = t_radius(1, 32, 3, 0.05) * 1.59878753799939  # mtcars intercept, g = 1
    assert [37.2272701164472 - h, 37.2272701164472 + h] == pytest.approx(
        [31.8633876223532, 42.59115261054122], rel=1e-10)
    assert t_radius(1e9, 100, 8, 0.05) == float("inf")


def test_t_p_values() -> None:
    t = [5.775776927001, 8.189716618445, 10.769041276272, 9.526629923974, 14.243199016424, -0.705913009857]
    expected = [9.76828944628e-06, 8.07389392959e-10, 3.19115589292e-14, 3.97704948514e-12,
                1.35657731362e-19, 1.0]
    np.testing.assert_allclose(t_p_value(t, 92, 100, G_README), expected, rtol=ORACLE_RTOL)
    np.testing.assert_allclose(t_p_value([6.014906125386, 9.862055665611], 92, 100, G_README),
                               [4.00368989752e-06, 1.06507737573e-12], rtol=ORACLE_RTOL)  # HC0 se
    np.testing.assert_allclose(t_p_value([23.28468869793, -6.12869521981, -3.51871191021], 29, 32, 1),
                               [1.85260481770e-16, 3.96032059112e-05, 3.36434432306e-02], rtol=ORACLE_RTOL)


def test_asymptotic_sequence_matches_growthbook_and_duality() -> None:
    rho2_gb = (-2 * np.log(0.05) + np.log(1 - 2 * np.log(0.05))) / 1000  # GrowthBook's rho at N* = 1000
    h = asymptotic_halfwidth(0.3334122146400735, 6461, rho2_gb, 0.05)
    assert np.round([0.5033610858562358 - h, 0.5033610858562358 + h], 5).tolist() == [-0.55844, 1.56516]
    assert 1 / rho2_exact(10_000, 0.05) == pytest.approx(1217.7348, rel=1e-6)
    h = asymptotic_halfwidth(0.2, 5000, 1 / 630.0, 0.05)
    assert asymptotic_p_value(h / 0.2, 5000, 1 / 630.0) == pytest.approx(0.05, rel=1e-12)


@pytest.mark.parametrize(("ours", "theirs"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjustments_match_statsmodels(ours: str, theirs: str) -> None:
    p = np.random.default_rng(0).uniform(size=40) ** 3
    np.testing.assert_allclose(adjust_p_values(p, ours), multipletests(p, method=theirs)[1], rtol=1e-12)
    np.testing.assert_array_equal(adjust_p_values(p, "none"), p)
