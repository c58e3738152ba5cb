"""The checks of :class:`~warehouse_causal.monitoring.monitor.Monitor`: each layer's table summarised
as check rows (what it measured, against what, what it means and what to do) in a
:class:`~warehouse_causal.monitoring.results.MonitorReport` (:func:`build_report`).

Every status is a :class:`~warehouse_causal.meaning.Status`. A check whose statistic could not be
computed (no values, one unit, NaN or infinite numbers) is ``not checked`` and its sentence says
why; it never reads as ok. A check over many periods or segments alerts when any of them alerts,
is not checked when none alerts but some could not run, and is ok only when every one ran and
passed (:meth:`Status.worst`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from scipy import stats

from warehouse_causal.algebra.monitoring import spent_alpha
from warehouse_causal.core.tables import RowTable
from warehouse_causal.meaning import Status
from warehouse_causal.meaning.status import is_finite
from warehouse_causal.monitoring.results import CheckRow, MonitorReport, Thresholds
from warehouse_causal.monitoring.rows import (
    TESTED,
    CompletenessRow,
    DriftRow,
    EffectTrendRow,
    FeedbackTrendRow,
    GuardrailRow,
    MeasurementRow,
    PersistenceRow,
    ProjectionRow,
    row_status,
    settle,
)

__all__ = ["TESTED", "CheckRow", "MonitorLayers", "MonitorReport", "Thresholds", "build_report", "row_status",
           "settle"]


class MonitorLayers(Protocol):
    """What :func:`build_report` reads of a :class:`~warehouse_causal.monitoring.monitor.Monitor`: its
    inputs and one method per layer (a protocol, so this module needs no import of the monitor)."""

    @property
    def thresholds(self) -> Thresholds: ...
    @property
    def model(self) -> Any: ...
    @property
    def holdout(self) -> str | None: ...
    @property
    def served(self) -> str | None: ...
    @property
    def labelled(self) -> str | None: ...
    @property
    def guardrails(self) -> Mapping[str, Any]: ...
    @property
    def version(self) -> tuple[str, Any] | None: ...
    @property
    def runner(self) -> Any: ...

    def population_drift(self) -> RowTable: ...
    def projection(self) -> RowTable: ...
    def completeness(self) -> RowTable: ...
    def measurement(self, alpha: float = 0.05) -> RowTable: ...
    def persistence(self, alpha: float = 0.05) -> RowTable: ...
    def effect_trend(self, alpha: float = 0.05) -> RowTable: ...
    def feedback(self) -> RowTable: ...
    def feedback_trend(self, alpha: float = 0.05) -> RowTable: ...
    def guardrail_segments(self, alpha: float = 0.05) -> RowTable: ...
    def version_share(self) -> float: ...


THRESHOLD_RULE = "threshold rule (a size, not a test: no error rate)"
SPENT = "P(any false alarm, over every period monitored) ≤ α (α spent over the looks)"
FDR = (
    "Benjamini–Hochberg across segments at the level shown; with a holdout (accumulating data) α is "
    "spent over the looks, so P(any false alarm) ≤ α when no segment is harmed"
)


class _Settled(Protocol):
    """A tested layer's row once settled (:func:`~warehouse_causal.monitoring.rows.settle`)."""

    @property
    def status(self) -> Status: ...
    @property
    def note(self) -> str: ...


_SettledT = TypeVar("_SettledT", bound=_Settled)
_RowT = TypeVar("_RowT")


def _smallest(values: Iterable[float]) -> float:
    return min((v for v in values if is_finite(v)), default=math.nan)


def _largest(rows: Sequence[_RowT], key: Callable[[_RowT], float]) -> _RowT:
    """The row with the largest ``key`` among rows where it is a number (±inf included); else the
    first row (NaN compares False, so ``max`` would pick by position)."""
    numbers = [r for r in rows if not math.isnan(float(key(r)))]
    return max(numbers, key=key) if numbers else rows[0]


