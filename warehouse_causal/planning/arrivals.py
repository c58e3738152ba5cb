"""Durations: the units that arrive in d days, from each history unit's first day (one query)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.core.errors import DesignError, InvalidParameterError
from warehouse_causal.planning.planned import PlannedDesign
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import KEY, Columns

__all__ = ["EXTRAPOLATION_DAYS", "Arrivals", "read_arrivals", "units_in"]

#: Beyond the history's days, arrivals are extrapolated at the mean rate of its last days (its first
#: day excluded: there every returning unit looks new).
EXTRAPOLATION_DAYS = 7


@dataclass(frozen=True)
class Arrivals:
    """New units per history day (day 1 = the history's first day) and the rate beyond it."""

    new_per_day: NDArray[np.float64]
    rate_after: float

    def units(self, days: float) -> float:
        """Distinct units seen within ``days`` days (extrapolated beyond the history at ``rate_after``)."""
        seen = np.cumsum(self.new_per_day)
        whole = int(days)
        if whole <= len(seen):
            return float(seen[whole - 1]) if whole >= 1 else 0.0
        return float(seen[-1] + (days - len(seen)) * self.rate_after)


def units_in(arrivals: Arrivals | None, days: int) -> float:
    """Distinct units within ``days`` days of ``arrivals`` (read when durations were asked for)."""
    assert arrivals is not None
    return arrivals.units(days)


def read_arrivals(plan: PlannedDesign, runner: QueryRunner) -> Arrivals:
    """One query: each unit's first day, then the new units per day (GrowthBook's "traffic": units
    that return are counted once)."""
    t = plan.history
    assert plan.time is not None and plan.unit is not None
    when = t[plan.time]
    if when.type().is_temporal():
        when = when.cast("date")
    elif not when.type().is_integer():
        raise InvalidParameterError(
            f"The 'time' parameter of ExperimentPlan must be a date, timestamp or integer day column; "
            f"{plan.time!r} has type {when.type()}.")
    first = Columns()
    first.add("first", None, when.min())
    first.add("last", None, when.max())
    per_unit = first.aggregate(t, by={"unit": t[plan.unit]})
    counts = Columns()
    counts.add("units", None, per_unit.table.count())
    counts.add("last", None, per_unit["last", None].max())  # the history's last day, in the same query
    found = counts.aggregate(per_unit.table, by={"day": per_unit["first", None]}).run(
        runner, "planning: new units per day")
    days = found.values(KEY, "day")
    if not days or any(d is None for d in days):
        raise DesignError(f"ExperimentPlan: the history has no (or NULL) {plan.time!r} values for durations.")
    start, end = min(days), max(found.values("last"))

    def offset(day: Any) -> int:
        gap = day - start
        return int(gap.days) if hasattr(gap, "days") else int(gap)

    # every day of the history's span, the days without new units included (returning units only)
    per_day = np.zeros(offset(end) + 1)
    offsets = [offset(d) for d in days]
    np.add.at(per_day, offsets, found.column("units"))
    # the first day's "new" units include every returning unit active that day (the history is
    # left-censored), so the rate beyond the history comes from the last days after it
    later = per_day[1:] if len(per_day) > 1 else per_day
    recent = later[-min(EXTRAPOLATION_DAYS, len(later)):]
    return Arrivals(per_day, float(recent.mean()))
