"""The feedback layer of the monitor: the served rate and the gap between labelled rows and the
whole population per period, each tested for a trend (the model feeding its own training data)."""

from __future__ import annotations

from typing import Any

import numpy as np

from warehouse_causal.algebra.monitoring import cluster_mean, trend_test
from warehouse_causal.core.errors import DesignError
from warehouse_causal.core.tables import RowTable
from warehouse_causal.monitoring.inputs import OWNER, MonitorInputs
from warehouse_causal.monitoring.queries import PERIOD, MonitorSums, ratio
from warehouse_causal.monitoring.rows import FeedbackTrendRow, settle, too_few

__all__ = ["feedback", "feedback_series", "feedback_trend"]

# A trend's series: (each period's value, its variance), in period order.
_Series = dict[str, tuple[list[float], list[float]]]


def feedback_series(inputs: MonitorInputs, sums: MonitorSums) -> tuple[list[dict[str, Any]], _Series]:
    """The feedback rows (one per period) and the series whose trends are tested: the served rate and
    each metric's labelled − population gap."""
    if inputs.served is None and inputs.labelled is None:
        raise DesignError(f"feedback needs {OWNER}(..., served=...) and/or labelled=... columns.")
    p = sums.periods()
    series: _Series = {}
    rows = []

    def add(name: str, value: float, variance: float) -> None:
        values, variances = series.setdefault(name, ([], []))
        values.append(value)
        variances.append(variance)

    keys = p.key(PERIOD)
    for i in sums.order():
        row: dict[str, Any] = {"period": keys[i]}
        if inputs.served is not None:
            rate, se = cluster_mean(ratio(p, i, "served"))
            row.update(served_rate=rate, served_se=se)
            add("served rate", rate, se**2)
        if inputs.labelled is not None:
            row["labelled_share"] = cluster_mean(ratio(p, i, "labelled"))[0]
            for m in inputs.model.metrics:
                everyone, se_all = cluster_mean(ratio(p, i, f"all:{m}"))
                labelled, se_labelled = cluster_mean(ratio(p, i, f"labelled:{m}"))
                row[f"{m}_population"], row[f"{m}_labelled"] = everyone, labelled
                # the two means share rows; adding their variances is conservative
                add(f"{m}: labelled − population", labelled - everyone, se_all**2 + se_labelled**2)
        rows.append(row)
    return rows, series


def feedback(inputs: MonitorInputs, sums: MonitorSums) -> RowTable:
    """Per period: the served rate, the labelled share, and each metric among labelled rows and
    in the whole population."""
    rows = feedback_series(inputs, sums)[0]
    return RowTable(rows, "Feedback: served rate and labelled rows vs the population")


def feedback_trend(inputs: MonitorInputs, sums: MonitorSums, alpha: float = 0.05) -> RowTable:
    """The WLS slope over the periods of the served rate and of each labelled-vs-population gap,
    tested at the spent level of the current look."""
    rows: list[FeedbackTrendRow] = []
    for name, (values, variances) in feedback_series(inputs, sums)[1].items():
        value, variance = np.array(values), np.array(variances)
        slope, test = trend_test(value, variance, alpha)
        used = int(np.sum(np.isfinite(value) & np.isfinite(variance) & (variance > 0)))
        row = FeedbackTrendRow(
            series=name,
            periods=used,
            slope_per_period=slope,
            z=test.statistic,
            p_value=test.p_value,
            level=test.level,
        )
        why = "" if used >= 3 else too_few(used, "a value")
        rows.append(settle("feedback_trend", row, "trend", why))
    return RowTable(rows, "Feedback trends over the periods")
