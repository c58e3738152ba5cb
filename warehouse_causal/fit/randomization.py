r"""Inference that stays valid with few clusters: when to distrust CR1, and randomization inference
from one per-cluster query.

Cluster-robust (CR1) intervals need many clusters in every arm. Below ``FEW_CLUSTERS`` clusters in
all, or ``FEW_CLUSTERS_PER_ARM`` in some arm, they under-cover (Cameron and Miller 2015, §VI;
MacKinnon and Webb 2017: with few treated clusters CR1 rejects a true null far more often than α).
With fewer than ``MIN_CLUSTERS_PER_ARM`` in an arm they are degenerate (one cluster per arm gives
se ≈ 0). Then the fit switches, by default, to randomization inference of the arm effects
(:mod:`warehouse_causal.algebra.randomization`): one ``GROUP BY cluster`` returns, per cluster,
:math:`\sum w u u'` over u = [1, covariates], :math:`\sum w u y` per metric and, with an
instrument, :math:`\sum w u D`, plus the assignment's range (G·k² numbers, never rows); numpy
re-draws the assignment of the clusters.

It needs the assignment to be constant within clusters (the clusters were randomized) and a design
without propensities (an adaptive design's assignment is not a complete randomization of clusters).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.randomization import (
    ClusterMoments,
    assignment_coefficient,
    assignment_draws,
    randomization_interval,
    randomization_p_value,
)
from warehouse_causal.core.errors import DesignError, DesignWarning
from warehouse_causal.fit.moments import Design, weighted_sum
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import CLUSTER, Columns, Named, Sums

if TYPE_CHECKING:
    from warehouse_causal.design.spec import ModelSpec

__all__ = [
    "FEW_CLUSTERS",
    "FEW_CLUSTERS_PER_ARM",
    "MAX_CLUSTERS",
    "MIN_CLUSTERS_PER_ARM",
    "UNRELIABLE",
    "RandomizationInference",
    "RandomizationRow",
    "choose_inference",
    "few_clusters",
    "randomization_inference",
    "why_not_randomization",
]

#: CR1 is trusted with at least this many clusters in all ...
FEW_CLUSTERS = 50
#: ... and at least this many in every assignment arm.
FEW_CLUSTERS_PER_ARM = 10
#: Below this many clusters in an arm, CR1 is degenerate: classical inference is refused.
MIN_CLUSTERS_PER_ARM = 2
#: Randomization inference returns one row per cluster: at most this many clusters.
MAX_CLUSTERS = 5_000


def few_clusters(n_clusters: int, per_arm: dict[Any, int]) -> bool:
    """Whether CR1 intervals cannot be trusted: few clusters in all, or in some arm."""
    return n_clusters < FEW_CLUSTERS or min(per_arm.values()) < FEW_CLUSTERS_PER_ARM


def why_not_randomization(spec: ModelSpec, design: Design, n_clusters: int, mixed: int) -> str | None:
    """The reason randomization inference cannot run on this design, or None when it can."""
    exp = spec.experiment
    if exp.cluster_by is None:
        return "it re-randomizes clusters, and the design has no cluster_by"
    if exp.propensity is not None:
        return "an adaptive design (propensity) is not a complete randomization of clusters"
    if mixed:
        return f"{mixed} cluster(s) hold more than one assignment arm, so clusters were not randomized"
    if n_clusters > MAX_CLUSTERS:
        return f"it returns one row per cluster and there are {n_clusters:,} (more than {MAX_CLUSTERS:,})"
    if exp.is_iv and (len(design.treatment) != 1 or len(design.instruments) != 1):
        return "with an instrument it tests one treated arm against one instrument arm"
    return None


@dataclass(frozen=True)
class RandomizationRow:
    """Randomization inference of one arm's effect on one metric ("all" segment)."""

    metric: str
    arm: str
    estimate: float
    p_value: float
    ci_lower: float
    ci_upper: float
    draws: int
    exact: bool
    clusters: int


def _value(design: Design, label: str) -> ir.Value | None:
    return design.columns[label].value()


