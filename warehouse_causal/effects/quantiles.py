"""Percentile metrics: ``exp.infer_quantiles([wc.Quantile("latency_p95", "latency_ms", 0.95)])``.

The effect is the difference (and relative difference) of the arms' q-quantiles, with the
cluster-robust outer confidence interval of :mod:`warehouse_causal.algebra.quantile`. Three
aggregates, none returning rows: the arms' quantiles (``QUANTILE_CONT``, exact, linear
interpolation like numpy's default), the per-cluster counts at or below them summed per arm, and
the quantiles at the outer levels.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
from scipy import stats

from warehouse_causal.algebra.quantile import outer_levels, quantile_standard_error, share_standard_error
from warehouse_causal.core.errors import DesignError, DesignWarning, InvalidParameterError
from warehouse_causal.core.tables import TableResult
from warehouse_causal.core.validation import BOOLEAN, Real, check_param
from warehouse_causal.design.estimands import assigned_estimand
from warehouse_causal.design.percentile import Quantile
from warehouse_causal.effects.complier_quantiles import check_complier_design, complier_quantile_rows
from warehouse_causal.fit.randomization import FEW_CLUSTERS_PER_ARM, MIN_CLUSTERS_PER_ARM
from warehouse_causal.meaning import EstimandKind
from warehouse_causal.warehouse.backends import QueryRecord, QueryRunner
from warehouse_causal.warehouse.contract import CLUSTER, Columns
from warehouse_causal.warehouse.literals import exact_double
from warehouse_causal.warehouse.terms import resolve_value

if TYPE_CHECKING:
    from warehouse_causal.design.experiment import ExperimentDesign

__all__ = ["SAFE_MAGNITUDE", "Quantile", "QuantileEffects", "infer_quantiles"]

#: Values beyond 2^1000 (≈ 1.07e301) are analysed in units of a power of 2, so that differences and
#: interval widths (up to 2^1001 · z) cannot overflow float64 (whose largest value is ≈ 2^1024).
SAFE_MAGNITUDE = math.ldexp(1.0, 1000)


@dataclass(frozen=True)
class QuantileEffects(TableResult):
    """Per (quantile metric, arm): the control and arm quantiles, their difference with its outer
    interval (cluster-robust with ``cluster_by``), the relative difference and a p-value. Every row's
    ``estimand`` is the quantile ITT (a difference by assigned arm), with an instrument too."""

    rows: tuple[dict[str, Any], ...]
    alpha: float
    clustered: bool
    queries: tuple[QueryRecord, ...] = field(repr=False, default=())
    #: The rows' estimand: the quantile ITT, or the complier quantile effect (``compliers=True``).
    estimand: str = str(EstimandKind.QUANTILE_ITT)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def caption(self) -> str:
        how = "cluster-robust" if self.clustered else "iid"
        what = ("differences of the compliers' quantiles of Y(1) and Y(0)"
                if self.estimand == EstimandKind.QUANTILE_LATE else "differences by assigned arm")
        return f"Quantile effects ({self.estimand}: {what}; outer intervals, {how}, α = {self.alpha:g})"


def infer_quantiles(experiment: ExperimentDesign, metrics: Any, alpha: float = 0.05, compliers: bool = False
                    ) -> QuantileEffects:
    """Differences of the arms' quantiles (module docstring); treated arms against control, by the
    assignment (intent to treat). With ``compliers``, the complier quantile effects of an
    instrumented design instead (:mod:`warehouse_causal.effects.complier_quantiles`)."""
    owner = "ExperimentData.infer_quantiles"
    alpha = float(check_param(alpha, "alpha", owner, Real(0.0, 1.0)))
    if check_param(compliers, "compliers", owner, BOOLEAN):
        check_complier_design(experiment, owner)  # before any query
    items = _quantile_items(metrics, owner)
    t, runner = experiment.table, QueryRunner()
    arms = list(experiment.design.arms)
    arm = t[experiment.intent_to_treat]

    def centre_levels(values: dict[str, ir.Value]) -> dict[Any, tuple[ir.Value, float]]:
        return {} if compliers else _centre_levels(items, arms, _per_arm(items, arms, arm, values))

    values, exponents, centre = _finite_values(t, items, centre_levels, runner, owner)
    if compliers:
        found = complier_quantile_rows(experiment, items, values, alpha, runner, owner)
        return QuantileEffects(
            tuple(_in_units(r, math.ldexp(1.0, exponents[r["metric"]]), owner) for r in found), alpha,
            experiment.cluster_by is not None, tuple(runner.records), str(EstimandKind.QUANTILE_LATE))
    per_arm = _per_arm(items, arms, arm, values)
    missing = [key for key, v in centre.items() if v is None or not math.isfinite(v)]
    if missing:
        raise DesignError(f"{owner}: {missing[0][0]!r} has no values (or NaN) in arm {missing[0][1]!r}.")
    sums = _indicator_sums(t, items, arms, arm, values, centre, experiment.cluster_by, runner)
    bounds = _outer_bounds(t, items, arms, per_arm, sums, alpha, runner, owner)
    rows = []
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    control = arms[0]
    estimand = assigned_estimand(experiment, quantile=True).short  # by assignment, even under an instrument
    for m in items:
        se = {a: quantile_standard_error(bounds[(m.name, a, "low")], bounds[(m.name, a, "high")], alpha)
              for a in arms}
        unit = math.ldexp(1.0, exponents[m.name])  # 2^k: the unit the values were analysed in
        for a in arms[1:]:
            control_quantile, arm_quantile = centre[(m.name, control)], centre[(m.name, a)]
            estimate = arm_quantile - control_quantile
            std_error = math.hypot(se[a], se[control])
            p_value = 2.0 * stats.norm.sf(abs(estimate) / std_error) if std_error > 0 else math.nan
            relative = estimate / control_quantile if control_quantile else math.nan
            rows.append(_in_units({
                "metric": m.name, "arm": str(a), "q": m.q,
                "control_quantile": control_quantile, "arm_quantile": arm_quantile, "estimate": estimate,
                "relative": relative if math.isfinite(relative) else math.nan,
                "std_error": std_error, "ci_lower": estimate - z * std_error,
                "ci_upper": estimate + z * std_error,
                "p_value": p_value, "n": int(sums[("n", m.name, a)] + sums[("n", m.name, control)]),
                "estimand": estimand,
            }, unit, owner))
    return QuantileEffects(tuple(rows), alpha, experiment.cluster_by is not None, tuple(runner.records))


def _outer_bounds(table: ir.Table, items: list[Quantile], arms: list[Any],
                  per_arm: dict[tuple[str, Any], ir.Value], sums: dict[Any, float], alpha: float,
                  runner: QueryRunner, owner: str) -> dict[Any, Any]:
    """Per (metric, arm): the outer-interval levels from the indicator sums (an arm with fewer than
    2 values is refused), then the quantiles at them in one aggregate, keyed (metric, arm, side)."""
    levels = {}
    for m in items:
        for a in arms:
            n = sums[("n", m.name, a)]
            if n < 2:
                raise DesignError(f"{owner}: {m.name!r} has {int(n)} value(s) in arm {a!r}; need 2 or more.")
            sigma = share_standard_error(m.q, sums[("cc", m.name, a)], sums[("cn", m.name, a)],
                                         sums[("nn", m.name, a)], n)
            levels[(m.name, a)] = outer_levels(m.q, sigma, alpha)
    return _quantiles(table, {(m.name, a, side): (per_arm[(m.name, a)], levels[(m.name, a)][i])
                              for m in items for a in arms for i, side in enumerate(("low", "high"))},
                      runner, "quantiles: outer-interval levels")


def _quantile_items(metrics: Any, owner: str) -> list[Quantile]:
    items = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
    if not items or not all(isinstance(m, Quantile) for m in items):
        raise InvalidParameterError(
            f"The 'metrics' parameter of {owner} must be a wc.Quantile or a list of them. Got {metrics!r} "
            "instead.")
    names = [m.name for m in items]
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"{owner}: quantile names must be distinct; got {names}.")
    return items


def _finite_values(table: ir.Table, items: list[Quantile],
                   centre_levels: Callable[[dict[str, ir.Value]], dict[Any, tuple[ir.Value, float]]],
                   runner: QueryRunner, owner: str
                   ) -> tuple[dict[str, ir.Value], dict[str, int], dict[Any, Any]]:
    """Each metric's float64 values, the exponent k of the unit 2^k they are analysed in, and the
    quantiles ``centre_levels(values)`` asks for: one scan that also refuses NaN and infinite values
    and finds the largest |value| (a second scan for the quantiles only when some values are near
    the float64 limit and must be rescaled)."""
    values = {}
    for m in items:
        label, expr = resolve_value(m.column, table, "quantile metric")
        if not expr.type().is_numeric():
            raise InvalidParameterError(f"{owner}: {label!r} must be numeric.")
        values[m.name] = expr.cast("float64")
    wanted = centre_levels(values)
    purpose = "quantiles: each arm's" if wanted else "quantiles: NaN, infinite and largest values"
    centre = _quantiles(table, wanted, runner, purpose, non_finite=values)
    bad = [name for name, count in centre.pop("non-finite", {}).items() if count]
    if bad:
        raise DesignError(f"{owner}: {bad[0]!r} has NaN or infinite values; a quantile would sort them "
                          "among the largest. Filter or fix them.")
    exponents = {name: _scale_exponent(largest) for name, largest in centre.pop("largest").items()}
    if any(exponents.values()):  # values near the float64 limit: work in units of 2^k (exact)
        values = {name: v * math.ldexp(1.0, -exponents[name]) if exponents[name] else v
                  for name, v in values.items()}
        wanted = centre_levels(values)
        if wanted:
            centre = _quantiles(table, wanted, runner, "quantiles: each arm's, in units of a power of 2")
    return values, exponents, centre


def _per_arm(items: list[Quantile], arms: list[Any], arm: ir.Value, values: dict[str, ir.Value]
             ) -> dict[tuple[str, Any], ir.Value]:
    """Each metric's values in each arm (NULL elsewhere)."""
    return {(m.name, a): ibis.ifelse(arm == a, values[m.name], ibis.null("float64"))
            for m in items for a in arms}


