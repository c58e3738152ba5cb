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
from collections.abc import Sequence
from typing import Any

import ibis.expr.types as ir
import numpy as np
from numpy.typing import NDArray

from warehouse_causal.backends import QueryRunner
from warehouse_causal.errors import InvalidParameterError
from warehouse_causal.grouped import (
    ClusterMeat,
    Probe,
    check_null_keys,
    check_terms,
    clusters_per_arm,
    clusters_with_several_arms,
    non_finite_error,
    outer_of_cluster_sums,
)
from warehouse_causal.moments import (
    DISCRETE_MAX_DISTINCT,
    Auxiliary,
    Design,
    Moments,
    cell_keys,
    design_keys,
    indicator_product,
    key_aliases,
    key_exprs,
    shifted,
    weighted_sum,
)
from warehouse_causal.spec import ModelSpec

__all__ = [
    "MAX_CELLS",
    "cells_query",
    "check_cells",
    "cluster_meat_from_cells",
    "hc_meat_from_cells",
    "moments_from_cells",
    "plan",
]

#: Compression runs only when the cells are at most this many and at most a tenth of the rows.
MAX_CELLS = 100_000


def _numeric_covariates(spec: ModelSpec) -> list[Any]:
    return [c for c in spec.covariates if not c.categorical]


def cells_query(spec: ModelSpec, shifts: dict[str, float], cluster: str | None, limit: int) -> ir.Table:
    """GROUP BY the design keys, the raw numeric covariates (and the cluster) with the per-cell
    sums and NULL counts of the metrics; at most ``limit`` + 1 rows come back."""
    t, w = spec.experiment.table, spec.experiment.weight_expr()
    keys = key_exprs(design_keys(spec))
    # Raw values, cast in numpy: grouping by a small integer is far cheaper than by its double.
    keys.update({f"v_{j}": c.expr for j, c in enumerate(_numeric_covariates(spec))})
    if cluster is not None:
        keys["cluster"] = t[cluster]
    ys = [shifted(m.expr, shifts[m.label]) for m in spec.metrics]
    w2 = w * w if w is not None else None
    aggs: dict[str, ir.Value] = {"n": t.count(), "sw": weighted_sum(t, [w]), "sw2": weighted_sum(t, [w2])}
    for m, y in enumerate(ys):
        aggs[f"nulls_{m}"] = t.count() - spec.metrics[m].expr.count()
        aggs[f"sy_{m}"] = weighted_sum(t, [w, y])
        aggs[f"sy2_{m}"] = weighted_sum(t, [w2, y])
    for a, b in itertools.combinations_with_replacement(range(len(ys)), 2):
        aggs[f"syy_{a}_{b}"] = weighted_sum(t, [w, ys[a], ys[b]])
        aggs[f"syy2_{a}_{b}"] = weighted_sum(t, [w2, ys[a], ys[b]])
    return t.group_by(**keys).aggregate(**aggs).limit(limit + 1)


def check_cells(rows: list[dict[str, Any]], spec: ModelSpec, runner: QueryRunner) -> None:
    """NULL covariates (a NULL cell key), NaN/infinite numeric covariates, and NULL or
    NaN/infinite metrics are errors."""
    numeric = _numeric_covariates(spec)
    check_null_keys(rows, {
        **{alias: key for key, alias in key_aliases(design_keys(spec)).items()},
        **{f"v_{j}": c.label for j, c in enumerate(numeric)},
    })
    nobs = sum(int(r["n"]) for r in rows)
    for j, covariate in enumerate(numeric):
        if not np.isfinite(np.array([r[f"v_{j}"] for r in rows], dtype=float)).all():
            raise non_finite_error(spec, covariate, "covariate", nobs, runner)
    check_terms(rows, spec, runner, [
        (metric, "metric", f"nulls_{m}", f"syy_{m}_{m}") for m, metric in enumerate(spec.metrics)
    ])


def _design_labels(design: Design) -> tuple[str, ...]:
    return tuple(
        label for label in design.labels
        if label not in design.y and design.columns[label].expr is not None
    )


def _cell_arrays(rows: list[dict[str, Any]], design: Design) -> dict[str, NDArray[np.float64]]:
    """Each design column's value per cell (indicators of the keys × shifted numeric covariate),
    and the per-cell sums as ``#name``."""
    keys = cell_keys(rows, list(design.keys))
    numeric = design.numeric_covariates
    raw = {label: np.array([r[f"v_{j}"] for r in rows], dtype=float) for j, label in enumerate(numeric)}
    out: dict[str, NDArray[np.float64]] = {design.intercept: np.ones(len(rows))}
    for label in _design_labels(design):
        column = design.columns[label]
        value = indicator_product(keys, column, len(rows))
        if column.numeric is not None:
            value = value * (raw[column.numeric] - design.columns[column.numeric].shift)
        out[label] = value
    for key in rows[0]:
        if not key.startswith(("k_", "v_", "nulls_")) and key != "cluster":
            out[f"#{key}"] = np.array([r[key] for r in rows], dtype=float)
    return out


