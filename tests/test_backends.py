"""The pinned stack (ibis 12.0 + duckdb 1.5 + sqlglot < 30.18) supports every call we make and the
ibis calls users make on ``wc.connect()``, and queries compile for the main warehouse dialects."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlglot

import warehouse_causal as wc
from tests.helpers import Sim, simulate
from warehouse_causal.warehouse.backends import QueryRunner


def test_pinned_versions() -> None:
    assert ibis.__version__.startswith("12.0")
    assert duckdb.__version__.startswith("1.5")  # 2.0 breaks ibis 12's DuckDB backend (pyproject.toml)
    major, minor = (int(p) for p in sqlglot.__version__.split(".")[:2])
    assert (major, minor) < (30, 18)


def test_ibis_calls_on_the_connection_wc_connect_returns(tmp_path: Path) -> None:
    """``wc.connect()`` is a whole ibis DuckDB backend: the calls users make on it work, one after
    another on the same connection (on duckdb 2.0 list_tables and sql raised, then the connection
    refused every later statement)."""
    con = wc.connect()
    frame = pd.DataFrame({"z": [0, 1, 0, 1], "y": [1.0, 2.0, 3.0, 4.0]})
    con.create_table("from_pandas", frame)
    con.create_table("from_arrow", pa.Table.from_pandas(frame))
    con.create_table("from_expr", con.table("from_pandas").filter(ibis._.z == 1))
    assert {"from_pandas", "from_arrow", "from_expr"} <= set(con.list_tables())
    assert con.list_tables(like="from_e") == ["from_expr"]
    assert con.sql("SELECT SUM(y) AS s FROM from_pandas").to_pyarrow()["s"].to_pylist() == [10.0]
    assert con.raw_sql("SELECT COUNT(*) FROM from_arrow").fetchall() == [(4,)]
    frame.to_parquet(tmp_path / "e.parquet")
    parquet = con.read_parquet(tmp_path / "e.parquet", table_name="from_parquet")
    assert parquet.y.sum().execute() == 10.0 and "from_parquet" in con.list_tables()
    batches = con.to_pyarrow_batches(con.table("from_pandas").order_by("y"), chunk_size=3)
    assert [b.num_rows for b in batches] == [3, 1]
    assert con.table("from_expr").count().execute() == 2  # the connection is still usable
    exp = wc.ExperimentData(con.sql("SELECT * FROM from_pandas"), intent_to_treat="z")
    assert exp.design.nobs == 4


def test_connect_default_file_and_backend(tmp_path: Path) -> None:
    con = wc.connect()
    assert con.name == "duckdb"
    assert wc.connect(con) is con
    on_disk = wc.connect(tmp_path / "x.duckdb")
    t = wc.table(pd.DataFrame({"a": [1, 2]}), con=on_disk)
    assert t.a.sum().to_pyarrow().as_py() == 3
    with pytest.raises(wc.InvalidParameterError, match="'target' parameter of connect"):
        wc.connect(42)


def test_table_from_pandas_pyarrow_and_parquet(tmp_path: Path) -> None:
    df = pd.DataFrame({"z": [0, 1, 0, 1], "y": [1.0, 2.0, 3.0, 4.0]})
    con = wc.connect()
    for data in (df, pa.Table.from_pandas(df)):
        assert wc.table(data).count().to_pyarrow().as_py() == 4
        assert wc.table(data, con=con).count().to_pyarrow().as_py() == 4
    df.to_parquet(tmp_path / "e.parquet")
    t = con.read_parquet(tmp_path / "e.parquet")
    exp = wc.ExperimentData(t, intent_to_treat="z")
    assert exp.design.nobs == 4


def test_fit_on_a_named_table_in_a_file_database(tmp_path: Path) -> None:
    con = wc.connect(tmp_path / "exp.duckdb")
    df = simulate(Sim(n=500))
    con.create_table("experiment", df)
    exp = wc.ExperimentData(con.table("experiment"), intent_to_treat="z")
    model = exp.add_metric("y", ["x1"]).fit(wc.LinearModel)
    assert np.isfinite(model.params).all()
    assert con.table("experiment").count().to_pyarrow().as_py() == 500  # user data untouched


def test_runner_records_sql_rows_and_time() -> None:
    t = wc.table(pd.DataFrame({"a": [1.0, 2.0]}))
    runner = QueryRunner()
    rows = runner.run(t.aggregate(s=t.a.sum()), "sum")
    assert rows == [{"s": 3.0}]
    record = runner.records[0]
    assert record.purpose == "sum" and record.rows == 1 and "SUM" in record.sql and record.seconds >= 0


@pytest.mark.parametrize("dialect", ["duckdb", "bigquery", "snowflake", "databricks", "pyspark"])
def test_model_sql_compiles_and_parses_per_dialect(dialect: str) -> None:
    df = simulate(Sim(n=400, clusters=20, encouragement=True))
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", treated="d", cluster_by="team")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        model = exp.add_metric(["y", "y2"], ["x1", "device"]).fit(wc.LinearModel)
    text = model.sql(dialect)
    # clustered with a categorical covariate: pass 1 grouped by (cluster, cell) gives the meat too
    assert "-- pass1" in text and "GROUP BY" in text and set(model.query_exprs) == {"pass1"}
    if dialect == "pyspark":
        assert model.sql("spark") == text  # the everyday name works too
    read = {"pyspark": "spark"}.get(dialect, dialect)
    for statement in text.split(";\n"):
        body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
        if body:
            sqlglot.parse_one(body.rstrip(";"), read=read)


def test_unsupported_operation_names_the_backend_and_query(monkeypatch: pytest.MonkeyPatch) -> None:
    import ibis.common.exceptions as ibis_errors

    t = wc.table(pd.DataFrame({"a": [1.0]}))
    expr = t.aggregate(s=t.a.sum())
    backend = expr._find_backend(use_default=True)

    def refuse(_: object) -> None:
        raise ibis_errors.OperationNotDefinedError("Sum is not defined")

    monkeypatch.setattr(backend, "to_pyarrow", refuse)
    with pytest.raises(wc.UnsupportedBackendError, match="'duckdb' backend cannot run the 'pass 1' query"):
        QueryRunner().run(expr, "pass 1")


@pytest.fixture()
def slow_query(monkeypatch: pytest.MonkeyPatch) -> object:
    """A one-row aggregate whose backend takes 0.35 s, with SLOW_QUERY_SECONDS at 0.1 s."""
    import time

    from warehouse_causal.warehouse import backends

    t = wc.table(pd.DataFrame({"a": [1.0]}))
    expr = t.aggregate(s=t.a.sum())
    backend = expr._find_backend(use_default=True)
    real = backend.to_pyarrow

    def slow(e: object) -> object:
        time.sleep(0.35)
        return real(e)

    monkeypatch.setattr(backends, "SLOW_QUERY_SECONDS", 0.1)
    monkeypatch.setattr(backend, "to_pyarrow", slow)
    return expr


def test_slow_queries_report_progress(slow_query: object, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    expr = slow_query
    with caplog.at_level(logging.INFO, logger="warehouse_causal"):
        QueryRunner().run(expr, "pass 1")
    messages = [r.getMessage() for r in caplog.records]
    assert any("pass 1: running on duckdb for more than 0 s" in m for m in messages)
    assert any(m.startswith("pass 1: 1 row(s) in") for m in messages)


@pytest.mark.parametrize("setting", [True, False, None])
def test_progress_line_for_slow_queries(slow_query: object, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], setting: bool | None) -> None:
    """A counting line on stderr while a slow query runs: on with set_progress(True), off with
    False, and off by default when stderr is not a terminal (pytest, CI, scripts)."""
    expr = slow_query
    monkeypatch.delenv("WAREHOUSE_CAUSAL_PROGRESS", raising=False)
    wc.set_progress(setting)
    try:
        QueryRunner().run(expr, "pass 1")
    finally:
        wc.set_progress(None)
    err = capsys.readouterr().err
    assert ("pass 1: done in" in err and "pass 1: 0 s ..." in err) is (setting is True)
    with pytest.raises(wc.InvalidParameterError, match="'enabled' parameter of set_progress"):
        wc.set_progress("yes")  # type: ignore[arg-type]


def test_boolean_to_number_casts_are_portable_and_keep_nulls() -> None:
    """PostgreSQL refuses CAST(boolean AS BIGINT | DOUBLE PRECISION): every engine but DuckDB gets
    CASE b WHEN TRUE THEN 1 WHEN FALSE THEN 0 END, whose values (NULL included) are the cast's."""
    from warehouse_causal.warehouse.backends import portable, to_sql

    t = wc.table(pd.DataFrame({"a": [1.0, -1.0, None, 2.0], "g": ["x", "y", "x", None]}))
    expr = t.select(d=(t.g == "x").cast("float64"), c=(t.a > 0).cast("int64"), n=t.a.isnull().cast("int8"),
                    k=t.a.cast("int64"), b=t.a > 0)
    assert portable(expr, "duckdb") is expr
    rewritten = portable(expr, "postgres")
    assert rewritten.schema() == expr.schema()
    assert rewritten.to_pyarrow().equals(expr.to_pyarrow())  # same values, NULLs where the casts give them
    assert expr.to_pyarrow()["d"].to_pylist() == [1.0, 0.0, 1.0, None]
    for dialect in ("postgres", "bigquery", "snowflake", "pyspark"):
        text = " ".join(to_sql(expr, dialect).split())
        assert text.count("WHEN TRUE THEN 1 WHEN FALSE THEN 0") == 3, (dialect, text)
        sqlglot.parse_one(text, read={"pyspark": "spark"}.get(dialect, dialect))
    assert "WHEN TRUE" not in to_sql(expr, "duckdb")
    assert portable(rewritten, "postgres").equals(rewritten)  # nothing left to rewrite


def test_a_plan_over_a_history_with_nan_is_refused_with_the_package_error() -> None:
    con = wc.connect()
    con.create_table("raw", pd.DataFrame({"y": np.r_[np.ones(50), np.arange(150.0)], "x": np.arange(200.0)}))
    con.raw_sql("CREATE TABLE h AS SELECT CASE WHEN x < 3 THEN 'NaN'::DOUBLE ELSE y END AS y, x FROM raw"
                ).fetchall()
    with pytest.raises(wc.DesignError, match="NaN or infinite"):
        wc.ExperimentPlan(con.table("h")).add_metric("y", ["x"]).power(n=[100])
