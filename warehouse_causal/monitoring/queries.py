"""The monitor's production queries, shared by its layers: one aggregate of the production rows
grouped by period (and holdout, or segment), nested by unit when there is a unit (cluster-robust
variances), one of the experiment table for its covariate and audit sums, and the readers of their
cluster sums. :class:`MonitorSums` runs each aggregate once, on first use, and keeps it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir

from warehouse_causal.algebra.monitoring import ClusterSums, cluster_mean
from warehouse_causal.core.errors import DesignError
from warehouse_causal.meaning import PeriodAxis
from warehouse_causal.monitoring.estimands import Comparison, compared
from warehouse_causal.monitoring.inputs import OWNER, MonitorInputs
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import CLUSTER, Columns, Sums

__all__ = [
    "AUDIT",
    "PERIOD",
    "MonitorSums",
    "Ratios",
    "by_level",
    "grouped",
    "in_period_order",
    "launched_minus_held",
    "ratio",
    "why_missing",
]

PERIOD = "period"
#: The audit sums of a calibrated metric, in order: audited rows, Σj, Σh, Σj², Σh², Σjh.
AUDIT = ("n", "j", "h", "jj", "hh", "jh")

Ratios = dict[str, tuple[ir.Value, ir.Value]]  # name -> (denominator, numerator) per row


def _declare_cluster_sums(columns: Columns, name: str, den: ir.Value, num: ir.Value) -> None:
    """The :class:`ClusterSums` of ratio ``name`` over the rows of one level, whose ``den`` and
    ``num`` are a unit's sums (or a row's values when each row is its own unit)."""
    columns.add("dentotal", name, den.sum())
    columns.add("numtotal", name, num.sum())
    columns.add("squares", name, (num * num).sum())
    columns.add("cross", name, (den * num).sum())
    columns.add("sizes", name, (den * den).sum())
    columns.add("units", name, (den > 0).cast("int64").sum())


def grouped(
    inputs: MonitorInputs,
    runner: QueryRunner,
    by: dict[str, ir.Value],
    additive: dict[tuple[str, Any], ir.Value],
    ratios: Ratios,
    purpose: str,
    pairs: dict[str, tuple[str, str]] | None = None,
) -> Sums:
    """One aggregate of the production rows with a period, grouped by ``by``: row sums of
    ``additive``, for each ratio its :class:`ClusterSums` by unit (rows when no unit), and for
    each of ``pairs`` (name: two ratios over the same rows) Σ_g S_g·T_g of their unit sums (block
    "paired")."""
    pairs = pairs or {}
    production = inputs.production
    t = production.filter(production[inputs.time].notnull())
    inner = Columns()
    inner.add("rows", None, t.count())
    if inputs.unit is None:
        inner.add("unitcount", None, t.count())
    for (block, key), expr in additive.items():
        inner.add(block, key, expr.sum())
    unit = inputs.unit
    if unit is None:  # each row its own unit: the squares are of row values
        for name, (den, num) in ratios.items():
            _declare_cluster_sums(inner, name, den, num)
        for name, (a, b) in pairs.items():
            inner.add("paired", name, (ratios[a][1] * ratios[b][1]).sum())
        return inner.aggregate(t, by).ordered().run(runner, purpose)
    for name, (den, num) in ratios.items():
        inner.add("dentotal", name, den.sum())
        inner.add("numtotal", name, num.sum())
    per_unit = inner.aggregate(t, {CLUSTER: t[unit], **by})
    outer = Columns()
    outer.add("rows", None, per_unit["rows", None].sum())
    outer.add("unitcount", None, per_unit.table.count())
    for block, key in additive:
        outer.add(block, key, per_unit[block, key].sum())
    for name in ratios:
        _declare_cluster_sums(outer, name, per_unit["dentotal", name], per_unit["numtotal", name])
    for name, (a, b) in pairs.items():
        outer.add("paired", name, (per_unit["numtotal", a] * per_unit["numtotal", b]).sum())
    return outer.aggregate(per_unit.table, {k: per_unit.key(k) for k in by}).ordered().run(runner, purpose)


def _covariate_sums(exprs: Mapping[str, ir.Value]) -> dict[tuple[str, Any], ir.Value]:
    names = list(exprs)
    sums: dict[tuple[str, Any], ir.Value] = {}
    for i, a in enumerate(names):
        sums[("sum", a)] = exprs[a]
        for b in names[i:]:
            sums[("product", (a, b))] = exprs[a] * exprs[b]
    return sums


def _audit_sums(model: Any, table: ir.Table, metrics: Mapping[str, ir.Value]
                ) -> dict[tuple[str, Any], ir.Value]:
    out: dict[tuple[str, Any], ir.Value] = {}
    for metric, human in model.spec.calibration:
        h = table[human].cast("float64")
        audited = h.notnull() & metrics[metric].notnull()
        j, h0 = audited.ifelse(metrics[metric], 0.0), audited.ifelse(h, 0.0)
        for key, expr in zip(AUDIT, (audited.cast("float64"), j, h0, j * j, h0 * h0, j * h0), strict=True):
            out[("audit", (metric, key))] = expr
    return out


def experiment_sums(inputs: MonitorInputs, runner: QueryRunner) -> Sums:
    """The experiment table's covariate sums and, per calibrated metric, its audit sums."""
    model = inputs.model
    design, table = model.design, inputs.exp.table
    additive = _covariate_sums({c: design.columns[c].value() for c in design.covariates})
    additive.update(_audit_sums(model, table, {m: design.columns[m].value() for m in model.metrics}))
    columns = Columns()
    columns.add("rows", None, table.count())
    for (block, key), expr in additive.items():
        columns.add(block, key, expr.sum())
    return columns.aggregate(table).run(runner, "monitor: experiment covariates")


