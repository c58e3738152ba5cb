r"""The provisional shift K of a numeric column: a constant near its mean, chosen from a probe of the
table's first ``PROBE_ROWS`` rows and subtracted in SQL, so that sums of squares and cross products
do not cancel catastrophically when the mean is large against the spread (stack notes §5). Any
centre inside the data's range prevents the cancellation; the exact mean is not needed. Nothing here
knows an experiment: the fit's probe and the plan's probe both read their shifts from here.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np

__all__ = ["PROBE_ROWS", "provisional_centre", "shifted"]

#: Rows read by the probe that picks the provisional shifts.
PROBE_ROWS = 10_000


def shifted(expr: ir.Value, shift: float | int) -> ir.Value:
    """The float64 column minus its provisional shift K (no subtraction when K = 0).

    An integer column with an integer K is shifted in its own type and cast afterwards, so values
    beyond 2**53 (where float64 has gaps wider than 1) keep every digit that differs between rows.
    """
    if isinstance(shift, int) and shift != 0 and expr.type().is_integer():
        return (expr.cast("int64") - ibis.literal(shift, type="int64")).cast("float64")
    col = expr.cast("float64")
    return col - float(shift) if shift != 0 else col


def provisional_centre(mean: float | None, sd: float | None, minimum: int | None, integer: bool
                       ) -> float | int:
    r"""A shift K inside the data's range, exactly representable where the backend subtracts it.

    Sums of squares around K lose about :math:`\log_{10}(1 + (\bar g - K)^2/s^2)` of float64's 16
    digits (stack notes §5), so K is the probe mean rounded to a millionth of the probe's standard
    deviation (exact collinearities between shifted columns stay exact to that order), or to 1e-12
    of the mean when that is coarser: a literal that repeats across runs, as the mean's last-bit
    jitter is far below it. Integer columns get an integer K (their
    subtraction happens before the cast, see :func:`shifted`): the rounded mean, or beyond
    2**53, where the float mean is inexact, the probe's minimum.
    """
    if mean is None or not np.isfinite(mean):
        return 0 if integer else 0.0
    if integer:
        return round(mean) if abs(mean) < 2.0**53 or minimum is None else int(minimum)
    if sd is None or not np.isfinite(sd) or sd <= 0:
        return float(mean)
    digits = 6 - int(np.floor(np.log10(sd)))
    if mean != 0:
        digits = min(digits, 12 - int(np.floor(np.log10(abs(mean)))))
    return float(round(mean, digits))
