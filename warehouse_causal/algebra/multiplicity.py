r"""Multiple-testing adjustments of a vector of p-values.

* Holm (1979): step-down family-wise error control, valid under any dependence.
  :math:`\tilde p_{(i)} = \max_{j\le i} \min(1, (m - j + 1) p_{(j)})`.
* Benjamini and Hochberg (1995): false discovery rate under independence or positive dependence.
  :math:`\tilde p_{(i)} = \min_{j\ge i} \min(1, m p_{(j)} / j)`.

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J. Statist.* 6(2).
Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57(1).
doi:10.1111/j.2517-6161.1995.tb02031.x
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ADJUSTMENTS", "Adjustment", "adjust_p_values"]

Adjustment = Literal["holm", "bh", "none"]
ADJUSTMENTS: tuple[str, ...] = get_args(Adjustment)


def adjust_p_values(p: ArrayLike, method: str) -> NDArray[np.float64]:
    """Adjusted p-values in the input order. NaN p-values (rows with no valid test) stay NaN and
    are not counted in the family."""
    p = np.asarray(p, dtype=float)
    tested = ~np.isnan(p)
    if not tested.all():
        out = np.full(p.shape, np.nan)
        out[tested] = adjust_p_values(p[tested], method)
        return out
    m = p.size
    if method == "none" or m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    adjusted: NDArray[np.float64]
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * ranked))
    elif method == "bh":
        adjusted = np.minimum.accumulate((m * ranked / np.arange(1, m + 1))[::-1])[::-1]
        adjusted = np.minimum(1.0, adjusted)
    else:
        raise ValueError(f"unknown adjustment {method!r}")
    result: NDArray[np.float64] = np.empty(m)
    result[order] = adjusted
    return result
