r"""Off-policy value estimators from the sums of per-row terms (pure numpy).

With :math:`w_i = 1[\pi(x_i) = a_i]/p_i` and row terms :math:`W = w`, :math:`R = w r`,
:math:`Q = \hat q(x, \pi(x))`, :math:`A = w(r - \hat q(x, a))`, :math:`L = r`:

* IPS :math:`\bar R`; SNIPS :math:`\bar R/\bar W`; DM :math:`\bar Q`; DR :math:`\bar Q + \bar A`;
  the logged policy :math:`\bar L` (Dudík, Langford and Li 2011, arXiv:1103.4601).
* Standard errors by the delta method from the covariance of the term means: the sample covariance
  of the row terms over n (:func:`iid_mean_covariance`), or, when rows are clustered (repeated
  sessions of one user), the cluster-robust :math:`\frac{G}{G-1}\frac{1}{n^2}\sum_g e_g e_g'` with
  :math:`e_g = S_g - n_g \bar T` the cluster's summed deviations (:func:`cluster_mean_covariance`;
  Cameron & Miller 2015, J. Human Resources 50(2), §2.3). DM's adds the reward model's own
  uncertainty, :math:`\bar d_\pi' V_\beta \bar d_\pi + \widehat{Var}(\bar Q)` with :math:`\bar d_\pi`
  the mean design row under π.
* The rewards (and hence R, Q, A, L) may be shifted by a constant K for precision; ``shift`` adds it
  back (IPS gains K·W̄).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["TERMS", "cluster_mean_covariance", "iid_mean_covariance", "policy_values"]

#: The row terms, in the order of ``sums`` and ``products``.
TERMS = ("W", "R", "Q", "A", "L")


def iid_mean_covariance(sums: NDArray[np.float64], products: NDArray[np.float64], n: float
                        ) -> NDArray[np.float64]:
    """Covariance of the term means over n independent rows, from the sums and the sums of
    pairwise products of the row terms: the sample covariance over n."""
    return (products - n * np.outer(sums / n, sums / n)) / (n - 1.0) / n


def cluster_mean_covariance(sums: NDArray[np.float64], cluster_products: NDArray[np.float64],
                            count_products: NDArray[np.float64], count_squares: float, n: float,
                            clusters: float) -> NDArray[np.float64]:
    """Cluster-robust covariance of the term means: ``cluster_products`` = Σ_g S_g S_g',
    ``count_products`` = Σ_g n_g S_g, ``count_squares`` = Σ_g n_g² over G = ``clusters``."""
    mean = sums / n
    spread = (cluster_products - np.outer(mean, count_products) - np.outer(count_products, mean)
              + count_squares * np.outer(mean, mean))
    return clusters / (clusters - 1.0) * spread / n**2


def policy_values(sums: NDArray[np.float64], mean_cov: NDArray[np.float64], n: float,
                  d_bar: NDArray[np.float64], v_beta: NDArray[np.float64], shift: float = 0.0
                  ) -> dict[str, tuple[float, float]]:
    """(estimate, standard error) of ips, snips, dm, dr and logged, from the sums (5,) of the row
    terms over n rows and the covariance of their means (5, 5)."""
    mean = dict(zip(TERMS, sums / n, strict=True))

    def se(**gradient: float) -> float:
        g = np.array([gradient.get(x, 0.0) for x in TERMS])
        return float(np.sqrt(g @ mean_cov @ g))

    snips = mean["R"] / mean["W"]
    return {
        "ips": (mean["R"] + shift * mean["W"], se(R=1.0, W=shift)),
        "snips": (snips + shift, se(R=1.0 / mean["W"], W=-snips / mean["W"])),
        "dm": (mean["Q"] + shift, float(np.sqrt(d_bar @ v_beta @ d_bar + mean_cov[2, 2]))),
        "dr": (mean["Q"] + mean["A"] + shift, se(Q=1.0, A=1.0)),
        "logged": (mean["L"] + shift, se(L=1.0)),
    }
