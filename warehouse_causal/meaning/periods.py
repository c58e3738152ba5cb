"""An ordered period axis: period values sorted in their own type, never as text.

Integer periods 0–19 sorted as text run 0, 1, 10, 11, ..., 19, 2, ...: the "latest" period would
be 9. Numbers sort as numbers, dates and timestamps as time, text as text; NaN and mixed kinds are
refused. :func:`period_sort_key` is the one rule: the query contract orders its cells by it
(:func:`cell_order`), so everything that reads cells in order (the monitor's latest period, the
looks, the charts) follows the values' own type.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from warehouse_causal.core.errors import InvalidParameterError

_EPOCH = dt.datetime(1970, 1, 1)
#: The rank of each kind of value in a sort key: numbers, NaN after every number, time, durations,
#: times of day, bytes, text, anything else, and NULL last (as DuckDB's ORDER BY puts NaN and NULL).
_RANK = {"bool": 1, "number": 1, "nan": 2, "date": 3, "timestamp": 3, "duration": 4, "time": 5,
         "bytes": 6, "text": 7, "other": 8, "null": 9}


def _is_missing_time(value: Any) -> bool:
    """pandas' NaT (a datetime subclass that compares False with everything) or numpy's NaT."""
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return isinstance(value, dt.datetime) and value != value  # NaT is not equal to itself


def _kind(value: Any) -> str:
    if value is None or _is_missing_time(value):
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, Decimal):
        return "nan" if value.is_nan() else "number"
    if isinstance(value, numbers.Real):
        return "nan" if value != value else "number"  # NaN is not equal to itself
    if isinstance(value, (dt.datetime, np.datetime64)):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, (dt.timedelta, np.timedelta64)):
        return "duration"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, str):
        return "text"
    return "other"


def _number(value: Any) -> Any:
    """An exact Python number (int, float or Decimal compare exactly with one another): integers
    beyond 2**53 keep their order, which a float would lose."""
    if isinstance(value, (bool, np.bool_, numbers.Integral)):
        return int(value)
    if isinstance(value, Decimal):
        return value
    return float(value)


def _instant(value: Any) -> tuple[dt.datetime, int]:
    """A naive UTC datetime and the nanoseconds below its microsecond (pandas and numpy keep them)."""
    if isinstance(value, np.datetime64):
        nanos = int(value.astype("datetime64[ns]").astype(np.int64))
        return _EPOCH + dt.timedelta(microseconds=nanos // 1000), nanos % 1000
    if isinstance(value, dt.datetime):
        stamp = value
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return stamp, int(getattr(value, "nanosecond", 0))
    return dt.datetime(value.year, value.month, value.day), 0


def period_sort_key(value: Any) -> tuple[Any, ...]:
    """A sort key that orders values of one kind in their own type: numbers by value (int, float,
    Decimal, numpy scalars; exact), NaN after every number, dates and timestamps by time (time zones
    compared in UTC, nanoseconds kept), durations, times of day, bytes, text by text, anything else
    by its ``repr`` (an order that at least repeats), and None (or NaT) last, as DuckDB's ORDER BY.
    Use it wherever cells or periods are ordered."""
    kind = _kind(value)
    rank = _RANK[kind]
    if kind in ("null", "nan"):
        return (rank, 0)
    if kind in ("number", "bool"):
        return (rank, _number(value))
    if kind in ("date", "timestamp"):
        return (rank, *_instant(value))
    if kind == "duration":
        if isinstance(value, np.timedelta64):
            return (rank, int(value.astype("timedelta64[ns]").astype(np.int64)))
        return (rank, value // dt.timedelta(microseconds=1) * 1000 + int(getattr(value, "nanoseconds", 0)))
    if kind in ("time", "bytes", "text"):
        return (rank, value)
    return (rank, repr(value))


def cell_order(columns: Sequence[Sequence[Any]]) -> list[int]:
    """The positions of the rows whose key values are ``columns`` (one sequence per key, all of one
    length), sorted by :func:`period_sort_key` of each key in turn: the order in which query cells
    are read everywhere (numbers as numbers, times as times, never as text)."""
    if not columns:
        return []
    rows = len(columns[0])
    keys = [[period_sort_key(v) for v in column] for column in columns]
    return sorted(range(rows), key=lambda r: tuple(k[r] for k in keys))


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
            if _kind(v) == "nan" or (_kind(v) == "number" and not math.isfinite(v)):
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
