"""Connections, table helpers and the one place that executes queries.

Every query goes through :class:`QueryRunner`, which compiles the ibis expression, runs it on the
expression's own backend, and records the SQL, the number of rows that came back and the time it
took. Those records are how tests prove that row-level data never comes into Python.

Stack decision (tested in ``tests/test_backends.py``): ibis 12.0 with duckdb 1.5 and sqlglot < 30.18.
duckdb 2.0 removed the connection methods ibis 12's DuckDB backend calls (``list_tables``, ``sql``,
``to_pyarrow_batches`` break and leave the connection unusable), so the connection :func:`connect`
returns would not be a whole ibis backend; pyproject.toml pins ``duckdb<2`` and says why.

Portable SQL: the query builders write ``condition.cast("float64")`` for an indicator, which not
every engine accepts (PostgreSQL casts a boolean only to INTEGER, BigQuery only to INT64).
:func:`portable` rewrites each such cast to ``CASE condition WHEN TRUE THEN 1 WHEN FALSE THEN 0 END``
(NULL stays NULL, as with the cast) before any engine but DuckDB compiles or runs it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import ibis.common.exceptions as ibis_errors
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from warehouse_causal.core.errors import InvalidParameterError, QueryError, UnsupportedBackendError
from warehouse_causal.core.progress import Ticker
from warehouse_causal.core.validation import BOOLEAN, NONE, InstanceOf, Integer, check_param
from warehouse_causal.warehouse.budget import current_budget

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["QueryRecord", "QueryRunner", "backend_name", "backend_of", "connect", "portable", "table",
           "table_exists", "to_sql"]

logger = logging.getLogger("warehouse_causal")

#: Queries slower than this are reported at INFO level (progress feedback for long work).
SLOW_QUERY_SECONDS = 2.0


def connect(target: str | Path | BaseBackend | None = None, *, threads: int | None = None,
            read_only: bool = False) -> BaseBackend:
    """Return an ibis backend: in-memory DuckDB (default, also for ``":memory:"``), a DuckDB file
    path, or the given backend.

    ``read_only=True`` opens an existing DuckDB file read-only (the CLI and agents do: an analysis
    writes nothing), and a missing file is an error instead of a new empty database.
    """
    owner = "connect"
    check_param(threads, "threads", owner, Integer(1, 1024), NONE)
    check_param(read_only, "read_only", owner, BOOLEAN)
    if isinstance(target, BaseBackend):
        return target
    if target is None or str(target) == ":memory:":
        con = ibis.duckdb.connect()
    elif isinstance(target, (str, Path)):
        path = Path(target)
        if read_only and not path.is_file():
            raise InvalidParameterError(
                f"The 'target' parameter of connect names {str(path)!r}, which is not an existing DuckDB "
                "file; check the path (nothing was created)."
            )
        try:
            con = ibis.duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as err:  # e.g. a lock held by another process: its message names it
            raise InvalidParameterError(
                f"The 'target' parameter of connect names {str(path)!r}, which cannot be opened as a "
                f"DuckDB database: "
                f"{str(err).strip().splitlines()[0]}") from err
    else:
        raise InvalidParameterError(
            "The 'target' parameter of connect must be None, a DuckDB file path or an ibis backend. "
            f"Got {type(target).__name__} instead."
        )
    if threads is not None:
        con.raw_sql(f"SET threads TO {int(threads)}").fetchall()
    return con


def table_exists(con: BaseBackend, name: str) -> bool:
    """Whether ``con`` resolves ``name`` to a table or view (temporary ones included)."""
    try:
        con.table(name)
    except ibis_errors.TableNotFound:
        return False
    return True


def table(data: Any, name: str | None = None, con: BaseBackend | None = None) -> ir.Table:
    """Register a pandas DataFrame or pyarrow Table and return it as an ibis table.

    With ``con`` the frame is copied into a new temporary table of that backend (named ``name`` or
    ``wc_<random>``); without it, it becomes an ibis memtable run by the default DuckDB backend.
    An existing table is never replaced or shadowed: a ``name`` the connection already resolves is
    an error.
    """
    owner = "table"
    check_param(name, "name", owner, InstanceOf(str, "a table name"), NONE)
    if isinstance(data, ir.Table):
        return data
    if con is None:
        return ibis.memtable(data)
    if name is not None and table_exists(con, name):
        raise InvalidParameterError(
            f"The 'name' parameter of table is {name!r}, a table that already exists in this connection; "
            "a temporary table would shadow it. Pick another name (or leave it out for a fresh one)."
        )
    name = name or f"wc_{uuid.uuid4().hex[:12]}"
    return con.create_table(name, data, temp=True)


def _is_frame(data: Any) -> bool:
    """A pandas or polars DataFrame or a pyarrow Table (checked by module, no imports needed)."""
    module = type(data).__module__.split(".")[0]
    return module in ("pandas", "polars", "pyarrow") and hasattr(data, "columns" if module != "pyarrow"
                                                                 else "column_names")


def as_table(data: Any, parameter: str, owner: str) -> ir.Table:
    """``data`` as an ibis table: an ibis table as is; a pandas or polars DataFrame or a pyarrow
    Table as an in-memory table of the default DuckDB backend (:func:`table`; nothing is copied into
    a connection the user owns). Anything else is an error naming the parameter."""
    if isinstance(data, ir.Table):
        return data
    if _is_frame(data):
        return ibis.memtable(data)
    raise InvalidParameterError(
        f"The {parameter!r} parameter of {owner} must be an ibis table, or a pandas or polars DataFrame "
        f"or pyarrow Table. Got {type(data).__name__} instead.")


#: Dialects whose CAST takes a boolean to any number type (tested: DuckDB runs every query with it).
#: Every other dialect gets the CASE form of :func:`portable`.
_CASTS_BOOLEANS = frozenset({"duckdb"})


def _boolean_to_number(node: ops.Node, kwargs: dict[str, Any] | None) -> ops.Node:
    """``CAST(b AS <number>)`` → ``CAST(CASE b WHEN TRUE THEN 1 WHEN FALSE THEN 0 END AS <number>)``."""
    if kwargs:  # a child was rewritten: ``kwargs`` holds every argument (ibis's Node.replace contract)
        node = node.__recreate__(kwargs)
    if (isinstance(node, ops.Cast) and node.arg.dtype.is_boolean()
            and (node.to.is_numeric() or node.to.is_decimal())):
        indicator = ops.SimpleCase(node.arg, (ibis.literal(True).op(), ibis.literal(False).op()),
                                   (ibis.literal(1, type=dt.int8).op(), ibis.literal(0, type=dt.int8).op()),
                                   ibis.null(dt.int8).op())
        return ops.Cast(indicator, node.to)
    return node


def portable(expr: ir.Table, dialect: str | None) -> ir.Table:
    """``expr`` with every cast of a boolean to a number written as a CASE, for ``dialect``.

    PostgreSQL refuses ``CAST(boolean AS BIGINT | DOUBLE PRECISION)`` and BigQuery ``CAST(BOOL AS
    FLOAT64)``; the CASE gives the same value everywhere (1, 0, and NULL for NULL). DuckDB, the
    default engine, keeps the plain cast (its golden SQL and speed are unchanged).
    """
    if dialect in _CASTS_BOOLEANS or not any(
            node.arg.dtype.is_boolean() for node in expr.op().find(ops.Cast)):
        return expr
    return expr.op().replace(_boolean_to_number).to_expr()


def to_sql(expr: ir.Expr, dialect: str | None = None) -> str:
    """Compile an expression to SQL for ``dialect`` (default: the expression's backend).

    "spark" is accepted as the name of ibis's "pyspark" (Spark SQL) dialect.
    """
    if dialect == "spark":
        dialect = "pyspark"
    if dialect == "pyspark":
        _register_pyspark_options()
    target = dialect
    if target is None:
        try:
            target = backend_name(expr)
        except ibis_errors.IbisError:  # an unbound table: ibis compiles it for its default dialect
            target = str(ibis.options.sql.default_dialect)
    if isinstance(expr, ir.Table):
        expr = portable(expr, target)
    return str(ibis.to_sql(expr, dialect=dialect))


def _pyspark_backend_loads() -> bool:
    """Touch ``ibis.pyspark``: when pyspark is installed this loads the backend and its options."""
    try:
        return ibis.pyspark is not None
    except (ImportError, AttributeError):
        return False


def _register_pyspark_options() -> None:
    """ibis compiles the pyspark dialect only once ``ibis.options.pyspark`` exists (stack notes §1).

    Touching ``ibis.pyspark`` registers it when pyspark is installed (importing the module does not);
    without pyspark, compiling SQL text needs only the option, so it is registered by hand.
    """
    if getattr(ibis.options, "pyspark", None) is not None:
        return
    if _pyspark_backend_loads() and getattr(ibis.options, "pyspark", None) is not None:
        return

    class PySparkOptions(ibis.config.Config):
        treat_nan_as_null: bool = False

    ibis.options.pyspark = PySparkOptions()


_LOCKS: weakref.WeakKeyDictionary[BaseBackend, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _lock_for(backend: BaseBackend) -> threading.Lock:
    """The lock that serializes queries on one connection: threads sharing a connection wait for
    each other instead of failing inside the driver."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(backend)
        if lock is None:
            lock = _LOCKS[backend] = threading.Lock()
        return lock


@dataclass(frozen=True)
class QueryRecord:
    """One executed query: why it ran, the rows it returned and its wall time.

    ``sql`` is compiled on demand from the stored expression (compiling is not free).
    """

    purpose: str
    expr: ir.Table = field(repr=False, compare=False)
    dialect: str
    rows: int
    seconds: float

    @property
    def sql(self) -> str:
        """The SQL text the backend ran."""
        return to_sql(self.expr, dialect=self.dialect)

    def as_row(self) -> dict[str, Any]:
        """purpose, rows returned, seconds and dialect (the SQL is ``.sql``)."""
        return {"purpose": self.purpose, "rows": self.rows, "seconds": self.seconds, "dialect": self.dialect}


def backend_of(expr: ir.Expr) -> BaseBackend:
    """The backend an expression runs on (ibis's public ``get_backend``: in-memory tables run on the
    default backend, in-process DuckDB; unbound tables cannot run and raise ibis's error)."""
    return expr.get_backend()


def backend_name(expr: ir.Expr) -> str:
    """The name of the engine ``expr`` runs on ("duckdb", "postgres", "pyspark", ...)."""
    return str(backend_of(expr).name)


@dataclass
class QueryRunner:
    """Executes ibis expressions and keeps a log of :class:`QueryRecord` (append-only)."""

    records: list[QueryRecord] = field(default_factory=list)

    def run(self, expr: ir.Table, purpose: str) -> list[dict[str, Any]]:
        """Execute ``expr`` and return its rows as dicts keyed by column alias."""
        return self.run_arrow(expr, purpose).to_pylist()

    def run_arrow(self, expr: ir.Table, purpose: str) -> pa.Table:
        """Execute ``expr``, log it, and return the result as an Arrow table."""
        backend = backend_of(expr)
        expr = portable(expr, str(backend.name))
        with _lock_for(backend):  # one connection runs one query at a time (DuckDB refuses more)
            return self._run_locked(expr, purpose, backend)

    def _run_locked(self, expr: ir.Table, purpose: str, backend: BaseBackend) -> pa.Table:
        start = time.perf_counter()
        # Progress feedback: announce a query still running after SLOW_QUERY_SECONDS.
        notice = threading.Timer(SLOW_QUERY_SECONDS, logger.info, args=(
            "%s: running on %s for more than %.0f s ...", purpose, backend.name, SLOW_QUERY_SECONDS))
        notice.daemon = True
        notice.start()
        budget = current_budget()
        if budget is not None:  # an agent's call: refused before it runs when over its budget
            budget.admit(expr, backend, purpose)
        try:
            with Ticker(purpose, SLOW_QUERY_SECONDS), (
                    budget.deadline(backend, purpose) if budget is not None else nullcontext()):
                result = backend.to_pyarrow(expr)
        except duckdb.DataError as err:  # a value that does not convert, a number out of range
            raise QueryError(f"The {purpose!r} query failed on the table's values: "
                             f"{str(err).strip().splitlines()[0]}", purpose) from err
        except (ibis_errors.OperationNotDefinedError, ibis_errors.UnsupportedOperationError) as err:
            raise UnsupportedBackendError(
                f"The {backend.name!r} backend cannot run the {purpose!r} query: {err}. Use a backend "
                "that supports it (DuckDB, Spark, BigQuery, Snowflake are tested to compile)."
            ) from err
        finally:
            notice.cancel()
        seconds = time.perf_counter() - start
        self.records.append(QueryRecord(purpose, expr, backend.name, result.num_rows, seconds))
        level = logging.INFO if seconds >= SLOW_QUERY_SECONDS else logging.DEBUG
        logger.log(level, "%s: %d row(s) in %.2f s", purpose, result.num_rows, seconds)
        return result
