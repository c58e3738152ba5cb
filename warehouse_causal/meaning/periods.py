"""An ordered period axis: period values sorted in their own type, never as text.

Integer periods 0–19 sorted as text run 0, 1, 10, 11, ..., 19, 2, ...: the "latest" period would
be 9. Numbers sort as numbers, dates and timestamps as time, text as text; NaN and mixed kinds are
refused.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from warehouse_causal.core.errors import InvalidParameterError


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, dt.datetime) or type(value).__name__ == "Timestamp":
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if type(value).__name__ in ("datetime64", "Timestamp"):
        return "timestamp"
    return "text"


def period_sort_key(value: Any) -> tuple[int, Any]:
    """A sort key that orders values of one kind in their own type (None first, then numbers by value,
    dates and timestamps by time, text by text). Use it wherever cells or periods are ordered."""
    kind = _kind(value)
    if kind == "null":
        return (0, 0)
    if kind in ("number", "bool"):
        number = float(value)
        return (1, number if not math.isnan(number) else math.inf)
    if kind == "timestamp":
        stamp = value if isinstance(value, dt.datetime) else value.to_pydatetime()
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return (2, stamp)
    if kind == "date":
        return (2, dt.datetime(value.year, value.month, value.day))
    return (3, str(value))


@dataclass(frozen=True)
class PeriodAxis:
    """Distinct period ``values`` in order. Build it with :meth:`of`."""

    values: tuple[Any, ...]
    kind: str

    @classmethod
    def of(cls, values: Iterable[Any], owner: str = "period", name: str = "time") -> PeriodAxis:
        found = list(dict.fromkeys(v for v in values))
        kinds = {_kind(v) for v in found}
        if "null" in kinds:
            raise InvalidParameterError(
                f"{owner}: the {name!r} column has NULL periods; filter them out first.")
        for v in found:
            if _kind(v) == "number" and not math.isfinite(float(v)):
                raise InvalidParameterError(
                    f"{owner}: the {name!r} column has a NaN or infinite period ({v!r}); "
                    "periods must be finite.")
        if kinds == {"date", "timestamp"}:
            kinds = {"timestamp"}
        if len(kinds) > 1:
            raise InvalidParameterError(
                f"{owner}: the {name!r} column mixes kinds of values ({', '.join(sorted(kinds))}); "
                "periods must be all numbers, all dates/timestamps or all text.")
        ordered = tuple(sorted(found, key=period_sort_key))
        return cls(ordered, kinds.pop() if kinds else "empty")

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Any:
        return iter(self.values)

    @property
    def latest(self) -> Any:
        if not self.values:
            raise InvalidParameterError("The period axis is empty: there is no latest period.")
        return self.values[-1]

    def position(self, value: Any) -> int:
        return self.values.index(value)
