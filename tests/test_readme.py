"""Every Python and shell block of README.md runs as written (the README can never drift).

Python blocks run in order in one namespace (they chain on the datasets the README names,
``wc.datasets``); shell blocks run line by line; a JSON block marked ``<!-- file: name -->`` is
written to that file first. A block marked ``<!-- not run: reason -->`` is skipped, with its reason
(the CI's own install commands, and a Spark cluster with data in S3).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(?:<!-- (?P<marker>[^>]*?) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)


def _blocks() -> list[tuple[str, str, str]]:
    return [(m["lang"], m["body"], (m["marker"] or "").strip()) for m in BLOCK.finditer(README.read_text())]


def _commands(body: str) -> list[str]:
    out = []
    for line in body.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out.append(re.split(r"\s+#\s", line)[0])  # an inline comment
    return out


def test_every_readme_block_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    namespace: dict[str, object] = {}
    ran, skipped = 0, []
    for lang, body, marker in _blocks():
        if marker.startswith("not run:"):
            skipped.append(marker)
            continue
        if marker.startswith("file:"):
            (tmp_path / marker.split(":", 1)[1].strip()).write_text(body)
        if lang == "python":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(body, f"README.md block {ran}", "exec"), namespace)
        elif lang == "bash":
            for command in _commands(body):
                done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=300)
                assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
        elif lang == "json":
            json.loads(body)
        ran += 1
    import warehouse_causal as wc

    wc.set_progress(None)  # the tour turns it on
    assert ran >= 10 and len(skipped) == 3, skipped  # CI commands, the MCP server (test_mcp_server), Spark
