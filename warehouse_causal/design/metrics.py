"""Metrics computed from fact tables inside the warehouse: ``wc.Metric(...)`` in ``add_metric``.

Metrics (and pre-period covariates) that share a source table, unit key and time columns are
computed in ONE aggregation — each with its own time window as ``FILTER (WHERE …)`` — grouped by
unit and left-joined to the experiment table, so units without events get ``fill``. Nothing is
materialised: the join is part of every pass's SQL.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from warehouse_causal.core.errors import DesignWarning, InvalidParameterError
from warehouse_causal.core.validation import NONE, InstanceOf, Real, check_param
from warehouse_causal.meaning import Direction
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import Columns, unused_name
from warehouse_causal.warehouse.sql_expressions import sql_to_ibis_aggregate
from warehouse_causal.warehouse.terms import check_columns

__all__ = ["Metric", "attach_metrics", "check_ratio_windows", "window_phrase"]


@dataclass(frozen=True)
class Metric:
    """A per-unit aggregate of a fact table, joined to the experiment table.

    Parameters
    ----------
    name : the metric's column name in the analysis (must not exist in the experiment table).
    source : ibis table of events/facts.
    value : SQL aggregate (``"SUM(amount)"``, ``"COUNT(*)"``, ``"COUNT(DISTINCT order_id)"``) or a
        callable ``(source, where) -> ibis scalar`` that applies ``where`` to its reductions.
    unit : join key: a column name present in both tables, or (experiment column, source column).
    window : (start, end) relative to exposure, half-open [start, end): days for timestamps,
        the column's own unit for numeric times; needs ``time`` and ``exposure``.
    time : event time column of ``source``; exposure : exposure time column of the experiment table.
    fill : value for units with no events in the window (default 0).
    direction : which direction of the metric is good, ``"higher"`` (the default when not given),
        ``"lower"`` or ``"neutral"``; ``add_metric`` reads it (decisions, memo and report colours).
    """

    name: str
    source: ir.Table
    value: str | Callable[[ir.Table, ir.BooleanValue | None], ir.Scalar]
    unit: str | tuple[str, str]
    window: tuple[float, float] | None = None
    time: str | None = None
    exposure: str | None = None
    fill: float = 0.0
    direction: Direction | None = None

    def __post_init__(self) -> None:
        owner = "Metric"
        check_param(self.name, "name", owner, InstanceOf(str, "a column name"))
        check_param(self.source, "source", owner, InstanceOf(ir.Table, "an ibis table"))
        check_param(self.value, "value", owner, InstanceOf(str, "a SQL aggregate"),
                    InstanceOf(Callable, "a callable (source, where) -> ibis scalar"))  # type: ignore[arg-type]
        pair = isinstance(self.unit, tuple) and len(self.unit) == 2
        unit_ok = isinstance(self.unit, str) or (pair and all(isinstance(u, str) for u in self.unit))
        if not unit_ok:
            check_param(self.unit, "unit", owner, InstanceOf(str, "a column name or a (experiment, source) "
                                                             "pair of column names"))
        for role in ("time", "exposure"):
            check_param(getattr(self, role), role, owner, InstanceOf(str, "a column name"), NONE)
        fill = check_param(self.fill, "fill", owner, Real())
        object.__setattr__(self, "fill", fill)
        if self.direction is not None:
            object.__setattr__(self, "direction", Direction.parse(self.direction, "direction", owner))
        if self.window is not None:
            window_ok = (isinstance(self.window, (tuple, list)) and len(self.window) == 2
                         and all(Real().accepts(v) for v in self.window) and self.window[0] < self.window[1])
            if not window_ok:
                raise InvalidParameterError(
                    f"The 'window' parameter of Metric must be (start, end) with finite numbers and start < "
                    f"end. Got {self.window!r} instead.")
            object.__setattr__(self, "window", (float(self.window[0]), float(self.window[1])))

    @property
    def keys(self) -> tuple[str, str]:
        """(experiment unit column, source unit column)."""
        return (self.unit, self.unit) if isinstance(self.unit, str) else self.unit

    def group(self) -> tuple[Any, ...]:
        """Metrics with the same group share one aggregation."""
        return (self.source.op(), self.keys, self.time, self.exposure)

    def definition(self) -> tuple[Any, ...]:
        """What the metric computes (everything but its name and direction): two metrics of one
        name with the same definition are one metric (say, a ratio's part listed on its own)."""
        return (*self.group(), self.value, self.window, self.fill)


def window_phrase(metric: Metric) -> str:
    """The metric's time window in words, e.g. "window [0, 14) of ordered_at after exposed_at"."""
    if metric.window is None:
        return "no window (all events)"
    start, end = metric.window
    return f"window [{start:g}, {end:g}) of {metric.time} after {metric.exposure}"


def check_ratio_windows(name: str, numerator: Any, denominator: Any, owner: str) -> None:
    """A ratio of two ``wc.Metric`` s must count both over the same window (relative to the same
    exposure): revenue in 14 days over all-time orders is not an order value."""
    if not (isinstance(numerator, Metric) and isinstance(denominator, Metric)):
        return
    def window(m: Metric) -> tuple[Any, ...]:
        return () if m.window is None else (m.window, m.time, m.exposure)

    if window(numerator) != window(denominator):
        raise InvalidParameterError(
            f"{owner}: ratio {name!r} divides {numerator.name!r} ({window_phrase(numerator)}) by "
            f"{denominator.name!r} ({window_phrase(denominator)}); its parts must share one window. Give "
            "both the same window, time and exposure.")


def _check(metric: Metric, table: ir.Table) -> None:
    if not isinstance(metric.source, ir.Table):
        raise InvalidParameterError(f"Metric {metric.name!r}: 'source' must be an ibis table.")
    if metric.name in table.columns:
        raise InvalidParameterError(f"Metric {metric.name!r} would shadow a column of the experiment table.")
    check_columns(table, {"Metric unit (experiment table)": metric.keys[0], "exposure": metric.exposure})
    check_columns(metric.source, {"Metric unit (source)": metric.keys[1], "time": metric.time})
    if metric.window is not None:
        if metric.time is None or metric.exposure is None:
            raise InvalidParameterError(
                f"Metric {metric.name!r} has a window, so it needs 'time' (event time in the source) "
                "and 'exposure' (exposure time in the experiment table)."
            )
        start, end = metric.window
        if not start < end:
            raise InvalidParameterError(
                f"Metric {metric.name!r}: window start {start} must be before end {end}."
            )


def _offset(value: ir.Value, amount: float) -> ir.Value:
    """``value`` shifted by ``amount`` days (dates, timestamps) or units (numeric times)."""
    if value.type().is_date():
        if float(amount).is_integer():
            return value + ibis.interval(days=int(amount))
        value = value.cast("timestamp")
    if value.type().is_temporal():
        return value + ibis.interval(seconds=round(amount * 86_400))
    return value + amount


def _aggregate(metrics: list[Metric], table: ir.Table) -> tuple[ir.Table, str]:
    """One row per unit with each metric under its name, and the name of the unit column (one that
    neither the source, the experiment table nor a metric uses)."""
    first = metrics[0]
    exp_key, src_key = first.keys
    events = first.source
    taken = [*events.columns, *table.columns, *(m.name for m in metrics)]
    unit, exposure = unused_name("_unit", taken), unused_name("_exposure", taken)
    if first.exposure is not None:
        units = table.group_by(**{unit: table[exp_key]}).aggregate(**{exposure: table[first.exposure].min()})
        events = events.inner_join(units, events[src_key] == units[unit])
    aggs = {}
    for m in metrics:
        where = None
        if m.window is not None:
            start, end = m.window
            t = events[m.time]
            where = (t >= _offset(events[exposure], start)) & (t < _offset(events[exposure], end))
        value = (sql_to_ibis_aggregate(m.value, events, where) if isinstance(m.value, str)
                 else m.value(events, where))
        aggs[m.name] = value.cast("float64")
    return events.group_by(**{unit: events[src_key]}).aggregate(**aggs), unit


def attach_metrics(table: ir.Table, metrics: list[Metric], assignment: str, runner: QueryRunner) -> ir.Table:
    """The experiment table left-joined with every metric (one aggregation per source group)."""
    metrics = _unique(metrics)
    for m in metrics:
        _check(m, table)
    groups: dict[tuple[Any, ...], list[Metric]] = {}
    for m in metrics:
        groups.setdefault(m.group(), []).append(m)
    out = table
    for members in groups.values():
        agg, unit = _aggregate(members, table)
        key = members[0].keys[0]
        joined = out.left_join(agg, out[key] == agg[unit])
        out = joined.select(
            *[joined[c] for c in out.columns],
            **{m.name: ibis.coalesce(joined[m.name], ibis.literal(float(m.fill))) for m in members},
        )
    _flag_units_in_several_arms(table, {m.keys[0] for m in metrics}, assignment, runner)
    return out


def _unique(metrics: list[Metric]) -> list[Metric]:
    """One metric per name: the same definition listed twice (a ratio's part on its own, two
    ratios sharing a part) is kept once; two different definitions of one name are an error."""
    by_name: dict[str, Metric] = {}
    for m in metrics:
        seen = by_name.setdefault(m.name, m)
        if seen is not m and seen.definition() != m.definition():
            raise InvalidParameterError(
                f"Metric names must be unique: two different wc.Metric definitions are named {m.name!r} "
                f"({window_phrase(seen)}, value {seen.value!r}; {window_phrase(m)}, value {m.value!r}).")
    return list(by_name.values())


def _flag_units_in_several_arms(table: ir.Table, keys: set[str], assignment: str,
                                runner: QueryRunner) -> None:
    for key in sorted(keys):
        arms = Columns()
        arms.add("arms", None, table[assignment].nunique())
        per_unit = arms.aggregate(table, by={key: table[key]})
        several = per_unit.table.filter(per_unit["arms", None] > 1)
        units = Columns()
        units.add("units", None, several.count())
        count = units.aggregate(several).run(runner, f"units of {key} in several arms").value("units")
        if count:
            warnings.warn(
                f"{count} unit(s) of {key!r} appear in more than one arm of {assignment!r}; their events "
                "count towards every arm they appear in. Check the assignment log.",
                DesignWarning, stacklevel=5,
            )

