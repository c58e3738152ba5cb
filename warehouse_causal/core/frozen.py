"""Results stay as they were computed: read-only arrays and mappings, and ``==`` that compares values.

A dataclass's generated ``__eq__`` compares fields as a tuple, which raises for numpy arrays ("truth
value of an array is ambiguous"). Results that hold arrays use :func:`values_equal` instead: two
fits are equal when every compared field is equal, arrays element by element (NaN equal to NaN,
the way ``cov`` marks unknown blocks). They are unhashable, as mutable-looking values should be.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["read_only", "same_value", "values_equal"]


def same_value(x: Any, y: Any) -> bool:
    """Equality that looks inside arrays, tuples, lists and mappings."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)) or x.shape != y.shape:
            return False
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            return bool(np.array_equal(x, y, equal_nan=True))
        return bool(np.array_equal(x, y))
    if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
        return type(x) is type(y) and len(x) == len(y) and all(map(same_value, x, y))
    if isinstance(x, Mapping) and isinstance(y, Mapping):
        return x.keys() == y.keys() and all(same_value(x[k], y[k]) for k in x)
    return bool(x == y)


def values_equal(self: Any, other: Any) -> bool:
    """``__eq__`` for result dataclasses: the compared fields, by :func:`same_value`."""
    if type(other) is not type(self):
        return NotImplemented
    return all(same_value(getattr(self, f.name), getattr(other, f.name))
               for f in dataclasses.fields(self) if f.compare)


def read_only(value: Any) -> Any:
    """A read-only view: a mapping proxy of a dict (values made read-only too), an array with its
    write flag cleared; anything else unchanged."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
        return value
    if isinstance(value, dict):
        return types.MappingProxyType({k: read_only(v) for k, v in value.items()})
    return value
