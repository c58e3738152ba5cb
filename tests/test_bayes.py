"""BayesianLinearRegression, posterior effects, ranks, rewards, Thompson policy and serialization."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import warehouse_causal as wc
from tests.helpers import ORACLE_RTOL, Sim, design_matrices, rel_diff, simulate

COVARIATES = ["x1", "device"]


def _spec(df: pd.DataFrame, **roles: object) -> wc.ModelSpec:
    return wc.ExperimentData(wc.table(df), intent_to_treat="z", **roles).add_metric(["y", "y2"], COVARIATES)


def test_flat_prior_intervals_equal_ols() -> None:
    spec = _spec(simulate(Sim(n=2_000, arms=3, seed=1)))
    bayes = spec.fit(wc.BayesianLinearRegression, prior=wc.NormalInverseGamma.flat())
    ols = spec.fit(wc.LinearModel, covariance="iid")
    a, b = bayes.coefficients(), ols.coefficients()
    assert rel_diff(a["mean"], b.estimate) < ORACLE_RTOL
    assert rel_diff(a.ci_lower, b.ci_lower) < ORACLE_RTOL and rel_diff(a.ci_upper, b.ci_upper) < ORACLE_RTOL
    conditions = ["x1 > 0", "device = 'mobile'"]
    post = bayes.infer_effect(condition_on=conditions).to_pandas()
    classical = ols.infer_effect(condition_on=conditions).to_pandas()
    assert rel_diff(post["mean"], classical.estimate) < ORACLE_RTOL
    assert rel_diff(post.ci_lower, classical.ci_lower) < ORACLE_RTOL


@pytest.mark.parametrize("weights", [False, True])
def test_posterior_equals_row_level_numpy(weights: bool) -> None:
    df = simulate(Sim(n=1_500, seed=2))
    prior = wc.NormalInverseGamma(mean={"z[1]": 0.2}, scale={"z[1]": 0.1, "x1": 2.0}, a=2.0, b=3.0)
    bayes = _spec(df, weights="w" if weights else None).fit(wc.BayesianLinearRegression, prior=prior)
    w = df["w"].to_numpy() if weights else np.ones(len(df))
    x, _ = design_matrices(df, "z", "z", 0, COVARIATES, ["device"], True, w if weights else None)
    assert list(x.columns) == list(bayes.terms)
    mu0, lambda0 = prior.arrays(bayes.terms)
    xs = x.to_numpy()
    precision = lambda0 + (xs * w[:, None]).T @ xs
    for m, metric in enumerate(["y", "y2"]):
        y = df[metric].to_numpy()
        mean = np.linalg.solve(precision, lambda0 @ mu0 + (xs * w[:, None]).T @ y)
        a_n = prior.a + len(df) / 2
        b_n = prior.b + 0.5 * (y @ (w * y) + mu0 @ lambda0 @ mu0 - mean @ precision @ mean)
        scale = b_n / a_n * np.linalg.inv(precision)
        post = bayes.posteriors[m]
        assert rel_diff(post.mean, mean) < ORACLE_RTOL
        assert rel_diff(post.scale, scale) < ORACLE_RTOL
        assert post.df == 2 * a_n


def test_rank_two_arms_exact_and_many_arms_monte_carlo() -> None:
    two = _spec(simulate(Sim(n=1_000, seed=3, effect=0.05))).fit(wc.BayesianLinearRegression)
    effects = two.infer_effect()
    rank = effects.infer_rank()
    row = effects.to_pandas().iloc[0]
    post = effects.distributions[0][2]
    exact = scipy.stats.t(post.df, post.mean[0], np.sqrt(post.scale[0, 0])).sf(0.0)
    assert rank.prob_best.iloc[1] == pytest.approx(exact, rel=1e-8)
    assert rank.prob_best.iloc[1] == pytest.approx(row.prob_positive, rel=1e-8)
    many = _spec(simulate(Sim(n=1_500, arms=4, seed=4, effect=0.05))).fit(wc.BayesianLinearRegression)
    effects = many.infer_effect()
    ours = effects.infer_rank(draws=200_000, seed=1)
    dist = effects.distributions[0][2]
    draws = scipy.stats.multivariate_t(dist.mean, dist.scale, df=dist.df, seed=99).rvs(2_000_000)
    reference = np.bincount(np.argmax(np.column_stack([np.zeros(len(draws)), draws]), axis=1), minlength=4)
    np.testing.assert_allclose(ours[ours.metric == "y"].prob_best, reference / len(draws), atol=0.005)
    assert ours.groupby(["metric", "segment"]).prob_best.sum().tolist() == pytest.approx([1.0, 1.0])



def test_rank_names_every_arm_by_its_label() -> None:
    """A policy ranking names route 0 "0", as the Thompson probabilities do; ``is_control`` marks the
    design's control arm only (issue 24: it was called "control")."""
    df = simulate(Sim(n=1_500, arms=3, seed=4, effect=0.05))
    df["z"] = df["z"].map({"control": 0, "v1": 1, "v2": 2})  # routes 0, 1, 2
    for control in (None, 2):
        spec = wc.ExperimentData(wc.table(df), intent_to_treat="z", control=control).add_metric(["y"])
        rank = spec.fit(wc.BayesianLinearRegression).infer_effect().infer_rank()
        assert sorted(rank.arm) == ["0", "1", "2"]
        assert rank.loc[rank.is_control, "arm"].tolist() == ["0" if control is None else "2"]