def _centre_levels(items: list[Quantile], arms: list[Any], per_arm: dict[tuple[str, Any], ir.Value]
                   ) -> dict[Any, tuple[ir.Value, float]]:
    return {(m.name, a): (per_arm[(m.name, a)], m.q) for m in items for a in arms}


def _scale_exponent(largest: float | None) -> int:
    """k ≥ 0 such that the largest |value| / 2^k stays below :data:`SAFE_MAGNITUDE`: differences of
    quantiles, outer-interval widths and z·se then cannot overflow float64. Scaling by 2^−k is exact
    (for values above 2^−1022 + k) and quantiles, their order and linear interpolation commute with it."""
    if largest is None or not largest > SAFE_MAGNITUDE:
        return 0
    return max(math.frexp(largest)[1] - math.frexp(SAFE_MAGNITUDE)[1] + 1, 0)


#: The columns of a row in the values' unit (the relative difference and p-value have none).
_IN_UNITS = ("control_quantile", "arm_quantile", "estimate", "std_error", "ci_lower", "ci_upper")


def _in_units(row: dict[str, Any], unit: float, owner: str) -> dict[str, Any]:
    """The row with its numbers multiplied back by ``unit`` (2^k); refused when one of them does not
    fit in float64 (an infinite estimate beside a finite p-value is the silent wrong answer this
    prevents)."""
    row = {**row, **{name: float(row[name]) * unit for name in _IN_UNITS}}
    overflow = [name for name in _IN_UNITS if not math.isfinite(row[name])]
    if overflow:
        raise DesignError(
            f"{owner}: the {overflow[0]} of {row['metric']!r} (arm {row['arm']}) is beyond the float64 "
            f"range (±{sys.float_info.max:.3g}); the arms' quantiles are {row['control_quantile']:.4g} "
            f"and {row['arm_quantile']:.4g}. Rescale the column in the 'metrics' parameter (e.g. divide "
            "it by 1e300) and read the effect in those units.")
    return row


