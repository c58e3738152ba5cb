"""Complier quantile effects: ``exp.infer_quantiles([...], compliers=True)`` on an encouragement design.

With a binary instrument and a binary treatment, the complier distributions of Y(1) and Y(0) are
weighted distributions of the outcome (:mod:`warehouse_causal.algebra.quantile`, Abadie, Angrist &
Imbens 2002 without covariates); each quantile is the smallest value whose complier CDF reaches q
(no interpolation). The weights are integers (n₀ for D = 1, Z = 1; −n₁ for D = 1, Z = 0; and the
mirror for D = 0), so the CDF is an exact running sum. Four aggregates, none returning rows: the
counts per instrument arm and treatment, the complier CDFs inverted at q (a window over the distinct
values, inside the warehouse), the per-cluster counts at or below the quantiles, and the CDFs
inverted at the outer levels.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
from scipy import stats

from warehouse_causal.algebra.inference import standard_errors
from warehouse_causal.algebra.quantile import (
    COMPLIER_COUNTS,
    complier_shares,
    difference_standard_error,
    quantile_standard_error,
)
from warehouse_causal.core.errors import DesignError, WeakInstrumentWarning
from warehouse_causal.fit.diagnostics import WEAK_F
from warehouse_causal.meaning import EstimandKind
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import CLUSTER, Columns
from warehouse_causal.warehouse.literals import exact_double

__all__ = ["check_complier_design", "complier_quantile_rows"]



def check_complier_design(experiment: Any, owner: str) -> None:
    """Refuse a design (an ``ExperimentData``) without complier quantiles: no instrument, weights,
    or a non-binary role."""
    design = experiment.design
    if not experiment.is_iv:
        raise DesignError(
            f"{owner}(compliers=True) needs an instrumented design (treated= and intent_to_treat= or "
            "instrument=); without one the quantile ITT rows (compliers=False) are the effect.")
    if experiment.weight_expr() is not None:
        raise DesignError(f"{owner}(compliers=True) supports unweighted designs only (no weights= or "
                          "propensity=).")
    for role, levels in (("treated", design.treated_levels), ("instrument", design.instrument_levels)):
        if len(levels) != 2:
            raise DesignError(
                f"{owner}(compliers=True) needs a binary {role} column; {role!r} has {len(levels)} "
                f"levels ({list(levels)}).")


def complier_quantile_rows(experiment: Any, items: list[Any], values: dict[str, ir.Value], alpha: float,
                           runner: QueryRunner, owner: str) -> list[dict[str, Any]]:
    """One row per quantile metric (``items``: ``wc.Quantile`` s, read for ``name`` and ``q``): the
    compliers' Y(0) and Y(1) quantiles, their difference, its outer interval and p-value (module
    notes). ``values`` are the metrics' finite float64 values; the design (an ``ExperimentData``)
    passed :func:`check_complier_design`."""
    t, design = experiment.table, experiment.design
    d = t[experiment.treated_column] == design.treated_levels[1]
    z = t[experiment.instrument_column] == design.instrument_levels[1]
    counts = _counts(t, items, values, d, z, runner)
    centre = _inverted(t, items, values, d, z, counts, {(m.name, k, "q"): m.q for m in items for k in (1, 0)},
                       runner, "complier quantiles: the CDFs at q")
    missing = [key for key, v in centre.items() if v is None]
    if missing:
        raise DesignError(f"{owner}: the compliers' CDF of {missing[0][0]!r} under treatment {missing[0][1]} "
                          "never reaches q; the first stage is too weak to invert it.")
    sums, products = _cluster_sums(t, items, values, d, z, centre, experiment.cluster_by, runner)
    z_value = float(stats.norm.ppf(1.0 - alpha / 2.0))
    shares, levels = {}, {}
    for m in items:
        shares[m.name] = complier_shares(m.q, sums[m.name], products[m.name])
        sigma = standard_errors(np.diag(shares[m.name].cov))
        if not np.isfinite(sigma).all():
            raise DesignError(f"{m.name!r}: the variance of the complier shares at q = {m.q:g} is not a "
                              "finite non-negative number; the complier quantile interval cannot be formed.")
        for k, s in zip((1, 0), sigma, strict=True):
            levels[(m.name, k, "low")] = max(m.q - z_value * s, 0.0)
            levels[(m.name, k, "high")] = min(m.q + z_value * s, 1.0)
    bounds = _inverted(t, items, values, d, z, counts, levels, runner,
                       "complier quantiles: outer-interval levels")
    rows = []
    for m in items:
        share = shares[m.name]
        if share.first_stage_f < WEAK_F:
            warnings.warn(f"{m.name!r}: the first stage is weak (F = {share.first_stage_f:.1f} < "
                          f"{WEAK_F:g}); complier quantiles are unreliable.", WeakInstrumentWarning,
                          stacklevel=4)
        se = [quantile_standard_error(bounds[(m.name, k, "low")], bounds[(m.name, k, "high")], alpha)
              for k in (1, 0)]
        sd = np.sqrt(np.diag(share.cov))
        rho = float(share.cov[0, 1] / (sd[0] * sd[1])) if sd.all() else 0.0
        arm_quantile, control_quantile = centre[(m.name, 1, "q")], centre[(m.name, 0, "q")]
        estimate = arm_quantile - control_quantile
        std_error = difference_standard_error(se[0], se[1], rho)
        p_value = 2.0 * stats.norm.sf(abs(estimate) / std_error) if std_error > 0 else math.nan
        relative = estimate / control_quantile if control_quantile else math.nan
        rows.append({
            "metric": m.name, "arm": str(design.treated_levels[1]), "q": m.q,
            "control_quantile": control_quantile, "arm_quantile": arm_quantile, "estimate": estimate,
            "relative": relative if math.isfinite(relative) else math.nan, "std_error": std_error,
            "ci_lower": estimate - z_value * std_error, "ci_upper": estimate + z_value * std_error,
            "p_value": p_value, "n": int(counts[(m.name, "n")]), "complier_share": share.complier_share,
            "estimand": str(EstimandKind.QUANTILE_LATE),
        })
    return rows


def _counts(table: ir.Table, items: list[Any], values: dict[str, ir.Value], d: ir.Value, z: ir.Value,
            runner: QueryRunner) -> dict[Any, float]:
    """Per metric: rows with a value in each (instrument arm, treatment) cell, and in all."""
    query = Columns()
    for m in items:
        present = values[m.name].notnull()
        for zz in (1, 0):
            for dd in (1, 0):
                cell = present & (z if zz else ~z) & (d if dd else ~d)
                query.add("cell", (m.name, zz, dd), cell.ifelse(1, 0).sum())
        query.add("rows", m.name, present.ifelse(1, 0).sum())
    found = query.aggregate(table).run(runner, "complier quantiles: rows per instrument arm and treatment")
    out: dict[Any, float] = {(m.name, "n"): found.total("rows", m.name) for m in items}
    for m in items:
        for zz in (1, 0):
            for dd in (1, 0):
                out[(m.name, zz, dd)] = found.total("cell", (m.name, zz, dd))
            if out[(m.name, zz, 1)] + out[(m.name, zz, 0)] < 2:
                raise DesignError(f"{m.name!r} has fewer than 2 values in an instrument arm; complier "
                                  "quantiles need both arms.")
    return out


def _inverted(table: ir.Table, items: list[Any], values: dict[str, ir.Value], d: ir.Value, z: ir.Value,
              counts: dict[Any, float], levels: dict[tuple[str, int, str], float], runner: QueryRunner,
              purpose: str) -> dict[tuple[str, int, str], Any]:
    """The smallest value at which each complier CDF reaches each level: per metric, one window over
    the distinct values of each treatment (integer weights, so the running sums are exact)."""
    out: dict[tuple[str, int, str], Any] = {}
    for m in items:
        n1 = int(counts[(m.name, 1, 1)] + counts[(m.name, 1, 0)])
        n0 = int(counts[(m.name, 0, 1)] + counts[(m.name, 0, 0)])
        scale = int(counts[(m.name, 1, 1)]) * n0 - int(counts[(m.name, 0, 1)]) * n1  # n₁ n₀ π̂
        if scale <= 0:
            raise DesignError(f"{m.name!r}: the instrument does not raise take-up (complier share "
                              f"{scale / (n1 * n0):.3g}); complier distributions are not identified.")
        weight = ibis.ifelse(d, ibis.ifelse(z, n0, -n1), ibis.ifelse(z, -n0, n1)).cast("int64")
        per_value = Columns()
        per_value.add("weight", None, weight.sum())
        present = table.filter(values[m.name].notnull())
        by_value = per_value.aggregate(present, by={"treated": d.ifelse(1, 0), "value": values[m.name]})
        running = Columns()
        running.add("running", None, by_value["weight", None].cumsum(
            group_by=by_value.key("treated"), order_by=by_value.key("value")))
        cdf = running.select(by_value.table, {"treated": by_value.key("treated"),
                                              "value": by_value.key("value")})
        wanted = {key: level for key, level in levels.items() if key[0] == m.name}
        query = Columns()
        for key, level in wanted.items():
            reached = (cdf.key("treated") == key[1]) & (cdf["running", None].cast("float64") >= level * scale)
            query.add("quantile", key, cdf.key("value").min(where=reached))
        found = query.aggregate(cdf.table).run(runner, purpose)
        out.update({key: found.value("quantile", key) for key in wanted})
    return out


def _cluster_sums(table: ir.Table, items: list[Any], values: dict[str, ir.Value], d: ir.Value,
                  z: ir.Value, centre: dict[tuple[str, int, str], Any], cluster: str | None,
                  runner: QueryRunner) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per metric, Σ v_g and Σ v_g v_g' over clusters (rows when not clustered) of the count vector
    of :data:`~warehouse_causal.algebra.quantile.COMPLIER_COUNTS` in each instrument arm."""
    indicators: dict[tuple[str, int], ir.Value] = {}
    for m in items:
        present = values[m.name].notnull()
        for block, zz in enumerate((1, 0)):
            arm = present & (z if zz else ~z)
            below = {k: values[m.name] <= exact_double(centre[(m.name, k, "q")]) for k in (1, 0)}
            parts = {"c1": arm & d & below[1], "d1": arm & d, "c0": arm & ~d & below[0], "d0": arm & ~d,
                     "n": arm}
            for j, name in enumerate(COMPLIER_COUNTS):
                indicators[(m.name, block * len(COMPLIER_COUNTS) + j)] = parts[name].ifelse(1, 0)
    size = 2 * len(COMPLIER_COUNTS)
    if cluster is None:
        level, source = indicators, table
    else:
        per_cluster = Columns()
        per_cluster.update("count", {key: v.sum() for key, v in indicators.items()})
        named = per_cluster.aggregate(table, by={CLUSTER: table[cluster]})
        level = {key: named["count", key].cast("float64") for key in indicators}
        source = named.table
    query = Columns()
    for m in items:
        for i in range(size):
            query.add("sum", (m.name, i), level[(m.name, i)].sum())
            for j in range(i, size):
                query.add("product", (m.name, i, j), (level[(m.name, i)] * level[(m.name, j)]).sum())
    found = query.aggregate(source).run(runner, "complier quantiles: counts at or below, by cluster"
                                        if cluster else "complier quantiles: counts at or below")
    sums, products = {}, {}
    for m in items:
        sums[m.name] = np.array([found.total("sum", (m.name, i)) for i in range(size)])
        matrix = np.zeros((size, size))
        for i in range(size):
            for j in range(i, size):
                matrix[i, j] = matrix[j, i] = found.total("product", (m.name, i, j))
        products[m.name] = matrix
    return sums, products
