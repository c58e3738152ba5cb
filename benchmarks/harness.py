"""Run each benchmark method in its own process and summarise the runs as a markdown table."""

from __future__ import annotations

import json
import platform
import resource
import statistics
import subprocess
import sys
from collections.abc import Sequence
from typing import Any


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux ``ru_maxrss`` is in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result: dict[str, Any]) -> None:
    """Print a child's result as the last stdout line, with its peak RSS."""
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run_child(script: str, args: Sequence[str], python: str | None = None) -> dict[str, Any]:
    """Run ``script`` with ``args`` in a fresh interpreter and parse its JSON result."""
    command = [python or sys.executable, script, *args]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def repeat(script: str, args: Sequence[str], repeats: int, python: str | None = None) -> list[dict]:
    return [run_child(script, args, python) for _ in range(repeats)]


def stats(runs: list[dict], key: str = "seconds") -> tuple[float, float, float]:
    values = [r[key] for r in runs]
    return statistics.median(values), min(values), max(values)


def machine() -> str:
    import duckdb
    import ibis

    cores = len(__import__("os").sched_getaffinity(0))
    return (f"{platform.system()} {platform.machine()}, {cores} cores, Python "
            f"{platform.python_version()}, duckdb {duckdb.__version__}, ibis {ibis.__version__}")


def query_rows(runs: list[dict], lead: int, gap: int) -> list[str]:
    """One markdown row per query of the runs (median, min, max of its seconds): ``lead`` empty
    cells, the purpose, ``gap`` empty cells, the three timings, then two empty cells."""
    out = []
    for purpose in runs[0]["queries"]:
        median, low, high = stats([{"seconds": r["queries"][purpose]} for r in runs])
        cells = [*[""] * lead, f"query: {purpose}", *[""] * gap, f"{median:.2f}", f"{low:.2f}",
                 f"{high:.2f}", "", ""]
        out.append("| " + " | ".join(cells) + " |")
    return out