def cluster_moments_query(design: Design, cluster: str, assignment: str) -> Named:
    """GROUP BY cluster: Σw·u_a·u_b over u = [1, covariates, treated dummies, metrics] (upper
    triangle, covariate and treated rows only, as the statistics need: ``gram`` (i, j) over
    [1, covariates], ``cross`` (i, j) with the treated dummies and metrics) and the assignment's
    range (``lowest``, ``highest``), ordered by cluster (the draws must not depend on GROUP BY order)."""
    t, w = design.table, design.weight
    covariates = [None, *(_value(design, c) for c in design.covariates)]
    others = [*(_value(design, d) for d in design.treatment), *(_value(design, y) for y in design.y)]
    aggs = Columns()
    aggs.add("rows", None, t.count())
    aggs.add("lowest", None, t[assignment].min())
    aggs.add("highest", None, t[assignment].max())
    aggs.update("gram", {(i, j): weighted_sum(t, [w, covariates[i], covariates[j]])
                         for i, j in itertools.combinations_with_replacement(range(len(covariates)), 2)})
    aggs.update("cross", {(i, j): weighted_sum(t, [w, covariates[i], others[j]])
                          for i, j in itertools.product(range(len(covariates)), range(len(others)))})
    return aggs.aggregate(t, by={CLUSTER: t[cluster]}).ordered()


def _arrays(found: Sums, design: Design) -> tuple[NDArray, NDArray]:
    """(G, k0, k0) Gram of [1, covariates] and (G, k0, q + M) cross sums, per cluster."""
    k0 = 1 + len(design.covariates)
    n_other = len(design.treatment) + len(design.y)
    size = found.n_cells
    gram = np.empty((size, k0, k0))
    for i, j in itertools.combinations_with_replacement(range(k0), 2):
        gram[:, i, j] = gram[:, j, i] = found.column("gram", (i, j))
    cross = np.empty((size, k0, n_other))
    for i, j in itertools.product(range(k0), range(n_other)):
        cross[:, i, j] = found.column("cross", (i, j))
    return gram, cross


def _centring(covariate_means: NDArray[np.float64]) -> NDArray[np.float64]:
    """T with u_centred = T u: the covariates minus their full-sample weighted mean."""
    t = np.eye(1 + len(covariate_means))
    t[1:, 0] = -covariate_means
    return t


@dataclass(frozen=True)
class RandomizationInference:
    """The per-cluster moments of a fit and the re-drawn assignments of each arm comparison;
    intervals are computed per (metric, arm, alpha) on request and kept."""

    metrics: tuple[str, ...]
    arms: tuple[str, ...]
    estimates: dict[tuple[str, str], float]
    scales: dict[tuple[str, str], float]
    comparisons: dict[tuple[str, str], tuple[ClusterMoments, NDArray[np.bool_], bool]]
    cache: dict[tuple[str, str, float], RandomizationRow]

    def row(self, metric: str, arm: str, alpha: float) -> RandomizationRow:
        """The p-value of τ = 0 and the 1 − α interval of one arm's effect on one metric."""
        key = (metric, arm, float(alpha))
        if key not in self.cache:
            cm, draws, exact = self.comparisons[(metric, arm)]
            centre = _own_estimate(cm)
            lo, hi = randomization_interval(cm, centre, self.scales[(metric, arm)], draws, alpha)
            self.cache[key] = RandomizationRow(
                metric, arm, self.estimates[(metric, arm)], randomization_p_value(cm, 0.0, draws),
                lo, hi, len(draws), exact, len(draws[0]))
        return self.cache[key]

    def rows(self, alpha: float) -> tuple[RandomizationRow, ...]:
        """Every (metric, arm)."""
        return tuple(self.row(m, a, alpha) for m in self.metrics for a in self.arms)


def _own_estimate(cm: ClusterMoments) -> float:
    """The τ0 at which the observed statistic is 0 (the two-arm Wald estimate; the fitted
    coefficient itself in an interacted model)."""
    beta_y = assignment_coefficient(cm, cm.cross)
    beta_d = assignment_coefficient(cm, cm.treated)
    return beta_y / beta_d if beta_d != 0 else 0.0


