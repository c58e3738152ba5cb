r"""Pass orchestration of a fit: the strategy (compressed cells or grouped passes), the probe, pass 1,
the 2SLS solve, pass 2 (HC, or CR from (cluster, cell) rows or one nested aggregate) and the
covariance they give. :class:`~warehouse_causal.fit.models.LinearModel` is the result built from it.

Flow: probe (shifts) → pass 1 (cross products grouped by design cell; or, when every covariate is
discrete, one compressed cells query that replaces both passes) → 2SLS in numpy for every metric at
once → pass 2 (sandwich meat with β inlined, grouped by design cell, with the diagnostics' side
regressions) → the joint covariance, re-parametrised to covariates centred at their weighted mean.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra import (
    IVSolution,
    collinear_sets,
    condition_number,
    iid_covariance,
    residual_cross_products,
    sandwich,
    two_stage_least_squares,
)
from warehouse_causal.algebra.linalg import solve_spd
from warehouse_causal.core.errors import (
    CollinearityError,
    DesignError,
    InvalidParameterError,
    PrecisionWarning,
)
from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.fit import compression, grouped
from warehouse_causal.fit.diagnostics import diagnostic_regressions
from warehouse_causal.fit.moments import (
    Auxiliary,
    Design,
    Moments,
    Prepared,
    layout_design,
    leverage_expr,
)
from warehouse_causal.fit.route import FitPlan, Route, plan_fit
from warehouse_causal.meaning.covariance import Covariance
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import Named, Sums

__all__ = ["CONDITION_WARNING", "Passes", "centred_covariance", "hc_meat", "run_passes", "solve"]

#: Warn when the equilibrated X'WX is this ill-conditioned (digits lost ≈ log10 of it).
CONDITION_WARNING = 1e10


def _check_rank(gram: NDArray[np.float64], labels: tuple[str, ...], what: str) -> None:
    sets = collinear_sets(gram)
    if not sets:
        return
    names = [labels[i] for i in sets[0]]
    if len(names) == 1:
        message = (f"The {what} term {names[0]!r} has no variation (an empty level, or a column "
                   "that is constant); drop it.")
    else:
        message = (f"The {what} terms {names} are linearly dependent (collinear); drop one of them. "
                   "A constant covariate, or one that is a sum of others, causes this.")
    raise CollinearityError(message, names)


def solve(design: Design, moments: Moments) -> tuple[IVSolution, NDArray[np.float64]]:
    xtx = moments.block(design.x, design.x)
    ztz = moments.block(design.z, design.z)
    _check_rank(xtx, design.x, "regressor")
    _check_rank(ztz, design.z, "instrument")
    ztx = moments.block(design.z, design.x)
    a = ztx.T @ solve_spd(ztz, ztx)
    _check_rank((a + a.T) / 2.0, design.x, "instrumented regressor")
    cond = condition_number(xtx)
    if cond > CONDITION_WARNING:
        warnings.warn(
            f"X'WX is ill-conditioned (condition number {cond:.1e} after scaling); estimates may "
            "have lost digits. Rescale or drop near-collinear covariates.",
            PrecisionWarning, stacklevel=5,
        )
    return two_stage_least_squares(ztz, ztx, moments.block(design.z, design.y)), ztz


@dataclass(frozen=True)
class Passes:
    """What the warehouse passes produced: moments, the solution, the meat and the queries."""

    moments: Moments
    solution: IVSolution
    meat: NDArray[np.float64] | None
    n_clusters: int | None
    mixed_clusters: int
    queries: dict[str, Any]
    cross_metric: bool = True
    clusters_per_arm: dict[Any, int] | None = None  # assignment level -> clusters holding it
    aux: tuple[Auxiliary, ...] = ()  # the diagnostics' side regressions, summed in pass 2
    aux_meats: tuple[NDArray[np.float64], ...] = ()  # their meats, in the same order

    @classmethod
    def clustered(cls, moments: Moments, solution: IVSolution, found: grouped.ClusterMeat,
                  queries: dict[str, Any], aux: tuple[Auxiliary, ...]) -> Passes:
        return cls(moments, solution, found.meat, found.n_clusters, found.mixed, queries,
                   clusters_per_arm=found.per_arm, aux=aux, aux_meats=found.aux)


def _run_grouped(spec: ModelSpec, found: grouped.Probe, interacted: bool, runner: QueryRunner,
                 plan: FitPlan) -> tuple[Design, Passes, Route]:
    """Pass 1 grouped by the design cells, the 2SLS solve, then pass 2 (see :mod:`grouped`) by the
    route of ``plan``: the one-pass CR route when it has a row limit and the (cluster, cell) rows stay
    within it (:func:`grouped.cluster_meat_from_products`), else two passes."""
    exp, cov = spec.experiment, plan.covariance
    first = None
    if plan.one_pass_limit is not None:
        first = grouped.grouped_moments(spec, found.shifts, runner, cov.cluster, plan.one_pass_limit)
    if first is None:
        first = grouped.grouped_moments(spec, found.shifts, runner)
        assert first is not None
    cells, prepared, p1, cluster_rows = first
    design = layout_design(spec, prepared, interacted)
    _check_identified(design)
    moments = grouped.read_moments(cells, spec, design)
    solution, ztz = solve(design, moments)
    queries: dict[str, Any] = {"pass1": p1}
    if cov.homoskedastic:
        return design, Passes(moments, solution, None, None, 0, queries), Route.GROUPED
    aux = diagnostic_regressions(design, moments)
    if cov.cluster is not None and cluster_rows is not None:
        clustered = grouped.cluster_meat_from_products(cluster_rows, spec, design, solution.params,
                                                       exp.intent_to_treat, exp.design.arms, aux)
        return design, Passes.clustered(moments, solution, clustered, queries, aux), Route.ONE_PASS_CR
    if cov.cluster is not None:
        assignment, levels = exp.intent_to_treat, exp.design.arms
        route = plan.clustered_route(cells.n_cells, design, aux)
        if route is Route.CR_BY_CELLS:
            p2 = grouped.cluster_cells_query(design, solution.params, cov.cluster, assignment, aux,
                                             ordered=True)
            queries["pass2"] = p2.table
            sums = p2.run(runner, "pass 2: cluster scores by design cell", sort=False)
            clustered = grouped.cluster_meat_from_cells(sums, design, assignment, levels, aux)
        else:
            p2 = grouped.cluster_meat_query(design, solution.params, cov.cluster, assignment, levels, aux)
            queries["pass2"] = p2.table
            clustered = grouped.read_cluster_meat(p2.run(runner, "pass 2: cluster scores by design cell"),
                                                  design, levels, aux)
        return design, Passes.clustered(moments, solution, clustered, queries, aux), route
    # The cross-metric blocks are M(M+1)/2 − M of the per-row sums: the model computes them on
    # first use (LinearModel.cov), so the fit is linear in the number of metrics.
    cross_metric = len(design.y) == 1
    pairs = grouped.metric_pairs(len(design.y), cross_metric)
    p2, meat, aux_meats = hc_meat(design, solution, ztz, cov, pairs, runner,
                                   "pass 2: HC scores by design cell", aux)
    queries["pass2"] = p2
    return design, Passes(moments, solution, meat, None, 0, queries, cross_metric, aux=aux,
                           aux_meats=aux_meats), Route.GROUPED


def hc_meat(design: Design, solution: IVSolution, ztz: NDArray[np.float64], covariance: Covariance,
             pairs: list[tuple[int, int]], runner: QueryRunner, purpose: str,
             aux: tuple[Auxiliary, ...] = ()) -> tuple[Any, NDArray[np.float64], tuple[NDArray, ...]]:
    """The HC pass for the metric ``pairs`` and the side regressions ``aux``: its query, the meat
    (other blocks 0) and each side regression's meat."""
    power = covariance.meat_leverage_power
    factor = None
    if power:
        ztz_inv = solve_spd(ztz, np.eye(len(design.z)))
        factor = 1.0 / (1.0 - leverage_expr(design, ztz_inv)) ** power
    query = grouped.hc_meat_query(design, solution.params, factor, pairs, aux)
    found = query.run(runner, purpose)
    return (query.table, grouped.read_hc_meat(found, design, pairs),
            grouped.read_aux_hc_meats(found, design, aux))


