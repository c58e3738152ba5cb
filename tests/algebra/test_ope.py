"""Off-policy values from sums equal the row-level estimators of Dudík et al. (2011), their SEs equal
the textbook sample-mean / linearized-ratio SEs and statsmodels' cluster-robust SE, and shifting the
rewards by a constant changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from warehouse_causal.algebra.ope import cluster_mean_covariance, iid_mean_covariance, policy_values

#: Sums vs row-level means of the same numbers.
ALGEBRA_RTOL = 1e-9
#: 300 replications: binomial SE of a 95% coverage is ~0.013; allow 3 SE.
COVERAGE_REPS, COVERAGE_TOL = 300, 0.04


def _log(seed: int = 0, n: int = 2000, shift: float = 0.0):
    """Logged 2-action bandit: p = P(logged action), π deterministic, q̂ a slightly wrong model."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p1 = 1 / (1 + np.exp(-x))
    a = (rng.uniform(size=n) < p1).astype(int)
    p = np.where(a == 1, p1, 1 - p1)
    pi = (x > 0.3).astype(int)
    r = 1.0 + 0.5 * a * x + rng.normal(size=n) + 5.0 - shift
    q_hat = lambda act: 6.0 + 0.4 * act * x - shift  # noqa: E731
    w = (pi == a) / p
    terms = np.column_stack([w, w * r, q_hat(pi), w * (r - q_hat(a)), r])
    return terms, rng.integers(0, 150, n), np.column_stack([np.ones(n), pi * x])


def test_iid_covariance_is_sample_covariance_over_n() -> None:
    t, _, _ = _log()
    np.testing.assert_allclose(iid_mean_covariance(t.sum(0), t.T @ t, len(t)), np.cov(t.T) / len(t),
                               rtol=ALGEBRA_RTOL)


def test_cluster_covariance_matches_loop_and_statsmodels() -> None:
    t, g, _ = _log(1)
    n, groups = len(t), g.max() + 1
    s = np.zeros((groups, 5))
    np.add.at(s, g, t)
    ng = np.bincount(g, minlength=groups).astype(float)
    got = cluster_mean_covariance(t.sum(0), s.T @ s, ng @ s, ng @ ng, n, groups)
    e = s - ng[:, None] * t.mean(0)
    np.testing.assert_allclose(got, groups / (groups - 1) * e.T @ e / n**2, rtol=ALGEBRA_RTOL)
    for j in range(5):  # CR1 with one regressor has the same G/(G−1) factor
        res = sm.OLS(t[:, j], np.ones(n)).fit(cov_type="cluster", cov_kwds={"groups": g})
        assert np.sqrt(got[j, j]) == pytest.approx(res.bse[0], rel=ALGEBRA_RTOL)


def _values(t: np.ndarray, design: np.ndarray, shift: float = 0.0):
    n = len(t)
    v_beta = np.array([[0.01, 0.002], [0.002, 0.02]])
    return policy_values(t.sum(0), iid_mean_covariance(t.sum(0), t.T @ t, n), n, design.mean(0), v_beta,
                         shift), v_beta


def test_estimates_and_standard_errors_from_rows() -> None:
    t, _, design = _log(2)
    out, v_beta = _values(t, design)
    w, r_w, q, adv, r = t.T
    n = len(t)
    snips = r_w.sum() / w.sum()
    expected = {
        "ips": (r_w.mean(), r_w.std(ddof=1) / np.sqrt(n)),
        "snips": (snips, (r_w - snips * w).std(ddof=1) / (np.sqrt(n) * w.mean())),  # linearized ratio
        "dm": (q.mean(), np.sqrt(design.mean(0) @ v_beta @ design.mean(0) + q.var(ddof=1) / n)),
        "dr": ((q + adv).mean(), (q + adv).std(ddof=1) / np.sqrt(n)),
        "logged": (r.mean(), r.std(ddof=1) / np.sqrt(n)),
    }
    assert set(out) == set(expected)
    for key, (est, se) in expected.items():
        assert out[key][0] == pytest.approx(est, rel=ALGEBRA_RTOL), key
        assert out[key][1] == pytest.approx(se, rel=ALGEBRA_RTOL), key


def test_shifted_rewards_give_the_same_values() -> None:
    """Rewards stored as r − K with ``shift`` = K: every estimate and SE is unchanged."""
    terms, _, design = _log(3)
    shifted_terms, _, _ = _log(3, shift=6.0)
    plain, _ = _values(terms, design)
    shifted, _ = _values(shifted_terms, design, shift=6.0)
    for key in plain:
        assert shifted[key] == pytest.approx(plain[key], rel=ALGEBRA_RTOL), key


def test_ips_interval_covers_the_true_value() -> None:
    """Truth for π: E[r | a = π(x)] = 6 + 0.5·π(x)·x, averaged over a huge sample of x."""
    xs = np.random.default_rng(4).normal(size=2_000_000)
    truth = np.mean(6.0 + 0.5 * (xs > 0.3) * xs)
    hits = []
    for seed in range(COVERAGE_REPS):
        terms, _, design = _log(100 + seed, n=1000)
        est, se = _values(terms, design)[0]["ips"]
        hits.append(abs(est - truth) <= 1.96 * se)
    assert np.mean(hits) == pytest.approx(0.95, abs=COVERAGE_TOL)
