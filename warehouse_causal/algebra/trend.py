r"""A linear trend across effects measured at several points (e.g. exposure ages): generalized
least squares of the effects on [1, age] with their joint covariance V,

.. math::

    \hat\gamma = (X'V^{-1}X)^{-1}X'V^{-1}\hat\tau, \qquad \mathrm{Var}(\hat\gamma) = (X'V^{-1}X)^{-1},

so the slope's z-test accounts for the effects sharing their control rows and covariance (Aitken
1935). A negative slope on a positive effect is decay (novelty), a positive one learning.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.linalg import solve_spd

__all__ = ["gls_slope"]


def gls_slope(points: NDArray[np.float64], estimates: NDArray[np.float64], cov: NDArray[np.float64]
              ) -> tuple[float, float]:
    """(slope, standard error) of the GLS line through ``estimates`` at ``points``."""
    x = np.column_stack([np.ones(len(points)), points])
    v_inv_x = solve_spd(cov, x)
    information = x.T @ v_inv_x
    gamma = solve_spd(information, v_inv_x.T @ estimates)
    variance = solve_spd(information, np.eye(2))
    return float(gamma[1]), float(np.sqrt(variance[1, 1]))
