"""The measurement layer of the monitor: the judge–human calibration slope per period, for metrics
fitted with ``calibrate_with``, tested against the experiment's (the audit is a random sample of
rows, so the standard errors are classical)."""

from __future__ import annotations

import math

import numpy as np

from warehouse_causal.algebra.monitoring import per_period_tests
from warehouse_causal.core.tables import RowTable
from warehouse_causal.monitoring.inputs import MonitorInputs
from warehouse_causal.monitoring.queries import AUDIT, PERIOD, MonitorSums
from warehouse_causal.monitoring.rows import MeasurementRow, settle

__all__ = ["calibration_slope", "measurement"]


def calibration_slope(sums: list[float]) -> tuple[float, float, float, float]:
    """(slope of human on judge, its classical SE, correlation, audited rows) from the audit sums
    (:data:`~warehouse_causal.monitoring.queries.AUDIT`); NaN below 3 audited rows or without judge
    variation."""
    n, j, h, jj, hh, jh = sums
    sjj, shh, sjh = (jj - j * j / n, hh - h * h / n, jh - j * h / n) if n else (0.0, 0.0, 0.0)
    if n < 3 or sjj <= 0:
        return math.nan, math.nan, math.nan, n
    slope = sjh / sjj
    residual = max(shh - slope * sjh, 0.0) / (n - 2)
    return slope, math.sqrt(residual / sjj), (sjh / math.sqrt(sjj * shh) if shh > 0 else math.nan), n


def measurement(inputs: MonitorInputs, sums: MonitorSums, alpha: float = 0.05) -> RowTable:
    """Per calibrated metric and period: the slope of the human label on the judge score and
    their correlation, the slope tested against the experiment's (classical SEs: the audit is a
    random sample of rows)."""
    e, p = sums.experiment(), sums.periods()
    rows: list[MeasurementRow] = []
    for metric, _ in inputs.model.spec.calibration:
        ref = calibration_slope([e.total("audit", (metric, key)) for key in AUDIT])
        now = [
            calibration_slope([p.column("audit", (metric, key))[i] for key in AUDIT])
            for i in sums.order()
        ]
        tests = per_period_tests(
            np.array([c[0] for c in now]), np.array([c[1] for c in now]), ref[0], ref[1], alpha
        )
        periods = [p.key(PERIOD)[i] for i in sums.order()]
        reference = "" if math.isfinite(ref[0]) and ref[1] > 0 else (
            f"the experiment's calibration slope is undefined ({int(ref[3])} audited rows, or a judge "
            "score that does not vary among them)")
        for look, (period, c, test) in enumerate(zip(periods, now, tests, strict=True), start=1):
            row = MeasurementRow(
                period=period,
                look=look,
                metric=metric,
                audited=c[3],
                slope=c[0],
                std_error=c[1],
                agreement=c[2],
                experiment_slope=ref[0],
                experiment_agreement=ref[2],
                level=test.level,
                p_value=test.p_value,
            )
            why = reference or (
                f"{int(c[3])} audited row(s) in the period: the slope needs 3" if c[3] < 3
                else "the judge score does not vary among the audited rows" if not math.isfinite(c[0])
                else "")
            rows.append(settle("measurement", row, "drift", why))
    return RowTable(rows, "Judge calibration (slope of the human label on the judge) by period")
