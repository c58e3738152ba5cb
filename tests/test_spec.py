"""add_metric and fit: bad metrics, covariates and options fail with specific messages."""

from __future__ import annotations

import warnings

import ibis
import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.helpers import Sim, simulate


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return simulate(Sim(n=800, seed=1))


@pytest.fixture(scope="module")
def exp(df: pd.DataFrame) -> wc.ExperimentData:
    return wc.ExperimentData(wc.table(df), intent_to_treat="z")


def test_alias_and_covariate_forms(exp: wc.ExperimentData) -> None:
    t = exp.table
    spec = exp.add_metric("y", exogenous_covariates=["x1", t.x2 * 2, "x2 > 0", ibis._.x1 * ibis._.x2])
    assert [c.label for c in spec.covariates][0::2] == ["x1", "x2 > 0"]
    model = spec.fit(wc.LinearModel)
    assert "x2 > 0" in model.terms and "z[1]:x2 > 0" in model.terms
    with pytest.raises(wc.InvalidParameterError, match="not both"):
        exp.add_metric("y", ["x1"], exogenous_covariates=["x2"])


def test_sql_and_ibis_covariates_give_the_same_fit(exp: wc.ExperimentData) -> None:
    t = exp.table
    a = exp.add_metric("y", ["ln(x2 * x2 + 1)"]).fit(wc.LinearModel)
    b = exp.add_metric("y", [((t.x2 * t.x2) + 1).ln()]).fit(wc.LinearModel)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)


def test_spec_add_metric_chains(exp: wc.ExperimentData) -> None:
    spec = exp.add_metric("y", ["x1"]).add_metric(["y2", "conv"])
    assert [m.label for m in spec.metrics] == ["y", "y2", "conv"]
    with pytest.raises(wc.InvalidParameterError, match="Metric names must be unique"):
        spec.add_metric("y")


def test_unknown_metric(exp: wc.ExperimentData) -> None:
    message = r"Column 'yy' given as metric is not in the table\. Did you mean 'y'\?"
    with pytest.raises(wc.SchemaError, match=message):
        exp.add_metric("yy")


def test_string_metric(exp: wc.ExperimentData) -> None:
    with pytest.raises(wc.DesignError, match="Metric 'device' is a string column"):
        exp.add_metric("device")


def test_no_metric(exp: wc.ExperimentData) -> None:
    with pytest.raises(wc.InvalidParameterError, match="needs at least one metric"):
        exp.add_metric([])


def test_covariate_that_is_a_design_column(exp: wc.ExperimentData) -> None:
    with pytest.raises(wc.DesignError, match="Covariate 'z' reads 'z', the 'intent_to_treat' column"):
        exp.add_metric("y", ["z"])


def test_covariate_that_is_the_metric(exp: wc.ExperimentData) -> None:
    with pytest.raises(wc.DesignError, match="Covariate 'y \\* 2' reads 'y', which is also a metric"):
        exp.add_metric("y", ["y * 2"])


@pytest.mark.parametrize(("sql", "message"), [
    ("x1 IN (SELECT 1)", "IN with a subquery is not allowed"),
    ("1; DROP TABLE t", "holds 2 statements"),
    ("(select max(x1) from t) > 1", "The construct Subquery"),
    ("myudf(x1)", "The construct Anonymous"),
    ("avg(x1) over ()", "The construct Window"),
])
def test_sql_covariate_refused(exp: wc.ExperimentData, sql: str, message: str) -> None:
    with pytest.raises(wc.ExpressionError, match=message):
        exp.add_metric("y", [sql])


def test_ibis_covariate_with_aggregate_or_other_table(exp: wc.ExperimentData) -> None:
    t = exp.table
    with pytest.raises(wc.ExpressionError, match="uses an aggregate, window function or subquery"):
        exp.add_metric("y", [t.x1 - t.x1.mean()])
    other = ibis.memtable(pd.DataFrame({"x1": [1.0]}))
    with pytest.raises(wc.ExpressionError, match="reads a table other than the experiment table"):
        exp.add_metric("y", [other.x1])


def test_metric_nulls_fail_before_the_heavy_passes(df: pd.DataFrame) -> None:
    frame = df.copy()
    frame.loc[:6, "y"] = np.nan
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="z")
    with pytest.raises(wc.DesignError, match=r"The metric 'y' has 7 NULL value\(s\) out of 800 rows"):
        exp.add_metric("y", ["x1"]).fit(wc.LinearModel)


def test_too_many_levels(df: pd.DataFrame) -> None:
    frame = df.assign(user=[f"u{i}" for i in range(len(df))])
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="z")
    with pytest.raises(wc.DesignError, match="Categorical covariate 'user' has more than 50 levels"):
        exp.add_metric("y", ["user"]).fit(wc.LinearModel)


def test_bad_covariance_option(exp: wc.ExperimentData) -> None:
    message = ("The 'covariance' parameter of LinearModel.fit must be one of 'iid', 'HC0', 'HC1', 'HC2', "
               "'HC3', 'CR0', 'CR1' or None. Got 'HC4' instead.")
    with pytest.raises(wc.InvalidParameterError, match=message.replace("(", r"\(").replace(".", r"\.")):
        exp.add_metric("y").fit(wc.LinearModel, covariance="HC4")


