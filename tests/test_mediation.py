"""Mediation through the whole pipeline: the reference's known-truth clustered DAG, the published
Hayes (2018) model 6 numbers from rows rebuilt to the same moments, validation, and coverage."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.algebra.test_paths import NAMES, _c
from warehouse_causal.algebra.paths import (
    enumerate_paths,
    fit_paths,
    path_effects,
    path_gradient,
    stacked_covariance,
)

TRUE = {"T -> Y": 0.25, "T -> M1 -> Y": 0.32, "T -> M1 -> M2 -> Y": 0.12, "T -> M1 -> M3 -> Y": -0.24,
        "T -> M2 -> Y": 0.12, "T -> M3 -> Y": -0.15}
GRAPH = "T -> M1 -> M2 -> Y; M1 -> M3 -> Y; T -> M2; T -> M3; T -> Y; M1 -> Y"
REPLICATIONS = 2_000  # coverage SE 0.5 points, so 93-97% is a ±4 SE window


def simulate_dag(clusters: int, per_cluster: int, seed: int) -> pd.DataFrame:
    """shared/reference/mediation_policy_ope.md §1.8c: cluster-randomized T, three mediators."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), per_cluster)
    n = g.size
    t = rng.binomial(1, 0.5, clusters)[g].astype(float)
    x1 = rng.normal(size=clusters)[g] + rng.normal(size=n)
    x2 = rng.normal(size=n)

    def err() -> np.ndarray:
        return 0.5 * rng.normal(size=clusters)[g] + (1 + 0.5 * np.abs(x1)) * rng.normal(size=n)

    m1 = 0.5 + 0.8 * t + 0.3 * x1 - 0.2 * x2 + err()
    m2 = 0.1 + 0.4 * t + 0.5 * m1 + 0.2 * x1 + err()
    m3 = -0.2 + 0.3 * t + 0.6 * m1 + 0.1 * x2 + err()
    y = 1.0 + 0.25 * t + 0.4 * m1 + 0.3 * m2 - 0.5 * m3 + 0.2 * x1 + 0.3 * x2 + err()
    return pd.DataFrame({"g": g, "T": t.astype(int), "X1": x1, "X2": x2, "M1": m1, "M2": m2, "M3": m3,
                         "Y": y})


def _mediate(table, **options: object) -> wc.mechanisms.mediation.MediationEffects:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(table, intent_to_treat="T", cluster_by="g")
        effects = exp.add_metric("Y", ["X1", "X2"]).fit(wc.LinearModel, interacted=False).infer_effect()
        return effects.with_graph(GRAPH).mediate_effect(**options)


def test_reference_dag_estimates_and_clustered_standard_errors() -> None:
    result = _mediate(wc.table(simulate_dag(2_000, 5, 20240601)), sims=20_000)
    frame = result.to_pandas().set_index("path")
    expected = {"T -> Y": (0.20335, 0.03956), "T -> M1 -> Y": (0.36304, 0.02139),
                "T -> M1 -> M2 -> Y": (0.13029, 0.00816), "T -> M1 -> M3 -> Y": (-0.25504, 0.01447),
                "T -> M2 -> Y": (0.11122, 0.01339), "T -> M3 -> Y": (-0.15299, 0.02052)}
    for path, (estimate, se) in expected.items():
        assert frame.loc[path, "estimate"] == pytest.approx(estimate, abs=5e-6)
        assert frame.loc[path, "std_error"] == pytest.approx(se, abs=5e-6)
    paths = frame[frame.kind.isin(["direct", "indirect"])]
    assert paths.estimate.sum() == pytest.approx(frame.loc["total", "estimate"], abs=1e-10)
    assert frame.loc["total", "estimate"] == pytest.approx(0.39986967, abs=1e-8)
    through = frame.loc["through M2", "estimate"]
    parts = frame.loc[["T -> M1 -> M2 -> Y", "T -> M2 -> Y"], "estimate"].sum()
    assert through == pytest.approx(parts, rel=1e-12)
    assert (frame.mc_ci_lower < frame.estimate).all() and (frame.estimate < frame.mc_ci_upper).all()
    assert any("Sequential ignorability" in a for a in result.assumptions)
    assert [q.purpose for q in result.queries] == ["mediators: NULLs and shifts", "mediation: cross products",
                                                   "mediation: stacked scores"]


@pytest.mark.parametrize("covariance", ["robust", "classical"])
def test_mediation_reuses_the_fit_cross_products_when_the_mediators_are_metrics(covariance: str) -> None:
    """Mediators fitted as metrics: their cross products come from the fit (no query for them); the
    numbers equal the mediation's own cross-product pass."""
    table = wc.table(simulate_dag(300, 5, 7))
    fresh = _mediate(table, covariance=covariance, sims=2_000).to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(table, intent_to_treat="T", cluster_by="g")
        effects = exp.add_metric(["Y", "M1", "M2", "M3"], ["X1", "X2"]).fit(wc.LinearModel).infer_effect()
        result = effects.with_graph(GRAPH).mediate_effect(covariance=covariance, sims=2_000)
    expected_queries = ["mediation: stacked scores"] if covariance == "robust" else []
    assert [q.purpose for q in result.queries] == expected_queries
    reused = result.to_pandas()
    assert list(reused.path) == list(fresh.path)
    for column in ["estimate", "std_error", "ci_lower", "ci_upper"]:
        np.testing.assert_allclose(reused[column], fresh[column], rtol=1e-9, atol=1e-12)


def test_mediator_filter() -> None:
    result = _mediate(wc.table(simulate_dag(200, 5, 1)), mediator="M3", sims=2_000)
    assert list(result.to_pandas().path) == ["T -> M1 -> M3 -> Y", "T -> M3 -> Y", "through M3"]


