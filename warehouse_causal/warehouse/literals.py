"""Numbers written into SQL so that the engine reads back exactly the same double.

A float literal such as ``0.9341454403093373`` is the shortest text that rounds back to its double,
but DuckDB 1.5 parses it as a DECIMAL and converts that to DOUBLE with a rounding error of one unit
in the last place: ``y <= 0.9341454403093373`` then misses the row whose y is exactly that value
(found by comparing a quantile's counts at or below a sample value with numpy). Text cast to DOUBLE
is parsed correctly by every engine, so a comparison at a sample value is exact.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir

__all__ = ["exact_double"]


def exact_double(value: float) -> ir.FloatingValue:
    """``value`` as a DOUBLE the engine reads back bit for bit (``CAST('<repr>' AS DOUBLE)``);
    NaN and infinities as ibis's own literal."""
    number = float(value)
    if not math.isfinite(number):
        return ibis.literal(number, type="float64")
    return ibis.literal(repr(number)).cast("float64")
