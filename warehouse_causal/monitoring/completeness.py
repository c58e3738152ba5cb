"""The logging-completeness layer of the monitor: each period's rows against the rows expected, and
the worst NULL rate of a column the model reads (the experiment had none)."""

from __future__ import annotations

import math

import numpy as np

from warehouse_causal.core.tables import RowTable
from warehouse_causal.monitoring.inputs import MonitorInputs
from warehouse_causal.monitoring.queries import PERIOD, MonitorSums
from warehouse_causal.monitoring.rows import CompletenessRow

__all__ = ["completeness"]


def completeness(inputs: MonitorInputs, sums: MonitorSums) -> RowTable:
    """Per period: rows against the expected rows, and the worst NULL rate of a column read."""
    p = sums.periods()
    counts = p.column("rows")
    expected = inputs.expected_rows or float(np.median(counts))
    rows: list[CompletenessRow] = []
    keys = p.key(PERIOD)
    for i in sums.order():
        period = keys[i]
        worst = max(
            ((c, p.column("nulls", c)[i] / counts[i]) for c in inputs.null_columns),
            key=lambda item: item[1],
            default=("", 0.0),
        )
        rows.append(CompletenessRow(
            period=period,
            rows=int(counts[i]),
            expected_rows=expected,
            rows_ratio=counts[i] / expected if expected else math.nan,
            worst_column=worst[0] if worst[1] > 0 else "",
            null_rate=worst[1],
        ))
    return RowTable(rows, "Logging completeness by period")
