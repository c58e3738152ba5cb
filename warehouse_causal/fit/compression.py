r"""Lossless compression: when every regressor and instrument is discrete, GROUP BY the distinct
design rows (cells) once and compute every moment and meat from per-cell sums.

Notes
-----
For a cell c with design row :math:`x_c, z_c` the query returns :math:`n_c`, :math:`\sum w`,
:math:`\sum w^2`, :math:`\sum w y_m`, :math:`\sum w^2 y_m`, :math:`\sum w y_m y_l` and
:math:`\sum w^2 y_m y_l`. With :math:`\hat y_{cm} = x_c'\beta_m`:

.. math::

    \sum_{i\in c} w_i^2 e_{im} e_{il} = \textstyle\sum w^2 y_m y_l - \hat y_{cl}\sum w^2 y_m
        - \hat y_{cm}\sum w^2 y_l + \hat y_{cm}\hat y_{cl}\sum w^2

and, per (cell, cluster), :math:`\sum w e_m = \sum w y_m - \hat y_{cm}\sum w`. This is exact
(Wong et al. 2021, "You Only Compress Once", arXiv:2102.11297); HC2/HC3 need a leverage constant
within the cell, so they compress only without weights.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
from numpy.typing import NDArray

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.fit.grouped import (
    ClusterMeat,
    Probe,
    TermSums,
    check_null_keys,
    check_terms,
    clusters_per_arm,
    clusters_with_several_arms,
    non_finite_error,
    outer_of_cluster_sums,
)
from warehouse_causal.fit.moments import (
    CLUSTER,
    DISCRETE_MAX_DISTINCT,
    Auxiliary,
    Design,
    Moments,
    design_keys,
    indicator_product,
    weighted_sum,
)
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import KEY, Columns, Named, Sums
from warehouse_causal.warehouse.shifts import shifted

__all__ = [
    "MAX_CELLS",
    "CompressedCells",
    "cells_query",
    "check_cells",
    "cluster_meat_from_cells",
    "hc_meat_from_cells",
    "metric_sums",
    "moments_from_cells",
    "plan",
]

#: Compression runs only when the cells are at most this many and at most a tenth of the rows.
MAX_CELLS = 100_000


def _numeric_covariates(spec: ModelSpec) -> list[Any]:
    return [c for c in spec.covariates if not c.categorical]


def _covariate_key(j: int) -> tuple[str, int]:
    """The group key of the raw numeric covariate j (design keys are labels: strings)."""
    return ("covariate", j)


def cells_query(spec: ModelSpec, shifts: dict[str, float], cluster: str | None, limit: int) -> Named:
    """GROUP BY the design keys, the raw numeric covariates (and the cluster) with the per-cell
    sums and NULL counts of the metrics; at most ``limit`` + 1 rows come back.

    Blocks: ``rows`` n, ``weight`` Σw, ``weightsquared`` Σw², per metric m ``nulls``, ``y`` Σw·y_m,
    ``wy`` Σw²·y_m, and per pair m ≤ l ``yy`` Σw·y_m·y_l and ``wyy`` Σw²·y_m·y_l."""
    t, w = spec.experiment.table, spec.experiment.weight_expr()
    keys: dict[Any, ir.Value] = dict(design_keys(spec))
    # Raw values, cast in numpy: grouping by a small integer is far cheaper than by its double.
    keys.update({_covariate_key(j): c.expr for j, c in enumerate(_numeric_covariates(spec))})
    if cluster is not None:
        keys[CLUSTER] = t[cluster]
    ys = [shifted(m.expr, shifts[m.label]) for m in spec.metrics]
    w2 = w * w if w is not None else None
    aggs = Columns()
    aggs.add("rows", None, t.count())
    aggs.add("weight", None, weighted_sum(t, [w]))
    aggs.add("weightsquared", None, weighted_sum(t, [w2]))
    aggs.update("nulls", {m: t.count() - metric.expr.count() for m, metric in enumerate(spec.metrics)})
    aggs.update("y", {m: weighted_sum(t, [w, y]) for m, y in enumerate(ys)})
    aggs.update("wy", {m: weighted_sum(t, [w2, y]) for m, y in enumerate(ys)})
    pairs = list(itertools.combinations_with_replacement(range(len(ys)), 2))
    aggs.update("yy", {(a, b): weighted_sum(t, [w, ys[a], ys[b]]) for a, b in pairs})
    aggs.update("wyy", {(a, b): weighted_sum(t, [w2, ys[a], ys[b]]) for a, b in pairs})
    return aggs.aggregate(t, by=keys).limit(limit + 1)


def metric_sums(found: Sums, n_metrics: int) -> TermSums:
    """Σw and each metric's (Σw·y, Σw·y²) over the cells: for re-centring and the constant check."""
    return TermSums(found.total("weight"), [(found.total("y", m), found.total("yy", (m, m)))
                                            for m in range(n_metrics)])


