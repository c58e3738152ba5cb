"""Progress for long queries: a line that counts the seconds of a query still running after
``SLOW_QUERY_SECONDS``, in interactive sessions (a terminal or a notebook) and off in scripts and CI.

``wc.set_progress(True)`` turns it on everywhere, ``False`` off, ``None`` (the default) leaves it to
the session; the environment variable ``WAREHOUSE_CAUSAL_PROGRESS=1`` or ``0`` does the same. No
dependency: one daemon thread rewrites one line of stderr.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

from warehouse_causal.core.errors import InvalidParameterError

__all__ = ["Ticker", "set_progress", "showing"]

_setting: bool | None = None


def set_progress(enabled: bool | None) -> None:
    """Show progress for slow queries: True always, False never, None only in interactive sessions."""
    global _setting
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidParameterError(
            f"The 'enabled' parameter of set_progress must be True, False or None. Got {enabled!r} instead.")
    _setting = enabled


def showing(stream: TextIO | None = None) -> bool:
    """Whether progress lines are shown (see the module docstring)."""
    if _setting is not None:
        return _setting
    env = os.environ.get("WAREHOUSE_CAUSAL_PROGRESS")
    if env in ("0", "1"):
        return env == "1"
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) or "ipykernel" in sys.modules


class Ticker:
    """While a query runs: after ``delay`` seconds, "purpose: 3 s ..." rewritten each second on
    ``stream``; at the end "purpose: done in 3.4 s" if anything was shown."""

    def __init__(self, purpose: str, delay: float, stream: TextIO | None = None):
        self.purpose, self.delay = purpose, delay
        self.stream = stream or sys.stderr
        self._stop = threading.Event()
        self._shown = False
        self._start = 0.0
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Ticker:
        self._start = time.perf_counter()
        if showing(self.stream):
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def _tick(self) -> None:
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            self._shown = True
            self.stream.write(f"\r{self.purpose}: {time.perf_counter() - self._start:.0f} s ...")
            self.stream.flush()
            self._stop.wait(1.0)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._shown:
            self.stream.write(f"\r{self.purpose}: done in {time.perf_counter() - self._start:.1f} s\n")
            self.stream.flush()
