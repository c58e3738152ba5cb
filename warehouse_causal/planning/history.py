"""Reading the history for a plan: a bounded probe of its first rows for the shifts, then one query
for the row-level cross products of [1, covariates, metrics] and the cross products of their
per-unit sums (grouped by the planned randomization unit in the warehouse), with the trigger's
counts; reduced to the planning inputs (:class:`History`). Nothing row-level comes back."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.power import UnitVariance, unit_variances
from warehouse_causal.core.errors import DesignError
from warehouse_causal.fit.moments import category_levels, missing_values_error, weighted_sum
from warehouse_causal.planning.planned import PlannedDesign
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import CLUSTER, Columns, Named, Sums
from warehouse_causal.warehouse.shifts import PROBE_ROWS, provisional_centre, shifted
from warehouse_causal.warehouse.terms import Term

__all__ = ["History", "read_history"]


@dataclass(frozen=True)
class History:
    """What the history query returned, reduced to the planning inputs."""

    variance: UnitVariance
    means: NDArray[np.float64]  # metric means (row level, unshifted; triggered rows with a trigger)
    rows: int
    units: int  # randomization units (clusters when clustered) in the history; triggered ones with a trigger
    kish: float
    regressors: int  # 1 + covariate columns (categories expanded)
    trigger_share: float = 1.0  # triggered units / all units
    overall_means: NDArray[np.float64] | None = None  # metric means over every row (with a trigger)


def _covariate_columns(plan: PlannedDesign, covariates: Sequence[Term], runner: QueryRunner) -> list[Term]:
    """The covariates as numeric columns: a category becomes one 0/1 dummy per level but the first
    (its levels from one small GROUP BY, as the fit's)."""
    out: list[Term] = []
    for term in covariates:
        if not term.categorical:
            out.append(term)
            continue
        levels = category_levels(term, plan.history, runner)
        if len(levels) < 2:
            raise DesignError(f"ExperimentPlan: the categorical covariate {term.label!r} has one level "
                              "in the history; drop it.")
        if any(level is None for level in levels):
            raise DesignError(f"ExperimentPlan: the categorical covariate {term.label!r} has NULL values; "
                              "fill them (e.g. COALESCE(column, 'unknown')).")
        out += [Term(f"{term.label}[{level}]", (term.expr == level).cast("float64")) for level in levels[1:]]
    return out


def _history_query(plan: PlannedDesign, metrics: Sequence[Term], covariates: Sequence[Term],
                   shifts: Sequence[float]) -> tuple[Named, int]:
    """One aggregate: Σ t·v_i v_j over rows for v = [1, covariates, metrics] (``product``) with t the
    0/1 trigger (1 without one), NULL counts, the propensity checks and Σw, Σw²; grouped by the
    planned unit when clustered, then summed with the products of the per-unit sums
    (``unitproduct``) and the unit counts. With a trigger, also every row's count and metric sums
    (``allrows``, ``allsum``). Returns (query, size of v)."""
    t = plan.history
    terms = [*covariates, *metrics]
    columns = Columns()
    columns.update("value", {j: shifted(term.expr, shifts[j - 1]) for j, term in enumerate(terms, start=1)})
    if isinstance(plan.propensity, str):
        columns.add("propensity", None, t[plan.propensity].cast("float64"))
    if plan.trigger is not None:
        columns.add("trigger", None, plan.trigger.fill_null(False).cast("float64"))
    keys = {CLUSTER: t[plan.cluster_by]} if plan.cluster_by else {}
    rows = columns.select(t, keys=keys)
    size = 1 + len(terms)
    trigger = rows["trigger", None] if plan.trigger is not None else None
    v: list[ir.Value | None] = [None, *(rows["value", j] for j in range(1, size))]
    pairs = list(itertools.combinations_with_replacement(range(size), 2))
    inner = Columns()
    inner.update("product", {(i, j): weighted_sum(rows.table, [trigger, v[i], v[j]]) for i, j in pairs})
    inner.update("nulls", {j: rows.table.count() - rows["value", j].count() for j in range(1, size)})
    if isinstance(plan.propensity, str):
        p = rows["propensity", None]
        inner.add("badpropensity", None, ((p <= 0) | (p > 1) | p.isnull()).cast("int64").sum())
        inner.add("weight", None, weighted_sum(rows.table, [trigger, 1.0 / p]))
        inner.add("weightsquared", None, weighted_sum(rows.table, [trigger, 1.0 / (p * p)]))
    if trigger is not None:
        inner.add("allrows", None, rows.table.count())
        inner.update("allsum", {j: v[j].sum() for j in range(1 + len(covariates), size)})  # type: ignore[union-attr]
    if not keys:
        return inner.aggregate(rows.table), size
    per_unit = inner.aggregate(rows.table, by={CLUSTER: rows.key(CLUSTER)})
    outer = Columns()
    for block in ("product", "nulls", "allsum"):
        outer.update(block, {key: per_unit[block, key].sum() for key in per_unit.entries(block)})
    for name in ("badpropensity", "weight", "weightsquared", "allrows"):
        if (name, None) in per_unit:
            outer.add(name, None, per_unit[name, None].sum())
    # a unit's (triggered) sum of v_j is its (0, j) product; their products summed over units
    outer.update("unitproduct", {(i, j): (per_unit["product", (0, i)] * per_unit["product", (0, j)]).sum()
                                 for i, j in pairs})
    outer.add("units", None, per_unit.table.count())
    if trigger is not None:
        outer.add("triggeredunits", None, (per_unit["product", (0, 0)] > 0).cast("int64").sum())
    return outer.aggregate(per_unit.table), size


def _symmetric(found: Sums, block: str, size: int) -> NDArray[np.float64]:
    matrix = np.empty((size, size))
    for i, j in itertools.combinations_with_replacement(range(size), 2):
        matrix[i, j] = matrix[j, i] = found.total(block, (i, j))
    return matrix


def read_history(plan: PlannedDesign, metrics: Sequence[Term], covariate_terms: Sequence[Term],
                 runner: QueryRunner) -> History:
    """The probe (bounded) for the shifts, then one query for every cross product (module notes)."""
    covariates = _covariate_columns(plan, covariate_terms, runner)
    shifts = _shifts([*covariates, *metrics], plan.history, runner)
    query, size = _history_query(plan, metrics, covariates, shifts)
    what = "by unit" if plan.cluster_by else "over rows"
    found = query.run(runner, f"planning: history cross products {what}")
    matrix = _symmetric(found, "product", size)
    n = round(float(matrix[0, 0]))
    if n == 0:
        raise DesignError("ExperimentPlan: the history is empty" + (" of triggered rows." if plan.trigger
                                                                     is not None else "."))
    _check_values(found, plan, metrics, covariates, n, matrix)
    if plan.cluster_by:
        unit_matrix = _symmetric(found, "unitproduct", size)
        all_units = int(found.total("units"))
        units = int(found.total("triggeredunits")) if plan.trigger is not None else all_units
    else:
        unit_matrix, units = matrix, n
        all_units = int(found.total("allrows")) if plan.trigger is not None else n
    p = 1 + len(covariates)
    if units <= p + 1:
        unit = "clusters" if plan.cluster_by else "rows"
        raise DesignError(f"ExperimentPlan: the history has {units} {unit}; planning needs more than "
                          f"{p + 1} to estimate the variance (covariates and intercept: {p}).")
    kish = 1.0
    if isinstance(plan.propensity, str):
        kish = n * found.total("weightsquared") / found.total("weight") ** 2
    q, y = slice(0, p), slice(p, size)
    try:
        variance = unit_variances(matrix[q, q], matrix[q, y], matrix[y, y], unit_matrix[q, q],
                                  unit_matrix[q, y], unit_matrix[y, y], float(n), float(units))
    except np.linalg.LinAlgError as err:
        raise DesignError("ExperimentPlan: the covariates are collinear (or one is constant) in the "
                          "history; drop one.") from err
    constant = [t.label for t, var in zip(metrics, variance.raw, strict=True) if not var > 0]
    if constant:
        raise DesignError(f"ExperimentPlan: the metric(s) {constant} are constant in the history; "
                          "their variance, and so any MDE, is 0.")
    metric_shifts = np.array(shifts[len(covariates):])
    means = matrix[0, y] / n + metric_shifts
    overall = None
    if plan.trigger is not None:
        every = int(found.total("allrows"))
        overall = np.array([found.total("allsum", j) for j in range(p, size)]) / every + metric_shifts
    return History(variance, means, n, units, float(kish), p, units / all_units, overall)


def _check_values(found: Sums, plan: PlannedDesign, metrics: Sequence[Term], covariates: Sequence[Term],
                  n: int, matrix: NDArray[np.float64]) -> None:
    """NULL metrics or covariates, NaN/inf values and bad propensities are errors."""
    for j, term in enumerate([*covariates, *metrics], start=1):
        nulls = int(found.total("nulls", j))
        if nulls:
            raise missing_values_error("covariate" if j <= len(covariates) else "metric", term.label,
                                       nulls, n)
    if not np.isfinite(matrix).all():
        raise DesignError("ExperimentPlan: a metric or covariate of the history has NaN or infinite values.")
    if ("badpropensity", None) in found and found.total("badpropensity"):
        raise DesignError(f"ExperimentPlan: {int(found.total('badpropensity'))} propensities of "
                          f"{plan.propensity!r} are NULL or outside (0, 1].")


def _shifts(terms: Sequence[Term], table: ir.Table, runner: QueryRunner) -> list[float]:
    """Provisional centres of ``terms`` (in order) from the first PROBE_ROWS rows, as the fit's
    probe, so that the sums of squares do not cancel."""
    columns = Columns()
    columns.update("value", {j: t.expr.cast("float64") for j, t in enumerate(terms)})
    sample = columns.select(table).limit(PROBE_ROWS)
    aggs = Columns()
    aggs.update("mean", {j: sample["value", j].mean() for j in range(len(terms))})
    # over finite values only, as the fit's probe: DuckDB 1.5's STDDEV_POP raises "out of range" on a
    # NaN, before the history check refuses it with its count
    aggs.update("sd", {j: sample["value", j].std(how="pop", where=~(sample["value", j].isnan()
                                                                     | sample["value", j].isinf()))
                       for j in range(len(terms))})
    found = aggs.aggregate(sample.table).run(runner, f"planning: probe (first {PROBE_ROWS:,} rows: shifts)")
    return [float(provisional_centre(found.value("mean", j), found.value("sd", j), None, False))
            for j in range(len(terms))]
