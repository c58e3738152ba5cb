"""The treatment-version layer of the monitor: the share of the latest period's rows served a
treatment version other than the one the experiment tested (``version=(column, tested)``)."""

from __future__ import annotations

from warehouse_causal.core.errors import DesignError
from warehouse_causal.monitoring.inputs import OWNER, MonitorInputs
from warehouse_causal.monitoring.queries import MonitorSums

__all__ = ["version_share"]


def version_share(inputs: MonitorInputs, sums: MonitorSums) -> float:
    """The latest period's share of rows not on the tested treatment version."""
    if inputs.version is None:
        raise DesignError(f"version_share needs {OWNER}(..., version=(column, tested version)).")
    p, last = sums.periods(), sums.order()[-1]
    return float(p.column("version")[last] / p.column("rows")[last])