def _feedback_ratios(inputs: MonitorInputs) -> Ratios:
    """The served rate, the labelled share and each metric among labelled rows and in the population."""
    t = inputs.production
    ratios: Ratios = {}
    one = t[inputs.time].notnull().cast("float64")  # 1 on every row with a period
    if inputs.served is not None:
        ratios["served"] = (one, t[inputs.served].cast("float64").fill_null(0.0))
    if inputs.labelled is not None:
        ratios["labelled"] = (one, t[inputs.labelled].notnull().cast("float64"))
        for m, y in inputs.metrics.items():
            has = (t[inputs.labelled].notnull() & y.notnull()).cast("float64")
            ratios[f"all:{m}"] = (y.notnull().cast("float64"), y.fill_null(0.0))
            ratios[f"labelled:{m}"] = (has, has * y.fill_null(0.0))
    return ratios


def period_sums(inputs: MonitorInputs, runner: QueryRunner) -> Sums:
    """Production by period: rows, covariate sums, NULL counts, audit, feedback, version."""
    t = inputs.production
    additive = _covariate_sums(inputs.covariates)
    additive.update({("present", c): expr.notnull().cast("int64") for c, expr in inputs.covariates.items()})
    additive.update({("nulls", c): t[c].isnull().cast("int64") for c in inputs.null_columns})
    additive.update(_audit_sums(inputs.model, t, inputs.metrics))
    if inputs.version is not None:
        column, tested = inputs.version
        additive[("version", None)] = (t[column] != tested).fill_null(True).cast("int64")
    found = grouped(inputs, runner, {PERIOD: t[inputs.time]}, additive, _feedback_ratios(inputs),
                    "monitor: production by period")
    if found.n_cells == 0:
        raise DesignError(f"The production table has no rows with a {inputs.time!r}; nothing to monitor.")
    if any(isinstance(v, float) and not math.isfinite(v) for v in found.key(PERIOD).tolist()):
        raise DesignError(f"The time column {inputs.time!r} of the production table holds NaN or infinite "
                          "values; periods need an order.")
    return found


def holdout_period_sums(inputs: MonitorInputs, runner: QueryRunner) -> Sums:
    """Per period × holdout level: each metric's cluster sums; with a take-up column also the
    take-up's over the same rows (a metric and take-up both logged) and their cross sums."""
    ratios: Ratios = {}
    pairs: dict[str, tuple[str, str]] = {}
    if inputs.treated is None:
        ratios = {m: (y.notnull().cast("float64"), y.fill_null(0.0)) for m, y in inputs.metrics.items()}
    else:
        took = inputs.production[inputs.treated]
        d = (took == inputs.launched_arm).cast("float64")
        for m, y in inputs.metrics.items():
            both = (y.notnull() & took.notnull()).cast("float64")
            ratios[m] = (both, both * y.fill_null(0.0))
            ratios[f"take-up:{m}"] = (both, both * d.fill_null(0.0))
            pairs[m] = (m, f"take-up:{m}")
    found = grouped(inputs, runner, {PERIOD: inputs.production[inputs.time], "held": inputs.held()}, {},
                    ratios, "monitor: effect by period (holdout)", pairs)
    return checked_holdout_levels(found, inputs.holdout)


