r"""Ratio metrics by the delta method: the effect on :math:`\mu_{num}/\mu_{den}` between arms.

Notes
-----
With the numerator and denominator fitted as two metrics of one model, each arm's (regression-
adjusted) mean is linear in the stacked coefficients θ: control :math:`\mu_C = b'\theta`, arm
:math:`\mu_T = (b + d)'\theta` (the delta rows of :mod:`warehouse_causal.effects.delta`). The ratio of arm
a is :math:`R_a = \mu_{num,a}/\mu_{den,a}`, with gradient

.. math::

    \nabla R_a = \frac{1}{\mu_{den,a}}\left(\nabla\mu_{num,a} - R_a \nabla\mu_{den,a}\right),

the effect :math:`R_T - R_C` (gradient :math:`\nabla R_T - \nabla R_C`) or the lift
:math:`R_T/R_C - 1` (gradient :math:`\nabla R_T/R_C - R_T\nabla R_C/R_C^2`), and its variance
:math:`g'\Sigma g` over the model's joint covariance, numerator × denominator blocks included
(Deng, Knoblich & Lu 2018, §3; GrowthBook's ``RatioStatistic``; with covariates, the regression-
adjusted ratio of GrowthBook's ``RegressionAdjustedRatioStatistic`` and Statsig's CURE).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["ratio_effect"]


def ratio_effect(theta: NDArray[np.float64], d_num: NDArray[np.float64], b_num: NDArray[np.float64],
                 d_den: NDArray[np.float64], b_den: NDArray[np.float64], relative: bool
                 ) -> tuple[float, NDArray[np.float64], tuple[float, float]]:
    """(estimate, gradient over θ, (control denominator mean, arm denominator mean)) of one ratio
    effect, from the delta rows of its numerator and denominator (module notes)."""
    mean_num_c, mean_den_c = float(b_num @ theta), float(b_den @ theta)
    mean_num_t, mean_den_t = float((b_num + d_num) @ theta), float((b_den + d_den) @ theta)
    ratio_c, ratio_t = mean_num_c / mean_den_c, mean_num_t / mean_den_t
    grad_c = (b_num - ratio_c * b_den) / mean_den_c
    grad_t = ((b_num + d_num) - ratio_t * (b_den + d_den)) / mean_den_t
    denominators = (mean_den_c, mean_den_t)
    if relative:
        return ratio_t / ratio_c - 1.0, grad_t / ratio_c - ratio_t * grad_c / ratio_c**2, denominators
    return ratio_t - ratio_c, grad_t - grad_c, denominators