def check_cells(found: Sums, spec: ModelSpec, runner: QueryRunner) -> None:
    """NULL covariates (a NULL cell key), NaN/infinite numeric covariates, and NULL or
    NaN/infinite metrics are errors."""
    numeric = _numeric_covariates(spec)
    check_null_keys(found, {
        **{key: key for key in design_keys(spec)},
        **{_covariate_key(j): c.label for j, c in enumerate(numeric)},
    })
    nobs = int(found.total("rows"))
    for j, covariate in enumerate(numeric):
        if not np.isfinite(np.array(found.values(KEY, _covariate_key(j)), dtype=float)).all():
            raise non_finite_error(spec, covariate, "covariate", nobs, runner)
    check_terms(nobs, spec, runner, [
        (metric, "metric", found.total("nulls", m), found.total("yy", (m, m)))
        for m, metric in enumerate(spec.metrics)
    ])


def _design_labels(design: Design) -> tuple[str, ...]:
    return tuple(
        label for label in design.labels
        if label not in design.y and design.columns[label].expr is not None
    )


@dataclass(frozen=True, eq=False)
class CompressedCells:
    """Per cell: each design column's value (indicators of the keys × shifted numeric covariate)
    and the sums of :func:`cells_query`; the cluster of each cell when clustered."""

    values: Mapping[str, NDArray[np.float64]]
    sums: Sums

    def __getitem__(self, label: str) -> NDArray[np.float64]:
        return self.values[label]


def _cell_arrays(found: Sums, design: Design, numeric_covariates: Sequence[str]) -> CompressedCells:
    keys = found.keys()
    raw = {label: np.array(found.values(KEY, _covariate_key(j)), dtype=float)
           for j, label in enumerate(numeric_covariates)}
    out: dict[str, NDArray[np.float64]] = {design.intercept: np.ones(found.n_cells)}
    for label in _design_labels(design):
        column = design.columns[label]
        value = indicator_product(keys, column, found.n_cells)
        if column.numeric is not None:
            value = value * (raw[column.numeric] - design.columns[column.numeric].shift)
        out[label] = value
    return CompressedCells(out, found)


def moments_from_cells(found: Sums, design: Design, spec: ModelSpec) -> tuple[Moments, CompressedCells]:
    """The pass-1 moments, computed from cells; also returns the per-cell arrays for the meats."""
    cells = _cell_arrays(found, design, [c.label for c in _numeric_covariates(spec)])
    labels = design.labels
    u = len(labels)
    m_index = {y: m for m, y in enumerate(design.y)}
    matrix = np.empty((u, u))
    sw = found.column("weight")
    for i, j in itertools.combinations_with_replacement(range(u), 2):
        a, b = labels[i], labels[j]
        if a in m_index and b in m_index:
            value = found.total("yy", tuple(sorted((m_index[a], m_index[b]))))
        elif b in m_index:
            value = (cells[a] * found.column("y", m_index[b])).sum()
        elif a in m_index:
            value = (cells[b] * found.column("y", m_index[a])).sum()
        else:
            value = (sw * cells[a] * cells[b]).sum()
        matrix[i, j] = matrix[j, i] = value
    moments = Moments(labels, matrix, int(found.total("rows")), float(sw.sum()), found.total("weightsquared"))
    return moments, cells


def _fitted(cells: CompressedCells, design: Design, params: NDArray[np.float64]) -> NDArray[np.float64]:
    x = np.column_stack([cells[label] for label in design.x])
    return x @ params  # (cells, M)


def hc_meat_from_cells(
    cells: CompressedCells, design: Design, params: NDArray[np.float64],
    ztz_inv: NDArray[np.float64], power: int,
) -> NDArray[np.float64]:
    """Σ_i w² e_m e_l z z' / (1 − h)^power from cells (constant weights when power > 0)."""
    z = np.column_stack([cells[label] for label in design.z])
    yhat = _fitted(cells, design, params)
    n_metrics = len(design.y)
    kz = z.shape[1]
    factor = np.ones(z.shape[0])
    if power:
        h = np.einsum("ca,ab,cb->c", z, ztz_inv, z) * _mean_weight(cells.sums)
        factor = (1.0 - h) ** (-power)
    meat = np.empty((kz * n_metrics, kz * n_metrics))
    for a, b in itertools.product(range(n_metrics), repeat=2):
        lo, hi = sorted((a, b))
        found = cells.sums
        r = (found.column("wyy", (lo, hi)) - yhat[:, b] * found.column("wy", a)
             - yhat[:, a] * found.column("wy", b) + yhat[:, a] * yhat[:, b] * found.column("weightsquared"))
        meat[a * kz:(a + 1) * kz, b * kz:(b + 1) * kz] = (z * (r * factor)[:, None]).T @ z
    return (meat + meat.T) / 2.0