def moments_from_cells(rows: list[dict[str, Any]], design: Design) -> tuple[Moments, dict]:
    """The pass-1 moments, computed from cells; also returns the per-cell arrays for the meats."""
    cells = _cell_arrays(rows, design)
    labels = design.labels
    u = len(labels)
    m_index = {y: m for m, y in enumerate(design.y)}
    matrix = np.empty((u, u))
    sw = cells["#sw"]
    for i, j in itertools.combinations_with_replacement(range(u), 2):
        a, b = labels[i], labels[j]
        if a in m_index and b in m_index:
            lo, hi = sorted((m_index[a], m_index[b]))
            value = cells[f"#syy_{lo}_{hi}"].sum()
        elif b in m_index:
            value = (cells[a] * cells[f"#sy_{m_index[b]}"]).sum()
        elif a in m_index:
            value = (cells[b] * cells[f"#sy_{m_index[a]}"]).sum()
        else:
            value = (sw * cells[a] * cells[b]).sum()
        matrix[i, j] = matrix[j, i] = value
    moments = Moments(labels, matrix, int(cells["#n"].sum()), float(sw.sum()), float(cells["#sw2"].sum()))
    return moments, cells


def _fitted(cells: dict, design: Design, params: NDArray[np.float64]) -> NDArray[np.float64]:
    x = np.column_stack([cells[label] for label in design.x])
    return x @ params  # (cells, M)


def hc_meat_from_cells(
    cells: dict, design: Design, params: NDArray[np.float64],
    ztz_inv: NDArray[np.float64], power: int,
) -> NDArray[np.float64]:
    """Σ_i w² e_m e_l z z' / (1 − h)^power from cells (constant weights when power > 0)."""
    z = np.column_stack([cells[label] for label in design.z])
    yhat = _fitted(cells, design, params)
    n_metrics = len(design.y)
    kz = z.shape[1]
    factor = np.ones(z.shape[0])
    if power:
        h = np.einsum("ca,ab,cb->c", z, ztz_inv, z) * (cells["#sw"] / cells["#n"])
        factor = (1.0 - h) ** (-power)
    meat = np.empty((kz * n_metrics, kz * n_metrics))
    for a, b in itertools.product(range(n_metrics), repeat=2):
        lo, hi = sorted((a, b))
        r = (cells[f"#syy2_{lo}_{hi}"] - yhat[:, b] * cells[f"#sy2_{a}"]
             - yhat[:, a] * cells[f"#sy2_{b}"] + yhat[:, a] * yhat[:, b] * cells["#sw2"])
        meat[a * kz:(a + 1) * kz, b * kz:(b + 1) * kz] = (z * (r * factor)[:, None]).T @ z
    return (meat + meat.T) / 2.0


def _aux_residuals(cells: dict, equation: Auxiliary) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(regressors per cell, residual d − z'π per cell): both are constant within a cell."""
    z = np.column_stack([cells[label] for label in equation.regressors])
    return z, cells[equation.dependent] - z @ equation.coefs


def aux_hc_meats_from_cells(cells: dict, design: Design, aux: Sequence[Auxiliary],
                            ztz_inv: NDArray[np.float64], power: int) -> tuple[NDArray[np.float64], ...]:
    """Σ w² r² z z' of each auxiliary regression from cells (the fit's leverage when its regressors
    are all of Z)."""
    out = []
    for equation in aux:
        z, r = _aux_residuals(cells, equation)
        weight = cells["#sw2"] * r * r
        if power and equation.regressors == design.z:
            full = np.column_stack([cells[label] for label in design.z])
            h = np.einsum("ca,ab,cb->c", full, ztz_inv, full) * (cells["#sw"] / cells["#n"])
            weight = weight * (1.0 - h) ** (-power)
        out.append((z * weight[:, None]).T @ z)
    return tuple(out)


def cluster_meat_from_cells(
    rows: list[dict[str, Any]], cells: dict, design: Design, params: NDArray[np.float64],
    levels: Sequence[Any], aux: Sequence[Auxiliary] = (),
) -> ClusterMeat:
    """Σ_g s_g s_g' from (cell, cluster) sums, each auxiliary regression's own, the clusters with
    several arms and the clusters per instrument level (``levels`` in the design's order)."""
    _, cluster_index = np.unique(np.array([str(r["cluster"]) for r in rows]), return_inverse=True)
    n_clusters = int(cluster_index.max()) + 1
    z = np.column_stack([cells[label] for label in design.z])
    yhat = _fitted(cells, design, params)
    scores = (z[:, a] * (cells[f"#sy_{m}"] - yhat[:, m] * cells["#sw"])
              for m in range(len(design.y)) for a in range(z.shape[1]))
    # the arm of a cell is its pattern of instrument dummies: level 0 when none is set
    dummies = np.column_stack([cells[label] for label in design.instruments])
    arm = np.where(dummies.any(axis=1), 1 + dummies.argmax(axis=1), 0)
    mixed = clusters_with_several_arms(cluster_index, arm, n_clusters)
    per_arm = {levels[code]: n for code, n in clusters_per_arm(cluster_index, arm).items()}
    aux_meats = []
    for equation in aux:
        z_aux, r = _aux_residuals(cells, equation)
        aux_scores = (z_aux[:, a] * r * cells["#sw"] for a in range(z_aux.shape[1]))
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
