"""Compressed (GROUP BY cells) fits equal the two-pass moments fits and statsmodels, and `auto`
picks compression only when the design is discrete and cells are few."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import warehouse_causal as wc
from tests.helpers import ORACLE_RTOL, Sim, design_matrices, rel_diff, simulate


def _discrete(seed: int = 0, clusters: int | None = None, encouragement: bool = False,
              n: int = 3_000) -> pd.DataFrame:
    df = simulate(Sim(n=n, seed=seed, clusters=clusters, encouragement=encouragement, arms=3))
    df["returning"] = (df.x2 > 0.3).astype(int)
    return df


def _fit(df: pd.DataFrame, covariance: str, strategy: str, **roles: object) -> wc.LinearModel:
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", **roles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return exp.add_metric(["y", "conv"], ["device", "returning"]).fit(
            wc.LinearModel, covariance=covariance, strategy=strategy)


@pytest.mark.parametrize("covariance", ["iid", "HC0", "HC1", "HC2", "HC3"])
def test_compressed_equals_moments_and_statsmodels(covariance: str) -> None:
    df = _discrete()
    auto = _fit(df, covariance, "auto")
    moments = _fit(df, covariance, "moments")
    assert auto.strategy == "compressed" and moments.strategy == "moments"
    assert rel_diff(auto.params, moments.params) < ORACLE_RTOL
    assert rel_diff(auto.cov, moments.cov) < ORACLE_RTOL
    x, _ = design_matrices(df, "z", "z", "control", ["device", "returning"], ["device"], True, None)
    cov_type = "nonrobust" if covariance == "iid" else covariance
    res = sm.OLS(df["y"], x).fit(cov_type=cov_type)
    assert rel_diff(auto.params[:, 0], res.params[x.columns]) < ORACLE_RTOL
    assert rel_diff(auto.std_errors[:, 0], res.bse[x.columns]) < ORACLE_RTOL


@pytest.mark.parametrize("covariance", ["CR0", "CR1"])
def test_compressed_clustered_iv_equals_moments(covariance: str) -> None:
    df = _discrete(seed=3, clusters=40, encouragement=True, n=8_000)
    auto = _fit(df, covariance, "auto", treated="d", cluster_by="team")
    moments = _fit(df, covariance, "moments", treated="d", cluster_by="team")
    assert auto.strategy == "compressed", auto.strategy_reason
    assert auto.n_clusters == moments.n_clusters == 40
    assert rel_diff(auto.params, moments.params) < ORACLE_RTOL
    assert rel_diff(auto.cov, moments.cov) < ORACLE_RTOL


def test_weighted_hc1_compresses_but_weighted_hc3_does_not() -> None:
    df = _discrete(seed=4)
    hc1 = _fit(df, "HC1", "auto", weights="w")
    assert hc1.strategy == "compressed"
    assert rel_diff(hc1.cov, _fit(df, "HC1", "moments", weights="w").cov) < ORACLE_RTOL
    hc3 = _fit(df, "HC3", "auto", weights="w")
    assert hc3.strategy == "moments" and "leverage" in hc3.strategy_reason
    with pytest.raises(wc.InvalidParameterError, match="strategy='compressed' is not possible here"):
        _fit(df, "HC3", "compressed", weights="w")


def test_continuous_covariate_uses_moments() -> None:
    df = simulate(Sim(n=1_000))
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z")
    model = exp.add_metric("y", ["x1"]).fit(wc.LinearModel)
    assert model.strategy == "moments"
    assert model.strategy_reason.startswith("covariate 'x1' is continuous")
    assert np.isfinite(model.params).all()


def _late_continuous(n: int = 20_000) -> pd.DataFrame:
    """A covariate constant over the probe's first rows and continuous after them."""
    rng = np.random.default_rng(8)
    g = np.where(np.arange(n) < 10_000, 0.0, rng.normal(size=n))
    z = rng.integers(0, 2, n)
    return pd.DataFrame({"z": z, "g": g, "y": 0.2 * z + g + rng.normal(size=n)})


def test_compression_falls_back_when_the_cells_are_too_many() -> None:
    df = _late_continuous()
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z")
    model = exp.add_metric("y", ["g"]).fit(wc.LinearModel)
    assert model.strategy == "moments"
    assert model.strategy_reason == "more than 2000 cells for 20000 rows"
    purposes = [q.purpose for q in model.queries]
    assert purposes[-3:] == ["compressed cells", "pass 1: cross products by design cell",
                             "pass 2: HC scores by design cell"]
    x = sm.add_constant(pd.DataFrame({"z": df.z, "g": df.g - df.g.mean(),
                                      "z:g": df.z * (df.g - df.g.mean())}))
    res = sm.OLS(df.y, x).fit(cov_type="HC1")
    assert rel_diff(model.params[:, 0], res.params.to_numpy()) < ORACLE_RTOL
    assert rel_diff(model.std_errors[:, 0], res.bse.to_numpy()) < ORACLE_RTOL
    forced = exp.add_metric("y", ["g"]).fit(wc.LinearModel, strategy="compressed")  # up to MAX_CELLS
    assert forced.strategy == "compressed"
    assert rel_diff(forced.cov, model.cov) < ORACLE_RTOL


