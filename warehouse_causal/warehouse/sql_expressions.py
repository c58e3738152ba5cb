"""Translate one user-written SQL scalar expression into an ibis expression, through an allow-list.

The string is parsed with sqlglot (canonical input dialect: DuckDB), checked to be exactly one
expression, and every node is translated by hand into ibis. Nothing the user wrote is ever spliced
into generated SQL: ibis renders the translated expression for each backend's dialect. Statements,
subqueries, window and aggregate functions, user functions, table-qualified columns and
placeholders are refused with the construct named.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

import ibis
import ibis.expr.types as ir
import sqlglot
import sqlglot.errors
from sqlglot import exp

from warehouse_causal.core.errors import ExpressionError, SchemaError, check_case_distinct, closest_name

__all__ = [
    "INPUT_DIALECT",
    "MAX_IN_LIST",
    "MAX_NODES",
    "MAX_SQL_CHARS",
    "sql_to_ibis",
    "sql_to_ibis_aggregate",
]

INPUT_DIALECT = "duckdb"
MAX_SQL_CHARS = 4_000
MAX_NODES = 400
#: Parentheses nested deeper than this are refused before parsing (the parser recurses per level).
MAX_DEPTH = 40
MAX_IN_LIST = 1_000

_BINARY: dict[type[exp.Expression], Callable[[ir.Value, ir.Value], ir.Value]] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
    exp.And: operator.and_,
    exp.Or: operator.or_,
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
    exp.Div: operator.truediv,
    exp.Mod: operator.mod,
}
_UNARY: dict[type[exp.Expression], Callable[[ir.Value], ir.Value]] = {
    exp.Not: operator.invert,
    exp.Neg: operator.neg,
    exp.Paren: lambda v: v,
    exp.Lower: lambda v: v.lower(),
    exp.Upper: lambda v: v.upper(),
    exp.Abs: lambda v: v.abs(),
    exp.Ln: lambda v: v.ln(),
    exp.Exp: lambda v: v.exp(),
    exp.Sqrt: lambda v: v.sqrt(),
}
_CASTS = {
    "DOUBLE": "float64",
    "FLOAT": "float64",
    "REAL": "float64",
    "DECIMAL": "float64",
    "INT": "int64",
    "BIGINT": "int64",
    "SMALLINT": "int64",
    "TINYINT": "int64",
    "BOOLEAN": "boolean",
    "VARCHAR": "string",
    "TEXT": "string",
}


def _literal(node: exp.Literal) -> ir.Value:
    if node.is_string:
        return ibis.literal(node.this)
    text = node.this
    value: int | float = int(text) if text.lstrip("-").isdigit() else float(text)
    return ibis.literal(value)


_AGGREGATES: dict[type[exp.Expression], Callable[[ir.Value, ir.BooleanValue | None], ir.Value]] = {
    exp.Sum: lambda v, where: v.sum(where=where),
    exp.Avg: lambda v, where: v.mean(where=where),
    exp.Min: lambda v, where: v.min(where=where),
    exp.Max: lambda v, where: v.max(where=where),
}


class _Translator:
    def __init__(self, table: ir.Table, source: str, aggregate: bool = False,
                 where: ir.BooleanValue | None = None):
        self.table = table
        self.source = source
        self.aggregate = aggregate  # aggregate mode: SUM/AVG/MIN/MAX/COUNT allowed, not nested
        self.where = where  # filter applied to every aggregate (a metric's time window)

    def refuse(self, what: str) -> ExpressionError:
        return ExpressionError(f"{what} is not allowed in the SQL expression {self.source!r}.")

    def __call__(self, node: Any) -> ir.Value:  # noqa: C901 - one dispatch table (sqlglot nodes)
        kind = type(node)
        if node.args.get("negate"):  # sqlglot writes "x NOT LIKE p" as Like(..., negate=True)
            positive = node.copy()
            positive.set("negate", None)
            return ~self(positive)
        if self.aggregate and (kind in _AGGREGATES or kind is exp.Count):
            return self.aggregate_call(node)
        if kind in _BINARY:
            return _BINARY[kind](self(node.left), self(node.right))
        if kind in _UNARY:
            return _UNARY[kind](self(node.this))
        if kind is exp.Column:
            return self.column(node)
        if kind is exp.Literal:
            return _literal(node)
        if kind is exp.Boolean:
            return ibis.literal(bool(node.this))
        if kind is exp.Null:
            return ibis.null()
        if kind is exp.Is:
            if not isinstance(node.expression, exp.Null):
                raise self.refuse("IS with anything but NULL")
            return self(node.this).isnull()
        if kind is exp.In:
            return self.in_list(node)
        if kind is exp.Between:
            value = self(node.this)
            return value.between(self(node.args["low"]), self(node.args["high"]))
        if kind in (exp.Like, exp.ILike):
            pattern = node.expression
            if not (isinstance(pattern, exp.Literal) and pattern.is_string):
                raise self.refuse("A LIKE pattern that is not a string literal")
            value = self(node.this)
            return value.ilike(pattern.this) if kind is exp.ILike else value.like(pattern.this)
        if kind is exp.Pow:
            return self(node.this) ** self(node.expression)
        if kind is exp.Coalesce:
            return ibis.coalesce(self(node.this), *[self(e) for e in node.expressions])
        if kind is exp.If:
            false = node.args.get("false")
            return ibis.ifelse(
                self(node.this), self(node.args["true"]), self(false) if false else ibis.null()
            )
        if kind is exp.Case:
            return self.case(node)
        if kind is exp.Cast:
            target = node.to.this.name if hasattr(node.to.this, "name") else str(node.to.this)
            if target.upper() not in _CASTS:
                raise self.refuse(f"CAST to {target}")
            return self(node.this).cast(_CASTS[target.upper()])
        raise self.refuse(f"The construct {kind.__name__} ({node.sql(INPUT_DIALECT)[:60]!r})")

    def aggregate_call(self, node: exp.Expression) -> ir.Value:
        inner = _Translator(self.table, self.source)  # row-level inside: no nested aggregates
        if type(node) is exp.Count:
            argument = node.this
            if isinstance(argument, exp.Star) or argument is None:
                return self.table.count(where=self.where)
            if isinstance(argument, exp.Distinct):
                return inner(argument.expressions[0]).nunique(where=self.where)
            return inner(argument).count(where=self.where)
        return _AGGREGATES[type(node)](inner(node.this), self.where)

    def column(self, node: exp.Column) -> ir.Value:
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise self.refuse(f"A qualified column ({node.sql()!r})")
        name = node.name
        if name not in self.table.columns:
            near = closest_name(name, self.table.columns)
            hint = f" Did you mean {near!r}?" if near else ""
            quote = " (string literals need single quotes)" if node.this.quoted else ""
            raise SchemaError(
                f"Unknown column {name!r}{quote} in the SQL expression {self.source!r}.{hint}",
                column=name,
                suggestion=near,
            )
        check_case_distinct(name, self.table.columns, f"column of the SQL expression {self.source!r}:")
        return self.table[name]

    def in_list(self, node: exp.In) -> ir.Value:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise self.refuse("IN with a subquery")
        values = node.expressions
        if len(values) > MAX_IN_LIST:
            raise self.refuse(f"An IN list of more than {MAX_IN_LIST} values")
        if not all(isinstance(v, (exp.Literal, exp.Boolean, exp.Neg)) for v in values):
            raise self.refuse("An IN list of anything but literals")
        return self(node.this).isin([self(v) for v in values])

    def case(self, node: exp.Case) -> ir.Value:
        if node.this is not None:
            raise self.refuse("CASE <operand> WHEN (write CASE WHEN <condition>)")
        builder = ibis.cases(*[(self(w.this), self(w.args["true"])) for w in node.args["ifs"]],
                             else_=self(node.args["default"]) if node.args.get("default") else None)
        return builder


def _nesting_depth(sql: str) -> int:
    """The deepest parenthesis nesting of ``sql`` outside quoted strings and identifiers."""
    depth = deepest = 0
    quote: str | None = None
    for char in sql:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _parse_one(sql: str) -> exp.Expression:
    if not isinstance(sql, str) or not sql.strip():
        raise ExpressionError("A SQL expression must be a non-empty string.")
    if len(sql) > MAX_SQL_CHARS:
        raise ExpressionError(f"The SQL expression is longer than {MAX_SQL_CHARS} characters.")
    if _nesting_depth(sql) > MAX_DEPTH:
        raise ExpressionError(
            f"The SQL expression nests parentheses more than {MAX_DEPTH} deep; simplify it.")
    try:
        trees = [t for t in sqlglot.parse(sql, read=INPUT_DIALECT) if t is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as err:
        first = str(err).splitlines()[0]
        raise ExpressionError(f"Cannot parse the SQL expression {sql!r}: {first}") from None
    except RecursionError:
        raise ExpressionError("The SQL expression is nested too deeply to parse; simplify it.") from None
    if len(trees) != 1:
        raise ExpressionError(
            f"The SQL text {sql!r} holds {len(trees)} statements; write exactly one expression."
        )
    if sum(1 for _ in trees[0].walk()) > MAX_NODES:
        raise ExpressionError(f"The SQL expression {sql!r} has more than {MAX_NODES} nodes.")
    return cast(exp.Expression, trees[0])


def _translate(sql: str, table: ir.Table, aggregate: bool, where: ir.BooleanValue | None = None) -> ir.Value:
    tree = _parse_one(sql)
    try:
        return _Translator(table, sql, aggregate, where)(tree)
    except (ExpressionError, SchemaError):
        raise
    except RecursionError:
        raise ExpressionError(f"The SQL expression {sql[:60]!r}... is nested too deeply.") from None
    except Exception as err:  # ibis type errors, e.g. comparing a string with a number
        raise ExpressionError(f"The SQL expression {sql!r} is not well typed: {err}") from None


def sql_to_ibis(sql: str, table: ir.Table) -> ir.Value:
    """Translate ``sql`` (one scalar expression over ``table``'s columns) into an ibis expression.

    Raises ExpressionError (statements, several expressions, disallowed constructs, too long) or
    SchemaError (unknown column, with the closest name suggested).
    """
    return _translate(sql, table, aggregate=False)


def sql_to_ibis_aggregate(sql: str, table: ir.Table, where: ir.BooleanValue | None = None) -> ir.Scalar:
    """Translate an aggregate such as ``SUM(amount)``, ``COUNT(*)``, ``COUNT(DISTINCT order_id)`` or
    ``SUM(amount) / COUNT(*)`` (SUM, AVG, MIN, MAX, COUNT over row-level expressions); ``where``
    filters the rows of every aggregate."""
    value = _translate(sql, table, aggregate=True, where=where)
    if not isinstance(value, ir.Scalar):
        raise ExpressionError(f"The metric value {sql!r} is not an aggregate (e.g. SUM(amount), COUNT(*)).")
    return value