def _unchecked(rows: Sequence[_SettledT], label: Callable[[_SettledT], str]) -> str:
    """ "why (a, b, ...); why (c)" for the rows that were not checked, grouped by reason."""
    by_reason: dict[str, list[str]] = {}
    for r in rows:
        if r.status is Status.NOT_CHECKED:
            by_reason.setdefault(r.note, []).append(str(label(r)))
    return "; ".join(
        f"{why} ({', '.join(labels[:4])}{f' and {len(labels) - 4} more' if len(labels) > 4 else ''})"
        for why, labels in by_reason.items()
    )


def _smd_read(r: DriftRow) -> tuple[float, ...]:
    """The numbers an SMD row's check reads: each must be finite for the check to run."""
    return r.smd, r.se_smd, r.mean_experiment, r.mean_production


def _beyond_smd(r: DriftRow, th: Thresholds, level: float) -> bool:
    """|SMD| beyond the threshold, shown at ``level`` (one-sided, from the SMD's standard error)."""
    return abs(r.smd) > th.smd and (
        not r.se_smd or stats.norm.sf((abs(r.smd) - th.smd) / r.se_smd) < level
    )


def _smd_check(latest: list[DriftRow], worst: DriftRow, looks: int, th: Thresholds, alpha: float) -> CheckRow:
    """The covariate SMDs of the latest period (``worst``: the largest), against the threshold at α
    spent over the ``looks``."""
    level = spent_alpha(alpha, looks)
    status = Status.worst(Status.of(_beyond_smd(r, th, level), *_smd_read(r)) for r in latest)
    period = worst.period
    if status is Status.NOT_CHECKED:
        missing = sorted({r.covariate for r in latest if not all(is_finite(v) for v in _smd_read(r))})
        detail = (
            f"Not checked: the standardized difference of {', '.join(missing)} in period {period} is not a "
            "number (no values, or infinite values, of the covariate in production)."
        )
    else:
        detail = (
            f"Largest: {worst.covariate}, experiment mean {worst.mean_experiment:.4g}, now "
            f"{worst.mean_production:.4g} (period {period}; SMD {worst.smd:+.3f} ± {worst.se_smd:.3f}). "
            + (
                "The population moved: effects measured on the experiment's population may not transfer; "
                "read the re-projected effect."
                if status is Status.ALERT
                else "No covariate moved beyond the threshold."
            )
        )
    guarantee = (f"alert when |SMD| > {th.smd:g} is shown at α spent over the looks: P(any false alarm) ≤ α "
                 "while every |SMD| ≤ the threshold")
    return CheckRow("population", "covariate SMD (latest period)", abs(worst.smd), th.smd, status, guarantee,
                    detail)


def _membership_check(worst: DriftRow, th: Thresholds) -> CheckRow:
    """The membership R² of the period of the largest SMD (every latest row carries it), against the
    threshold."""
    r2, period = worst.membership_r2, worst.period
    status = Status.of(r2 > th.membership_r2, r2)
    if status is Status.NOT_CHECKED:
        detail = (f"Not checked: the membership R² of period {period} is not a number (a covariate has "
                  "NULLs, no values or infinite values in that period).")
    else:
        looks = ("today's traffic is distinguishable from the experiment's." if status is Status.ALERT
                 else "today's traffic looks like the experiment's.")
        detail = (f"The covariates explain {r2:.2%} of production-vs-experiment membership in period "
                  f"{period}: {looks}")
    return CheckRow("population", "like-the-experiment (membership R²)", r2, th.membership_r2, status,
                    THRESHOLD_RULE, detail)


