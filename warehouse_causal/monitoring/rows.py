"""The rows of the monitor's layer tables, and the one rule that gives a tested row its status:
alert when its p-value is below its level, ok when not, not checked when any statistic it reads is
not a finite number or the check could not run (:func:`settle`).

Each layer's row is a frozen dataclass (:class:`DriftRow`, :class:`PersistenceRow`, ...) that the
checks read by attribute. It is also a read-only mapping of its columns, as the dicts it replaces
were (``row["period"]``, ``dict(row)``, equal to a dict of the same items), and ``as_row()`` (what
``RowTable.to_dicts`` and ``to_pandas`` read) gives the columns in the same order. The feedback
layer's rows stay dicts: their columns are named after the metrics."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any, ClassVar, TypeVar, cast

from warehouse_causal.meaning import Status
from warehouse_causal.meaning.status import is_finite

__all__ = [
    "TESTED",
    "CompletenessRow",
    "DriftRow",
    "EffectTrendRow",
    "FeedbackTrendRow",
    "GuardrailRow",
    "LayerRow",
    "MeasurementRow",
    "PersistenceRow",
    "ProjectionRow",
    "row_status",
    "settle",
    "too_few",
]


@cache
def _columns(kind: type[LayerRow]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


@dataclass(frozen=True, eq=False)
class LayerRow(Mapping[str, Any]):
    """A row of a layer's table: its fields are its columns, in order; a column named in
    ``_optional`` is left out while it is None. Compares as the mapping it reads as."""

    _optional: ClassVar[tuple[str, ...]] = ()

    def as_row(self) -> dict[str, Any]:
        """The row as a dict, columns in order (the table's ``to_dicts``)."""
        return {c: getattr(self, c) for c in _columns(type(self))
                if not (c in self._optional and getattr(self, c) is None)}

    def __getitem__(self, column: str) -> Any:
        if column not in _columns(type(self)) or (column in self._optional and getattr(self, column) is None):
            raise KeyError(column)
        return getattr(self, column)

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_row())

    def __len__(self) -> int:
        return len(self.as_row())


@dataclass(frozen=True, eq=False)
class DriftRow(LayerRow):
    """One covariate in one period: the experiment's and production's means (in the covariate's
    units), their SMD and its SE, the period's membership R², rows and units."""

    period: Any
    covariate: str
    mean_experiment: float
    mean_production: float
    smd: float
    se_smd: float
    membership_r2: float
    rows: int
    units: int


@dataclass(frozen=True, eq=False)
class ProjectionRow(LayerRow):
    """One metric's effect of the launched arm, in the experiment and re-projected to the latest
    period's covariate means, and the change in the experiment's SEs."""

    metric: str
    arm: str
    estimand: str
    period: Any
    experiment_effect: float
    projected_effect: float
    std_error: float
    change_in_se: float
    interacted: bool


@dataclass(frozen=True, eq=False)
class CompletenessRow(LayerRow):
    """One period's rows against the rows expected, and its worst NULL rate (and column)."""

    period: Any
    rows: int
    expected_rows: float
    rows_ratio: float
    worst_column: str
    null_rate: float


@dataclass(frozen=True, eq=False)
class MeasurementRow(LayerRow):
    """One calibrated metric in one period: the judge's calibration slope and agreement against the
    experiment's, tested at the period's spent level; then its status (:func:`settle`)."""

    period: Any
    look: int
    metric: str
    audited: float
    slope: float
    std_error: float
    agreement: float
    experiment_slope: float
    experiment_agreement: float
    level: float
    p_value: float
    status: Status = Status.NOT_CHECKED
    finding: str = ""
    note: str = ""


