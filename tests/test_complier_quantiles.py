"""Complier quantile effects (``infer_quantiles(..., compliers=True)``, Abadie, Angrist & Imbens 2002
without covariates): the warehouse result equals a numpy implementation that inverts the complier
CDFs and sums row-level influence functions per cluster; that implementation's interval covers the
known complier quantile effect of a simulated encouragement design 93–97% of the time (the
cluster-robust one with clusters, where the naive one does not); the rows are labelled as complier
effects and differ from the quantile ITT of the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import warehouse_causal as wc

Z = stats.norm.ppf(0.975)


def _simulate(n: int, seed: int, clusters: int | None = None) -> pd.DataFrame:
    """60% compliers (Y0 = e, Y1 = 0.5 + 1.5 e), 10% always-takers (Y1 = 2 + e), 30% never-takers
    (Y0 = −1 + e); with clusters, a shared N(0, 0.5²) shock and assignment by cluster."""
    rng = np.random.default_rng(seed)
    if clusters:
        g = rng.integers(0, clusters, n)
        z, shock = rng.integers(0, 2, clusters)[g], rng.normal(0, 0.5, clusters)[g]
    else:
        g, z, shock = np.arange(n), rng.integers(0, 2, n), np.zeros(n)
    kind = rng.choice(3, n, p=[0.6, 0.1, 0.3])
    d = np.where(kind == 0, z, np.where(kind == 1, 1, 0))
    e = rng.normal(size=n)
    y0 = np.where(kind == 2, -1.0 + e, e) + shock
    y1 = np.where(kind == 1, 2.0 + e, 0.5 + 1.5 * e) + shock
    return pd.DataFrame({"z": z, "d": d, "y": np.where(d == 1, y1, y0), "g": g})


def _truth(q: float, clustered: bool) -> float:
    """The compliers' Y1 − Y0 quantile difference: N(0.5, 1.5² + s²) against N(0, 1 + s²)."""
    s2 = 0.25 if clustered else 0.0
    return 0.5 + (np.sqrt(2.25 + s2) - np.sqrt(1.0 + s2)) * stats.norm.ppf(q)


def _numpy(df: pd.DataFrame, q: float) -> tuple[float, float]:
    """(estimate, standard error) in plain numpy: the complier CDFs inverted from integer running
    sums; each share's influence summed per cluster; outer intervals; se² = se₁² + se₀² − 2ρ se₁ se₀."""
    y, d, z, g = (df[c].to_numpy() for c in ("y", "d", "z", "g"))
    n1, n0 = int((z == 1).sum()), int((z == 0).sum())
    scale = int(((d == 1) & (z == 1)).sum()) * n0 - int(((d == 1) & (z == 0)).sum()) * n1
    pi = scale / (n1 * n0)

    def inverse(k: int, level: float) -> float:
        rows = d == k
        weight = np.where(z[rows] == 1, n0, -n1) * (1 if k == 1 else -1)
        values, index = np.unique(y[rows], return_inverse=True)
        running = np.cumsum(np.bincount(index, weight.astype(float)))
        return float(values[np.nonzero(running >= level * scale)[0][0]])

    xi = {k: inverse(k, q) for k in (1, 0)}
    influence = {}
    for k, sign in ((1, 1.0), (0, -1.0)):
        taken = (d == k).astype(float)
        u = (y <= xi[k]) * taken - q * taken
        row = np.where(z == 1, (u - u[z == 1].mean()) / n1, -(u - u[z == 0].mean()) / n0) * sign / pi
        influence[k] = np.bincount(np.unique(g, return_inverse=True)[1], row)
    sd = {k: float(np.sqrt((influence[k] ** 2).sum())) for k in (1, 0)}
    rho = float((influence[1] * influence[0]).sum()) / (sd[1] * sd[0])
    se = {k: (inverse(k, min(q + Z * sd[k], 1.0)) - inverse(k, max(q - Z * sd[k], 0.0))) / (2 * Z)
          for k in (1, 0)}
    return xi[1] - xi[0], float(np.sqrt(se[1] ** 2 + se[0] ** 2 - 2 * rho * se[1] * se[0]))


@pytest.mark.parametrize("clusters", [None, 300])
def test_warehouse_complier_quantiles_equal_numpy(clusters: int | None) -> None:
    df = _simulate(3_000, 7, clusters)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", treated="d",
                            cluster_by="g" if clusters else None)
    result = exp.infer_quantiles([wc.Quantile("p50", "y", 0.5), wc.Quantile("p90", "y", 0.9)], compliers=True)
    for row in result.to_dicts():
        estimate, se = _numpy(df, row["q"])
        assert row["estimate"] == pytest.approx(estimate, rel=1e-12)
        assert row["std_error"] == pytest.approx(se, rel=1e-9)
        assert row["estimand"] == "complier quantile effect"
        share = df.d[df.z == 1].mean() - df.d[df.z == 0].mean()
        assert row["complier_share"] == pytest.approx(share, rel=1e-12)
    assert "complier quantile effect" in result.caption()
    assert all(r.rows == 1 for r in result.queries)  # nothing row-level comes back


