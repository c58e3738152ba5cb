"""The same analysis on Spark (ibis pyspark backend, local[2]) and on DuckDB gives the same
estimates and standard errors: the SQL is engine-independent. Needs the 'spark' extra and Java."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import warehouse_causal as wc
from tests.helpers import ORACLE_RTOL, Sim, rel_diff, simulate

# spark_con (tests/conftest.py): one local[2] SparkSession per test session, shared with the
# backend matrix; it skips without pyspark or Java, which fails the run in CI.
pytestmark = [pytest.mark.spark]


def _fit(table, covariance: str, **roles: object) -> tuple[wc.LinearModel, wc.Effects]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(table, intent_to_treat="z", **roles)
        model = exp.add_metric(["y", "y2"], ["x1", "device"] if "cluster_by" in roles else ["device"]).fit(
            wc.LinearModel, covariance=covariance)
        return model, model.infer_effect(condition_on=["device = 'mobile'"])


@pytest.mark.parametrize(("name", "sim", "covariance", "roles", "strategy"), [
    ("clustered_iv", Sim(n=3_000, encouragement=True, clusters=40, seed=3), "CR1",
     {"treated": "d", "cluster_by": "team"}, "moments"),
    ("compressed_multi_arm", Sim(n=6_000, arms=3, seed=4), "HC1", {}, "compressed"),
])
def test_spark_equals_duckdb(spark_con, tmp_path: Path, name: str, sim: Sim, covariance: str,
                             roles: dict, strategy: str) -> None:
    path = tmp_path / f"{name}.parquet"
    simulate(sim).to_parquet(path)
    duck_model, duck_effects = _fit(wc.connect().read_parquet(path), covariance, **roles)
    spark_model, spark_effects = _fit(spark_con.read_parquet(str(path), table_name=name), covariance, **roles)
    assert duck_model.strategy == spark_model.strategy == strategy
    assert rel_diff(spark_model.params, duck_model.params) < ORACLE_RTOL
    assert rel_diff(np.sqrt(np.diag(spark_model.cov)), np.sqrt(np.diag(duck_model.cov))) < ORACLE_RTOL
    assert rel_diff(spark_effects.estimate, duck_effects.estimate) < ORACLE_RTOL
    assert rel_diff(spark_effects.std_error, duck_effects.std_error) < ORACLE_RTOL
    assert {q.rows for q in spark_model.queries} <= {q.rows for q in duck_model.queries} | {1}
