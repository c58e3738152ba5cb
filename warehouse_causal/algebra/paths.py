r"""Path analysis of a causal DAG from one cross-product matrix: equation fits, path enumeration,
path effects with gradients, and the stacked (cross-equation) sandwich.

Notes
-----
Every node v (mediators, then the outcome) is regressed on :math:`S_v = \{1, T, X\} \cup pa(v)`:
:math:`b_v = C_{S_vS_v}^{-1} C_{S_v v}`. A path's effect is the product of its edge coefficients,
:math:`\partial\,\text{effect}/\partial c_e = \prod_{f \ne e} c_f`. For any DAG the path effects sum
exactly to the T-coefficient of the outcome on {1, T, X} (residuals of each equation are orthogonal
to span(1, T, X), so reduced forms unroll along the paths).

Stacked sandwich over θ = (b_1, …, b_J): :math:`V = c\,A^{-1} B A^{-1}` with
:math:`A = \mathrm{blockdiag}(C_{S_jS_j})` and :math:`B = \sum_g u_g u_g'`,
:math:`u_g = \sum_{i\in g} [w_i x_{1i} e_{1i}; \dots; w_i x_{Ji} e_{Ji}]` (g = row: HC0, c = 1; g = cluster:
c = G/(G−1)). Classical: :math:`\mathrm{blockdiag}(\hat\sigma_j^2 C_{S_jS_j}^{-1})` with
:math:`\hat\sigma_j^2 = RSS_j/(n - p_j)`.

References
----------
Imai, K., Keele, L. and Yamamoto, T. (2010). Identification, inference and sensitivity analysis for
causal mediation effects. *Statistical Science* 25(1), 51–71. doi:10.1214/10-STS321
Hayes, A. F. (2018). *Introduction to Mediation, Moderation, and Conditional Process Analysis*,
2nd ed., ch. 5 (serial mediation, PROCESS model 6). Guilford.
Preacher, K. J. and Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for indirect
effects. *Communication Methods and Measures* 6(2), 77–98. doi:10.1080/19312458.2012.679848
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.linalg import solve_spd

__all__ = [
    "Equation",
    "PathSystem",
    "classical_covariance",
    "enumerate_paths",
    "fit_paths",
    "path_effects",
    "path_gradient",
    "stacked_covariance",
]


@dataclass(frozen=True)
class Equation:
    """One node's regression: ``dependent`` on the columns ``regressors`` (indices into C)."""

    dependent: int
    regressors: tuple[int, ...]
    coef: NDArray[np.float64]
    gram_inv: NDArray[np.float64]
    rss: float
    offset: int  # position of this equation's first coefficient in θ


@dataclass(frozen=True)
class PathSystem:
    """All equations of the DAG, the stacked θ and where each edge's coefficient sits."""

    equations: tuple[Equation, ...]
    theta: NDArray[np.float64]
    edge_index: dict[tuple[str, str], int]  # (parent, child) → position in θ
    total: float  # T-coefficient of the outcome on {1, T, X}
    nobs: float


def fit_paths(c: NDArray[np.float64], labels: tuple[str, ...], treatment: str, base: tuple[str, ...],
              nodes: tuple[tuple[str, tuple[str, ...]], ...], nobs: float) -> PathSystem:
    """Fit every node on base ∪ parents from the cross products ``c`` (rows/cols named ``labels``).

    ``base`` is (intercept, treatment, covariates…); ``nodes`` is topological, the outcome last.
    """
    index = {label: i for i, label in enumerate(labels)}
    base_ix = [index[b] for b in base]
    equations, edges, offset = [], {}, 0
    for node, parents in nodes:
        regressors = tuple(base_ix + [index[p] for p in parents])
        gram = c[np.ix_(regressors, regressors)]
        gram_inv = solve_spd(gram, np.eye(len(regressors)))
        coef = gram_inv @ c[list(regressors), index[node]]
        rss = float(c[index[node], index[node]] - coef @ c[list(regressors), index[node]])
        equations.append(Equation(index[node], regressors, coef, (gram_inv + gram_inv.T) / 2, rss, offset))
        edges[(treatment, node)] = offset + 1
        for j, parent in enumerate(parents):
            edges[(parent, node)] = offset + len(base_ix) + j
        offset += len(regressors)
    outcome = index[nodes[-1][0]]
    reduced = solve_spd(c[np.ix_(base_ix, base_ix)], c[base_ix, outcome])
    theta = np.concatenate([e.coef for e in equations])
    return PathSystem(tuple(equations), theta, edges, float(reduced[1]), nobs)


def enumerate_paths(treatment: str, nodes: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, ...]]:
    """Every directed path from the treatment to the outcome (the last node), depth first."""
    children: dict[str, list[str]] = {}
    for node, parents in nodes:
        for parent in (treatment, *parents):
            children.setdefault(parent, []).append(node)
    outcome, found = nodes[-1][0], []

    def walk(path: list[str]) -> None:
        if path[-1] == outcome:
            found.append(tuple(path))
            return
        for child in children.get(path[-1], []):
            walk([*path, child])

    walk([treatment])
    return found


def path_gradient(system: PathSystem, path: tuple[str, ...]) -> NDArray[np.float64]:
    """∂ effect / ∂ θ for the product of the path's edge coefficients."""
    idx = [system.edge_index[(path[i], path[i + 1])] for i in range(len(path) - 1)]
    gradient = np.zeros(system.theta.size)
    for i in idx:
        gradient[i] = np.prod([system.theta[j] for j in idx if j != i])
    return gradient


def path_effects(system: PathSystem, path: tuple[str, ...],
                 theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """Path effect for each row of ``theta`` (draws × K), or one value for a vector."""
    idx = [system.edge_index[(path[i], path[i + 1])] for i in range(len(path) - 1)]
    return np.prod(theta[..., idx], axis=-1)


def _bread(system: PathSystem) -> NDArray[np.float64]:
    k = system.theta.size
    bread = np.zeros((k, k))
    for e in system.equations:
        size = len(e.regressors)
        bread[e.offset:e.offset + size, e.offset:e.offset + size] = e.gram_inv
    return bread


def stacked_covariance(system: PathSystem, meat: NDArray[np.float64], scale: float) -> NDArray[np.float64]:
    r""":math:`c\,A^{-1} B A^{-1}` with the cross-equation meat B (K × K)."""
    bread = _bread(system)
    cov = scale * bread @ meat @ bread
    return (cov + cov.T) / 2.0


def classical_covariance(system: PathSystem, ml: bool = False) -> NDArray[np.float64]:
    r"""Block-diagonal :math:`\hat\sigma_j^2 C_{S_jS_j}^{-1}`, σ² = RSS/(n − p) (or RSS/n when ``ml``)."""
    k = system.theta.size
    cov = np.zeros((k, k))
    for e in system.equations:
        size = len(e.regressors)
        sigma2 = e.rss / (system.nobs - (0 if ml else size))
        cov[e.offset:e.offset + size, e.offset:e.offset + size] = sigma2 * e.gram_inv
    return cov