def _rows_with_moments(c: np.ndarray, treatment: np.ndarray) -> pd.DataFrame:
    """Rows whose cross-product matrix is exactly ``c`` given the binary treatment column."""
    n = treatment.size
    x0 = np.column_stack([np.ones(n), treatment])
    c00, c01, c11 = c[:2, :2], c[:2, 2:], c[2:, 2:]
    b = np.linalg.solve(c00, c01)
    schur = c11 - c01.T @ b
    raw = np.random.default_rng(0).normal(size=(n, c11.shape[0]))
    raw -= x0 @ np.linalg.lstsq(x0, raw, rcond=None)[0]
    q, _ = np.linalg.qr(raw)
    rest = x0 @ b + q @ np.linalg.cholesky(schur).T
    return pd.DataFrame(np.column_stack([treatment, rest]), columns=list(NAMES[1:])).assign(
        cond=treatment.astype(int))


def test_hayes_model_6_through_the_pipeline() -> None:
    c = _c()
    treatment = np.array([1] * 58 + [0] * 65)
    df = _rows_with_moments(c, treatment)
    np.testing.assert_allclose(np.column_stack([np.ones(123), df[list(NAMES[1:])]]).T
                               @ np.column_stack([np.ones(123), df[list(NAMES[1:])]]), c, rtol=1e-9)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="cond")
    effects = exp.add_metric("reaction").fit(wc.LinearModel).infer_effect()
    graph = [("cond", "import"), ("import", "pmi"), ("pmi", "reaction"), ("cond", "pmi"),
             ("import", "reaction"), ("cond", "reaction")]
    frame = effects.with_graph(graph).mediate_effect(covariance="classical", sims=1_000).to_pandas()
    frame = frame.set_index("path")
    published = {"cond -> import -> reaction": (0.203344, 0.109844),
                 "cond -> pmi -> reaction": (0.140204, 0.097882),
                 "cond -> import -> pmi -> reaction": (0.048750, 0.031454),
                 "cond -> reaction": (0.103391, 0.239099)}
    for path, (estimate, se) in published.items():
        assert frame.loc[path, "estimate"] == pytest.approx(estimate, abs=5e-7)
        assert frame.loc[path, "std_error"] == pytest.approx(se, abs=5e-7)
    assert frame.loc["total", "estimate"] == pytest.approx(0.4956896552, abs=1e-9)


@pytest.mark.parametrize(("graph", "message"), [
    ("T -> M1 -> M2 -> M1 -> Y", "has a cycle"),
    ("M1 -> T -> Y", "must be a root"),
    ("T -> M1 -> Y; T -> M9 -> Y", "Column 'M9' given as 'mediator' is not in the table"),
    ("T -> X1 -> Y", "is a covariate of the model"),
    ("T -> M1 -> Y2", "must end in one outcome that is a metric"),
    ("T -> M1 -> Y; M2 -> M3", "must end in one outcome"),
    ("T -> M1 -> Y; M2 -> Y", "are not on a path from 'T' to 'Y'"),
    ("T M1", "Cannot read the graph chain"),
])
def test_graph_validation(graph: str, message: str) -> None:
    df = simulate_dag(50, 4, 2)
    effects = wc.ExperimentData(wc.table(df), intent_to_treat="T").add_metric("Y", ["X1"]).fit(
        wc.LinearModel).infer_effect()
    with pytest.raises(wc.WarehouseCausalError, match=message):
        effects.with_graph(graph)


def _numpy_paths(df: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """The estimator on one replication from row-level numpy moments and cluster scores (the SQL
    passes compute the same sums: see test_reference_dag_estimates_and_clustered_standard_errors)."""
    labels = ("Intercept", "T", "X1", "X2", "M1", "M2", "M3", "Y")
    z = np.column_stack([np.ones(len(df)), df[list(labels[1:])].to_numpy(float)])
    nodes = (("M1", ()), ("M2", ("M1",)), ("M3", ("M1",)), ("Y", ("M1", "M2", "M3")))
    system = fit_paths(z.T @ z, labels, "T", labels[:4], nodes, float(len(df)))
    scores = np.hstack([z[:, e.regressors] * (z[:, e.dependent] - z[:, e.regressors] @ e.coef)[:, None]
                        for e in system.equations])
    _, cluster = np.unique(df.g.to_numpy(), return_inverse=True)
    per_cluster = np.zeros((cluster.max() + 1, scores.shape[1]))
    np.add.at(per_cluster, cluster, scores)
    g = per_cluster.shape[0]
    cov = stacked_covariance(system, per_cluster.T @ per_cluster, g / (g - 1))
    out = {}
    for path in enumerate_paths("T", nodes):
        grad = path_gradient(system, path)
        estimate = float(path_effects(system, path, system.theta))
        out[" -> ".join(path)] = (estimate, float(np.sqrt(grad @ cov @ grad)))
    return out


@pytest.mark.slow
def test_clustered_intervals_cover_the_true_paths() -> None:
    hits = dict.fromkeys(TRUE, 0)
    for seed in range(REPLICATIONS):
        for path, (estimate, se) in _numpy_paths(simulate_dag(300, 4, seed)).items():
            hits[path] += abs(estimate - TRUE[path]) <= 1.959964 * se
    coverage = {path: count / REPLICATIONS for path, count in hits.items()}
    print(f"CR1 delta-method 95% coverage over {REPLICATIONS} replications: {coverage}")
    for path, value in coverage.items():
        assert 0.93 <= value <= 0.97, path
