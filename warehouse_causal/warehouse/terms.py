"""Turn user specs (column names, ibis expressions, SQL strings) into named, validated ibis
expressions over one table.

A spec must be a row-level expression of the experiment table: no aggregates, window functions,
subqueries or columns of another table. Strings that are column names are columns; other strings
are SQL expressions translated by :mod:`warehouse_causal.warehouse.sql_expressions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.common.deferred import Deferred

from warehouse_causal.core.errors import ExpressionError, SchemaError, check_case_distinct, closest_name
from warehouse_causal.warehouse.sql_expressions import sql_to_ibis

__all__ = ["Term", "check_columns", "rebind", "referenced_columns", "resolve_term", "resolve_value"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORBIDDEN = (ops.Reduction, ops.WindowFunction, ops.ScalarSubquery, ops.InSubquery, ops.ExistsSubquery)

Spec = Union[str, ir.Value, Deferred, Callable[[ir.Table], ir.Value]]  # noqa: UP007 - a runtime alias


@dataclass(frozen=True)
class Term:
    """A named row-level expression; ``categorical`` terms become one dummy per non-reference level."""

    label: str
    expr: ir.Value
    categorical: bool = False

    @property
    def columns(self) -> frozenset[str]:
        """Names of the table columns the expression reads."""
        return referenced_columns(self.expr)


def _within_row(node: ops.Node) -> bool:
    """Traverse a value expression without descending into the relations it reads from."""
    return not isinstance(node, ops.Relation)


def rebind(expr: ir.Value, old: ir.Table, new: ir.Table) -> ir.Value:
    """``expr`` (a row-level expression over ``old``) read from ``new`` instead: a filter of ``old``,
    or another table with the same columns."""
    return expr.op().replace({old.op(): new.op()}).to_expr()


def referenced_columns(expr: ir.Value) -> frozenset[str]:
    """The column names an expression reads (not the columns of its table's own filters)."""
    return frozenset(field.name for field in expr.op().find(ops.Field, filter=_within_row))


def check_columns(table: ir.Table, names: dict[str, str | None]) -> None:
    """Raise SchemaError naming the role and the closest column for the first unknown name."""
    for role, name in names.items():
        if name is None:
            continue
        if not isinstance(name, str):
            raise SchemaError(f"The {role!r} role takes a column name; got {type(name).__name__}.")
        if name not in table.columns:
            near = closest_name(name, table.columns)
            hint = f" Did you mean {near!r}?" if near else ""
            raise SchemaError(
                f"Column {name!r} given as {role!r} is not in the table.{hint} "
                f"Available columns: {', '.join(table.columns)}.",
                column=name,
                suggestion=near,
            )
        check_case_distinct(name, table.columns, f"{role!r} column")


def _from_ibis(value: Any, table: ir.Table, role: str) -> ir.Value:
    if isinstance(value, Deferred):
        value = value.resolve(table)
    elif callable(value) and not isinstance(value, ir.Expr):
        value = value(table)
    if not isinstance(value, ir.Value):
        raise ExpressionError(f"The {role} {value!r} is not an ibis expression or SQL string.")
    node = value.op()
    if node.find(_FORBIDDEN, filter=_within_row):
        raise ExpressionError(
            f"The {role} {value.get_name()!r} uses an aggregate, window function or subquery; "
            "it must be a row-level expression of the experiment table."
        )
    foreign = {f.rel for f in node.find(ops.Field, filter=_within_row)} - {table.op()}
    if foreign:
        raise ExpressionError(
            f"The {role} {value.get_name()!r} reads a table other than the experiment table; "
            "build it from the experiment table (or join first and pass the joined table)."
        )
    if not isinstance(value, ir.Column):
        raise ExpressionError(f"The {role} {value.get_name()!r} is a scalar, not a row-level column.")
    return value


def resolve_value(spec: Spec, table: ir.Table, role: str) -> tuple[str, ir.Value]:
    """Resolve a spec into (label, validated row-level ibis expression), types untouched."""
    if isinstance(spec, str):
        text = spec.strip()
        if text in table.columns:
            expr, label = table[text], text
        elif _IDENTIFIER.match(text):
            near = closest_name(text, table.columns)
            hint = f" Did you mean {near!r}?" if near else ""
            raise SchemaError(
                f"Column {text!r} given as {role} is not in the table.{hint}",
                column=text,
                suggestion=near,
            )
        else:
            expr, label = sql_to_ibis(text, table), text
            if not isinstance(expr, ir.Column):
                raise ExpressionError(f"The {role} {text!r} does not read any column of the table.")
    else:
        expr = _from_ibis(spec, table, role)
        label = expr.get_name()
    for column in sorted(referenced_columns(expr)):
        check_case_distinct(column, table.columns, f"column of the {role} {label!r}:")
    return label, expr


def resolve_term(spec: Spec, table: ir.Table, role: str) -> Term:
    """Resolve one covariate/metric spec into a Term: strings become categorical, booleans 0/1."""
    label, expr = resolve_value(spec, table, role)
    dtype = expr.type()
    if dtype.is_string():
        return Term(label, expr, categorical=True)
    if dtype.is_boolean():
        return Term(label, expr.cast("float64"))
    if not dtype.is_numeric():
        raise SchemaError(
            f"The {role} {label!r} has type {dtype}; it must be numeric, boolean or a string "
            "category.",
            column=label,
        )
    return Term(label, expr)