def _check_identified(design: Design) -> None:
    if len(design.instruments) < len(design.treatment):
        raise DesignError(
            f"Under-identified: {len(design.instruments)} instrument arm(s) for "
            f"{len(design.treatment)} treated arm(s); each treated arm needs an instrument arm."
        )


def _run_compressed(spec: ModelSpec, found: Sums, query: Any, shifts: dict[str, float],
                    interacted: bool, covariance: Covariance) -> tuple[Design, Passes]:
    """Moments and meats from the rows of the compressed cells query (one scan in all), checked by
    :func:`compression.check_cells`."""
    prepared = Prepared(dict(shifts), grouped.levels_from_cells(found, spec), int(found.total("rows")))
    design = layout_design(spec, prepared, interacted)
    _check_identified(design)
    moments, cells = compression.moments_from_cells(found, design, spec)
    solution, ztz = solve(design, moments)
    queries: dict[str, Any] = {"cells": query}
    if covariance.homoskedastic:
        return design, Passes(moments, solution, None, None, 0, queries)
    aux = diagnostic_regressions(design, moments)
    if covariance.clustered:
        levels = spec.experiment.design.instrument_levels
        clustered = compression.cluster_meat_from_cells(cells, design, solution.params, levels, aux)
        return design, Passes.clustered(moments, solution, clustered, queries, aux)
    ztz_inv = solve_spd(ztz, np.eye(len(design.z)))
    power = covariance.meat_leverage_power
    meat = compression.hc_meat_from_cells(cells, design, solution.params, ztz_inv, power)
    aux_meats = compression.aux_hc_meats_from_cells(cells, design, aux, ztz_inv, power)
    return design, Passes(moments, solution, meat, None, 0, queries, aux=aux, aux_meats=aux_meats)


