"""Few clusters: randomization inference from per-cluster sums (issue 13).

The statistic is checked against statsmodels on rows, the p-value against brute-force enumeration,
coverage by simulation on the algebra (numpy sums per cluster), and one end-to-end SQL replication;
degenerate designs never give a confident answer and decide() never ships on them.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import statsmodels.api as sm

import warehouse_causal as wc
from warehouse_causal.algebra.randomization import (
    ClusterMoments,
    assignment_draws,
    randomization_p_value,
    studentized_statistics,
)

#: Same algebra two ways (per-cluster sums vs rows).
RTOL = 1e-9


def _rows(rng: np.random.Generator, n_clusters: int, share: float = 0.3, tau: float = 0.5
          ) -> pd.DataFrame:
    """Clusters of very unequal sizes with a cluster effect; a constant effect tau (sharp null)."""
    sizes = np.maximum(2, np.round(np.exp(rng.normal(3.0, 1.0, n_clusters)))).astype(int)
    team = np.repeat(np.arange(n_clusters), sizes)
    z = np.zeros(n_clusters, dtype=bool)
    z[rng.choice(n_clusters, max(1, round(share * n_clusters)), replace=False)] = True
    x = rng.normal(size=len(team)) + rng.normal(size=n_clusters)[team]
    noise = rng.normal(size=n_clusters)[team] + rng.normal(size=len(team)) * (1 + np.abs(x))
    return pd.DataFrame({"team": team, "z": z[team].astype(int), "x": x,
                         "y": 1.0 + tau * z[team] + 0.5 * x + noise})


def _moments(df: pd.DataFrame, interacted: bool = True) -> ClusterMoments:
    """Per-cluster sums over u = [1, x − x̄] (numpy, rows never leave this function)."""
    team = df.team.to_numpy()
    g = team.max() + 1
    u = np.column_stack([np.ones(len(df)), df.x - df.x.mean()])
    gram = np.stack([np.stack([np.bincount(team, u[:, i] * u[:, j], g) for j in range(2)], axis=1)
                     for i in range(2)], axis=1)
    cross = np.column_stack([np.bincount(team, u[:, i] * df.y, g) for i in range(2)])
    assigned = np.bincount(team, df.z, g) > 0
    return ClusterMoments(gram, cross, assigned[:, None] * gram[:, :, 0], assigned, interacted)


def _row_level_t(df: pd.DataFrame, z_of_cluster: np.ndarray, tau0: float) -> float:
    z = z_of_cluster[df.team].astype(float)
    xc = df.x - df.x.mean()
    design = np.column_stack([np.ones(len(df)), z, xc, z * xc])
    y0 = df.y - tau0 * df.z
    fit = sm.OLS(y0, design).fit(cov_type="cluster", cov_kwds={"groups": df.team, "use_correction": False})
    return float(np.asarray(fit.params)[1] / np.asarray(fit.bse)[1])


def test_statistic_equals_statsmodels_cluster_robust_t_on_rows() -> None:
    rng = np.random.default_rng(0)
    df = _rows(rng, 14)
    cm = _moments(df)
    draws, _ = assignment_draws(cm.assigned, 50, seed=1)
    t = studentized_statistics(cm, cm.cross - 0.2 * cm.treated, draws)
    for r in (0, 7, 31):
        assert t[r] == pytest.approx(_row_level_t(df, draws[r], 0.2), rel=RTOL)


def test_p_value_equals_brute_force_enumeration() -> None:
    rng = np.random.default_rng(1)
    df = _rows(rng, 8, share=3 / 8)
    cm = _moments(df)
    draws, exact = assignment_draws(cm.assigned, 1_000, seed=0)
    assert exact and len(draws) == 56 and (draws[0] == cm.assigned).all()
    observed = abs(_row_level_t(df, cm.assigned, 0.0))
    brute = []
    for chosen in itertools.combinations(range(8), 3):
        z = np.zeros(8, dtype=bool)
        z[list(chosen)] = True
        brute.append(abs(_row_level_t(df, z, 0.0)) >= observed * (1 - 1e-12))
    assert randomization_p_value(cm, 0.0, draws) == pytest.approx(np.mean(brute), abs=1e-12)


@pytest.mark.slow
def test_coverage_with_10_20_30_clusters() -> None:
    """1,000 simulated experiments per G: randomization inference covers 93-97%, CR1 (t with G − 1
    df, as the fit reports it) under-covers. The table is in the README."""
    table = {}
    for n_clusters in (10, 20, 30):
        rng = np.random.default_rng(100 + n_clusters)
        covered = {"randomization": 0, "CR1": 0}
        for rep in range(1_000):
            df = _rows(rng, n_clusters)
            cm = _moments(df)
            draws, _ = assignment_draws(cm.assigned, 500, seed=rep)
            covered["randomization"] += randomization_p_value(cm, 0.5, draws) > 0.05
            t0 = studentized_statistics(cm, cm.cross - 0.5 * cm.treated, draws[:1])[0]
            n, k = len(df), 4
            cr1 = np.sqrt(n_clusters / (n_clusters - 1) * (n - 1) / (n - k))
            covered["CR1"] += abs(t0) / cr1 < scipy.stats.t.ppf(0.975, n_clusters - 1)
        table[n_clusters] = {key: value / 1_000 for key, value in covered.items()}
    for n_clusters, row in table.items():
        assert 0.93 <= row["randomization"] <= 0.97, (n_clusters, row)
        assert row["CR1"] < 0.90, (n_clusters, row)


# -- end to end through the warehouse -------------------------------------------------------------


def _fit(df: pd.DataFrame, **options: object) -> wc.LinearModel:
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", cluster_by="team")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.DesignWarning)
        return exp.add_metric("y", ["x"]).fit(wc.LinearModel, **options)


def test_few_clusters_switch_to_randomization_inference_end_to_end() -> None:
    df = _rows(np.random.default_rng(2), 12, share=0.5)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", cluster_by="team")
    with pytest.warns(wc.DesignWarning, match=r"Only 12 clusters of 'team' \(6 in arm 0, 6 in arm 1\)"):
        model = exp.add_metric("y", ["x"]).fit(wc.LinearModel)
    assert model.inference == "randomization" and model.clusters_per_arm == {0: 6, 1: 6}
    purpose = "randomization inference: per-cluster sums"
    assert any(q.purpose == purpose and q.rows == 12 for q in model.queries)
    effects = model.infer_effect(condition_on=["x > 0"]).to_pandas()
    overall, segment = effects.iloc[0], effects.iloc[1]
    cm = _moments(df)
    draws, exact = assignment_draws(cm.assigned, 2_000, seed=0)
    assert exact and len(draws) == 924
    assert overall.p_value == pytest.approx(randomization_p_value(cm, 0.0, draws), abs=1e-12)
    # the interval's ends are where the p-value crosses alpha
    for end, inside in ((overall.ci_lower, 1e-3), (overall.ci_upper, -1e-3)):
        se = overall.std_error
        assert randomization_p_value(cm, end + inside * se, draws) > 0.05
        assert randomization_p_value(cm, end - inside * se, draws) <= 0.05
    assert overall.ci_lower < overall.estimate < overall.ci_upper
    assert np.isnan([segment.p_value, segment.ci_lower, segment.av_ci_lower, overall.av_p_value]).all()
    summary = model.summary()
    assert summary.p_value.iloc[0] == pytest.approx(overall.p_value)
    assert model.coefficients().query("term == 'x'").p_value.isna().all()


def test_one_cluster_per_arm_never_gives_a_confident_answer() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"team": np.repeat([0, 1], 50), "z": np.repeat([0, 1], 50), "x": rng.normal(size=100)})
    df["y"] = 3.0 * df.z + df.x + rng.normal(scale=0.1, size=100)
    model = _fit(df)
    row = model.infer_effect().to_pandas().iloc[0]
    assert row.p_value == 1.0 and row.ci_lower == -np.inf and row.ci_upper == np.inf
    decision = model.infer_effect().decide("y", evidence="classical").arms[0]
    assert decision.verdict == "inconclusive"
    assert model.infer_effect().decide("y").arms[0].verdict == "inconclusive"
    with pytest.raises(wc.DesignError, match="standard error is degenerate"):
        _fit(df, inference="classical")


def test_one_treated_cluster_in_40_is_not_significant_by_construction() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"team": np.repeat(np.arange(40), 25), "x": rng.normal(size=1_000)})
    df["z"] = (df.team == 7).astype(int)
    df["y"] = df.x + rng.normal(size=40)[df.team] + rng.normal(size=1_000)  # true effect 0
    model = _fit(df)
    assert model.clusters_per_arm == {0: 39, 1: 1}
    p = model.infer_effect().to_pandas().p_value.iloc[0]
    assert p >= 1 / 40
    with pytest.raises(wc.DesignError, match=r"Only 40 clusters of 'team' \(39 in arm 0, 1 in arm 1\)"):
        _fit(df, inference="classical")


def test_unreliable_classical_inference_is_never_shipped() -> None:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"team": np.repeat(np.arange(20), 30), "x": rng.normal(size=600)})
    df["z"] = (rng.random(600) < 0.5).astype(int)  # assignment varies within clusters (mixed)
    df["y"] = 2.0 * df.z + df.x + rng.normal(size=600)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", cluster_by="team")
    with pytest.warns(wc.DesignWarning, match="randomization inference is not possible: 20 cluster"):
        model = exp.add_metric("y", ["x"]).fit(wc.LinearModel)
    assert model.inference.startswith("classical (too few clusters")
    effects = model.infer_effect()
    assert effects.to_pandas().ci_lower.iloc[0] > 1.0  # a clear effect, by unreliable intervals
    for evidence in ("classical", "anytime-valid"):
        arm = effects.decide("y", evidence=evidence).arms[0]
        assert arm.verdict == "inconclusive" and "not shipped" in arm.reasons[-1]
    with pytest.raises(wc.DesignError, match="not possible here: 20 cluster"):
        exp.add_metric("y", ["x"]).fit(wc.LinearModel, inference="randomization")


def test_randomization_needs_clusters() -> None:
    df = _rows(np.random.default_rng(6), 12)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z")
    with pytest.raises(wc.InvalidParameterError, match="needs cluster_by"):
        exp.add_metric("y").fit(wc.LinearModel, inference="randomization")
    with pytest.raises(wc.InvalidParameterError, match=r"'inference' parameter of LinearModel\.fit"):
        exp.add_metric("y").fit(wc.LinearModel, inference="bootstrap")
