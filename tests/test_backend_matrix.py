"""Every public feature on every engine: the same pandas frames are loaded into DuckDB, PostgreSQL
(and Spark, for the fit's features) and each feature's result on an engine equals DuckDB's to 1e-9
relative, every number of its table (estimates, standard errors, p-values, intervals, statuses).

"Any ibis backend works" is the promise; this is where it is kept. A feature that fails on an engine
because of code another module owns is marked ``xfail(strict=True)`` with the fix it needs, so the
mark fails (and must go) the day the fix lands.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.helpers import Sim, simulate
from tests.test_calibration import simulate_judged
from tests.test_mediation import GRAPH, simulate_dag
from tests.test_monitor import experiment_rows, production_rows
from tests.test_ope import POLICY, simulate_logs
from tests.test_randomization import _rows as few_cluster_rows

#: Each engine's number equals DuckDB's to this relative tolerance ...
RTOL = 1e-9
#: ... or, for an entry that is zero up to rounding, to this fraction of its column's largest value.
ATOL_OF_SCALE = 1e-12
#: Columns that say where or how fast something ran, not what it found.
NOT_RESULTS = {"seconds", "dialect", "sql"}

Load = Callable[[str], Any]
OnDuckDB = Callable[[str], dict[str, Any]]


# -- the data: small, deterministic, one frame per kind of experiment -----------------------------


def _experiment() -> pd.DataFrame:
    """Encouragement design over 30 teams, a day column, positive metrics for ratios and caps."""
    df = simulate(Sim(n=1_200, clusters=30, encouragement=True, seed=5))
    rng = np.random.default_rng(5)
    df["day"] = rng.integers(0, 14, len(df))
    df["revenue"] = np.round(rng.lognormal(1.0, 1.0, len(df)), 2)
    df["sessions"] = rng.integers(1, 6, len(df)).astype(float)
    df["treated"] = df["z"] == 1  # BOOLEAN columns: PostgreSQL casts them only to integer
    df["converted"] = df["conv"] == 1.0
    return df


FRAMES: dict[str, pd.DataFrame] = {
    "experiment": _experiment(),
    "few_clusters": few_cluster_rows(np.random.default_rng(2), 12, share=0.5),
    "monitor_experiment": experiment_rows(users=300, days=4),
    "monitor_production": production_rows(users=300, days=8),
    "logs": simulate_logs(1_000, 3),
    "dag": simulate_dag(30, 20, seed=4),
    "judged": simulate_judged(1, big_n=600, audited=100),
}


# -- the features: each takes a loader (frame → table on one engine) and returns its tables --------


def _fit(load: Load, covariance: str, **roles: Any) -> wc.LinearModel:
    exp = wc.ExperimentData(load("experiment"), intent_to_treat="z", **roles)
    return exp.add_metric(["y", "y2"], ["x1", "device"]).fit(wc.LinearModel, covariance=covariance)


def fit_hc1(load: Load) -> dict[str, Any]:
    model = _fit(load, "HC1")
    return {"coefficients": model.coefficients(), "summary": model.summary(), "cov": model.cov}


def fit_cr1(load: Load) -> dict[str, Any]:
    model = _fit(load, "CR1", treated="d", cluster_by="team")
    return {"coefficients": model.coefficients(), "summary": model.summary(), "cov": model.cov,
            "first_stage": model.first_stage, "balance": model.balance}


def segments(load: Load) -> dict[str, Any]:
    model = _fit(load, "CR1", treated="d", cluster_by="team")
    conditions = ["device = 'mobile'", "x1 > 0", "x1 > 0.5 AND device <> 'tablet'"]
    effects = model.infer_effect(condition_on=conditions)
    return {"effects": effects, "relative": model.infer_effect(condition_on=["x1 > 0"], relative=True)}


def booleans(load: Load) -> dict[str, Any]:
    """A boolean arm, a boolean metric and a SQL condition as a covariate: indicators everywhere."""
    exp = wc.ExperimentData(load("experiment"), intent_to_treat="treated")
    model = exp.add_metric(["converted", "y"], ["x1 > 0", "device"]).fit(wc.LinearModel)
    return {"coefficients": model.coefficients(), "segments": model.infer_effect(["device = 'tablet'"])}


def ratio(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("experiment"), intent_to_treat="z", cluster_by="team")
    per_session = wc.Ratio("revenue_per_session", numerator="revenue", denominator="sessions")
    model = exp.add_metric(y=["y", per_session], exogeneous_covariates=["x1", "device"]).fit(wc.LinearModel)
    return {"effects": model.infer_effect(["device = 'mobile'"], relative=True)}


def cap(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("experiment"), intent_to_treat="z")
    model = exp.add_metric("revenue", ["x1"], cap={"revenue": 0.95}).fit(wc.LinearModel)
    both = exp.add_metric("revenue", ["x1"], cap={"revenue": (0.05, 0.9)}).fit(wc.LinearModel)
    return {"capped": model.coefficients(), "both_ends": both.coefficients()}


def quantile(load: Load) -> dict[str, Any]:
    requests = [wc.Quantile("y_p50", "y", 0.5), wc.Quantile("revenue_p90", "revenue", 0.9)]
    plain = wc.ExperimentData(load("experiment"), intent_to_treat="z").infer_quantiles(requests)
    clustered = wc.ExperimentData(load("experiment"), intent_to_treat="z", cluster_by="team")
    return {"plain": plain, "clustered": clustered.infer_quantiles(requests)}


def randomization(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("few_clusters"), intent_to_treat="z", cluster_by="team")
    model = exp.add_metric("y", ["x"]).fit(wc.LinearModel, inference="randomization")
    assert model.inference == "randomization"
    return {"effects": model.infer_effect(condition_on=["x > 0"]), "summary": model.summary()}


def cumulative(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("experiment"), intent_to_treat="z")  # 30 teams: too few to refit by look
    model = exp.add_metric(["y", "y2"], ["x1"]).fit(wc.LinearModel)
    return {"looks": model.cumulative("day", looks=3)}


def plan(load: Load) -> dict[str, Any]:
    history = wc.ExperimentPlan(load("experiment"), arms={0: 0.5, 1: 0.5}, cluster_by="team", time="day",
                                compliance=0.6)
    spec = history.add_metric(y=["y", "y2"], exogeneous_covariates=["x1", "device"])
    power = spec.power(n=[20, 40, 80])
    return {"n": power, "days": spec.power(days=[3, 7, 14]),
            "sample_size": power.sample_size(mde=0.05, relative=True)}


def monitor(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("monitor_experiment"), intent_to_treat="arm", cluster_by="user")
    model = exp.add_metric("y", ["x", "region"]).fit(wc.LinearModel)
    report = wc.Monitor(model, load("monitor_production"), "day", holdout="in_holdout", served="served",
                        labelled="label", segments=["region = 'apac'"], guardrails={"y": -0.2}).check()
    return {"report": report}


def ope(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("logs"), intent_to_treat="a", propensity="p")
    return {"evaluation": exp.add_metric("r", ["x", "seg"]).fit(wc.LinearModel).evaluate_policy(POLICY)}


def mediation(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("dag"), intent_to_treat="T", cluster_by="g")
    effects = exp.add_metric("Y", ["X1", "X2"]).fit(wc.LinearModel, interacted=False).infer_effect()
    return {"paths": effects.with_graph(GRAPH).mediate_effect(sims=2_000)}


def calibration(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("judged"), intent_to_treat="arm")
    return {"effect": exp.add_metric("judge", calibrate_with="human").fit(wc.LinearModel).calibrated_effect()}


def bayesian(load: Load) -> dict[str, Any]:
    exp = wc.ExperimentData(load("experiment"), intent_to_treat="z")
    model = exp.add_metric(["y", "y2"], ["x1", "device"]).fit(wc.BayesianLinearRegression)
    return {"effects": model.infer_effect(), "rank": model.infer_effect().infer_rank()}


FEATURES: dict[str, Callable[[Load], dict[str, Any]]] = {f.__name__: f for f in (
    fit_hc1, fit_cr1, segments, booleans, ratio, cap, quantile, randomization, cumulative, plan, monitor, ope,
    mediation, calibration, bayesian)}
#: Spark starts a JVM and runs each query in seconds: the fit's features only (tests/test_spark.py
#: has the clustered IV and the compressed multi-arm routes).
SPARK_FEATURES = ("fit_hc1", "fit_cr1", "segments", "booleans", "ratio", "quantile")
#: (engine, feature) → the reason it fails today and the fix it needs, outside this test's reach.
XFAIL: dict[tuple[str, str], str] = {}


# -- comparing two results number by number --------------------------------------------------------


def _frames(value: Any, name: str) -> dict[str, pd.DataFrame]:
    """Every table of a result as DataFrames (nested dicts flattened, arrays and scalars as frames)."""
    if isinstance(value, dict):
        out: dict[str, pd.DataFrame] = {}
        for key, item in value.items():
            out.update(_frames(item, f"{name}.{key}"))
        return out
    if isinstance(value, pd.DataFrame):
        return {name: value.reset_index()}
    if hasattr(value, "to_pandas"):
        return {name: value.to_pandas().reset_index()}
    if isinstance(value, (np.ndarray, list, tuple)) or np.isscalar(value):
        return {name: pd.DataFrame(np.atleast_2d(np.asarray(value, dtype=float)))}
    raise TypeError(f"{name}: cannot compare a {type(value).__name__}")


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def assert_same(engine: dict[str, Any], duck: dict[str, Any], label: str) -> int:
    """Each table equal: the same columns and rows, text exactly, numbers to RTOL. Returns the
    number of numbers compared."""
    got, want = _frames(engine, label), _frames(duck, label)
    assert sorted(got) == sorted(want)
    compared = 0
    for name, expected in want.items():
        actual = got[name]
        assert list(actual.columns) == list(expected.columns), name
        assert actual.shape == expected.shape, name
        for column in expected.columns:
            if column in NOT_RESULTS:
                continue
            a, b = actual[column], expected[column]
            where = f"{name}[{column!r}]"
            if not (_is_number(b) and _is_number(a)):
                assert a.astype(str).tolist() == b.astype(str).tolist(), where
                continue
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), where
            infinite = np.isinf(y)
            assert np.array_equal(np.isinf(x), infinite) and np.array_equal(x[infinite], y[infinite]), where
            finite = np.isfinite(y)
            scale = float(np.max(np.abs(y[finite]), initial=0.0))
            gap = np.abs(x[finite] - y[finite])
            bound = RTOL * np.maximum(np.abs(x[finite]), np.abs(y[finite])) + ATOL_OF_SCALE * scale
            worst = int(np.argmax(gap - bound)) if gap.size else 0
            assert (gap <= bound).all(), (
                f"{where}: {x[finite][worst]!r} on the engine, {y[finite][worst]!r} on DuckDB")
            compared += int(finite.sum())
    return compared


# -- engines -----------------------------------------------------------------------------------------


def _loader(create: Callable[[str, pd.DataFrame], Any]) -> Load:
    """Frames → tables of one engine (``create(name, frame)``), each frame loaded once per module."""
    tables: dict[str, Any] = {}

    def load(name: str) -> Any:
        if name not in tables:
            tables[name] = create(f"wc_matrix_{name}_{uuid.uuid4().hex[:6]}", FRAMES[name])
        return tables[name]

    return load


def _run(feature: str, load: Load) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)  # the same warnings on every engine
        return FEATURES[feature](load)


@pytest.fixture(scope="module")
def on_duckdb() -> OnDuckDB:
    """Each feature on DuckDB, computed once and compared with every other engine."""
    con = wc.connect()
    load = _loader(lambda name, frame: con.create_table(name, frame))
    cache: dict[str, dict[str, Any]] = {}

    def run(feature: str) -> dict[str, Any]:
        if feature not in cache:
            cache[feature] = _run(feature, load)
        return cache[feature]

    return run


@pytest.fixture(scope="module")
def postgres_load(postgres_con: Any) -> Load:
    # temporary tables: gone when the session disconnects
    return _loader(lambda name, frame: postgres_con.create_table(name, frame, temp=True))


@pytest.fixture(scope="module")
def spark_load(spark_con: Any, tmp_path_factory: pytest.TempPathFactory) -> Load:
    """Spark has no temporary tables in ibis: each frame is a Parquet file read as a temporary view
    (create_table would write a managed table under ./spark-warehouse)."""
    folder = tmp_path_factory.mktemp("spark_matrix")

    def create(name: str, frame: pd.DataFrame) -> Any:
        frame.to_parquet(folder / f"{name}.parquet")
        return spark_con.read_parquet(str(folder / f"{name}.parquet"), table_name=name)

    return _loader(create)


def _cases(engine: str, features: tuple[str, ...]) -> list[Any]:
    marks = {engine: [pytest.mark.postgres] if engine == "postgres" else [pytest.mark.spark]}[engine]
    out = []
    for feature in features:
        reason = XFAIL.get((engine, feature))
        extra = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(feature, marks=[*marks, *extra], id=f"{engine}-{feature}"))
    return out


@pytest.mark.parametrize("feature", _cases("postgres", tuple(FEATURES)))
def test_postgres_equals_duckdb(feature: str, postgres_load: Load, on_duckdb: OnDuckDB) -> None:
    compared = assert_same(_run(feature, postgres_load), on_duckdb(feature), feature)
    assert compared > 0


@pytest.mark.parametrize("feature", _cases("spark", SPARK_FEATURES))
def test_spark_equals_duckdb(feature: str, spark_load: Load, on_duckdb: OnDuckDB) -> None:
    compared = assert_same(_run(feature, spark_load), on_duckdb(feature), feature)
    assert compared > 0


def test_every_feature_is_in_the_matrix() -> None:
    """Every public feature (issue 26) is in the matrix; a new feature is added here, on every engine."""
    assert set(FEATURES) == {
        "fit_hc1", "fit_cr1", "segments", "booleans", "ratio", "cap", "quantile", "randomization",
        "cumulative", "plan", "monitor", "ope", "mediation", "calibration", "bayesian"}
    assert set(SPARK_FEATURES) <= set(FEATURES)
    assert all(isinstance(reason, str) and reason for reason in XFAIL.values())


def test_the_comparison_sees_a_difference_of_1e_8() -> None:
    """The matrix is only as strict as assert_same: a relative gap of 1e-8, a moved NaN or a changed
    status fails it; rounding at 1e-12 does not."""
    frame = pd.DataFrame({"metric": ["y", "y"], "estimate": [0.25, -1.5], "p_value": [0.03, np.nan],
                          "status": ["ok", "alert"]})
    assert assert_same({"t": frame.copy()}, {"t": frame}, "same") == 5  # with the index (0, 1)
    nudged = frame.assign(estimate=frame.estimate * (1 + 1e-12))
    assert assert_same({"t": nudged}, {"t": frame}, "rounding") == 5
    for broken in (frame.assign(estimate=frame.estimate * (1 + 1e-8)), frame.assign(p_value=[np.nan, 0.5]),
                   frame.assign(status=["ok", "ok"])):
        with pytest.raises(AssertionError):
            assert_same({"t": broken}, {"t": frame}, "broken")
