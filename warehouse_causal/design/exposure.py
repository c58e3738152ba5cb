"""Exposure age: ``wc.exposure_age(time, exposure)`` is a covariate of unit × period rows (days or
weeks since the unit's exposure) that lets the model carry one effect per age;
``infer_effect(since_exposure=...)`` reads them and ``Effects.trend(...)`` tests for decay or
growth (novelty and learning effects)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.core.validation import InstanceOf, Integer, Options, check_param

__all__ = ["ExposureAge", "exposure_age"]

#: Categorical covariates may have at most 50 levels: ages 0 … MAX_AGE, "MAX_AGE+" and "pre".
MAX_AGE = 47


@dataclass(frozen=True)
class ExposureAge:
    """The age of a row since its unit's exposure, as a categorical covariate with levels "000",
    "001", … (zero-padded so they sort in order), "NNN+" for ``max_age`` and older, and "pre" for
    rows before exposure. A covariate spec: the model calls it on the experiment table."""

    time: str
    exposure: str
    by: str = "day"
    max_age: int = 28

    @property
    def label(self) -> str:
        return f"{self.by}s_since_{self.exposure}"

    def __call__(self, table: ir.Table) -> ir.Value:
        when, start = table[self.time], table[self.exposure]
        if when.type().is_temporal() and start.type().is_temporal():
            days = when.cast("date").delta(start.cast("date"), unit="day")
        elif when.type().is_integer() and start.type().is_integer():
            days = when - start
        else:
            raise InvalidParameterError(
                f"exposure_age needs 'time' and 'exposure' both dates/timestamps or both integer days; "
                f"{self.time!r} is {when.type()} and {self.exposure!r} is {start.type()}.")
        age = days // 7 if self.by == "week" else days
        level = ibis.ifelse(age < 0, "pre", ibis.ifelse(age >= self.max_age, f"{self.max_age:03d}+",
                                                         age.cast("string").lpad(3, "0")))
        return level.name(self.label)


def exposure_age(time: str, exposure: str, by: str = "day", max_age: int = 28) -> ExposureAge:
    """A covariate of days (or weeks) since exposure for unit × period rows: ``time`` is the row's
    date (or integer day), ``exposure`` the unit's first exposure; ages from ``max_age`` on share
    one level."""
    owner = "exposure_age"
    column = InstanceOf(str, "a column name")
    check_param(time, "time", owner, column)
    check_param(exposure, "exposure", owner, column)
    check_param(by, "by", owner, Options("day", "week"))
    check_param(max_age, "max_age", owner, Integer(1, MAX_AGE))
    return ExposureAge(time, exposure, by, int(max_age))
