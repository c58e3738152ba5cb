"""The API reference builds from the docstrings with every Sphinx warning as an error (a broken
reference, a docstring that does not render, an object described twice)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_api_reference_builds_without_warnings(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-4000:]
    page = (tmp_path / "html" / "api" / "warehouse_causal.fluent.html").read_text()
    assert "infer_effect" in page and "LinearModel" in page