def checked_holdout_levels(found: Sums, holdout: str | None) -> Sums:
    """``found`` (grouped by the holdout flag) when the flag had exactly the levels 0 and 1."""
    levels = set(found.key("held").tolist())
    if levels != {0, 1}:
        raise DesignError(
            f"The holdout column {holdout!r} must be 1/true on holdout rows and 0/false on "
            f"launched rows, both present and never NULL; it has {sorted(levels, key=str)}."
        )
    return found


def in_period_order(periods: Any, time: str) -> list[int]:
    """Indices of ``periods`` sorted by period in its own type (numbers as numbers, dates as time), not
    as the text the query's cells were sorted by; equal periods keep their order."""
    axis = PeriodAxis.of(list(periods), OWNER, time)
    rank = {value: position for position, value in enumerate(axis)}
    return sorted(range(len(periods)), key=lambda i: rank[periods[i]])


# -- reading the cluster sums back ----------------------------------------------------------------
def ratio(found: Sums, i: int, name: str) -> ClusterSums:
    """Row ``i``'s cluster sums of the ratio ``name`` of a :func:`grouped` query."""
    return ClusterSums(
        *(
            float(found.column(block, name)[i])
            for block in ("dentotal", "numtotal", "squares", "cross", "sizes", "units")
        )
    )


def by_level(found: Sums, rows: Any, name: str) -> dict[bool, ClusterSums]:
    """The cluster sums of ratio ``name`` in the ``rows`` of ``found``, by holdout level (True: holdout)."""
    held = found.key("held")
    return {bool(held[i] == 1): ratio(found, int(i), name) for i in rows}


def why_missing(sums: dict[bool, ClusterSums], what: str, units: str) -> str:
    """Why launched − holdout of ``what`` is not a number with a standard error ('' when it is)."""
    for level, who in ((False, "launched"), (True, "holdout")):
        found = sums.get(level)
        if found is None or found.n <= 0:
            return f"no {who} rows with a value of {what}"
        if not all(math.isfinite(v) for v in found):
            return f"infinite (or overflowing) values of {what} among the {who} rows"
        if found.units < 2:
            return f"fewer than 2 {units} with a value of {what} among the {who} rows: no standard error"
    return ""


def launched_minus_held(found: Sums, rows: Any, name: str, units: str = "units", what: str = ""
                        ) -> tuple[float, float, str]:
    """(launched − holdout mean of ratio ``name``, its SE, why they are not numbers: '' when they
    are) from the ``rows`` of ``found`` (one per holdout level, key "held")."""
    sums = by_level(found, rows, name)
    missing = (math.nan, math.nan)
    (held_mean, held_se), (launched, launched_se) = (cluster_mean(sums[True]) if True in sums else missing,
                                                     cluster_mean(sums[False]) if False in sums else missing)
    return (launched - held_mean, math.sqrt(held_se**2 + launched_se**2),
            why_missing(sums, what or name, units))


# -- the monitor's cache ----------------------------------------------------------------------------
class MonitorSums:
    """The aggregates a monitor's layers read, each run on first use and then kept (a query that
    fails is not kept: the next use runs it again), and the comparison persistence makes. Its
    queries are logged in ``runner``. The only state of a monitor besides that log."""

    def __init__(self, inputs: MonitorInputs, runner: QueryRunner) -> None:
        self._inputs, self._runner = inputs, runner
        self._comparison: Comparison | None = None
        self._experiment: Sums | None = None
        self._periods: Sums | None = None
        self._order: list[int] | None = None
        self._holdout_periods: Sums | None = None

    @property
    def runner(self) -> QueryRunner:
        """The runner that logs the monitor's queries."""
        return self._runner

    def comparison(self) -> Comparison:
        """What persistence compares: the LATE or the ITT, on both sides (:func:`compared`)."""
        if self._comparison is None:
            inputs = self._inputs
            self._comparison = compared(inputs.model, inputs.launched_arm, inputs.treated, self._runner)
        return self._comparison

    def experiment(self) -> Sums:
        """:func:`experiment_sums`."""
        if self._experiment is None:
            self._experiment = experiment_sums(self._inputs, self._runner)
        return self._experiment

    def periods(self) -> Sums:
        """:func:`period_sums`."""
        if self._periods is None:
            self._periods = period_sums(self._inputs, self._runner)
        return self._periods

    def order(self) -> list[int]:
        """The rows of :meth:`periods` in period order (the period's own type: day 10 after day 9)."""
        if self._order is None:
            self._order = in_period_order(self.periods().key(PERIOD), self._inputs.time)
        return self._order

    def holdout_periods(self) -> Sums:
        """:func:`holdout_period_sums`."""
        if self._holdout_periods is None:
            self._holdout_periods = holdout_period_sums(self._inputs, self._runner)
        return self._holdout_periods
