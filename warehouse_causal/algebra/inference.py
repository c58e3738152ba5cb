r"""Classical Wald inference for estimates with standard errors.

Notes
-----
.. math:: t = \hat\theta / \widehat{se}, \quad p = 2\,P(T_\nu > |t|), \quad
          \hat\theta \pm t_{\nu, 1-\alpha/2}\,\widehat{se}

with ν = n − k (iid/HC) or G − 1 (cluster-robust), as statsmodels does; ν = ``NORMAL`` (infinite)
gives the normal (large-sample) test and interval. This is the one place intervals and p-values of
an estimate with a standard error are formed.
"""

from __future__ import annotations

import numpy as np
import scipy.stats
from numpy.typing import NDArray

__all__ = ["NORMAL", "wald_inference"]

#: Degrees of freedom that make the t test the normal (z) test.
NORMAL = float("inf")


def wald_inference(
    estimate: NDArray[np.float64], std_error: NDArray[np.float64], df: float, alpha: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return (t statistic, two-sided p-value, lower, upper) of the 1−alpha interval."""
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = estimate / std_error
    p = 2.0 * scipy.stats.t.sf(np.abs(stat), df)
    q = scipy.stats.t.ppf(1.0 - alpha / 2.0, df)
    return stat, p, estimate - q * std_error, estimate + q * std_error
