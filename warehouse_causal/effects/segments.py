r"""Segment conditions: validation and the one aggregate that returns every segment's size and
covariate means (the ingredients of the delta vectors).

A segment effect conditions on pre-treatment covariates only: conditioning on assignment,
treatment, a metric or any column the model does not adjust for changes the estimand (or is not
identified by the model), so those are refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import sqlglot
from numpy.typing import NDArray

from warehouse_causal.core.errors import DesignError, ExpressionError, InvalidParameterError, QueryError
from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.fit.moments import (
    Cells,
    Design,
    weighted_sum,
)
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import Columns, Named, Sums
from warehouse_causal.warehouse.terms import referenced_columns, resolve_value

__all__ = ["ALL", "Segment", "cell_masks", "check_pre_treatment", "denominator_counts", "resolve_segments",
           "segment_cells", "segment_query"]

ALL = "all"


@dataclass(frozen=True)
class Segment:
    """A named row filter; ``condition`` None means the whole population.

    ``source`` is the condition as the user gave it (re-resolved against the pass-1 cells when it
    reads only categorical covariates); ``key_level`` marks a segment that is one level of a key.
    """

    label: str
    condition: ir.BooleanValue | None
    source: Any = None
    key_level: tuple[str, Any] | None = None


def _condition(spec_item: Any, model_spec: ModelSpec) -> Segment:
    table = model_spec.experiment.table
    if isinstance(spec_item, str) and spec_item.strip() in table.columns:
        raise ExpressionError(
            f"The condition {spec_item!r} is a column, not a condition; write e.g. \"{spec_item} = 'x'\"."
        )
    label, expr = resolve_value(spec_item, table, "condition")
    if not isinstance(expr, ir.BooleanColumn):
        raise ExpressionError(f"The condition {label!r} is not a boolean expression.")
    if not isinstance(spec_item, str) and _OPERATION_NAME.match(label):
        label = readable_condition(expr, table, label)
    check_pre_treatment(label, referenced_columns(expr), model_spec)
    return Segment(label, expr, source=spec_item)


_OPERATION_NAME = re.compile(r"^[A-Z][A-Za-z]*\(.*\)$", re.S)  # ibis's default name: Equals(region, 'apac')


def readable_condition(expr: ir.Value, table: ir.Table, fallback: str) -> str:
    """An ibis condition as people write it (``region = 'apac'``): its SQL without table
    qualifiers; ``fallback`` when it cannot be rendered."""
    try:
        sql = ibis.to_sql(table.select(expr.name("condition")), dialect="duckdb")
        select = sqlglot.parse_one(sql, read="duckdb").find(sqlglot.exp.Select)
        assert select is not None
        condition = select.expressions[0].unalias()
        for column in condition.find_all(sqlglot.exp.Column):
            column.set("table", None)
            column.this.set("quoted", False)
        return condition.sql(dialect="duckdb")
    except Exception:
        return fallback


def check_pre_treatment(label: str, columns: frozenset[str], spec: ModelSpec) -> None:
    """Refuse a segment definition that reads a design column, an outcome or a non-covariate."""
    design_roles = spec.experiment.design_roles()
    metric_columns = frozenset().union(*(m.columns for m in spec.metrics))
    covariate_columns = frozenset().union(*(c.columns for c in spec.covariates))
    for column in sorted(columns):
        if column in design_roles:
            raise DesignError(
                f"The condition {label!r} reads {column!r}, the {design_roles[column]!r} column of the "
                "design. Effects are contrasts between arms; conditioning on a design column changes "
                "what is compared."
            )
        if column in metric_columns:
            raise DesignError(
                f"The condition {label!r} reads {column!r}, an outcome of the model. Conditioning on a "
                "post-treatment column changes the estimand (and is not identified by randomization)."
            )
        if column not in covariate_columns:
            raise DesignError(
                f"The condition {label!r} reads {column!r}, which is not a covariate of the model. "
                f"Add it with add_metric(..., exogeneous_covariates=[..., {column!r}]) (it must be "
                "measured before treatment) so the model can estimate how effects vary with it."
            )


def resolve_segments(conditions: Any, spec: ModelSpec) -> list[Segment]:
    """The population segment ``all`` followed by each validated condition (labels unique)."""
    if conditions is None:
        items: list[Any] = []
    elif isinstance(conditions, (str, ir.Value)) or callable(conditions):
        items = [conditions]
    elif isinstance(conditions, (list, tuple)):
        items = list(conditions)
    else:
        raise InvalidParameterError(
            "The 'condition_on' parameter of infer_effect must be a condition (SQL string or ibis "
            f"boolean expression) or a list of them. Got {conditions!r} ({type(conditions).__name__}) "
            "instead.")
    segments = [Segment(ALL, None)] + [_condition(c, spec) for c in items]
    labels = [s.label for s in segments]
    if len(set(labels)) != len(labels):
        raise ExpressionError(f"Segment conditions must be distinct; got {labels[1:]}.")
    return segments


def segment_query(design: Design, segments: list[Segment], denominators: tuple[str, ...] = ()) -> Named:
    r"""One aggregate grouped by the design cells: per segment S, n_S (``rows``), :math:`\sum_S w`
    (``weight``) and :math:`\sum_S w (g - K_g)` for every numeric covariate g (``sum``, entries
    (S, g)), as sums of products with the 0/1 indicator of the condition, projected once per row
    (branch-free; ``FILTER`` clauses were 2–3× slower in DuckDB). Dummy covariates are cell keys, so
    their sums come from the cells (see :func:`segment_cells`).

    With ``denominators`` (labels of metrics that divide a ratio), also per segment the rows with a
    positive weight whose value is positive (``positive``, entries (S, label)) and non-zero
    (``nonzero``): exact counts, so a ratio's 0/0 is told from rounding noise in its fitted means."""
    t, w = design.table, design.weight
    numeric = design.numeric_covariates
    columns = Columns()
    columns.update("condition", {s: seg.condition.fill_null(False).cast("float64")
                                 for s, seg in enumerate(segments) if seg.condition is not None})
    columns.update("covariate", {label: design.columns[label].value() for label in numeric})
    if w is not None:
        columns.add("weight", None, w)
    for label in denominators:
        raw = design.columns[label].expr  # unshifted: the sign is what is counted
        assert raw is not None
        value = raw.cast("float64")
        carries = ibis.literal(True) if w is None else w > 0
        columns.add("positive", label, ((value > 0) & carries).cast("float64"))
        columns.add("nonzero", label, ((value != 0) & carries).cast("float64"))
    inner = columns.select(t, keys=design.keys)
    weight = inner["weight", None] if w is not None else None
    aggs = Columns()
    for s, segment in enumerate(segments):
        ind = inner["condition", s] if segment.condition is not None else None
        aggs.add("rows", s, inner.table.count() if ind is None else ind.sum())
        aggs.add("weight", s, weighted_sum(inner.table, [ind, weight]))
        for label in numeric:
            aggs.add("sum", (s, label), weighted_sum(inner.table, [inner["covariate", label], weight, ind]))
        for label in denominators:
            for block in ("positive", "nonzero"):
                aggs.add(block, (s, label), weighted_sum(inner.table, [inner[block, label], ind]))
    return aggs.aggregate(inner.table, by={key: inner.key(key) for key in design.keys})