def test_a_compressed_fit_reads_the_table_once_after_validation() -> None:
    model = _fit(_discrete(), "HC1", "auto")
    assert model.strategy == "compressed"
    assert [q.purpose for q in model.queries] == ["validate design", "probe (first 10,000 rows: shifts)",
                                                  "compressed cells"]


def test_compressed_fit_refuses_null_and_nan_values() -> None:
    """g has 4 values, so these fits take the one-scan compressed path (its own NULL/NaN checks)."""
    con = wc.connect()
    frame = pd.DataFrame({"z": np.arange(400) % 2, "g": (np.arange(400) // 2) % 4 * 1.0,
                          "y": np.ones(400)})
    con.create_table("discrete_raw", frame)
    con.raw_sql("CREATE TABLE discrete_bad AS SELECT z, CASE WHEN g = 3 AND z = 0 THEN NULL ELSE g END "
                "AS g, CASE WHEN g = 2 THEN 'NaN'::DOUBLE ELSE y END AS y FROM discrete_raw").fetchall()
    t = con.table("discrete_bad")
    with pytest.raises(wc.DesignError, match=r"The covariate 'g' has 50 NULL value\(s\) out of 400"):
        wc.ExperimentData(t, intent_to_treat="z").add_metric("y", ["g"]).fit(wc.LinearModel)
    with pytest.raises(wc.DesignError, match=r"The metric 'y' has 100 NaN value\(s\) out of 350"):
        wc.ExperimentData(t.filter(t.g.notnull()), intent_to_treat="z").add_metric("y", ["g"]).fit(
            wc.LinearModel)


def test_compressed_cells_group_by_raw_decimal_boolean_and_integer_covariates() -> None:
    """The cells query groups by each numeric covariate's own type (cheaper than by its double) and
    casts in numpy; the fit equals the moments fit and statsmodels."""
    df = _discrete(seed=5)
    df["price"] = np.select([df.x2 < -0.5, df.x2 < 0.5], [0.0, 1.25], 2.5)
    df["heavy"] = df.x2 > 0.6
    con = wc.connect()
    con.create_table("typed_raw", df[["z", "y", "returning", "price", "heavy"]])
    con.raw_sql("CREATE TABLE typed AS SELECT z, y, \"returning\"::TINYINT AS visits, "
                "price::DECIMAL(6, 2) AS price, heavy::BOOLEAN AS heavy FROM typed_raw").fetchall()
    exp = wc.ExperimentData(con.table("typed"), intent_to_treat="z")
    covariates = ["visits", "price", "heavy"]
    auto = exp.add_metric("y", covariates).fit(wc.LinearModel, covariance="HC1", interacted=False)
    moments = exp.add_metric("y", covariates).fit(wc.LinearModel, covariance="HC1", interacted=False,
                                                  strategy="moments")
    assert auto.strategy == "compressed" and moments.strategy == "moments"
    assert rel_diff(auto.params, moments.params) < ORACLE_RTOL
    assert rel_diff(auto.cov, moments.cov) < ORACLE_RTOL
    arms = dict(zip(auto.treatment_terms, auto.arms, strict=True))
    x = pd.DataFrame({**{term: df.z == arm for term, arm in arms.items()},
                      "visits": df.returning, "price": df.price, "heavy": df.heavy}).astype(float)
    res = sm.OLS(df.y, sm.add_constant(x)).fit(cov_type="HC1")
    rows = [auto.terms.index(term) for term in arms]
    assert rel_diff(auto.params[rows, 0], res.params[list(arms)]) < ORACLE_RTOL
    assert rel_diff(auto.std_errors[rows, 0], res.bse[list(arms)]) < ORACLE_RTOL


def test_compressed_fit_counts_clusters_with_several_arms() -> None:
    """The compressed path counts mixed clusters from the cells, as the grouped passes do."""
    rng = np.random.default_rng(5)
    team = rng.integers(0, 60, 3_000)
    arm = rng.integers(0, 2, 60)[team]
    rows = np.flatnonzero(team < 7)
    arm[rows[::2]] = 1 - arm[rows[::2]]  # the first 7 teams get rows in both arms
    df = pd.DataFrame({"team": team, "z": arm, "g": rng.integers(0, 3, 3_000)})
    df["y"] = 0.3 * df.z + df.g + rng.normal(size=3_000)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", cluster_by="team")
    with pytest.warns(wc.DesignWarning, match="7 of 60 clusters of 'team' contain more than one"):
        model = exp.add_metric("y", ["g"]).fit(wc.LinearModel)
    assert model.strategy == "compressed" and model.n_clusters == 60