def randomization_inference(spec: ModelSpec, design: Design, covariate_means: dict[str, float],
                            estimates: NDArray[np.float64], scales: NDArray[np.float64],
                            interacted: bool, draws: int, seed: int, runner: QueryRunner
                            ) -> RandomizationInference:
    """Run the per-cluster query and set up every (metric, arm) comparison (control vs the arm,
    among their clusters). ``estimates`` and ``scales`` are (arms, metrics): the fitted effects and
    their classical standard errors (used only to bracket the interval search)."""
    exp = spec.experiment
    assert exp.cluster_by is not None
    assignment = exp.instrument_column
    query = cluster_moments_query(design, exp.cluster_by, assignment)
    found = query.run(runner, "randomization inference: per-cluster sums", sort=False)
    if (found.array("lowest") != found.array("highest")).any():
        raise DesignError("Randomization inference needs the assignment to be constant within clusters.")
    gram, cross = _arrays(found, design)
    t = _centring(np.array([covariate_means[c] for c in design.covariates]))
    gram = np.einsum("ij,gjk,lk->gil", t, gram, t)
    cross = np.einsum("ij,gjk->gik", t, cross)
    q = len(design.treatment)
    levels = exp.design.instrument_levels
    arm = found.array("lowest")
    comparisons, est, scale = {}, {}, {}
    for a, level in enumerate(levels[1:]):
        in_pair = (arm == levels[0]) | (arm == level)
        assigned = (arm == level)[in_pair]
        pair_draws, exact = assignment_draws(assigned, draws, seed)
        if exp.is_iv:
            treated = cross[in_pair, :, 0]
        else:
            treated = assigned[:, None] * gram[in_pair, :, 0]
        for m, metric in enumerate(design.y):
            cm = ClusterMoments(gram[in_pair], cross[in_pair, :, q + m], treated, assigned, interacted)
            key = (metric, str(design.arms[a]))
            comparisons[key] = (cm, pair_draws, exact)
            est[key], scale[key] = float(estimates[a, m]), float(scales[a, m])
    return RandomizationInference(tuple(design.y), tuple(str(a) for a in design.arms), est, scale,
                                  comparisons, {})


def _per_arm_note(per_arm: dict[Any, int]) -> str:
    return ", ".join(f"{n} in arm {arm!r}" for arm, n in per_arm.items())


#: ``model.inference`` when classical CR1 intervals are all there is and they cannot be trusted.
UNRELIABLE = "classical (too few clusters: unreliable)"


def choose_inference(requested: str, spec: ModelSpec, design: Design, n_clusters: int | None,
                     mixed: int, per_arm: dict[Any, int] | None) -> str:
    """"classical", "randomization" or ``UNRELIABLE`` for a fit (see the module docstring).

    ``requested`` "auto" switches to randomization inference when clusters are few (with a
    DesignWarning that says so), "classical" keeps CR1 (refused when an arm has fewer than
    ``MIN_CLUSTERS_PER_ARM`` clusters, flagged unreliable when they are few), "randomization"
    insists on it.
    """
    if n_clusters is None or per_arm is None:
        if requested == "randomization":
            raise DesignError(
                "inference='randomization' re-randomizes clusters: it needs cluster_by=... and a "
                "cluster-robust covariance (CR0/CR1).")
        return "classical"
    cluster = spec.experiment.cluster_by
    counts = f"{n_clusters} clusters of {cluster!r} ({_per_arm_note(per_arm)})"
    degenerate = min(per_arm.values()) < MIN_CLUSTERS_PER_ARM
    few = few_clusters(n_clusters, per_arm)
    obstacle = why_not_randomization(spec, design, n_clusters, mixed)
    if requested == "randomization" or (requested == "auto" and few and obstacle is None):
        if obstacle is not None:
            raise DesignError(f"inference='randomization' is not possible here: {obstacle}.")
        if requested == "auto":
            warnings.warn(
                f"Only {counts}: cluster-robust (CR1) intervals under-cover with fewer than "
                f"{FEW_CLUSTERS} clusters or {FEW_CLUSTERS_PER_ARM} per arm, so the arm effects use "
                "randomization inference (re-drawn cluster assignments; model.inference says so). "
                "Other rows (segments, lifts, projections) get no classical p-values or intervals.",
                DesignWarning, stacklevel=5)
        return "randomization"
    if degenerate:
        why = f"; randomization inference is not possible either: {obstacle}" if obstacle else (
            "; use inference='randomization'")
        raise DesignError(
            f"Only {counts}: with fewer than {MIN_CLUSTERS_PER_ARM} clusters in an arm the "
            f"cluster-robust standard error is degenerate (close to 0), so classical inference is "
            f"refused{why}.")
    if few:
        why = f" (randomization inference is not possible: {obstacle})" if obstacle else ""
        warnings.warn(
            f"Only {counts}: cluster-robust (CR1) intervals under-cover{why}. Its p-values and "
            "intervals are reported but marked unreliable, and decide() will not ship on them.",
            DesignWarning, stacklevel=5)
        return UNRELIABLE
    return "classical"