def denominator_counts(found: Sums, arm_key: str, denominators: tuple[str, ...], n_segments: int
                       ) -> dict[tuple[str, str, int], tuple[int, int]]:
    """Per (denominator label, arm as text, segment index), the (positive, non-zero) row counts of
    :func:`segment_query`'s rows, summed over the cells of the arm (``arm_key`` is its cell key)."""
    arms = [str(a) for a in found.key(arm_key)]
    out: dict[tuple[str, str, int], tuple[int, int]] = {}
    for label in denominators:
        for s in range(n_segments):
            positive, nonzero = found.column("positive", (s, label)), found.column("nonzero", (s, label))
            for arm in dict.fromkeys(arms):
                mask = np.array([a == arm for a in arms])
                out[(label, arm, s)] = (round(float(positive[mask].sum())), round(float(nonzero[mask].sum())))
    return out


def segment_cells(found: Sums, design: Design, n_segments: int) -> list[Cells]:
    """Per segment, the :class:`Cells` of :func:`segment_query`'s rows (sums over its rows only)."""
    keys = found.keys()
    return [
        Cells(keys, found.column("rows", s), found.column("weight", s),
              {label: found.column("sum", (s, label)) for label in design.numeric_covariates})
        for s in range(n_segments)
    ]


def _plain_categorical_columns(spec: ModelSpec) -> set[str]:
    """Categorical covariates that are a table column as is (their cells carry the raw values)."""
    return {
        t.label for t in spec.covariates
        if t.categorical and isinstance(t.expr.op(), ops.Field) and t.expr.get_name() == t.label
    }


def cell_masks(segments: list[Segment], spec: ModelSpec, cells: Cells, runner: QueryRunner
               ) -> list[NDArray[np.bool_]] | None:
    """Which pass-1 cells each segment holds, when every segment is a condition on categorical
    covariates only (then its rows are unions of cells and no scan is needed); else None.

    Conditions are re-resolved against a small in-memory table of the cells' key values and run on
    the default (in-process) backend: one tiny query over cells, not over the fact data.
    """
    plain = _plain_categorical_columns(spec) & set(cells.keys)
    n_cells = len(cells.n)
    masks: list[NDArray[np.bool_] | None] = []
    pending: dict[int, ir.Value] = {}
    table = None
    for s, segment in enumerate(segments):
        if segment.condition is None:
            masks.append(np.ones(n_cells, dtype=bool))
            continue
        if segment.key_level is not None and segment.key_level[0] in cells.keys:
            key, level = segment.key_level
            masks.append(np.asarray(cells.keys[key]) == level)
            continue
        reads = referenced_columns(segment.condition)
        if segment.source is None or isinstance(segment.source, ir.Expr) or not reads <= plain:
            return None
        if table is None:
            table = ibis.memtable(pa.table({c: pa.array(list(cells.keys[c])) for c in sorted(plain)}))
        _, expr = resolve_value(segment.source, table, "condition")
        pending[s] = expr.fill_null(False)
        masks.append(None)
    if pending:
        assert table is not None
        conditions = Columns()
        conditions.update("condition", pending)
        found = conditions.select(table).run(runner, "segments: conditions on the pass-1 cells (no scan)")
        for s in pending:
            masks[s] = np.array([bool(v) for v in found.values("condition", s)], dtype=bool)
    return [m for m in masks if m is not None]


def failing_condition(table: ir.Table, segments: list[Segment], runner: QueryRunner,
                      error: QueryError) -> QueryError:
    """The segment condition that makes the engine refuse the segment query (a value that does not
    convert, say): each condition is counted alone, on this error path only, and the first that fails
    is named; ``error`` itself when none fails alone."""
    for segment in segments:
        if segment.condition is None:
            continue
        alone = Columns()
        alone.add("rows", None, segment.condition.ifelse(1, 0).sum())
        try:
            alone.aggregate(table).run(QueryRunner(), f"segment {segment.label!r} alone")
        except QueryError as err:
            return QueryError(
                f"The condition {str(segment.source or segment.label)!r} of infer_effect(condition_on=...) "
                f"cannot be computed on the table's values: {err}", error.purpose)
    return error
