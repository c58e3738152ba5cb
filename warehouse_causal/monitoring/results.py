"""What :class:`~warehouse_causal.monitoring.monitor.Monitor` returns: the :class:`Thresholds` of its
threshold rules, one :class:`CheckRow` per check (what it measured, against what, what it means and
what to do), and the :class:`MonitorReport` that holds them with the layers' own tables."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from warehouse_causal.core.html import write_page
from warehouse_causal.core.tables import RowTable, TableResult, strict_json
from warehouse_causal.core.validation import Real, check_param
from warehouse_causal.meaning import Direction, Status
from warehouse_causal.monitoring.report import render_monitor_html
from warehouse_causal.warehouse.backends import QueryRecord

__all__ = ["CheckRow", "MonitorReport", "Thresholds"]


@dataclass(frozen=True)
class Thresholds:
    """The documented defaults of the threshold rules (sizes, not tests).

    smd: ``|standardized mean difference|`` of a covariate (Austin 2009's 0.1);
    membership_r2: R² of the production-vs-experiment membership model;
    projection_change: ``|re-projected − experiment effect|`` in the experiment's standard errors;
    null_rate: share of NULLs in a column the model reads (the experiment had none);
    rows_ratio: a period's rows below this share of the expected rows;
    version_share: share of the latest period's rows served another treatment version.
    """

    smd: float = 0.1
    membership_r2: float = 0.05
    projection_change: float = 1.0
    null_rate: float = 0.01
    rows_ratio: float = 0.5
    version_share: float = 0.01

    def __post_init__(self) -> None:
        # a NaN threshold would compare False everywhere: every check silently "ok"
        for name in ("smd", "projection_change"):
            check_param(getattr(self, name), name, "Thresholds", Real(0, math.inf, closed="left"))
        for name in ("membership_r2", "null_rate", "rows_ratio", "version_share"):
            check_param(getattr(self, name), name, "Thresholds", Real(0, 1, closed="both"))


@dataclass(frozen=True)
class CheckRow:
    """One check: its layer, what it measured (``statistic``) against ``threshold``, ``status`` (a
    :class:`~warehouse_causal.meaning.Status`: ok, alert or not checked), the error guarantee, what
    the result means and what to do (or why the check could not run), and the ``estimand`` of the
    effect it reads (``Estimand.short``: "ITT", "LATE", ...; empty for checks of no effect)."""

    layer: str
    check: str
    statistic: float
    threshold: float
    status: Status
    guarantee: str
    detail: str
    estimand: str = ""

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, repr=False, eq=False)
class MonitorReport(TableResult):
    """One row per check (``to_pandas()``); ``layers`` holds each layer's table."""

    rows: tuple[CheckRow, ...]
    layers: dict[str, RowTable] = field(default_factory=dict)
    queries: tuple[QueryRecord, ...] = field(default=(), repr=False)
    #: Each metric's direction of good (from the experiment's model): colours the effect after launch.
    directions: dict[str, Direction] = field(default_factory=dict, repr=False)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [r.as_row() for r in self.rows]

    def caption(self) -> str:
        unchecked = f", {len(self.not_checked)} not checked" if self.not_checked else ""
        return f"Post-launch monitoring: {len(self.rows)} checks, {len(self.alerts)} alert(s){unchecked}"

    @property
    def alerts(self) -> list[CheckRow]:
        return [r for r in self.rows if r.status is Status.ALERT]

    @property
    def not_checked(self) -> list[CheckRow]:
        """Checks that could not run (their ``detail`` says why): neither ok nor an alert."""
        return [r for r in self.rows if not r.status.ran]

    def to_json(self) -> str:
        document = {"checks": self.to_dicts(), "layers": {k: v.to_dicts() for k, v in self.layers.items()}}
        return json.dumps(strict_json(document), default=str, allow_nan=False)

    def report(self, path: Any = None, *, title: str = "Post-launch monitoring") -> str:
        """A self-contained HTML page (returned, and written to ``path`` when given)."""
        page = render_monitor_html(self, self.layers, title, self.directions)
        return write_page(page, path, "MonitorReport.report")