@dataclass(frozen=True, eq=False)
class PersistenceRow(LayerRow):
    """One metric's effect in one period, its interval at the period's spent level and its test
    against the experiment's effect; for a LATE the take-up difference and first-stage F (columns
    absent for an ITT); then its status (:func:`settle`)."""

    _optional: ClassVar[tuple[str, ...]] = ("take_up_difference", "first_stage_f")

    period: Any
    look: int
    metric: str
    estimand: str
    effect: float
    std_error: float
    lower: float
    upper: float
    level: float
    experiment_effect: float
    z: float
    p_value: float
    take_up_difference: float | None = None
    first_stage_f: float | None = None
    status: Status = Status.NOT_CHECKED
    finding: str = ""
    note: str = ""


@dataclass(frozen=True, eq=False)
class EffectTrendRow(LayerRow):
    """One metric's trend of the effect over the periods; then its status (:func:`settle`)."""

    metric: str
    estimand: str
    periods: int
    slope_per_period: float
    z: float
    p_value: float
    level: float
    status: Status = Status.NOT_CHECKED
    finding: str = ""
    note: str = ""


@dataclass(frozen=True, eq=False)
class FeedbackTrendRow(LayerRow):
    """One feedback series' trend over the periods; then its status (:func:`settle`)."""

    series: str
    periods: int
    slope_per_period: float
    z: float
    p_value: float
    level: float
    status: Status = Status.NOT_CHECKED
    finding: str = ""
    note: str = ""


@dataclass(frozen=True, eq=False)
class GuardrailRow(LayerRow):
    """One guardrail metric in one segment: its effect, the one-sided p-value of harm beyond the
    tolerance and its Benjamini–Hochberg adjustment; then its status (:func:`settle`)."""

    metric: str
    segment: str
    source: str
    estimand: str
    estimate: float
    std_error: float
    tolerance: str
    p_value: float
    p_adjusted: float
    level: float
    status: Status = Status.NOT_CHECKED
    finding: str = ""
    note: str = ""


#: For each layer whose rows carry a test: the p-value column compared with the row's ``level``, and
#: the statistics that must be finite numbers for the test to have run.
TESTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "persistence": ("p_value", ("effect", "std_error", "experiment_effect", "z", "p_value")),
    "effect_trend": ("p_value", ("slope_per_period", "z", "p_value")),
    "measurement": ("p_value", ("slope", "std_error", "experiment_slope", "p_value")),
    "feedback_trend": ("p_value", ("slope_per_period", "z", "p_value")),
    "guardrails": ("p_adjusted", ("estimate", "std_error", "p_value", "p_adjusted")),
}

_RowT = TypeVar("_RowT", bound="dict[str, Any] | LayerRow")


def row_status(layer: str, row: Mapping[str, Any]) -> Status:
    """The status of one tested row of ``layer`` (:data:`TESTED`): alert when its p-value is below its
    level, ok when not, not checked when any of its statistics is not a finite number."""
    p_column, statistics = TESTED[layer]
    return Status.of(row[p_column] < row["level"], *(row[s] for s in statistics), row["level"])


def settle(layer: str, row: _RowT, finding: str, why: str = "") -> _RowT:
    """``row`` with its ``status`` (:func:`row_status`, or not checked when ``why`` says it could not
    run), its ``finding`` (``finding`` when it alerts, else empty) and a ``note`` saying why it
    was not checked (empty when it ran). A typed row is returned as a new row; a dict is updated."""
    status = Status.NOT_CHECKED if why else row_status(layer, row)
    if status is Status.NOT_CHECKED and not why:
        missing = [s for s in TESTED[layer][1] if not is_finite(row[s])] or ["level"]
        verb = "is not a finite number" if len(missing) == 1 else "are not finite numbers"
        why = f"{', '.join(missing)} {verb}"
    settled = {"status": status, "finding": finding if status is Status.ALERT else "", "note": why}
    if isinstance(row, LayerRow):
        return cast(_RowT, replace(row, **settled))
    row.update(settled)
    return row


def too_few(used: int, what: str) -> str:
    """Why a trend is not checked: fewer than 3 periods with ``what`` and a standard error."""
    return (f"a trend needs 3 periods with {what} and a standard error; there "
            f"{'is' if used == 1 else 'are'} {used}")
