r"""The one contract between the warehouse and numpy: declared blocks of columns, generated names.

Every query a pass sends is declared here as *blocks*: a block is a name chosen by the code that
needs it (``gram``, ``score``, ``segment``, ...) and its entries are keyed by anything hashable
(``(i, j)`` for a product, a metric index, a level). The contract, and nothing else, names the SQL
columns: entry n of block ``gram`` is ``gram_n`` (a block's single value, keyed None, is just
``gram``), the group keys are ``key_0, key_1, ...``. Block
names are lower-case letters only, so no two (block, entry) pairs can ever get one name, and no
name is derived from a user's label or column (which removes the label-collision class of bugs at
the root: a user column called ``n``, ``s_0`` or ``Intercept`` is just data).

Three steps, each typed:

- :class:`Columns` collects ``(block, key) -> expression`` and builds either a projection
  (:meth:`Columns.select`) or an aggregate, grouped or not (:meth:`Columns.aggregate`);
- both return a :class:`Named` table, whose columns are found again by ``named[block, key]`` (to
  build the next, outer query level) and which runs through a
  :class:`~warehouse_causal.warehouse.backends.QueryRunner`;
- the result comes back as :class:`Sums`: per cell (one returned row, in a fixed order: by the
  group keys, each in its own type — numbers as numbers, dates and timestamps as time, text as text;
  see :func:`~warehouse_causal.meaning.periods.period_sort_key`), each
  declared entry as a float column (NULL, an empty sum, read as 0), the raw values where a block
  holds something other than sums (a minimum, a level), and the group keys.

Nothing outside this module formats or parses an alias; new estimators add blocks.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from warehouse_causal.meaning.periods import cell_order
from warehouse_causal.warehouse.backends import QueryRunner

__all__ = ["CLUSTER", "KEY", "Columns", "Named", "Sums", "unused_name"]

#: The block of group keys: ``named[KEY, key]`` is a group-by column, ``Sums.key(key)`` its values.
KEY = "key"
#: The group key of the cluster in clustered queries (design keys are labels: strings, never tuples).
CLUSTER = ("cluster",)
_BLOCK_NAME = re.compile(r"[a-z]+")


def unused_name(wanted: str, taken: Iterable[str]) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3`` ... : the first not in ``taken`` (compared without
    case, as SQL engines may). For a helper column that must sit beside a user's columns (a join
    key): the user's names are never shadowed."""
    lowered = {name.lower() for name in taken}
    name, i = wanted, 1
    while name.lower() in lowered:
        i += 1
        name = f"{wanted}_{i}"
    return name


@dataclass
class Columns:
    """Declared columns of one query level: ``(block, key) -> expression``, in declaration order."""

    _exprs: dict[tuple[str, Hashable], ir.Value] = field(default_factory=dict)

    def add(self, block: str, key: Hashable, expr: ir.Value) -> None:
        """Declare one entry; declaring the same (block, key) twice is a programming error."""
        if not _BLOCK_NAME.fullmatch(block) or block == KEY:
            raise ValueError(f"block names are lower-case letters and not {KEY!r}; got {block!r}")
        if (block, key) in self._exprs:
            raise ValueError(f"({block!r}, {key!r}) is declared twice")
        self._exprs[(block, key)] = expr

    def update(self, block: str, entries: Mapping[Any, ir.Value]) -> None:
        """Declare every (key, expression) of ``entries`` in ``block``."""
        for key, expr in entries.items():
            self.add(block, key, expr)

    def __len__(self) -> int:
        return len(self._exprs)

    def __contains__(self, item: object) -> bool:
        return item in self._exprs

    def select(self, table: ir.Table, keys: Mapping[Any, ir.Value] | None = None) -> Named:
        """The projection of ``table`` on the declared columns (and on the group ``keys``, carried
        through under the KEY block for an outer aggregate)."""
        names = _names(keys or {}, self._exprs)
        exprs = {names[(KEY, k)]: e for k, e in (keys or {}).items()}
        exprs.update({names[item]: e for item, e in self._exprs.items()})
        return Named(table.select(**exprs), names, tuple(keys or ()))

    def aggregate(self, table: ir.Table, by: Mapping[Any, ir.Value] | None = None) -> Named:
        """One aggregate of ``table`` over the declared (aggregate) expressions, grouped by ``by``
        (its keys name the group columns: ``Sums.key(k)``) or over all rows."""
        names = _names(by or {}, self._exprs)
        metrics = {names[item]: e for item, e in self._exprs.items()}
        if not by:
            return Named(table.aggregate(**metrics), names, ())
        groups = {names[(KEY, k)]: e for k, e in by.items()}
        return Named(table.group_by(**groups).aggregate(**metrics), names, tuple(by))


def _names(keys: Iterable[Hashable], exprs: Iterable[tuple[str, Hashable]]
           ) -> dict[tuple[str, Hashable], str]:
    names = {(KEY, k): f"{KEY}_{i}" for i, k in enumerate(keys)}
    counts: dict[str, int] = {}
    for block, key in exprs:
        if key is None:  # a block's single value: the block's name (no other name lacks a _n)
            names[(block, key)] = block
            continue
        n = counts.get(block, 0)
        counts[block] = n + 1
        names[(block, key)] = f"{block}_{n}"
    return names


