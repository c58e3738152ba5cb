r"""Quantile (percentile) effects with the outer confidence interval of Deng, Knoblich & Lu (2018),
cluster-robust.

Notes
-----
For an arm with N values in G clusters, let :math:`\hat\xi` be its sample q-quantile and
:math:`c_g` the number of values of cluster g at or below :math:`\hat\xi` (:math:`n_g` values in
all). The share :math:`\hat p = \sum c_g/\sum n_g` is a ratio of cluster sums, so by the delta
method (cluster-robust; with one value per cluster it is the binomial :math:`q(1-q)/N`)

.. math::

    \hat\sigma_p^2 = \frac{\sum_g (c_g - q\,n_g)^2}{N^2}
                   = \frac{\sum c_g^2 - 2q\sum c_g n_g + q^2 \sum n_g^2}{N^2}.

The outer interval (Deng et al. 2018, §3.2; the cluster-robust version is Yao, Li & Lu 2024)
inverts it without estimating a density: :math:`[\hat Q(q - z\hat\sigma_p),\ \hat Q(q + z\hat\sigma_p)]`,
and its width gives the quantile's standard error :math:`(\hat Q(q + z\sigma) - \hat Q(q -
z\sigma))/(2z)`. Arms are independent, so the difference of two arms' quantiles has standard error
:math:`\sqrt{se_T^2 + se_C^2}` and a normal interval.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["outer_levels", "quantile_standard_error", "share_standard_error"]


def share_standard_error(q: float, sum_c2: float, sum_cn: float, sum_n2: float, n: float) -> float:
    r""":math:`\hat\sigma_p` from the per-cluster sums (module notes)."""
    variance = (sum_c2 - 2.0 * q * sum_cn + q * q * sum_n2) / (n * n)
    return float(np.sqrt(max(variance, 0.0)))


def outer_levels(q: float, sigma_p: float, alpha: float) -> tuple[float, float]:
    """The levels q ∓ z·σ_p whose quantiles bound the outer interval, kept inside [0, 1]."""
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    return max(q - z * sigma_p, 0.0), min(q + z * sigma_p, 1.0)


def quantile_standard_error(lower: float, upper: float, alpha: float) -> float:
    """The standard error implied by the outer interval [lower, upper]: its width / (2z)."""
    return float((upper - lower) / (2.0 * stats.norm.ppf(1.0 - alpha / 2.0)))
