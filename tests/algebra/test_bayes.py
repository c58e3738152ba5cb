"""NIG posterior and Thompson probabilities against shared/reference/mediation_policy_ope.md §2."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from warehouse_causal.algebra.bayes import MultivariateT, nig_posterior, prob_best

NA, SY = np.array([120.0, 100.0, 80.0]), np.array([60.0, 58.0, 36.0])  # 3 arms, cell means, 0/1 rewards


def _posterior() -> tuple[MultivariateT, float, float]:
    return nig_posterior(np.diag(NA), SY, 154.0, NA.sum(), np.zeros(3), 0.01 * np.eye(3), 1.0, 1.0)


def test_posterior_matches_reference() -> None:
    post, a_n, b_n = _posterior()
    np.testing.assert_allclose(post.mean, [0.49995834, 0.57994201, 0.44994376], rtol=1e-7)
    assert a_n == 151 and b_n == pytest.approx(38.0839441, rel=1e-8)
    contrast = post.linear(np.array([[-1.0, 1.0, 0.0]]))
    assert contrast.df == 302
    assert contrast.mean[0] == pytest.approx(0.07998367, rel=1e-6)
    assert np.sqrt(contrast.scale[0, 0]) == pytest.approx(0.06799596, rel=1e-6)


def test_two_arm_probability_is_exact() -> None:
    post, _, _ = _posterior()
    pair = post.linear(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    assert prob_best(pair)[0] == pytest.approx(0.87979935, rel=1e-8)


def test_three_arm_probability_matches_reference_monte_carlo() -> None:
    post, _, _ = _posterior()
    np.testing.assert_allclose(prob_best(post, draws=400_000, seed=1), [0.1124, 0.8562, 0.0314], atol=0.003)


def test_flat_prior_gives_the_ols_t_interval() -> None:
    post, _, _ = nig_posterior(np.diag(NA), SY, 154.0, NA.sum(), np.zeros(3), np.zeros((3, 3)), -1.5, 0.0)
    contrast = post.linear(np.array([[-1.0, 1.0, 0.0]]))
    lo, hi = scipy.stats.t(contrast.df, contrast.mean[0], np.sqrt(contrast.scale[0, 0])).interval(0.95)
    assert contrast.df == 297
    assert [lo, hi] == pytest.approx([-0.05315234, 0.21315234], rel=1e-7)


def test_sampling_matches_the_distribution() -> None:
    dist = MultivariateT(np.array([1.0, -2.0]), np.array([[2.0, 0.5], [0.5, 1.0]]), 8.0)
    draws = dist.sample(400_000, np.random.default_rng(0))
    np.testing.assert_allclose(draws.mean(axis=0), dist.mean, atol=0.01)
    np.testing.assert_allclose(np.cov(draws.T), dist.scale * 8.0 / 6.0, rtol=0.03)
    gaussian = MultivariateT(np.zeros(2), np.eye(2), np.inf)
    assert prob_best(gaussian)[0] == pytest.approx(0.5)
