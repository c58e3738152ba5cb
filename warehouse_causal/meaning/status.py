"""The outcome of a check, typed so that a statistic that could not be computed never reads as "ok".

A check that could not run (no data, one row per period, a NaN or infinite statistic) is
``NOT_CHECKED``; it never counts as passing. ``REFUSED`` is a check the package declined to run
because its assumptions do not hold (say, too few clusters for a test to mean anything).
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Any


class Status(str, Enum):
    """ok / alert / not checked / refused. Only ``OK`` passes; compare with ``status.passed``."""

    OK = "ok"
    ALERT = "alert"
    NOT_CHECKED = "not checked"
    REFUSED = "refused"

    def __str__(self) -> str:
        return self.value

    @property
    def passed(self) -> bool:
        """True only for ``OK``: a check that did not run has not passed."""
        return self is Status.OK

    @property
    def ran(self) -> bool:
        """Whether the check produced a verdict (ok or alert)."""
        return self in (Status.OK, Status.ALERT)

    @classmethod
    def of(cls, alert: bool, *statistics: Any) -> Status:
        """``ALERT`` or ``OK`` from ``alert``, unless any of ``statistics`` is missing, NaN or infinite,
        in which case the check could not run: ``NOT_CHECKED`` (whatever ``alert`` says, since a
        comparison with NaN is False and would otherwise read as ok)."""
        if not all(is_finite(s) for s in statistics):
            return cls.NOT_CHECKED
        return cls.ALERT if alert else cls.OK

    @classmethod
    def worst(cls, statuses: Any) -> Status:
        """One status for many: alert over not checked over refused over ok (an empty list: not checked)."""
        found = list(statuses)
        for status in (cls.ALERT, cls.NOT_CHECKED, cls.REFUSED):
            if status in found:
                return status
        return cls.OK if found else cls.NOT_CHECKED


def is_finite(value: Any) -> bool:
    """A real, finite number (None, NaN, ±inf and non-numbers are not)."""
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
