r"""Covariance estimators for (weighted) 2SLS: one function per piece, one table of types.

Every robust estimator shares the bread and differs only in the meat, which arrives from the
warehouse as a (kz·M)×(kz·M) matrix of summed scores (metric-major: index m·kz + a).

Notes
-----
.. math::

    V = c \,(I_M \otimes H)' \, M \, (I_M \otimes H), \qquad H = \Pi A^{-1}

* HC0–HC3: :math:`M = \sum_i w_i^2 e_{im} e_{il} z_i z_i' / (1-h_i)^\delta` with
  :math:`h_i = w_i z_i'(Z'WZ)^{-1} z_i` and δ = 0 (HC0, HC1), 1 (HC2), 2 (HC3) (MacKinnon and
  White 1985, doi:10.1016/0304-4076(85)90158-7). c = n/(n−k) for HC1, else 1.
* CR0/CR1: :math:`M = \sum_g s_g s_g'` with :math:`s_g = \sum_{i\in g} w_i z_i e_i`;
  c = G/(G−1)·(n−1)/(n−k) for CR1 (Cameron and Miller 2015), else 1.
* iid: :math:`V_{ml} = \hat\sigma_{ml} A^{-1}` with :math:`\hat\sigma_{ml} = e_m'We_l/(n-k)`.

These match statsmodels (OLS/WLS ``cov_type``) and linearmodels (IV2SLS, ``debiased=True``).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "COVARIANCE_TYPES",
    "CovarianceType",
    "iid_covariance",
    "leverage_power",
    "quadratic_form",
    "sandwich",
    "small_sample_factor",
    "without_cross_metric_blocks",
]

CovarianceType = Literal["iid", "HC0", "HC1", "HC2", "HC3", "CR0", "CR1"]
COVARIANCE_TYPES: tuple[str, ...] = get_args(CovarianceType)
CLUSTERED_TYPES = ("CR0", "CR1")


def leverage_power(cov_type: str) -> int:
    """Exponent δ of (1 − h_i) in the HC meat: 1 for HC2, 2 for HC3, 0 otherwise."""
    return {"HC2": 1, "HC3": 2}.get(cov_type, 0)


def small_sample_factor(cov_type: str, nobs: int, k: int, n_clusters: int | None = None) -> float:
    """The scalar c multiplying the sandwich (see module Notes)."""
    if cov_type == "HC1":
        return nobs / (nobs - k)
    if cov_type == "CR1":
        assert n_clusters is not None
        return n_clusters / (n_clusters - 1) * (nobs - 1) / (nobs - k)
    return 1.0


def sandwich(
    projection: NDArray[np.float64], meat: NDArray[np.float64], scale: float
) -> NDArray[np.float64]:
    r"""Joint covariance over M outcomes: :math:`c (I_M \otimes H)' M (I_M \otimes H)`, symmetrised.

    Parameters
    ----------
    projection : (kz, k) H.
    meat : (kz·M, kz·M) summed score cross products, metric-major.
    scale : the small-sample factor c.

    Returns
    -------
    (k·M, k·M) covariance, metric-major.
    """
    kz = projection.shape[0]
    n_metrics = meat.shape[0] // kz
    lift = np.kron(np.eye(n_metrics), projection)
    cov = scale * (lift.T @ meat @ lift)
    return (cov + cov.T) / 2.0


def iid_covariance(
    a_inv: NDArray[np.float64], residual_cross: NDArray[np.float64], df_resid: int
) -> NDArray[np.float64]:
    r""":math:`V = \hat\Sigma \otimes A^{-1}` with :math:`\hat\Sigma = E'WE/(n-k)` (M×M)."""
    cov = np.kron(residual_cross / df_resid, a_inv)
    return (cov + cov.T) / 2.0


def without_cross_metric_blocks(cov: NDArray[np.float64], n_metrics: int) -> NDArray[np.float64]:
    r"""``cov`` (metric-major) with every block Cov(β_m, β_l), m ≠ l, set to NaN: not estimated.

    The lift :math:`I_M \otimes H` is block diagonal, so each block of V depends on the same block
    of the meat alone; a meat whose cross-metric blocks were skipped (left at 0) gives exact
    same-metric blocks, and the cross-metric ones are marked unknown rather than left wrong.
    """
    k = cov.shape[0] // n_metrics
    out = cov.copy()
    for a in range(n_metrics):
        for b in range(n_metrics):
            if a != b:
                out[a * k:(a + 1) * k, b * k:(b + 1) * k] = np.nan
    return out


def quadratic_form(weights: NDArray[np.float64], cov: NDArray[np.float64]) -> NDArray[np.float64]:
    r""":math:`W \Sigma W'`, where NaN entries of Σ are unknown covariances.

    An entry of the result is NaN only when it needs an unknown entry (a non-zero weight on both
    sides); the rest are exact. Without unknown entries this is the plain product.
    """
    unknown = np.isnan(cov)
    if not unknown.any():
        return weights @ cov @ weights.T
    out = weights @ np.where(unknown, 0.0, cov) @ weights.T
    used = (weights != 0).astype(float)
    out[(used @ unknown.astype(float) @ used.T) > 0] = np.nan
    return out