@dataclass(frozen=True)
class Named:
    """A query whose columns are known by (block, key), not by name."""

    table: ir.Table
    names: Mapping[tuple[str, Hashable], str] = field(repr=False)
    groups: tuple[Hashable, ...] = ()  # the group keys, in order

    def __getitem__(self, item: tuple[str, Hashable]) -> ir.Value:
        return self.table[self.names[item]]

    def key(self, key: Hashable) -> ir.Value:
        """The group-key column ``key`` (carried by a projection or grouped by an aggregate)."""
        return self[KEY, key]

    def __contains__(self, item: object) -> bool:
        return item in self.names

    def entries(self, block: str) -> list[Hashable]:
        """The keys declared in ``block``, in declaration order."""
        return [k for b, k in self.names if b == block]

    def ordered(self) -> Named:
        """The same rows ordered by the group keys (cells of one cluster become one run)."""
        order = [self.names[(KEY, k)] for k in self.groups]
        return Named(self.table.order_by(order), self.names, self.groups)

    def limit(self, n: int) -> Named:
        """At most ``n`` rows (a guard: the caller checks whether the limit was reached)."""
        return Named(self.table.limit(n), self.names, self.groups)

    def run(self, runner: QueryRunner, purpose: str, *, sort: bool = True) -> Sums:
        """Execute and read back. ``sort`` puts the cells in a fixed order (by their group keys,
        each in its own type: period 10 after period 9), so numpy's sums over them repeat bit for
        bit (GROUP BY returns groups in any order) and the last cell is the latest period; with
        ``sort=False`` an :meth:`ordered` query keeps the warehouse's ORDER BY."""
        return Sums(runner.run_arrow(self.table, purpose), self.names, self.groups, sort=sort)


class Sums:
    """The cells one query returned, read by (block, key): float columns (NULL = 0), raw values,
    and the group keys. Immutable."""

    def __init__(self, result: pa.Table, names: Mapping[tuple[str, Hashable], str],
                 groups: Sequence[Hashable], *, sort: bool = True):
        self._names = dict(names)
        self._groups = tuple(groups)
        if sort and self._groups and result.num_rows > 1:
            order = cell_order([result.column(names[(KEY, k)]).to_pylist() for k in self._groups])
            result = result.take(pa.array(order, type=pa.int64()))
        self._result = result.combine_chunks()
        self._floats: dict[str, NDArray[np.float64]] = {}

    @property
    def n_cells(self) -> int:
        """The number of returned rows (cells)."""
        return int(self._result.num_rows)

    def __contains__(self, item: object) -> bool:
        return item in self._names

    def column(self, block: str, key: Hashable = None) -> NDArray[np.float64]:
        """Entry ``key`` of ``block`` per cell, as read-only float64 (NULL, an empty sum, is 0)."""
        name = self._names[(block, key)]
        if name not in self._floats:
            values = self._result.column(name)
            if values.null_count:
                values = pc.fill_null(values, 0)
            out = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
            out.flags.writeable = False
            self._floats[name] = out
        return self._floats[name]

    def total(self, block: str, key: Hashable = None) -> float:
        """Entry ``key`` of ``block`` summed over the cells."""
        return float(self.column(block, key).sum())

    def values(self, block: str, key: Hashable = None) -> list[Any]:
        """Entry ``key`` of ``block`` per cell as the Python values the backend returned (None kept)."""
        return list(self._result.column(self._names[(block, key)]).to_pylist())

    def value(self, block: str, key: Hashable = None) -> Any:
        """The raw value of a one-row result (an ungrouped aggregate)."""
        if self.n_cells != 1:
            raise ValueError(f"value() reads a one-row result; this one has {self.n_cells} rows")
        return self.values(block, key)[0]

    def key(self, key: Hashable) -> NDArray[Any]:
        """The group key ``key`` per cell (object array of the backend's Python values)."""
        return np.array(self._result.column(self._names[(KEY, key)]).to_pylist(), dtype=object)

    def array(self, block: str, key: Hashable = None) -> NDArray[Any]:
        """Entry ``key`` of ``block`` per cell as a numpy array of its own type (for many rows;
        NULL becomes NaN or None)."""
        return np.asarray(self._result.column(self._names[(block, key)]).to_numpy(zero_copy_only=False))

    def key_array(self, key: Hashable) -> NDArray[Any]:
        """The group key ``key`` per cell as a numpy array of its own type (for many rows)."""
        return self.array(KEY, key)

    def keys(self) -> dict[Any, NDArray[Any]]:
        """Every group key's values per cell."""
        return {k: self.key(k) for k in self._groups}

    def codes(self, key: Hashable) -> tuple[NDArray[np.int64], list[Any]]:
        """The group key ``key`` dictionary-encoded (in Arrow, cheap for many rows): a code per cell
        (-1 for NULL) and the distinct values the codes index."""
        encoded = pc.dictionary_encode(self._result.column(self._names[(KEY, key)])).chunk(0)
        codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        return codes, encoded.dictionary.to_pylist()

    def collapse(self, keep: Sequence[Hashable]) -> Sums:
        """The cells summed over every group key not in ``keep`` (e.g. (cluster, cell) rows into
        cells), in Arrow. Every other column must be a sum (a count, Σ, Σ of products)."""
        kept = [self._names[(KEY, k)] for k in keep]
        sums = [name for (block, _), name in self._names.items() if block != KEY]
        table = self._result.group_by(kept).aggregate([(name, "sum") for name in sums])
        table = table.rename_columns({f"{name}_sum": name for name in sums})
        names = {item: name for item, name in self._names.items() if item[0] != KEY or item[1] in keep}
        return Sums(table, names, tuple(keep))