@pytest.mark.slow
@pytest.mark.parametrize(("clusters", "n", "reps"), [(None, 2_000, 1_000), (200, 4_000, 600)])
def test_the_interval_covers_the_known_complier_effect(clusters: int | None, n: int, reps: int) -> None:
    """Measured: 94.8% and 94.4% (iid, q = 0.5 and 0.9), 94.0% and 94.3% (200 clusters)."""
    for q in (0.5, 0.9):
        hits = 0
        for rep in range(reps):
            estimate, se = _numpy(_simulate(n, 9_000 + rep, clusters), q)
            hits += abs(estimate - _truth(q, clusters is not None)) <= Z * se
        assert 0.93 <= hits / reps <= 0.97, (q, hits / reps)


def test_clustered_designs_need_the_cluster_robust_interval() -> None:
    """Counting rows as independent (every row its own cluster) covers about 80%."""
    reps, hits = 300, 0
    for rep in range(reps):
        df = _simulate(4_000, 9_000 + rep, 200)
        estimate, se = _numpy(df.assign(g=np.arange(len(df))), 0.5)
        hits += abs(estimate - _truth(0.5, True)) <= Z * se
    assert hits / reps < 0.88


def test_complier_rows_are_not_the_quantile_itt() -> None:
    df = _simulate(20_000, 3)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", treated="d")
    itt = exp.infer_quantiles(wc.Quantile("p90", "y", 0.9)).to_dicts()[0]
    late = exp.infer_quantiles(wc.Quantile("p90", "y", 0.9), compliers=True).to_dicts()[0]
    assert (itt["estimand"], late["estimand"]) == ("quantile ITT", "complier quantile effect")
    truth = _truth(0.9, False)
    assert abs(late["estimate"] - truth) < 3 * late["std_error"]
    assert abs(itt["estimate"] - truth) > 5 * itt["std_error"]  # diluted by never- and always-takers


def test_designs_without_complier_quantiles_are_refused() -> None:
    df = _simulate(2_000, 4)
    t = wc.table(df)
    with pytest.raises(wc.DesignError, match="needs an instrumented design"):
        wc.ExperimentData(t, intent_to_treat="z").infer_quantiles(wc.Quantile("p", "y", 0.5), compliers=True)
    df["w"] = 1.0
    with pytest.raises(wc.DesignError, match="unweighted designs only"):
        wc.ExperimentData(wc.table(df), intent_to_treat="z", treated="d", weights="w").infer_quantiles(
            wc.Quantile("p", "y", 0.5), compliers=True)
    df["arm3"] = np.where(df.z == 1, np.where(np.arange(len(df)) % 2 == 0, "a", "b"), "c")
    df["d3"] = np.where(df.d == 1, df.arm3, "c")
    with pytest.raises(wc.DesignError, match="binary treated column"):
        wc.ExperimentData(wc.table(df), intent_to_treat="arm3", treated="d3", control="c").infer_quantiles(
            wc.Quantile("p", "y", 0.5), compliers=True)
    with pytest.raises(wc.InvalidParameterError, match="'compliers' parameter"):
        wc.ExperimentData(t, intent_to_treat="z", treated="d").infer_quantiles(
            wc.Quantile("p", "y", 0.5), compliers="yes")
    rng = np.random.default_rng(5)
    weak = df.assign(d=np.where(rng.random(len(df)) < 0.03, df.z, rng.integers(0, 2, len(df))))
    with pytest.warns(wc.WeakInstrumentWarning, match="first stage is weak"):
        wc.ExperimentData(wc.table(weak), intent_to_treat="z", treated="d").infer_quantiles(
            wc.Quantile("p", "y", 0.5), compliers=True)


def test_values_near_the_float64_limit_give_the_scaled_result() -> None:
    """Hostile magnitudes take the same exact power-of-2 units as the quantile ITT rows."""
    df = _simulate(2_000, 8)
    big = np.ldexp(1.0, 1020)
    exp = wc.ExperimentData(wc.table(df.assign(huge=df.y * big)), intent_to_treat="z", treated="d")
    small = exp.infer_quantiles(wc.Quantile("p", "y", 0.75), compliers=True).to_dicts()[0]
    huge = exp.infer_quantiles(wc.Quantile("p", "huge", 0.75), compliers=True).to_dicts()[0]
    for name in ("control_quantile", "arm_quantile", "estimate", "std_error", "ci_lower", "ci_upper"):
        assert huge[name] / big == pytest.approx(small[name], rel=1e-12), name
    assert huge["p_value"] == pytest.approx(small["p_value"], rel=1e-12)
