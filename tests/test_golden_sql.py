"""The golden SQL in sql/<dialect>/ is what the package generates today (regenerate with
``python sql/generate.py``), and every file parses back with sqlglot in its own dialect."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import sqlglot

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
SQLGLOT_DIALECT = {"duckdb": "duckdb", "bigquery": "bigquery", "snowflake": "snowflake", "pyspark": "spark",
                   "postgres": "postgres"}
#: Inlined coefficients and shifts are data-dependent floats; the last digits may differ across BLAS
#: builds, so literals are compared at 9 significant digits (the SQL text must match otherwise).
FLOAT = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")


def _normalise(text: str) -> str:
    return FLOAT.sub(lambda m: f"{float(m.group()):.9g}", text)


def _generator():
    spec = importlib.util.spec_from_file_location("generate", SQL_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return _generator().render()


def test_every_dialect_has_golden_files_and_a_parser() -> None:
    """Each dialect sql/generate.py writes is parsed below in its own sqlglot dialect."""
    on_disk = {p.name for p in SQL_DIR.iterdir() if p.is_dir()}
    assert set(_generator().DIALECTS) == set(SQLGLOT_DIALECT) == on_disk


def test_golden_files_are_current(rendered: dict[str, str]) -> None:
    on_disk = {str(p.relative_to(SQL_DIR)): p.read_text() for p in SQL_DIR.glob("*/*.sql")}
    assert sorted(on_disk) == sorted(rendered), "run: python sql/generate.py"
    for relative, text in rendered.items():
        stale = f"{relative} is stale: run python sql/generate.py"
        assert _normalise(on_disk[relative]) == _normalise(text), stale


@pytest.mark.parametrize("dialect", sorted(SQLGLOT_DIALECT))
def test_golden_files_parse_in_their_dialect(dialect: str) -> None:
    files = sorted((SQL_DIR / dialect).glob("*.sql"))
    # validate, probe, pass 1 by (cluster, cell), which also gives the clustered meat (the segment
    # is answered from the pass-1 cells)
    assert [f.name[:2] for f in files] == ["01", "02", "03"]
    for path in files:
        body = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("--"))
        sqlglot.parse_one(body.strip().rstrip(";"), read=SQLGLOT_DIALECT[dialect])
