"""Layers point one way: the algebra imports only numpy/scipy, never ibis, pandas or a backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "warehouse_causal"

# The package __init__ loads the whole API (and so ibis); stand in an empty parent package so that
# only the algebra modules' own imports run.
PROBE = f"""
import sys, types
parent = types.ModuleType("warehouse_causal")
parent.__path__ = [{str(PACKAGE)!r}]
sys.modules["warehouse_causal"] = parent
import warehouse_causal.algebra
import warehouse_causal.algebra.diagnostics, warehouse_causal.algebra.inference
print(sorted(m for m in ("ibis", "pandas", "duckdb", "sqlglot") if m in sys.modules))
"""


def test_algebra_does_not_import_ibis_or_pandas() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
