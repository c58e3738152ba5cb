"""The grouped passes (pass 1 and pass 2 by design cell): diagnostics they carry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.fit import grouped


def _mixed_frame(n: int = 3_000, clusters: int = 60, mixed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    team = rng.integers(0, clusters, n)
    arm = rng.integers(0, 2, clusters)[team]
    rows = np.flatnonzero(team < mixed)
    arm[rows[::2]] = 1 - arm[rows[::2]]  # the first `mixed` teams get rows in both arms
    df = pd.DataFrame({"team": team, "z": arm, "x": rng.normal(size=n)})
    df["y"] = 0.3 * df.z + df.x + rng.normal(size=n)
    df["d"] = df.z
    return df


@pytest.mark.parametrize("roles", [
    {"intent_to_treat": "z"},  # the assignment is a key of the cells
    {"intent_to_treat": "z", "treated": "d", "instrument": "d"},  # it is not: counted by min/max
])
def test_clusters_with_several_arms_are_counted(roles):
    df = _mixed_frame()
    expected = int((df.groupby("team").z.nunique() > 1).sum())
    assert expected == 7
    exp = wc.ExperimentData(wc.table(df), cluster_by="team", **roles)
    with pytest.warns(wc.DesignWarning, match="7 of 60 clusters of 'team' contain more than one"):
        exp.add_metric("y", ["x"]).fit(wc.LinearModel)


def test_too_many_category_levels_are_refused():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"z": rng.integers(0, 2, 500), "x": rng.normal(size=500),
                       "city": [f"c{i}" for i in rng.integers(0, 80, 500)]})
    df["y"] = df.x + rng.normal(size=500)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z")
    with pytest.raises(wc.DesignError, match="'city' has more than 50 levels"):
        exp.add_metric("y", ["x", "city"]).fit(wc.LinearModel)


def test_infinite_values_are_refused():
    con = wc.connect()
    frame = pd.DataFrame({"z": np.arange(300) % 2, "x": np.arange(300.0), "y": np.ones(300)})
    con.create_table("finite", frame)
    con.raw_sql("CREATE TABLE infinite AS SELECT z, x, CASE WHEN x < 2 THEN 'inf'::DOUBLE ELSE y END "
                "AS y FROM finite").fetchall()
    exp = wc.ExperimentData(con.table("infinite"), intent_to_treat="z")
    with pytest.raises(wc.DesignError, match=r"The metric 'y' has 2 infinite value\(s\) out of 300 rows"):
        exp.add_metric("y", ["x"]).fit(wc.LinearModel)


def test_null_in_a_categorical_covariate_is_refused():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"z": rng.integers(0, 2, 400), "x": rng.normal(size=400),
                       "device": rng.choice(["ios", "web"], 400)})
    df.loc[:4, "device"] = None
    df["y"] = df.x + rng.normal(size=400)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z")
    with pytest.raises(wc.DesignError, match=r"The covariate 'device' has 5 NULL value\(s\) out of 400"):
        exp.add_metric("y", ["x", "device"]).fit(wc.LinearModel)


@pytest.mark.parametrize("limit", ["MAX_CLUSTER_CELLS", "MAX_CLUSTER_VALUES"])
@pytest.mark.parametrize("roles", [
    {"intent_to_treat": "z"},
    {"intent_to_treat": "z", "treated": "d", "instrument": "d"},
])
def test_clustered_meat_in_sql_equals_the_meat_from_cluster_cells(roles, limit, monkeypatch):
    """Few (cluster, cell) rows: the meat is formed in numpy; many: in one nested SQL aggregate."""
    df = _mixed_frame()
    df["device"] = np.where(df.x > 0.5, "ios", "web")
    exp = wc.ExperimentData(wc.table(df), cluster_by="team", **roles)
    spec = exp.add_metric("y", ["x", "device"])
    with pytest.warns(wc.DesignWarning, match="7 of 60 clusters"):
        from_cells = spec.fit(wc.LinearModel)
    monkeypatch.setattr(grouped, limit, 0)
    with pytest.warns(wc.DesignWarning, match="7 of 60 clusters"):
        in_sql = spec.fit(wc.LinearModel)
    assert from_cells.queries[-1].rows > 1 and in_sql.queries[-1].rows == 1
    assert from_cells.n_clusters == in_sql.n_clusters == 60
    np.testing.assert_allclose(from_cells.cov, in_sql.cov, rtol=1e-10)


def test_a_remote_warehouse_returns_fewer_cluster_cells(monkeypatch):
    """From a remote engine the (cluster, cell) rows come back only up to a tenth of the in-process
    limits; beyond that the meat is formed in SQL, with the same result."""
    exp = wc.ExperimentData(wc.table(_mixed_frame()), intent_to_treat="z", cluster_by="team")
    spec = exp.add_metric("y", ["x"])
    monkeypatch.setattr(grouped, "MAX_CLUSTER_CELLS", exp.design.cluster_count_bound * 2)  # 2 cells
    with pytest.warns(wc.DesignWarning, match="7 of 60 clusters"):
        in_process = spec.fit(wc.LinearModel)
    monkeypatch.setattr(grouped, "IN_PROCESS_BACKENDS", frozenset())
    with pytest.warns(wc.DesignWarning, match="7 of 60 clusters"):
        remote = spec.fit(wc.LinearModel)
    assert in_process.queries[-1].rows > 1 and remote.queries[-1].rows == 1
    np.testing.assert_allclose(in_process.cov, remote.cov, rtol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("roles", [
    {"intent_to_treat": "z"},
    {"intent_to_treat": "z", "treated": "d"},  # encouragement: Z = the assignment, X = the take-up
])
def test_one_pass_clustered_fit_equals_the_two_pass_routes(roles, weighted, monkeypatch):
    """With many dummies, pass 1 grouped by (cluster, cell) also gives the clustered meat: estimates,
    covariance, diagnostics and cluster counts equal the two-pass routes (numpy and SQL meats)."""
    df = _mixed_frame(n=4_000)
    rng = np.random.default_rng(8)
    df["day"] = rng.integers(0, 6, len(df)).astype(str)
    df["device"] = np.where(df.x > 0.5, "ios", "web")
    df["d"] = np.where(rng.uniform(size=len(df)) < 0.8, df.z, 0)
    df["w"] = rng.uniform(0.5, 2.0, len(df))
    exp = wc.ExperimentData(wc.table(df), cluster_by="team", weights="w" if weighted else None, **roles)
    spec = exp.add_metric(["y", "x"] if "treated" not in roles else "y", ["day", "device"]
                          if "treated" not in roles else ["x", "day", "device"])

    def fit():
        with pytest.warns(wc.DesignWarning, match="7 of 60 clusters"):
            return spec.fit(wc.LinearModel)

    one = fit()
    assert [q.purpose for q in one.queries][-1] == "pass 1: cross products by cluster and design cell"
    monkeypatch.setattr(grouped, "one_pass_cluster_limit", lambda *args: None)
    two = fit()
    assert two.queries[-1].purpose == "pass 2: cluster scores by design cell" and two.queries[-1].rows > 1
    monkeypatch.setattr(grouped, "MAX_CLUSTER_CELLS", 0)
    nested = fit()
    assert nested.queries[-1].rows == 1
    for other in (two, nested):
        np.testing.assert_allclose(one.params, other.params, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(one.cov, other.cov, rtol=1e-9, atol=1e-15)
        assert (one.n_clusters, one.clusters_per_arm) == (other.n_clusters, other.clusters_per_arm)
        for a, b in zip(one.balance, other.balance, strict=True):
            assert a.p_value == pytest.approx(b.p_value, rel=1e-8, abs=1e-15)
        for a, b in zip(one.first_stage, other.first_stage, strict=True):
            assert a.f_statistic == pytest.approx(b.f_statistic, rel=1e-8)