def _projection_check(r: ProjectionRow, th: Thresholds) -> CheckRow:
    """One metric's effect re-projected to the latest mix, its change in the experiment's SEs
    against the threshold."""
    change = abs(r.change_in_se)
    status = Status.of(change > th.projection_change, change)
    if status is Status.NOT_CHECKED:
        detail = (
            f"Not checked: the change of the effect on {r.metric} at the latest mix is not a number "
            "(a covariate mean of the latest period, or the experiment's standard error, is missing)."
        )
    else:
        detail = (
            f"Effect at the latest mix {r.projected_effect:+.4g} vs the experiment's "
            f"{r.experiment_effect:+.4g} ({r.change_in_se:+.2f} of the experiment's SEs). "
            + (
                "Re-estimate the launch's value for today's traffic."
                if status is Status.ALERT
                else "The mix change does not move the effect materially."
            )
            + ("" if r.interacted
               else " The model has no interactions, so it cannot move: fit interacted=True.")
        )
    return CheckRow("population", f"re-projected effect on {r.metric}", change, th.projection_change, status,
                    THRESHOLD_RULE, detail, r.estimand)


def _population_checks(drift: Sequence[DriftRow], projection: Sequence[ProjectionRow], th: Thresholds,
                       alpha: float) -> list[CheckRow]:
    """The covariate SMD and membership R² of the latest period, and each metric's re-projected effect."""
    looks = len({r.period for r in drift})
    latest = [r for r in drift if r.period == drift[-1].period]  # rows come in period order
    worst = _largest(latest, lambda r: abs(r.smd))
    return [_smd_check(latest, worst, looks, th, alpha), _membership_check(worst, th),
            *(_projection_check(r, th) for r in projection)]


def _rows_check(completeness: Sequence[CompletenessRow], th: Thresholds) -> CheckRow:
    """The period with the fewest rows for its expected rows, against the threshold."""
    low = _largest(completeness, lambda r: -r.rows_ratio)
    status = Status.of(any(r.rows_ratio < th.rows_ratio for r in completeness),
                       *(r.rows_ratio for r in completeness))
    if status is Status.NOT_CHECKED:
        detail = "Not checked: the expected rows per period is not a positive number."
    elif status is Status.ALERT:
        detail = (
            f"Period {low.period} has {low.rows:,} rows against {low.expected_rows:,.0f} "
            f"expected ({low.rows_ratio:.0%}): check the logging pipeline before reading that period."
        )
    else:
        detail = (
            f"Every period has at least {th.rows_ratio:.0%} of the {low.expected_rows:,.0f} rows expected "
            f"(fewest: period {low.period}, {low.rows:,} rows)."
        )
    return CheckRow("measurement", "rows per period", low.rows_ratio, th.rows_ratio, status, THRESHOLD_RULE,
                    detail)


def _null_rate_check(completeness: Sequence[CompletenessRow], th: Thresholds) -> CheckRow:
    """The worst NULL rate of a column the model reads, over the periods, against the threshold."""
    nulls = _largest(completeness, lambda r: r.null_rate)
    rate = nulls.null_rate
    status = Status.of(any(r.null_rate > th.null_rate for r in completeness),
                       *(r.null_rate for r in completeness))
    if status is Status.NOT_CHECKED:
        detail = "Not checked: a period's NULL rate is not a number."
    elif rate == 0:
        detail = "No NULLs in the columns the model reads, in any period (as in the experiment)."
    else:
        detail = (
            f"Worst: {nulls.worst_column} in period {nulls.period} ({rate:.2%} NULL); the experiment "
            "had none. "
            + (
                "Missing values bias every mean that skips them: fix the logging first."
                if status is Status.ALERT
                else "Within the threshold."
            )
        )
    return CheckRow("measurement", "NULL rate", rate, th.null_rate, status, THRESHOLD_RULE, detail)


def _completeness_checks(completeness: Sequence[CompletenessRow], th: Thresholds) -> list[CheckRow]:
    return [_rows_check(completeness, th), _null_rate_check(completeness, th)]