def _quantiles(table: ir.Table, wanted: dict[Any, tuple[ir.Value, float]], runner: QueryRunner,
               purpose: str, non_finite: dict[str, ir.Value] | None = None) -> dict[Any, Any]:
    """One ungrouped aggregate of ``QUANTILE_CONT(expr, level)`` per entry (NULLs ignored); with
    ``non_finite``, also each named column's count of NaN and infinite values (under the key
    "non-finite") and its largest absolute value (under "largest"), in the same scan."""
    query = Columns()
    query.update("quantile", {key: expr.quantile(level) for key, (expr, level) in wanted.items()})
    query.update("nonfinite", {name: (v.isnan() | v.isinf()).cast("int64").sum()
                               for name, v in (non_finite or {}).items()})
    query.update("largest", {name: ibis.ifelse(v.isnan() | v.isinf(), ibis.null("float64"), v.abs()).max()
                             for name, v in (non_finite or {}).items()})
    found = query.aggregate(table).run(runner, purpose)
    out: dict[Any, Any] = {key: found.value("quantile", key) for key in wanted}
    if non_finite:
        out["non-finite"] = {name: int(found.value("nonfinite", name) or 0) for name in non_finite}
        out["largest"] = {name: found.value("largest", name) for name in non_finite}
    return out


