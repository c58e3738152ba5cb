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

__all__ = ["NORMAL", "VARIANCE_ROUNDING", "standard_errors", "wald_inference"]

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


#: Variances down to −(this × the largest finite variance) are rounding below 0 and read as 0.
VARIANCE_ROUNDING = 1e-10


def standard_errors(variances: NDArray[np.float64]) -> NDArray[np.float64]:
    """√variance; NaN for a non-finite variance or one below 0 by more than rounding (a clip to 0
    would report a zero standard error: infinite precision)."""
    v = np.asarray(variances, dtype=float)
    finite = np.isfinite(v)
    scale = float(np.max(np.abs(v[finite]), initial=0.0))
    rounding = finite & (v < 0) & (v >= -VARIANCE_ROUNDING * scale)
    with np.errstate(invalid="ignore"):
        return np.where(finite, np.sqrt(np.where(rounding, 0.0, v)), np.nan)
