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

**Compliers** (binary instrument Z, binary treatment D; :func:`complier_shares`). The complier
distributions of the potential outcomes are identified by (Imbens & Rubin 1997; Abadie 2002)

.. math::

    F_{1}(y) = \frac{E[1\{Y\le y\}D \mid Z=1] - E[1\{Y\le y\}D \mid Z=0]}{\pi}, \quad
    F_{0}(y) = \frac{E[1\{Y\le y\}(1-D) \mid Z=0] - E[1\{Y\le y\}(1-D) \mid Z=1]}{\pi},

with :math:`\pi = E[D \mid Z=1] - E[D \mid Z=0]` the complier share; the complier quantile effect
is :math:`F_1^{-1}(q) - F_0^{-1}(q)` (Abadie, Angrist & Imbens 2002 without covariates, whose κ
weights give the same weighted distributions; Frölich & Melly 2013). At the estimated quantile
:math:`\hat F_1 - q = \Delta \bar u_1 / \hat\pi` with :math:`u_1 = 1\{Y\le\hat\xi_1\}D - qD`
(and :math:`\hat F_0 - q = -\Delta \bar u_0/\hat\pi`, :math:`u_0 = 1\{Y\le\hat\xi_0\}(1-D) -
q(1-D)`), Δ the difference of the instrument arms' means. Each cluster's influence on Δū is
linear in its counts, so the covariance of the two shares comes from per-cluster sums of counts and
their products; the outer interval inverts each share as above, and the two quantiles' correlation
is the shares' (Bahadur), so :math:`se^2 = se_1^2 + se_0^2 - 2\rho\, se_1 se_0`.

References
----------
Abadie, A., Angrist, J. and Imbens, G. (2002). Instrumental variables estimates of the effect of
subsidized training on the quantiles of trainee earnings. *Econometrica* 70(1), 91–117.
Frölich, M. and Melly, B. (2013). Unconditional quantile treatment effects under endogeneity.
*JBES* 31(3), 346–357.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = ["COMPLIER_COUNTS", "ComplierShares", "complier_shares", "difference_standard_error",
           "outer_levels", "quantile_standard_error", "share_standard_error"]


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


def difference_standard_error(se_a: float, se_b: float, rho: float) -> float:
    r""":math:`\sqrt{se_a^2 + se_b^2 - 2\rho\, se_a se_b}`, computed relative to the larger one so
    that standard errors near the float64 limit do not overflow when squared."""
    scale = max(abs(se_a), abs(se_b))
    if scale == 0:
        return 0.0
    a, b = se_a / scale, se_b / scale
    return float(scale * np.sqrt(max(a * a + b * b - 2.0 * rho * a * b, 0.0)))


#: The per-cluster counts of :func:`complier_shares`, for each instrument arm (Z = 1 first, then
#: Z = 0): rows with D = 1 at or below ξ₁, rows with D = 1, rows with D = 0 at or below ξ₀, rows
#: with D = 0, and all rows (with a value of the outcome).
COMPLIER_COUNTS = ("c1", "d1", "c0", "d0", "n")


class ComplierShares(NamedTuple):
    """The complier share π̂, the covariance of (F̂₁(ξ₁), F̂₀(ξ₀)) and the first stage's F."""

    complier_share: float
    cov: NDArray[np.float64]
    first_stage_f: float


def complier_shares(q: float, sums: NDArray[np.float64], products: NDArray[np.float64]) -> ComplierShares:
    r"""From ``sums`` (10,) and ``products`` (10, 10): the sums over clusters of the count vector
    v_g = (counts in Z = 1, counts in Z = 0), each block in the order of :data:`COMPLIER_COUNTS`,
    and of v_g v_g' (module notes). A cluster's influence on Δū_k is L_k v_g, so
    Cov(Δū) = L P L'."""
    size = len(COMPLIER_COUNTS)
    index = {name: j for j, name in enumerate(COMPLIER_COUNTS)}
    arms = (1.0, -1.0)  # Δ = mean in Z = 1 − mean in Z = 0
    totals = [sums[z * size + index["n"]] for z in range(2)]

    def influence(weights: dict[str, float]) -> NDArray[np.float64]:
        """L: the influence of v_g on Δ(mean of Σ weights·count), centred by each arm's mean."""
        out = np.zeros(2 * size)
        for z, sign in enumerate(arms):
            mean = sum(w * sums[z * size + index[name]] for name, w in weights.items()) / totals[z]
            for name, w in weights.items():
                out[z * size + index[name]] += sign * w / totals[z]
            out[z * size + index["n"]] -= sign * mean / totals[z]
        return out

    pi = sums[index["d1"]] / totals[0] - sums[size + index["d1"]] / totals[1]
    lu = np.array([influence({"c1": 1.0, "d1": -q}), -influence({"c0": 1.0, "d0": -q})])
    cov = lu @ products @ lu.T / pi**2
    first = influence({"d1": 1.0})
    return ComplierShares(float(pi), (cov + cov.T) / 2.0, float(pi**2 / (first @ products @ first)))