def _calibration_check(calibration: Sequence[MeasurementRow], alpha: float) -> CheckRow:
    """Every period's judge calibration slope against the experiment's, at α spent over the looks."""
    status = Status.worst(r.status for r in calibration)
    drifted = [r for r in calibration if r.status is Status.ALERT]
    unchecked = _unchecked(calibration, lambda r: f"{r.metric} period {r.period}")
    if status is Status.ALERT:
        detail = (
            f"The judge's slope on human labels moved in {len(drifted)} period(s) (first: period "
            f"{drifted[0].period}): recalibrate (a fresh audit, calibrate_with) before trusting judge "
            "metrics."
        )
    elif status is Status.NOT_CHECKED:
        checked = sum(r.status is Status.OK for r in calibration)
        detail = f"Not checked: {unchecked}." + (
            f" The {checked} checked period-metric(s) show no drift." if checked else ""
        )
    else:
        detail = "Judge and humans agree as they did in the experiment, in every period."
    if status is Status.ALERT and unchecked:
        detail += f" Not checked: {unchecked}."
    smallest = _smallest(r.p_value for r in calibration)
    return CheckRow("measurement", "judge calibration slope", smallest, alpha, status, SPENT, detail)


def _effect_check(persistence: Sequence[PersistenceRow], alpha: float) -> CheckRow:
    """Every period's effect against the experiment's, at α spent over the looks."""
    estimand = persistence[0].estimand if len(persistence) else ""
    status = Status.worst(r.status for r in persistence)
    moved = [r for r in persistence if r.status is Status.ALERT]
    unchecked = _unchecked(persistence, lambda r: f"{r.metric} period {r.period}")
    if status is Status.ALERT:
        detail = (
            f"{moved[0].finding.capitalize()} in {len(moved)} period-metric(s) (first: {moved[0].metric}, "
            f"period {moved[0].period}): the launch is not delivering the experiment's effect."
        )
        if unchecked:
            detail += f" Not checked: {unchecked}."
    elif status is Status.NOT_CHECKED:
        checked = sum(r.status is Status.OK for r in persistence)
        detail = f"Not checked in {len(persistence) - checked} of {len(persistence)} period-metric(s): " + (
            f"{unchecked}."
            + (f" The {checked} checked are consistent with the experiment's." if checked else "")
        )
    else:
        detail = "Every period's effect is consistent with the experiment's."
    smallest = _smallest(r.p_value for r in persistence)
    return CheckRow("persistence", "effect vs the experiment", smallest, alpha, status, SPENT, detail,
                    estimand)


def _effect_trend_check(trend: EffectTrendRow) -> CheckRow:
    """One metric's trend of the effect over the periods (decay or growth)."""
    status = trend.status
    if status is Status.NOT_CHECKED:
        detail = f"Not checked: {trend.note}."
    else:
        detail = f"Slope {trend.slope_per_period:+.4g} per period" + (
            f": {trend.finding} (novelty wearing off, or learning); project the long-run value "
            "from the later periods."
            if status is Status.ALERT
            else ": no trend shown at the spent level."
        )
    return CheckRow("persistence", f"trend of the effect on {trend.metric}", trend.p_value, trend.level,
                    status, SPENT, detail, trend.estimand)


def _persistence_checks(persistence: Sequence[PersistenceRow], trends: Sequence[EffectTrendRow],
                        alpha: float) -> list[CheckRow]:
    return [_effect_check(persistence, alpha), *(_effect_trend_check(trend) for trend in trends)]


def _feedback_check(trend: FeedbackTrendRow) -> CheckRow:
    """One feedback series' trend over the periods (the model shaping its own training data)."""
    status = trend.status
    if status is Status.NOT_CHECKED:
        detail = f"Not checked: {trend.note}."
    elif status is Status.ALERT:
        detail = (
            f"Slope {trend.slope_per_period:+.4g} per period. A rising served rate, or a drifting gap "
            "between labelled rows and the population, means the model shapes its own training data: "
            "evaluate on a holdout or shadow set, not on the labels it produced."
        )
    else:
        detail = f"Slope {trend.slope_per_period:+.4g} per period: no trend shown at the spent level."
    return CheckRow("feedback", f"trend of {trend.series}", trend.p_value, trend.level, status, SPENT, detail)