def _mean_weight(found: Sums) -> NDArray[np.float64]:
    """Σw / n per cell: the weight of every row of the cell (leverage needs it constant)."""
    return found.column("weight") / found.column("rows")


def _aux_residuals(cells: CompressedCells, equation: Auxiliary
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(regressors per cell, residual d − z'π per cell): both are constant within a cell."""
    z = np.column_stack([cells[label] for label in equation.regressors])
    return z, cells[equation.dependent] - z @ equation.coefs


def aux_hc_meats_from_cells(cells: CompressedCells, design: Design, aux: Sequence[Auxiliary],
                            ztz_inv: NDArray[np.float64], power: int) -> tuple[NDArray[np.float64], ...]:
    """Σ w² r² z z' of each auxiliary regression from cells (the fit's leverage when its regressors
    are all of Z)."""
    out = []
    for equation in aux:
        z, r = _aux_residuals(cells, equation)
        weight = cells.sums.column("weightsquared") * r * r
        if power and equation.regressors == design.z:
            full = np.column_stack([cells[label] for label in design.z])
            h = np.einsum("ca,ab,cb->c", full, ztz_inv, full) * _mean_weight(cells.sums)
            weight = weight * (1.0 - h) ** (-power)
        out.append((z * weight[:, None]).T @ z)
    return tuple(out)


def cluster_meat_from_cells(
    cells: CompressedCells, design: Design, params: NDArray[np.float64],
    levels: Sequence[Any], aux: Sequence[Auxiliary] = (),
) -> ClusterMeat:
    """Σ_g s_g s_g' from (cell, cluster) sums, each auxiliary regression's own, the clusters with
    several arms and the clusters per instrument level (``levels`` in the design's order)."""
    found = cells.sums
    _, cluster_index = np.unique(np.array([str(c) for c in found.values(KEY, CLUSTER)]), return_inverse=True)
    n_clusters = int(cluster_index.max()) + 1
    z = np.column_stack([cells[label] for label in design.z])
    yhat = _fitted(cells, design, params)
    scores = (z[:, a] * (found.column("y", m) - yhat[:, m] * found.column("weight"))
              for m in range(len(design.y)) for a in range(z.shape[1]))
    # the arm of a cell is its pattern of instrument dummies: level 0 when none is set
    dummies = np.column_stack([cells[label] for label in design.instruments])
    arm = np.where(dummies.any(axis=1), 1 + dummies.argmax(axis=1), 0)
    mixed = clusters_with_several_arms(cluster_index, arm, n_clusters)
    per_arm = {levels[code]: n for code, n in clusters_per_arm(cluster_index, arm).items()}
    aux_meats = []
    for equation in aux:
        z_aux, r = _aux_residuals(cells, equation)
        aux_scores = (z_aux[:, a] * r * found.column("weight") for a in range(z_aux.shape[1]))
        aux_meats.append(outer_of_cluster_sums(aux_scores, cluster_index, n_clusters))
    meat = outer_of_cluster_sums(scores, cluster_index, n_clusters)
    return ClusterMeat(meat, n_clusters, mixed, per_arm, tuple(aux_meats))


def plan(requested: str, found: Probe, design_cells: int, cluster_bound: int | None, nobs: int,
         weighted_leverage: bool) -> tuple[bool, str, int]:
    """Whether to try compression: (try it, reason, row limit of the cells query).

    Compression needs every covariate discrete (no numeric covariate with more than
    DISCRETE_MAX_DISTINCT values in the probe) and pays when the cells — design cells (or clusters)
    × the distinct values of each covariate — are at most ``MAX_CELLS`` and a tenth of the rows. The
    probe's counts are an estimate; the cells query stops at the limit, and a fit that finds more
    cells falls back to the grouped passes.
    """
    continuous = [label for label, d in found.distinct.items() if d > DISCRETE_MAX_DISTINCT]
    if continuous:
        possible, why = False, (f"covariate {continuous[0]!r} is continuous (over "
                                f"{DISCRETE_MAX_DISTINCT} distinct values in the first rows)")
    elif weighted_leverage:
        possible, why = False, "HC2/HC3 leverage varies with the weights inside a cell"
    else:
        possible, why = True, ""
    if requested == "moments":
        return False, "requested", 0
    if requested == "compressed":
        if not possible:
            raise InvalidParameterError(
                f"strategy='compressed' is not possible here: {why}. Use 'moments' or 'auto'."
            )
        return True, "requested", MAX_CELLS
    if not possible:
        return False, why, 0
    limit = min(MAX_CELLS, nobs // 10)
    estimate = (cluster_bound if cluster_bound is not None else design_cells)
    for count in [*found.distinct.values(), *found.levels.values()]:
        estimate *= max(count, 1)
    if estimate > limit:
        return False, f"about {estimate} cells is too many for {nobs} rows", 0
    return True, f"at most {limit} cells for {nobs} rows", limit
