r"""Off-policy value estimators from the sums of per-row terms (pure numpy).

With :math:`w_i = 1[\pi(x_i) = a_i]/p_i` and row terms :math:`W = w`, :math:`R = w r`,
:math:`Q = \hat q(x, \pi(x))`, :math:`A = w(r - \hat q(x, a))`, :math:`L = r`:

* IPS :math:`\bar R`; SNIPS :math:`\bar R/\bar W`; DM :math:`\bar Q`; DR :math:`\bar Q + \bar A`;
  the logged policy :math:`\bar L` (Dudík, Langford and Li 2011, arXiv:1103.4601).
* Standard errors by the delta method from the sample covariance of the row terms. DM's adds the
  reward model's own uncertainty, :math:`\bar d_\pi' V_\beta \bar d_\pi + \widehat{Var}(Q)/n` with
  :math:`\bar d_\pi` the mean design row under π.
* The rewards (and hence R, Q, A, L) may be shifted by a constant K for precision; ``shift`` adds it
  back (IPS gains K·W̄).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["TERMS", "policy_values"]

#: The row terms, in the order of ``sums`` and ``products``.
TERMS = ("W", "R", "Q", "A", "L")


def policy_values(sums: NDArray[np.float64], products: NDArray[np.float64], n: float,
                  d_bar: NDArray[np.float64], v_beta: NDArray[np.float64], shift: float = 0.0
                  ) -> dict[str, tuple[float, float]]:
    """(estimate, standard error) of ips, snips, dm, dr and logged, from the sums (5,) and the sums
    of pairwise products (5, 5) of the row terms over n rows."""
    mean = dict(zip(TERMS, sums / n, strict=True))
    cov = (products - n * np.outer(sums / n, sums / n)) / (n - 1.0)  # sample covariance of the terms

    def se(**gradient: float) -> float:
        g = np.array([gradient.get(x, 0.0) for x in TERMS])
        return float(np.sqrt(g @ cov @ g / n))

    snips = mean["R"] / mean["W"]
    return {
        "ips": (mean["R"] + shift * mean["W"], se(R=1.0, W=shift)),
        "snips": (snips + shift, se(R=1.0 / mean["W"], W=-snips / mean["W"])),
        "dm": (mean["Q"] + shift, float(np.sqrt(d_bar @ v_beta @ d_bar + cov[2, 2] / n))),
        "dr": (mean["Q"] + mean["A"] + shift, se(Q=1.0, A=1.0)),
        "logged": (mean["L"] + shift, se(L=1.0)),
    }
