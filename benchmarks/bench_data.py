"""Reproducible benchmark tables, generated inside DuckDB and written as parquet.

Every random number is a hash of row · 4096 + stream, so a table is the same on every machine and for any
thread count. Columns: ``cluster_id`` (10,000 clusters), ``arm`` (randomized by cluster),
``country`` (5 levels), covariates ``x1..xK`` (standard normal), discrete ``g1`` (5 values) and
``g2`` (10 values), metrics ``y1..y3`` with a true arm effect of 0.1·m, an arm × x1 interaction and a
larger effect in country ``c0``.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
CLUSTERS = 10_000
COUNTRIES = 5


def _uniform(stream: int, key: str = "i") -> str:
    # hash(a, b) of DuckDB is correlated across b for the same a; hash one integer instead.
    return f"((hash({key} * 4096 + {stream}) >> 11)::DOUBLE / 9007199254740992.0)"


def _normal(stream: int) -> str:
    return (f"(sqrt(-2.0 * ln(1.0 - {_uniform(stream)})) * "
            f"cos(2.0 * pi() * {_uniform(stream + 1000)}))")


def table_sql(rows: int, covariates: int, per_cluster: int | None = None) -> str:
    """SELECT statement producing the benchmark table: ``CLUSTERS`` clusters by hash, or, with
    ``per_cluster``, consecutive runs of that many rows per cluster (users with n sessions each)."""
    cluster = (f"(i // {per_cluster})::BIGINT" if per_cluster
               else f"(hash(i * 4096 + 1) % {CLUSTERS})::BIGINT")
    xs = ",\n    ".join(f"{_normal(10 + 2 * j)} AS x{j + 1}" for j in range(covariates))
    base = "0.5 * x1 + 0.3 * x2 - 0.2 * x3 + 0.1 * x4" if covariates >= 4 else "0.5 * x1"
    ys = ",\n    ".join(
        f"1.0 + {0.1 * m:.1f} * arm + {base} + 0.2 * arm * x1 + 0.3 * arm * (country = 'c0')::INT "
        f"+ 0.1 * g1 + {_normal(500 + 2 * m)} AS y{m}"
        for m in (1, 2, 3)
    )
    return f"""
WITH base AS (
  SELECT
    i,
    {cluster} AS cluster_id,
    'c' || (hash(i * 4096 + 2) % {COUNTRIES})::VARCHAR AS country,
    (hash(i * 4096 + 3) % 5)::BIGINT AS g1,
    (hash(i * 4096 + 4) % 10)::BIGINT AS g2,
    {xs}
  FROM range({rows}) AS r(i)
), assigned AS (
  SELECT *, (hash(cluster_id * 4096 + 99) % 2)::BIGINT AS arm FROM base
)
SELECT cluster_id, arm, country, g1, g2, {", ".join(f"x{j + 1}" for j in range(covariates))},
    {ys}
FROM assigned
"""


def ensure(rows: int, covariates: int = 5, per_cluster: int | None = None) -> Path:
    """The parquet file for ``rows`` × ``covariates`` (and ``per_cluster``), generated once (row
    groups of 1M rows)."""
    import duckdb

    DATA.mkdir(exist_ok=True)
    suffix = f"_pc{per_cluster}" if per_cluster else ""
    path = DATA / f"bench_{rows}_k{covariates}{suffix}.parquet"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        con = duckdb.connect()
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"COPY ({table_sql(rows, covariates, per_cluster)}) TO '{tmp}' "
                    "(FORMAT parquet, ROW_GROUP_SIZE 1000000)")
        tmp.rename(path)
    return path
