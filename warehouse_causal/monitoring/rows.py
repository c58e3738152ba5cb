"""The rows of the monitor's tested layers and the one rule that gives each its status: alert when
its p-value is below its level, ok when not, not checked when any statistic it reads is not a finite
number or the check could not run (:func:`settle`)."""

from __future__ import annotations

from typing import Any

from warehouse_causal.meaning import Status
from warehouse_causal.meaning.status import is_finite

__all__ = ["TESTED", "row_status", "settle", "too_few"]


#: For each layer whose rows carry a test: the p-value column compared with the row's ``level``, and
#: the statistics that must be finite numbers for the test to have run.
TESTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "persistence": ("p_value", ("effect", "std_error", "experiment_effect", "z", "p_value")),
    "effect_trend": ("p_value", ("slope_per_period", "z", "p_value")),
    "measurement": ("p_value", ("slope", "std_error", "experiment_slope", "p_value")),
    "feedback_trend": ("p_value", ("slope_per_period", "z", "p_value")),
    "guardrails": ("p_adjusted", ("estimate", "std_error", "p_value", "p_adjusted")),
}


def row_status(layer: str, row: dict[str, Any]) -> Status:
    """The status of one tested row of ``layer`` (:data:`TESTED`): alert when its p-value is below its
    level, ok when not, not checked when any of its statistics is not a finite number."""
    p_column, statistics = TESTED[layer]
    return Status.of(row[p_column] < row["level"], *(row[s] for s in statistics), row["level"])


def settle(layer: str, row: dict[str, Any], finding: str, why: str = "") -> dict[str, Any]:
    """``row`` with its ``status`` (:func:`row_status`, or not checked when ``why`` says it could not
    run), its ``finding`` (``finding`` when it alerts, else empty) and a ``note`` saying why it
    was not checked (empty when it ran)."""
    status = Status.NOT_CHECKED if why else row_status(layer, row)
    if status is Status.NOT_CHECKED and not why:
        missing = [s for s in TESTED[layer][1] if not is_finite(row[s])] or ["level"]
        verb = "is not a finite number" if len(missing) == 1 else "are not finite numbers"
        why = f"{', '.join(missing)} {verb}"
    row.update(status=status, finding=finding if status is Status.ALERT else "", note=why)
    return row


def too_few(used: int, what: str) -> str:
    """Why a trend is not checked: fewer than 3 periods with ``what`` and a standard error."""
    return (f"a trend needs 3 periods with {what} and a standard error; there "
            f"{'is' if used == 1 else 'are'} {used}")
