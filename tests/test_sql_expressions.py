"""SQL strings are translated through an allow-list into ibis, never spliced into SQL."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pytest

import warehouse_causal as wc
from warehouse_causal.warehouse.sql_expressions import MAX_SQL_CHARS, sql_to_ibis

T = ibis.table({"x1": "float64", "n": "int64", "device": "string", "flag": "boolean"}, name="t")


@pytest.mark.parametrize(("sql", "kind"), [
    ("x1 > 2 AND device = 'desktop'", ir.BooleanColumn),
    ("x1 == 3", ir.BooleanColumn),
    ("device IN ('a', 'b')", ir.BooleanColumn),
    ("x1 IS NOT NULL", ir.BooleanColumn),
    ("x1 BETWEEN 1 AND 2", ir.BooleanColumn),
    ("device LIKE 'd%'", ir.BooleanColumn),
    ("NOT flag OR -3 < x1", ir.BooleanColumn),
    ("CASE WHEN x1 > 1 THEN 1 ELSE 0 END", ir.IntegerColumn),
    ("ln(x1 + 1) * 2 - abs(x1) / 3", ir.FloatingColumn),
    ("CAST(n AS DOUBLE) / 2", ir.FloatingColumn),
    ("coalesce(x1, 0) + power(x1, 2)", ir.FloatingColumn),
])
def test_allowed(sql: str, kind: type) -> None:
    assert isinstance(sql_to_ibis(sql, T), kind)


@pytest.mark.parametrize(("sql", "error", "message"), [
    ("x1 IN (SELECT 1)", wc.ExpressionError, "IN with a subquery"),
    ("1; DROP TABLE t", wc.ExpressionError, "holds 2 statements"),
    ("DROP TABLE t", wc.ExpressionError, "The construct Drop"),
    ("(select max(x1) from b) > 1", wc.ExpressionError, "The construct Subquery"),
    ("myudf(x1) > 1", wc.ExpressionError, "The construct Anonymous"),
    ("EXISTS (SELECT 1)", wc.ExpressionError, "The construct Exists"),
    ("sum(x1) > 3", wc.ExpressionError, "The construct Sum"),
    ("sum(x1) OVER () > 1", wc.ExpressionError, "The construct Window"),
    ("read_csv('/etc/passwd') IS NULL", wc.ExpressionError, "The construct ReadCSV"),
    ("x1 = ?", wc.ExpressionError, "The construct Placeholder"),
    ("e.device = 'x'", wc.ExpressionError, "A qualified column"),
    ("device > 3", wc.ExpressionError, "is not well typed"),
    ("'abc", wc.ExpressionError, "Cannot parse"),
    ("x1 +", wc.ExpressionError, "Cannot parse"),
    ('device = "desktop"', wc.SchemaError, "string literals need single quotes"),
    ("devise = 'a'", wc.SchemaError, "Did you mean 'device'"),
    ("x1 > " + "1" * MAX_SQL_CHARS, wc.ExpressionError, "longer than"),
])
def test_refused(sql: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        sql_to_ibis(sql, T)


def test_same_sql_from_string_and_ibis() -> None:
    from_sql = sql_to_ibis("x1 > 2 AND device IN ('a', 'b')", T)
    from_ibis = (T.x1 > 2) & T.device.isin(["a", "b"])
    for dialect in ("duckdb", "bigquery", "snowflake"):
        assert ibis.to_sql(T.select(c=from_sql), dialect=dialect) == ibis.to_sql(
            T.select(c=from_ibis), dialect=dialect)