def test_other_bad_fit_options(exp: wc.ExperimentData) -> None:
    spec = exp.add_metric("y")
    with pytest.raises(wc.InvalidParameterError, match="needs a cluster column"):
        spec.fit(wc.LinearModel, covariance="CR1")
    with pytest.raises(wc.InvalidParameterError, match="The 'strategy' parameter"):
        spec.fit(wc.LinearModel, strategy="fast")
    with pytest.raises(wc.InvalidParameterError, match="The 'alpha' parameter"):
        spec.fit(wc.LinearModel, alpha=5)
    with pytest.raises(wc.InvalidParameterError, match=r"must be a model class such as wc\.LinearModel"):
        spec.fit("ols")


def test_collinear_covariates_are_named(df: pd.DataFrame) -> None:
    frame = df.assign(x3=df.x1 + 2 * df.x2)
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="z")
    with pytest.raises(wc.CollinearityError, match="linearly dependent") as info:
        exp.add_metric("y", ["x1", "x2", "x3"]).fit(wc.LinearModel, interacted=False)
    assert set(info.value.terms) == {"x1", "x2", "x3"}


def test_constant_covariate_is_named(df: pd.DataFrame) -> None:
    exp = wc.ExperimentData(wc.table(df.assign(c=5.0)), intent_to_treat="z")
    with pytest.raises(wc.CollinearityError, match="The regressor term 'c' has no variation") as info:
        exp.add_metric("y", ["c"]).fit(wc.LinearModel)
    assert info.value.terms == ("c",)


def test_weak_instrument_warns_with_f() -> None:
    rng = np.random.default_rng(5)
    n = 2_000
    z = rng.integers(0, 2, n)
    d = (rng.random(n) < 0.3 + 0.02 * z).astype(int)
    frame = pd.DataFrame({"z": z, "d": d, "y": d + rng.normal(size=n)})
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="z", treated="d")
    with pytest.warns(wc.WeakInstrumentWarning, match=r"first-stage F below 10 for 'd\[1\]' \(F="):
        model = exp.add_metric("y").fit(wc.LinearModel)
    assert model.first_stage[0].term == "d[1]" and model.first_stage[0].f_statistic < 10


def test_post_treatment_covariate_warns(df: pd.DataFrame) -> None:
    frame = df.assign(after=df.x2 + 0.8 * df.z)
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="z")
    with pytest.warns(wc.CovariateImbalanceWarning, match=r"'after' in 'z\[1\]' \(SMD=\+0\.6"):
        model = exp.add_metric("y", ["x1", "after"]).fit(wc.LinearModel)
    flagged = {r.covariate for r in model.balance if abs(r.standardized_difference) > 0.1}
    assert flagged == {"after"}


def test_few_clusters_warn() -> None:
    frame = simulate(Sim(n=500, clusters=8, seed=2))
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="z", cluster_by="team")
    with pytest.warns(wc.DesignWarning, match=r"Only 8 clusters of 'team' \(6 in arm 0, 2 in arm 1\)"):
        model = exp.add_metric("y").fit(wc.LinearModel)
    assert model.inference == "randomization"


def test_fit_is_repeatable(exp: wc.ExperimentData) -> None:
    spec = exp.add_metric(["y", "y2"], ["x1", "device"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        a, b = spec.fit(wc.LinearModel), spec.fit(wc.LinearModel)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.cov, b.cov)


def test_under_identified_design() -> None:
    rng = np.random.default_rng(8)
    n = 600
    z = rng.integers(0, 2, n)
    d = np.where(z == 1, rng.choice([1, 2], n), 0)  # two treatments, one binary encouragement
    frame = pd.DataFrame({"z": z, "d": d, "y": rng.normal(size=n)})
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="z", treated="d")
    message = r"Under-identified: 1 instrument arm\(s\) for 2 treated arm\(s\)"
    with pytest.raises(wc.DesignError, match=message):
        exp.add_metric("y").fit(wc.LinearModel)


def test_nan_values_are_refused_not_propagated() -> None:
    con = wc.connect()
    frame = pd.DataFrame({"z": np.arange(200) % 2, "y": np.ones(200), "x": np.arange(200.0),
                          "p": np.full(200, 0.5)})
    con.create_table("raw", frame)
    # DuckDB keeps NaN distinct from NULL (pandas NaN would arrive as NULL), so make real NaNs in SQL
    con.raw_sql("CREATE TABLE nans AS SELECT z, CASE WHEN x < 3 THEN 'NaN'::DOUBLE ELSE y END AS y, x, "
                "CASE WHEN x = 5 THEN 'NaN'::DOUBLE ELSE p END AS p FROM raw").fetchall()
    t = con.table("nans")
    with pytest.raises(wc.DesignError, match=r"The metric 'y' has 3 NaN value\(s\) out of 200 rows"):
        wc.ExperimentData(t, intent_to_treat="z").add_metric("y", ["x"]).fit(wc.LinearModel)
    with pytest.raises(wc.DesignError, match="Found 1 NULL or NaN propensities in 'p'"):
        wc.ExperimentData(t, intent_to_treat="z", propensity="p")
