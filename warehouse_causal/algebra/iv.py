r"""Weighted two-stage least squares from cross-product moments.

References
----------
Wooldridge, J. M. (2010). *Econometric Analysis of Cross Section and Panel Data*, 2nd ed., §5.2.
MIT Press. Cameron, A. C. and Miller, D. L. (2015). A practitioner's guide to cluster-robust
inference. *Journal of Human Resources* 50(2), 317–372. doi:10.3368/jhr.50.2.317
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.linalg import solve_spd

__all__ = ["IVSolution", "residual_cross_products", "two_stage_least_squares"]


@dataclass(frozen=True)
class IVSolution:
    r"""2SLS estimates for M outcomes sharing one design.

    Attributes
    ----------
    params : (k, M) coefficients, one column per outcome.
    a_inv : (k, k) :math:`A^{-1} = (X'WZ (Z'WZ)^{-1} Z'WX)^{-1}`, the "bread".
    projection : (kz, k) :math:`H = \Pi A^{-1}` with :math:`\Pi = (Z'WZ)^{-1} Z'WX`, so that
        :math:`\hat\beta - \beta = H' \sum_i w_i z_i e_i`.
    """

    params: NDArray[np.float64]
    a_inv: NDArray[np.float64]
    projection: NDArray[np.float64]


def two_stage_least_squares(
    ztz: NDArray[np.float64], ztx: NDArray[np.float64], zty: NDArray[np.float64]
) -> IVSolution:
    r"""Solve weighted 2SLS for every outcome at once.

    Parameters
    ----------
    ztz : (kz, kz) :math:`Z'WZ`.
    ztx : (kz, k) :math:`Z'WX`.
    zty : (kz, M) :math:`Z'WY`.

    Notes
    -----
    .. math::

        \Pi = (Z'WZ)^{-1} Z'WX, \quad A = X'WZ\,\Pi, \quad
        \hat\beta = A^{-1} \Pi' Z'WY .

    With Z = X this is weighted OLS: :math:`\Pi = I` and :math:`A = X'WX`. Both solves use an
    equilibrated Cholesky factor; no explicit inverse is formed except :math:`A^{-1}` (k×k), which the
    sandwich needs. Callers check rank first (:func:`collinear_sets`).
    """
    pi = solve_spd(ztz, ztx)
    a = ztx.T @ pi
    a = (a + a.T) / 2.0
    k = a.shape[0]
    a_inv = solve_spd(a, np.eye(k))
    a_inv = (a_inv + a_inv.T) / 2.0
    params = a_inv @ (pi.T @ zty)
    return IVSolution(params=params, a_inv=a_inv, projection=pi @ a_inv)


def residual_cross_products(
    params: NDArray[np.float64],
    xtx: NDArray[np.float64],
    xty: NDArray[np.float64],
    yty: NDArray[np.float64],
) -> NDArray[np.float64]:
    r"""Weighted residual cross products :math:`E'WE` (M×M) from moments, with E = Y − Xβ.

    .. math:: E'WE = Y'WY - \beta' X'WY - Y'WX \beta + \beta' X'WX \beta

    Residuals use X, not the first-stage fitted values.
    """
    cross = params.T @ xty
    out = yty - cross - cross.T + params.T @ xtx @ params
    return (out + out.T) / 2.0
