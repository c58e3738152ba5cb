"""One planner for a fit: which route the passes take, chosen in one place from the covariance, the
probe of the first rows, the validation's counts and the engine.

Routes (see README "How it runs"):

- ``compressed``: one lossless GROUP BY over the distinct design rows replaces both passes, when every
  covariate is discrete and the cells are few (at most ``compression.MAX_CELLS`` and a tenth of the
  rows). The cells query stops at its limit; more cells fall back to the grouped passes.
- ``grouped``: pass 1 grouped by design cell, then the homoskedastic σ² (iid) or the HC meat in pass 2.
- ``one-pass CR``: pass 1 grouped by (cluster, cell) gives the cluster scores too, when the residuals'
  work per row exceeds pass 1's products and the (cluster, cell) rows are few enough (falls back to
  the grouped pass 1 when the query finds more rows than its limit).
- ``CR by cells``: pass 2 returns per-(cluster, cell) score sums and numpy sums each cluster's run.
- ``nested CR``: pass 2 forms Σ_g s_g s_g′ in the warehouse (one nested aggregate), when the
  (cluster, cell) rows are too many to come back.

:func:`plan_fit` decides everything that can be decided before pass 1; the one choice that needs pass
1's cells (CR by cells or nested) is :meth:`FitPlan.clustered_route`, a rule of the same plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.fit import compression, grouped
from warehouse_causal.fit.moments import Auxiliary, Design
from warehouse_causal.meaning.covariance import Covariance
from warehouse_causal.warehouse.backends import backend_name

__all__ = ["FitPlan", "Route", "plan_fit"]


class Route(str, Enum):
    COMPRESSED = "compressed"
    GROUPED = "grouped"
    ONE_PASS_CR = "one-pass CR"
    CR_BY_CELLS = "CR by cells"
    NESTED_CR = "nested CR"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class FitPlan:
    """What the passes will do: ``covariance``; ``compressed_limit`` (try the compressed route with
    that row limit, None: do not), ``compressed_required`` (``strategy='compressed'``: more cells is an
    error, not a fall-back); ``one_pass_limit`` (clustered pass 1 by (cluster, cell) with that row
    limit, None: two passes); ``reason`` (why compression is or is not tried); ``backend``."""

    covariance: Covariance
    compressed_limit: int | None
    compressed_required: bool
    one_pass_limit: int | None
    reason: str
    backend: str
    cluster_count_bound: int | None

    @property
    def first_route(self) -> Route:
        """The route tried first."""
        if self.compressed_limit is not None:
            return Route.COMPRESSED
        if self.one_pass_limit is not None:
            return Route.ONE_PASS_CR
        return Route.GROUPED

    def clustered_route(self, n_cells: int, design: Design, aux: Sequence[Auxiliary]) -> Route:
        """After a grouped pass 1: per-(cluster, cell) rows back to numpy when they are few enough,
        else the nested aggregate in the warehouse."""
        if grouped.cluster_cells_fit(self.cluster_count_bound, n_cells, design, aux, self.backend):
            return Route.CR_BY_CELLS
        return Route.NESTED_CR


def plan_fit(spec: ModelSpec, probe: grouped.Probe, covariance: Covariance, strategy: str,
             interacted: bool) -> FitPlan:
    """The plan of a fit of ``spec`` (see the module docstring for the routes and their rules)."""
    exp = spec.experiment
    backend = backend_name(exp.table)
    bound = exp.design.cluster_count_bound if covariance.clustered else None
    weighted_leverage = exp.weight_expr() is not None and covariance.needs_leverage
    attempt, reason, limit = compression.plan(strategy, probe, len(exp.design.cells), bound,
                                              exp.design.nobs, weighted_leverage)
    one_pass = None  # also the route after a compressed attempt that finds too many cells
    if covariance.clustered:
        one_pass = grouped.one_pass_cluster_limit(spec, probe, exp.design.cluster_count_bound, backend,
                                                  interacted)
    return FitPlan(covariance, limit if attempt else None, strategy == "compressed", one_pass, reason,
                   backend, exp.design.cluster_count_bound)
