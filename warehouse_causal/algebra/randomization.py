r"""Randomization inference for cluster-randomized designs from per-cluster sufficient statistics.

With few clusters, cluster-robust (CR1) intervals under-cover, badly so when an arm has few
clusters (MacKinnon and Webb 2017). Randomization inference uses the design itself: clusters were
assigned at random, so under the sharp null :math:`H_0: Y_i(1) = Y_i(0) + \tau_0` the adjusted
outcome :math:`y_{0i} = y_i - \tau_0 D_i` (D the treatment received; the assignment itself without
an instrument) does not depend on the assignment, and re-drawing the assignment of the clusters gives
the exact null distribution of any statistic. The statistic here is the studentized arm coefficient
of the (Lin-interacted or additive) regression of :math:`y_0` on the assignment and the centred
covariates, with a CR0 standard error (studentizing keeps the test asymptotically valid for the
weak null of a zero *average* effect as well; Wu and Ding 2021). The p-value counts the draws
whose :math:`|t|` reaches the observed one; the interval is the set of :math:`\tau_0` not
rejected at α (test inversion; Imbens and Rubin 2015, ch. 5). With an instrument this is the
Anderson–Rubin-type randomization test of the complier effect.

Everything is computed from, per cluster g, :math:`C_g = \sum_{i\in g} w_i u_i u_i'` over
:math:`u = [1, c]` (covariates), :math:`b_g = \sum w_i u_i y_i` per metric and
:math:`d_g = \sum w_i u_i D_i`: G·k² numbers, never rows. Because the assignment :math:`z_g` is
constant within a cluster, the design row is :math:`x_i = B(z_g)'u_i` and

.. math::

    X'WX = \sum_{z\in\{0,1\}} B(z)'\Big(\sum_{g: z_g = z} C_g\Big)B(z), \qquad
    s_g = B(z_g)'\big(b_g - C_g B(z_g)\beta\big)

so each re-drawn assignment costs one small solve and G score vectors.

References
----------
Imbens, G. W. and Rubin, D. B. (2015). *Causal Inference for Statistics, Social, and Biomedical
Sciences*, ch. 5. Cambridge University Press. doi:10.1017/CBO9781139025751
MacKinnon, J. G. and Webb, M. D. (2017). Wild bootstrap inference for wildly different cluster
sizes. *Journal of Applied Econometrics* 32(2), 233–254. doi:10.1002/jae.2508
Wu, J. and Ding, P. (2021). Randomization tests for weak null hypotheses in randomized
experiments. *JASA* 116(536), 1898–1913. doi:10.1080/01621459.2020.1750415
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ClusterMoments",
    "assignment_coefficient",
    "assignment_draws",
    "randomization_interval",
    "randomization_p_value",
    "studentized_statistics",
]

#: Rows of draws handled at once (bounds memory at draws × clusters × k values per block).
BLOCK = 256
#: Steps of the search for the interval's ends, in units of the classical standard error.
MAX_BRACKET = 2.0**20


@dataclass(frozen=True)
class ClusterMoments:
    """Per-cluster sufficient statistics of a two-arm comparison (control vs one arm).

    Attributes
    ----------
    gram : (G, k0, k0) Σ w u u' over u = [1, centred covariates].
    cross : (G, k0) Σ w u y for one metric.
    treated : (G, k0) Σ w u D for the treatment received D (equal to z_g·gram[:, :, 0] without an
        instrument).
    assigned : (G,) bool, the cluster's assignment (z_g = 1: the arm).
    interacted : whether the regression has arm × covariate terms (Lin 2013).
    """

    gram: NDArray[np.float64]
    cross: NDArray[np.float64]
    treated: NDArray[np.float64]
    assigned: NDArray[np.bool_]
    interacted: bool

    def basis(self, z: int) -> NDArray[np.float64]:
        r"""B(z), with :math:`x = B(z)'u`: x = [1, z, c, z·c] (interacted) or [1, z, c]."""
        k0 = self.gram.shape[1]
        p = k0 - 1
        k = 2 + (2 * p if self.interacted else p)
        b = np.zeros((k0, k))
        b[0, 0] = 1.0
        b[0, 1] = float(z)
        b[1:, 2:2 + p] = np.eye(p)
        if self.interacted:
            b[1:, 2 + p:] = float(z) * np.eye(p)
        return b


def assignment_draws(assigned: NDArray[np.bool_], max_draws: int, seed: int
                     ) -> tuple[NDArray[np.bool_], bool]:
    """Re-drawn assignments of the clusters, each with as many assigned clusters as observed
    (complete randomization), the observed assignment first. Every assignment when there are at
    most ``max_draws`` of them (exact), else ``max_draws`` − 1 random ones. Returns (draws, exact)."""
    assigned = np.asarray(assigned, dtype=bool)
    g, g1 = len(assigned), int(assigned.sum())
    if math.comb(g, g1) <= max_draws:
        draws = np.zeros((math.comb(g, g1), g), dtype=bool)
        for r, chosen in enumerate(itertools.combinations(range(g), g1)):
            draws[r, list(chosen)] = True
        observed = np.flatnonzero((draws == assigned).all(axis=1))
        order = np.concatenate([observed, np.setdiff1d(np.arange(len(draws)), observed)])
        return draws[order], True
    rng = np.random.default_rng(seed)
    draws = np.empty((max_draws, g), dtype=bool)
    draws[0] = assigned
    for r in range(1, max_draws):
        draws[r] = rng.permutation(assigned)
    return draws, False


def _normal_equations(cm: ClusterMoments, z: NDArray[np.float64], cross: NDArray[np.float64]
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """X'WX (R, k, k) and X'Wy (R, k) for each row of the assignments ``z`` (R, G), from the
    per-cluster sums: clusters with z = 0 and z = 1 enter through B(0) and B(1)."""
    b0, b1 = cm.basis(0), cm.basis(1)
    n_clusters, k0, _ = cm.gram.shape
    flat = cm.gram.reshape(n_clusters, k0 * k0)
    gram1 = (z @ flat).reshape(len(z), k0, k0)
    gram0 = (flat.sum(axis=0) - z @ flat).reshape(len(z), k0, k0)
    cross1 = z @ cross
    cross0 = cross.sum(axis=0)[None] - cross1
    return b0.T @ gram0 @ b0 + b1.T @ gram1 @ b1, cross0 @ b0 + cross1 @ b1


def assignment_coefficient(cm: ClusterMoments, cross: NDArray[np.float64]) -> float:
    """The assignment coefficient, at the observed assignment, of the regression whose per-cluster
    sums are ``cross``."""
    a, r = _normal_equations(cm, cm.assigned.astype(float)[None], cross)
    return float(np.linalg.lstsq(a[0], r[0], rcond=None)[0][1])


def studentized_statistics(cm: ClusterMoments, cross: NDArray[np.float64],
                           draws: NDArray[np.bool_]) -> NDArray[np.float64]:
    """t = β_z / se_CR0(β_z) of the regression of the outcome whose per-cluster sums are ``cross``
    (G, k0) on x = B(z)'u, for every row of ``draws``; NaN where the draw leaves the design singular."""
    basis = (cm.basis(0), cm.basis(1))
    n_clusters, k0, _ = cm.gram.shape
    k = basis[0].shape[1]
    # C_g B(z), stacked as (G·k0, k), for both values of z: the fitted sums are one product with β.
    gram_basis = [(cm.gram @ b).reshape(n_clusters * k0, k) for b in basis]
    out = np.empty(len(draws))
    for start in range(0, len(draws), BLOCK):
        z = draws[start:start + BLOCK].astype(float)
        rows = len(z)
        a, r = _normal_equations(cm, z, cross)
        with np.errstate(all="ignore"):
            unidentified = np.zeros(rows, dtype=bool)
            try:
                a_inv = np.linalg.inv(a)
            except np.linalg.LinAlgError:  # some draw is singular: the pseudo-inverse for all of them,
                a_inv = np.linalg.pinv(a)  # and NaN where it leaves β_z itself unidentified
                unidentified = _coefficient_unidentified(a, 1)
            beta = (a_inv @ r[:, :, None])[:, :, 0]
            scores = np.zeros((rows, n_clusters, k))
            for arm, b in enumerate(basis):
                fitted = (gram_basis[arm] @ beta.T).T.reshape(rows, n_clusters, k0)  # C_g B β
                s = (cross[None] - fitted) @ b  # B'(b_g − C_g B β), as rows
                scores += np.where((z == arm)[:, :, None], s, 0.0)
            meat = scores.transpose(0, 2, 1) @ scores
            cov = a_inv @ meat @ a_inv
            out[start:start + rows] = np.where(unidentified, np.nan, beta[:, 1] / np.sqrt(cov[:, 1, 1]))
    return out