def _guardrail_check(guards: Sequence[GuardrailRow]) -> CheckRow:
    """Every guardrail metric in every segment, one-sided against its tolerance (BH across segments)."""
    status = Status.worst(r.status for r in guards)
    harms = [r for r in guards if r.status is Status.ALERT]
    unchecked = _unchecked(guards, lambda r: f"{r.metric} / {r.segment}")
    if status is Status.ALERT:
        detail = (
            "Harm beyond tolerance in "
            + ", ".join(f"{r.metric} / {r.segment}" for r in harms)
            + ": roll back for those segments or fix before widening."
        )
        if unchecked:
            detail += f" Not checked: {unchecked}."
    elif status is Status.NOT_CHECKED:
        checked = sum(r.status is Status.OK for r in guards)
        detail = f"Not checked: {unchecked}." + (
            f" The {checked} checked metric-segment(s) stay within tolerance." if checked else ""
        )
    else:
        detail = "No segment breaches its guardrail."
    estimands = sorted({r.estimand for r in guards})
    return CheckRow("guardrails", "harm by segment", _smallest(r.p_adjusted for r in guards), guards[0].level,
                    status, FDR, detail, ", ".join(estimands))


def _version_check(share: float, tested: Any, th: Thresholds) -> CheckRow:
    status = Status.of(share > th.version_share, share)
    if status is Status.NOT_CHECKED:
        detail = "Not checked: the latest period's share of rows on another version is not a number."
    elif status is Status.ALERT:
        detail = (
            f"{share:.2%} of the latest period's rows are on another version. The experiment estimated one "
            "treatment version; rows on another version are outside its estimand: test the new version "
            "before relying on the old estimate."
        )
    else:
        detail = f"{share:.2%} of the latest period's rows are on another version (within the threshold)."
    return CheckRow(
        "version", f"rows not on version {tested!r}", share, th.version_share, status, THRESHOLD_RULE, detail
    )


def build_report(monitor: MonitorLayers, alpha: float) -> MonitorReport:
    """Run every layer the monitor's inputs allow and summarise each as check rows."""
    th = monitor.thresholds
    rows: list[CheckRow] = []
    layers: dict[str, RowTable] = {}
    drift = layers["population"] = monitor.population_drift()
    if len(drift):
        layers["projection"] = monitor.projection()
        rows += _population_checks(drift, layers["projection"], th, alpha)
    layers["completeness"] = monitor.completeness()
    rows += _completeness_checks(layers["completeness"], th)
    if monitor.model.spec.calibration:
        layers["measurement"] = monitor.measurement(alpha)
        rows.append(_calibration_check(layers["measurement"], alpha))
    if monitor.holdout is not None:
        layers["persistence"] = monitor.persistence(alpha)
        layers["effect_trend"] = monitor.effect_trend(alpha)
        rows += _persistence_checks(layers["persistence"], layers["effect_trend"], alpha)
    if monitor.served is not None or monitor.labelled is not None:
        layers["feedback"] = monitor.feedback()
        layers["feedback_trend"] = monitor.feedback_trend(alpha)
        rows += [_feedback_check(trend) for trend in layers["feedback_trend"]]
    if monitor.guardrails:
        layers["guardrails"] = monitor.guardrail_segments(alpha)
        rows.append(_guardrail_check(layers["guardrails"]))
    if monitor.version is not None:
        rows.append(_version_check(monitor.version_share(), monitor.version[1], th))
    directions = dict(getattr(monitor.model.spec, "directions", ()))
    return MonitorReport(tuple(rows), layers, tuple(monitor.runner.records), directions)