def test_clustered_posterior_uses_the_cluster_robust_sandwich() -> None:
    df = simulate(Sim(n=2_000, clusters=40, seed=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        bayes = _spec(df, cluster_by="team").fit(wc.BayesianLinearRegression)
        ols = _spec(df, cluster_by="team").fit(wc.LinearModel)
    assert bayes.posterior_kind == "cluster-robust gaussian"
    k = len(bayes.terms)
    np.testing.assert_allclose(np.sqrt(np.diag(bayes.posteriors[0].scale)), ols.std_errors[:, 0], rtol=1e-12)
    assert np.isinf(bayes.posteriors[0].df)
    assert bayes.posteriors[1].scale.shape == (k, k)


def test_encouragement_design_is_refused() -> None:
    df = simulate(Sim(n=500, encouragement=True))
    with pytest.raises(wc.DesignError, match="models the arm received with no instrument"):
        _spec(df, treated="d").fit(wc.BayesianLinearRegression)


def test_prior_validation() -> None:
    spec = _spec(simulate(Sim(n=500)))
    with pytest.raises(wc.InvalidParameterError, match=r"The prior names unknown terms \['arm'\]"):
        spec.fit(wc.BayesianLinearRegression, prior=wc.NormalInverseGamma(scale={"arm": 1.0}))
    with pytest.raises(wc.InvalidParameterError, match=r"must be None or a wc\.NormalInverseGamma"):
        spec.fit(wc.BayesianLinearRegression, prior={"scale": 1.0})


def test_reward_of_each_arm_and_thompson_probabilities() -> None:
    bayes = _spec(simulate(Sim(n=2_000, arms=3, seed=6))).fit(wc.BayesianLinearRegression)
    context = wc.ContextVector(x1=0.7, device="tablet")
    reward = bayes.infer_reward(context, metric="y")
    post, model = bayes.posteriors[0], bayes.base
    index = {t: j for j, t in enumerate(bayes.terms)}
    centred = {c: v for c, v in [("x1", 0.7), ("device[mobile]", 0.0), ("device[tablet]", 1.0)]}
    for arm in ["control", "v1", "v2"]:
        x = np.zeros(len(bayes.terms))
        x[0] = 1.0
        for c, v in centred.items():
            column = model.design.columns[c]
            x[index[c]] = v - column.shift - model.covariate_means[c]
            if arm != "control":
                x[index[f"z[{arm}]:{c}"]] = x[index[c]]
        if arm != "control":
            x[index[f"z[{arm}]"]] = 1.0
        assert reward.mean()[arm] == pytest.approx(x @ post.mean, rel=1e-12)
    policy = wc.Policy(reward)
    probabilities = policy.probabilities()
    decisions = [policy.decide(rng=np.random.default_rng(s)) for s in range(4_000)]
    for arm, p in probabilities.items():
        assert decisions.count(arm) / 4_000 == pytest.approx(p, abs=0.03)


def test_model_round_trips_to_identical_decisions(tmp_path: Path) -> None:
    bayes = _spec(simulate(Sim(n=1_500, arms=3, seed=7, effect=0.05))).fit(wc.BayesianLinearRegression)
    path = tmp_path / "model.json"
    path.write_text(bayes.to_json())
    loaded = wc.load_model(path)
    for context in (wc.ContextVector(x1=-1.0, device="desktop"), wc.ContextVector(x1=2.0, device="mobile")):
        for metric in ("y", "y2"):
            here, there = bayes.infer_reward(context, metric), loaded.infer_reward(context, metric)
            np.testing.assert_array_equal(here.rewards.mean, there.rewards.mean)
            a = [wc.Policy(here).decide(rng=s) for s in range(200)]
            b = [wc.Policy(there).decide(rng=s) for s in range(200)]
            assert a == b and len(set(a)) > 1
    assert wc.load_model(loaded.to_json()).to_json() == loaded.to_json() == bayes.to_json()


def test_context_errors() -> None:
    bayes = _spec(simulate(Sim(n=500))).fit(wc.BayesianLinearRegression)
    with pytest.raises(wc.InvalidParameterError, match=r"missing covariate\(s\) \['device'\]"):
        bayes.infer_reward(wc.ContextVector(x1=0.0), metric="y")
    with pytest.raises(wc.SchemaError, match="Did you mean 'device'"):
        bayes.infer_reward(wc.ContextVector(x1=0.0, devise="mobile"), metric="y")
    with pytest.raises(wc.InvalidParameterError, match="'phone' is not a category of the model"):
        bayes.infer_reward(wc.ContextVector(x1=0.0, device="phone"), metric="y")
    with pytest.raises(wc.InvalidParameterError, match="Name the reward metric"):
        bayes.infer_reward(wc.ContextVector(x1=0.0, device="mobile"))
    with pytest.raises(wc.InvalidParameterError, match="Not a warehouse_causal reward model"):
        wc.load_model('{"format": "other"}')