def _recentred_cells(spec: ModelSpec, found: Sums, query: Named, shifts: dict[str, float | int],
                     cluster: str | None, limit: int, runner: QueryRunner
                     ) -> tuple[Sums, Named, dict[str, float | int]]:
    """The compressed cells, queried once more around better metric shifts when their sums cancel
    catastrophically (see :func:`grouped.recentred_shifts`); constant metrics are refused."""
    n_metrics = len(spec.metrics)
    better = grouped.recentred_shifts(compression.metric_sums(found, n_metrics), spec.metrics, shifts)
    if better:
        shifts = {**shifts, **better}
        query = compression.cells_query(spec, shifts, cluster, limit)
        found = query.run(runner, "compressed cells (re-centred)")
        compression.check_cells(found, spec, runner)
        still = grouped.recentred_shifts(compression.metric_sums(found, n_metrics), spec.metrics, shifts)
        if still:
            grouped.warn_precision(still)
    constant = grouped.constant_metric_error(compression.metric_sums(found, n_metrics), spec.metrics)
    if constant is not None:
        raise constant
    return found, query, shifts


def run_passes(spec: ModelSpec, runner: QueryRunner, interacted: bool, strategy: str,
                covariance: Covariance) -> tuple[Design, Passes, FitPlan, Route, str]:
    """Probe the first rows, plan the fit (:func:`~warehouse_causal.fit.route.plan_fit`) and run the
    passes of its route: one compressed cells query (it stops at its row limit, and the fit falls
    back to the grouped passes when the cells are too many) or the grouped passes. Returns the
    design, the passes, the plan, the route taken and why."""
    exp = spec.experiment
    found = grouped.probe(spec, runner)
    plan = plan_fit(spec, found, covariance, strategy, interacted)
    reason = plan.reason
    if plan.compressed_limit is not None:
        limit, cluster = plan.compressed_limit, covariance.cluster
        shifts = found.shifts
        query = compression.cells_query(spec, shifts, cluster, limit)
        cells = query.run(runner, "compressed cells")
        if not cells.n_cells:
            raise DesignError("The experiment table is empty.")
        if cells.n_cells <= limit:
            compression.check_cells(cells, spec, runner)
            cells, query, shifts = _recentred_cells(spec, cells, query, shifts, cluster, limit, runner)
            design, passes = _run_compressed(spec, cells, query.table, shifts, interacted, covariance)
            return (design, passes, plan, Route.COMPRESSED,
                    f"{cells.n_cells} cells for {exp.design.nobs} rows")
        if plan.compressed_required:
            raise InvalidParameterError(
                f"strategy='compressed' found more than {limit} cells; use 'moments' or 'auto'."
            )
        reason = f"more than {limit} cells for {exp.design.nobs} rows"
    design, passes, route = _run_grouped(spec, found, interacted, runner, plan)
    return design, passes, plan, route, reason


def _basis_covariance(design: Design, passes: Passes, covariance: Covariance) -> NDArray[np.float64]:
    n, k = passes.moments.nobs, len(design.x)
    solution = passes.solution
    if covariance.homoskedastic:
        m = passes.moments
        resid = residual_cross_products(
            solution.params, m.block(design.x, design.x), m.block(design.x, design.y),
            m.block(design.y, design.y),
        )
        return iid_covariance(solution.a_inv, resid, n - k)
    assert passes.meat is not None
    scale = covariance.factor(n, k, passes.n_clusters)
    return sandwich(solution.projection, passes.meat, scale)


def centred_covariance(design: Design, passes: Passes, covariance: Covariance,
                        t: NDArray[np.float64]) -> NDArray[np.float64]:
    """The joint covariance of every metric's coefficients, re-parametrised by ``t`` (centred
    covariates), symmetrised."""
    lift = np.kron(np.eye(len(design.y)), t)
    cov = lift @ _basis_covariance(design, passes, covariance) @ lift.T
    return (cov + cov.T) / 2.0
