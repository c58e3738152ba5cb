"""The SQL translator means what the SQL means: every allowed construct is run twice on one small
table, as raw SQL by DuckDB and as the translated ibis expression, and the values must agree.

The data holds the edges that tell near-misses apart: ties (>= vs >), values on a BETWEEN bound,
negative operands of MOD (remainder vs floor division), mixed-case strings (ILIKE vs LIKE) and NULLs.
A meta-test plants each of those mutants in the translator and checks that this test catches it.
"""

from __future__ import annotations

import math
import operator

import ibis.expr.types as ir
import pandas as pd
import pytest
import sqlglot.expressions as exp

import warehouse_causal as wc
from warehouse_causal.warehouse import sql_expressions
from warehouse_causal.warehouse.sql_expressions import sql_to_ibis

EXPRESSIONS = [
    "a = b", "a <> b", "a != b", "a > b", "a >= b", "a < b", "a <= b",
    "a > 0 AND b > 0", "a > 0 OR b < 0", "NOT a > 0", "NOT (a > 0 OR b > 0)",
    "a + b", "a - b", "a * b", "a / b", "x / 4", "a % b", "-a % 3", "a % 3", "-a", "(a + b) * 2 - 1",
    "LOWER(s)", "UPPER(s)", "ABS(a)", "LN(ABS(a) + 1)", "EXP(x / 10)", "SQRT(ABS(x))",
    "c IS NULL", "c IS NOT NULL", "a IN (1, 2, -3)", "a NOT IN (0, 2)", "s IN ('Apple', 'b')",
    "a BETWEEN -1 AND 2", "x BETWEEN 0.5 AND 2.5", "a NOT BETWEEN 0 AND 2",
    "s LIKE 'A%'", "s ILIKE 'a%'", "s LIKE '%p_e'", "s NOT LIKE 'b%'", "s ILIKE '%E'",
    "s NOT ILIKE 'a%'",
    "POWER(a, 2)", "POWER(x, 0.5)", "COALESCE(c, a)", "COALESCE(c, x, 0)",
    "IF(a > 0, 1, 0)", "IF(c > 0, c, NULL)",
    "CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END",
    "CASE WHEN a >= 2 THEN x END",
    "CAST(a AS DOUBLE)", "CAST(a > 0 AS INT)", "CAST(x AS INT)", "CAST(a AS VARCHAR)", "CAST(b AS DECIMAL)",
    "CAST(x AS BIGINT) + 1", "(a > 0) = TRUE", "1.5 * x + 2", "'Apple' = s", "c + 1 > 2",
]


@pytest.fixture(scope="module")
def data() -> tuple[object, ir.Table]:
    con = wc.connect()
    frame = pd.DataFrame({
        "id": range(10),
        "a": [-3, -1, 0, 1, 2, 2, 3, -2, 5, 0],
        "b": [2, -1, 1, 1, 2, 3, -2, 3, 4, 7],
        "x": [0.5, 2.5, -1.25, 1.5, 3.0, 2.5, 0.0, 0.75, 10.0, 2.5000001],
        "c": [1.0, None, 3.0, None, -2.0, 0.0, 5.0, None, 2.0, 1.0],
        "s": ["Apple", "apple", "APPLE", "b", "pipe", "Pipe", "grape", "bE", "e", "ApPlE"],
    })
    table = wc.table(frame, "semantics", con)
    return con, table


def _normal(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 9)
    return value


def _raw(con: object, sql: str) -> list[object]:
    rows = con.raw_sql(f"SELECT {sql} AS v FROM semantics ORDER BY id").fetchall()  # type: ignore[attr-defined]
    return [_normal(r[0]) for r in rows]


def _translated(table: ir.Table, sql: str) -> list[object]:
    expr = sql_to_ibis(sql, table)
    frame = table.select("id", v=expr).order_by("id").to_pandas()
    return [_normal(v) for v in frame.v.astype(object)]


def _mismatches(data: tuple[object, ir.Table]) -> list[str]:
    con, table = data
    out = []
    for sql in EXPRESSIONS:
        raw, translated = _raw(con, sql), _translated(table, sql)
        if raw != translated:
            out.append(f"{sql}: raw {raw} != translated {translated}")
    return out


def test_every_allowed_construct_means_what_the_sql_means(data: tuple[object, ir.Table]) -> None:
    assert _mismatches(data) == []


def _between_without_upper(translator: object, node: exp.Between) -> object:
    value = translator(node.this)  # type: ignore[operator]
    return (value >= translator(node.args["low"])) & (value < translator(node.args["high"]))  # type: ignore[operator]


MUTANTS = {
    ">= as >": ("_BINARY", exp.GTE, operator.gt),
    "<= as <": ("_BINARY", exp.LTE, operator.lt),
    "MOD as floor division": ("_BINARY", exp.Mod, operator.floordiv),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_the_semantic_test_kills_operator_mutants(data: tuple[object, ir.Table], mutant: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    table_name, node, wrong = MUTANTS[mutant]
    monkeypatch.setitem(getattr(sql_expressions, table_name), node, wrong)
    assert _mismatches(data), f"mutant {mutant!r} survived"


def test_the_semantic_test_kills_between_and_ilike_mutants(data: tuple[object, ir.Table],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    original = sql_expressions._Translator.__call__

    def between_mutant(self: object, node: exp.Expression) -> object:
        if type(node) is exp.Between:
            return _between_without_upper(self, node)  # type: ignore[arg-type]
        return original(self, node)  # type: ignore[arg-type]

    monkeypatch.setattr(sql_expressions._Translator, "__call__", between_mutant)
    assert any("BETWEEN" in m for m in _mismatches(data))
    monkeypatch.undo()

    def ilike_mutant(self: object, node: exp.Expression) -> object:
        if type(node) is exp.ILike:
            return self(node.this).like(node.expression.this)  # type: ignore[operator]
        return original(self, node)  # type: ignore[arg-type]

    monkeypatch.setattr(sql_expressions._Translator, "__call__", ilike_mutant)
    assert any("ILIKE" in m for m in _mismatches(data))