def _coefficient_unidentified(a: NDArray[np.float64], index: int, rtol: float = 1e-10) -> NDArray[np.bool_]:
    """For each normal-equations matrix A (a stack), whether coefficient ``index`` is not identified:
    some null vector of A (a right singular vector whose singular value is below ``rtol`` times the
    largest) moves it. Collinear covariates alone leave it identified (their null vectors are 0 there)."""
    _, singular, vt = np.linalg.svd(a)
    null = singular <= rtol * singular[:, :1]
    return np.any(null & (np.abs(vt[:, :, index]) > 1e-8), axis=1)


def randomization_p_value(cm: ClusterMoments, tau0: float, draws: NDArray[np.bool_]) -> float:
    """Two-sided p-value of the sharp null τ = τ0: the share of draws (the observed one first, and
    counted) whose :math:`|t|` reaches the observed :math:`|t|`."""
    t = studentized_statistics(cm, cm.cross - tau0 * cm.treated, draws)
    observed = abs(t[0])
    if not np.isfinite(observed):
        return float("nan")
    reach = np.abs(t) >= observed * (1.0 - 1e-12)
    return float(np.mean(np.where(np.isfinite(t), reach, True)))


def randomization_interval(cm: ClusterMoments, estimate: float, scale: float, draws: NDArray[np.bool_],
                           alpha: float, tol: float = 1e-4) -> tuple[float, float]:
    """The ends of {τ0 : p(τ0) > α} around ``estimate``, found by bracketing in steps of ``scale``
    (a classical standard error) and bisection to ``tol``·scale. An end that no τ0 within
    2**20 scales rejects is infinite (too few draws can never reject, e.g. 2 clusters)."""
    if len(draws) * alpha < 1.0:  # the smallest attainable p-value, 1/draws, is above alpha
        return -math.inf, math.inf
    scale = scale if np.isfinite(scale) and scale > 0 else max(abs(estimate), 1.0)

    def rejected(tau: float) -> bool:
        return randomization_p_value(cm, tau, draws) <= alpha

    ends = []
    for sign in (-1.0, 1.0):
        inner, step = estimate, scale
        while step <= MAX_BRACKET * scale and not rejected(estimate + sign * step):
            inner, step = estimate + sign * step, step * 2.0
        if step > MAX_BRACKET * scale:
            ends.append(sign * math.inf)
            continue
        outer = estimate + sign * step
        while abs(outer - inner) > tol * scale:
            middle = (inner + outer) / 2.0
            if rejected(middle):
                outer = middle
            else:
                inner = middle
        ends.append((inner + outer) / 2.0)
    return ends[0], ends[1]
