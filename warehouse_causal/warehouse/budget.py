"""A per-call query budget: rows scanned and seconds, enforced where every query runs
(:class:`~warehouse_causal.warehouse.backends.QueryRunner`). The agent server wraps each tool call in one.

Rows scanned are counted before a query runs, as the rows of every table it reads (each table
counted once per call by a ``COUNT(*)``, cheap on DuckDB and on warehouses' metadata); a query that
would go over the limit is refused before it starts. Seconds are the call's wall time: on DuckDB a
query still running at the deadline is interrupted; on other backends the next query is refused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.operations as ops
import ibis.expr.types as ir

from warehouse_causal.core.errors import QueryBudgetError
from warehouse_causal.core.validation import Integer, Real, check_param

__all__ = ["Budget", "current_budget", "query_budget"]


@dataclass
class Budget:
    """The limits of one call and what it has used so far."""

    max_rows_scanned: int
    max_seconds: float
    started: float = field(default_factory=time.perf_counter)
    rows_scanned: int = 0
    queries: int = 0
    _table_rows: dict[Any, int] = field(default_factory=dict, repr=False)

    def remaining_seconds(self) -> float:
        return self.max_seconds - (time.perf_counter() - self.started)

    def _rows_of(self, table: ops.Relation, backend: Any) -> int:
        if table not in self._table_rows:
            self._table_rows[table] = int(backend.execute(table.to_expr().count()))
        return self._table_rows[table]

    def admit(self, expr: ir.Table, backend: Any, purpose: str) -> None:
        """Count the rows ``expr`` reads; refuse it (before it runs) when the budget is spent."""
        if self.remaining_seconds() <= 0:
            raise QueryBudgetError(
                f"The call ran out of its {self.max_seconds:g} s query budget before {purpose!r}; "
                "ask for less (fewer metrics, segments or looks) or raise the budget.")
        tables = set(expr.op().find(ops.PhysicalTable))
        rows = sum(self._rows_of(t, backend) for t in tables)
        if self.rows_scanned + rows > self.max_rows_scanned:
            raise QueryBudgetError(
                f"{purpose!r} would scan {rows:,} rows, past the call's budget of "
                f"{self.max_rows_scanned:,} rows scanned ({self.rows_scanned:,} used by "
                f"{self.queries} earlier queries); ask for less or raise the budget.")
        self.rows_scanned += rows
        self.queries += 1

    @contextmanager
    def deadline(self, backend: Any, purpose: str) -> Iterator[None]:
        """Interrupt a DuckDB query still running when the call's time is up."""
        connection = getattr(backend, "con", None)
        interrupt = getattr(connection, "interrupt", None)
        fired = threading.Event()

        def stop() -> None:
            fired.set()
            if interrupt is not None:
                interrupt()

        timer = threading.Timer(max(self.remaining_seconds(), 0.0), stop)
        timer.daemon = True
        timer.start()
        try:
            yield
        except Exception as err:
            if fired.is_set():
                raise QueryBudgetError(
                    f"{purpose!r} was stopped at the call's {self.max_seconds:g} s query budget; ask "
                    "for less or raise the budget.") from err
            raise
        finally:
            timer.cancel()
        if fired.is_set() and interrupt is None:
            raise QueryBudgetError(f"{purpose!r} ran past the call's {self.max_seconds:g} s query budget.")


_current: ContextVar[Budget | None] = ContextVar("warehouse_causal_budget", default=None)


def current_budget() -> Budget | None:
    """The budget of the call running in this context, if any."""
    return _current.get()


@contextmanager
def query_budget(max_rows_scanned: int = 1_000_000_000, max_seconds: float = 120.0) -> Iterator[Budget]:
    """Run the enclosed analysis under a budget: ``QueryBudgetError`` when a query would scan past
    ``max_rows_scanned`` rows in total, or when ``max_seconds`` of wall time are spent."""
    check_param(max_rows_scanned, "max_rows_scanned", "query_budget", Integer(1))
    check_param(max_seconds, "max_seconds", "query_budget", Real(0, 86_400.0))
    budget = Budget(max_rows_scanned, float(max_seconds))
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