def _indicator_sums(table: ir.Table, items: list[Quantile], arms: list[Any], arm: ir.Value,
                    values: dict[str, ir.Value], centre: dict[Any, float], cluster: str | None,
                    runner: QueryRunner) -> dict[Any, float]:
    """Per (metric, arm): N = Σ n_g, and Σ c_g², Σ c_g n_g, Σ n_g² over clusters (rows when not
    clustered), where c_g counts the values at or below the arm's quantile; one nested aggregate."""
    inner = Columns()
    for m in items:
        for a in arms:
            in_arm = (arm == a) & values[m.name].notnull()
            below = in_arm & (values[m.name] <= exact_double(centre[(m.name, a)]))
            inner.add("count", (m.name, a), in_arm.cast("int64").sum())
            inner.add("below", (m.name, a), below.cast("int64").sum())
    if cluster is None:  # one value per "cluster": c and n are 0/1, so Σc² = Σcn = Σc and Σn² = Σn
        found = inner.aggregate(table).run(runner, "quantiles: counts at or below")
        out: dict[Any, float] = {}
        for m in items:
            for a in arms:
                n, c = found.total("count", (m.name, a)), found.total("below", (m.name, a))
                out.update({("n", m.name, a): n, ("cc", m.name, a): c, ("cn", m.name, a): c,
                            ("nn", m.name, a): n})
        return out
    per_cluster = inner.aggregate(table, by={CLUSTER: table[cluster]})
    outer = Columns()
    for m in items:
        for a in arms:
            c = per_cluster["below", (m.name, a)].cast("float64")
            n = per_cluster["count", (m.name, a)].cast("float64")
            outer.add("n", (m.name, a), n.sum())
            outer.add("cc", (m.name, a), (c * c).sum())
            outer.add("cn", (m.name, a), (c * n).sum())
            outer.add("nn", (m.name, a), (n * n).sum())
            outer.add("clusters", (m.name, a), (n > 0).cast("int64").sum())
    found = outer.aggregate(per_cluster.table).run(runner, "quantiles: counts at or below, by cluster")
    for m in items:
        for a in arms:
            clusters = int(found.total("clusters", (m.name, a)))
            if clusters < MIN_CLUSTERS_PER_ARM:
                raise DesignError(
                    f"{m.name!r} has values in {clusters} cluster(s) of {cluster!r} in arm {a!r}: a "
                    f"cluster-robust interval needs at least {MIN_CLUSTERS_PER_ARM} per arm.")
            if clusters < FEW_CLUSTERS_PER_ARM:
                warnings.warn(
                    f"{m.name!r}: only {clusters} clusters of {cluster!r} in arm {a!r}; cluster-robust "
                    "quantile intervals under-cover with this few clusters.", DesignWarning, stacklevel=4)
    return {(block, m.name, a): found.total(block, (m.name, a))
            for block in ("n", "cc", "cn", "nn") for m in items for a in arms}
