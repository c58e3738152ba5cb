"""One base for every result that is a table: ``to_dicts`` is the one conversion, and ``to_pandas``,
``to_json``, markdown and notebook HTML displays derive from it.

Numbers are shown to four significant digits, p-values below 0.001 as "< 0.001", NaN as "–" (no
valid value, e.g. a p-value with too few clusters) and JSON is strict (NaN → null, ±inf → "inf").
"""

from __future__ import annotations

import html
import json
import math
from abc import ABC, abstractmethod
from typing import Any

__all__ = ["RowTable", "TableResult", "format_value", "strict_json"]


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float made valid JSON: NaN (no valid number) becomes null,
    ±inf (an unbounded interval) the strings "inf"/"-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def format_value(column: str, value: Any, digits: int = 4) -> str:
    """A cell as people read it: p-values below 0.001 as "< 0.001", NaN and None (not applicable) as "–"."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if "p_value" in column or column.startswith("p_") or column.endswith("_p"):
        return "< 0.001" if value < 0.001 else f"{value:.3f}"
    return f"{value:.{digits}g}"


#: Interval bounds shown together: (lower column, upper column) -> the joined column's name.
INTERVALS = {("ci_lower", "ci_upper"): "interval", ("av_ci_lower", "av_ci_upper"): "anytime-valid interval",
             ("lower", "upper"): "interval", ("primary_lower", "primary_upper"): "primary interval"}


def _intervals_joined(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with each (lower, upper) pair of :data:`INTERVALS` as one "[a, b]" text at the
    lower bound's place."""
    out: dict[str, Any] = {}
    for column, value in row.items():
        pair = next(((low, up) for low, up in INTERVALS
                     if column in (low, up) and low in row and up in row), None)
        if pair is None:
            out[column] = value
        elif column == pair[0]:
            out[INTERVALS[pair]] = f"[{format_value(pair[0], value)}, {format_value(pair[1], row[pair[1]])}]"
    return out


class TableResult(ABC):
    """Base of result classes whose rows are dicts (``to_dicts``); ``caption`` titles the table."""

    @abstractmethod
    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per row (the one conversion)."""

    def caption(self) -> str:
        """One line that says what the rows are (overridden where there is more to say)."""
        return type(self).__name__

    def to_pandas(self) -> Any:
        """The rows of ``to_dicts`` as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.to_dicts())

    def to_json(self) -> str:
        """The rows of ``to_dicts`` as strict JSON (NaN → null, ±inf → "inf"/"-inf")."""
        return json.dumps(strict_json(self.to_dicts()), allow_nan=False, default=str)

    def to_markdown(self, digits: int = 4) -> str:
        """A markdown table of the rows, numbers formatted by :func:`format_value`."""
        rows = self.to_dicts()
        if not rows:
            return "(no rows)"
        columns = list(rows[0])
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(format_value(c, r[c], digits) for c in columns) + " |" for r in rows]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return f"**{self.caption()}**\n\n{self.to_markdown()}"

    def _repr_html_(self) -> str:
        """A notebook table: numbers rounded, small p-values as "< 0.001", each interval's two
        bounds in one "[a, b]" cell (``to_pandas`` keeps them as numbers)."""
        rows = [_intervals_joined(r) for r in self.to_dicts()]
        columns = list(rows[0]) if rows else []
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(format_value(c, r[c]))}</td>" for c in columns) + "</tr>"
            for r in rows)
        return (f"<table><caption>{html.escape(self.caption())}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")

    def __str__(self) -> str:
        return f"{self.caption()}\n{self.to_markdown()}"

    def __repr__(self) -> str:
        return str(self)


class RowTable(TableResult, tuple):
    """A tuple of rows (named tuples, dicts, or objects with ``as_row``) that displays as a table: it
    still iterates, indexes and compares as the tuple it is."""

    _caption: str

    def __new__(cls, rows: Any = (), caption: str = "rows") -> RowTable:
        table = super().__new__(cls, rows)
        table._caption = caption
        return table

    def to_dicts(self) -> list[dict[str, Any]]:
        return [row.as_row() if hasattr(row, "as_row") else dict(row) if isinstance(row, dict)
                else dict(row._asdict()) for row in self]

    def caption(self) -> str:
        return self._caption
