"""The persistence layer of the monitor (with a long-term holdout): each period's effect in
production, tested against the experiment's estimate of the same estimand (the ITT, or the LATE
when production logs take-up: :mod:`~warehouse_causal.monitoring.estimands`), and the trend of those
effects (decay)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from warehouse_causal.algebra.monitoring import Wald, per_period_tests, trend_test, wald_effect
from warehouse_causal.core.errors import DesignError
from warehouse_causal.core.tables import RowTable
from warehouse_causal.fit.diagnostics import WEAK_F
from warehouse_causal.meaning import EstimandKind
from warehouse_causal.monitoring.inputs import OWNER, MonitorInputs
from warehouse_causal.monitoring.queries import (
    PERIOD,
    MonitorSums,
    by_level,
    in_period_order,
    launched_minus_held,
    why_missing,
)
from warehouse_causal.monitoring.rows import EffectTrendRow, PersistenceRow, settle, too_few
from warehouse_causal.warehouse.contract import Sums

__all__ = ["PeriodEffects", "effect_trend", "effects_by_period", "persistence"]


@dataclass(frozen=True)
class PeriodEffects:
    """One metric's effect in each period, its standard error, and why it could not be estimated
    ('' when it could)."""

    effects: np.ndarray
    std_errors: np.ndarray
    why: list[str]
    take_up: np.ndarray | None = None  # LATE only: launched − holdout take-up, and its first-stage F
    first_stage_f: np.ndarray | None = None

    @property
    def usable(self) -> np.ndarray:
        """The effects, NaN in the periods that could not be estimated (left out of the tests)."""
        return np.where([not w for w in self.why], self.effects, np.nan)

    def first_stage(self, i: int) -> tuple[float | None, float | None]:
        """(take-up difference, first-stage F) in period number ``i`` of a LATE; (None, None) for an ITT."""
        if self.take_up is None or self.first_stage_f is None:
            return None, None
        return float(self.take_up[i]), float(self.first_stage_f[i])

    @property
    def count(self) -> int:
        """Periods with an effect and a positive standard error."""
        return int(np.sum(np.isfinite(self.usable) & np.isfinite(self.std_errors) & (self.std_errors > 0)))


def effects_by_period(inputs: MonitorInputs, sums: MonitorSums) -> tuple[list[Any], dict[str, PeriodEffects]]:
    """The periods in order, and each metric's :class:`PeriodEffects` over them: launched − holdout
    (the ITT), or with a take-up column the LATE with the holdout as the instrument."""
    if inputs.holdout is None:
        raise DesignError(f"persistence needs a long-term holdout: {OWNER}(..., holdout='column').")
    found = sums.holdout_periods()
    periods = found.key(PERIOD)
    order = list(dict.fromkeys(periods[i] for i in in_period_order(periods, inputs.time)))
    out = {}
    for metric in inputs.model.metrics:
        cells = [np.flatnonzero(periods == period) for period in order]
        if inputs.treated is None:  # launched − holdout: the ITT
            itt = [launched_minus_held(found, rows, metric, inputs.units) for rows in cells]
            out[metric] = PeriodEffects(np.array([e for e, _, _ in itt]),
                                        np.array([s for _, s, _ in itt]), [why for _, _, why in itt])
            continue
        late = [_late(inputs, found, rows, metric) for rows in cells]
        out[metric] = PeriodEffects(
            np.array([w.effect for w, _ in late]), np.array([w.std_error for w, _ in late]),
            [why for _, why in late], np.array([w.first_stage for w, _ in late]),
            np.array([_first_stage_f(w) for w, _ in late]))
    return order, out


def _late(inputs: MonitorInputs, found: Sums, rows: Any, metric: str) -> tuple[Wald, str]:
    """The LATE in one period: launched − holdout of the metric over that of take-up (the
    holdout as the instrument), and why it cannot be tested ('' when it can)."""
    y, d = by_level(found, rows, metric), by_level(found, rows, f"take-up:{metric}")
    why = why_missing(y, f"{metric} (with {inputs.treated!r} logged)", inputs.units)
    if why:
        return Wald(math.nan, math.nan, math.nan, math.nan), why
    held = found.key("held")
    cross = {bool(held[i] == 1): float(found.column("paired", metric)[i]) for i in rows}
    wald = wald_effect((y[False], d[False], cross[False]), (y[True], d[True], cross[True]))
    strength = _first_stage_f(wald)
    if not strength >= WEAK_F:
        why = (f"the holdout moves take-up of arm {inputs.launched_arm!r} by {wald.first_stage:+.3g} only "
               f"(first-stage F {strength:.3g} < {WEAK_F:g}): the LATE is not identified well enough to "
               "test")
    return wald, why


def _first_stage_f(wald: Wald) -> float:
    """(first stage / its SE)²: the Wald F of the holdout on take-up (inf when take-up is exact)."""
    if wald.first_stage_se > 0:
        return float((wald.first_stage / wald.first_stage_se) ** 2)
    return math.inf if math.isfinite(wald.first_stage) and wald.first_stage != 0 else math.nan


def persistence(inputs: MonitorInputs, sums: MonitorSums, alpha: float = 0.05) -> RowTable:
    """Per metric and period: launched − holdout, its interval at the period's spent level (they
    hold for every period at once), and its test against the experiment's effect. A period whose
    effect could not be estimated is not checked, and its ``note`` says why."""
    order, by_metric = effects_by_period(inputs, sums)
    comparison = sums.comparison()
    estimand = comparison.estimand
    rows: list[PersistenceRow] = []
    for m, metric in enumerate(inputs.model.metrics):
        base, se_base = comparison.experiment_effect(m)
        series = by_metric[metric]
        unusable = "" if math.isfinite(base) and se_base > 0 else (
            "the experiment's estimate has no finite standard error")
        tests = per_period_tests(series.usable, series.std_errors, base, se_base, alpha)
        for look, (period, effect, se, why, test) in enumerate(
            zip(order, series.effects, series.std_errors, series.why, tests, strict=True), 1
        ):
            half = float(stats.norm.isf(test.level / 2)) * se
            away = "decay" if (effect - base) * math.copysign(1.0, base) < 0 else "growth"
            take_up, strength = series.first_stage(look - 1)
            row = PersistenceRow(
                period=period,
                look=look,
                metric=metric,
                estimand=estimand.short,
                effect=float(effect),
                std_error=float(se),
                lower=float(effect - half),
                upper=float(effect + half),
                level=test.level,
                experiment_effect=base,
                z=test.statistic,
                p_value=test.p_value,
                take_up_difference=take_up,
                first_stage_f=strength,
            )
            rows.append(settle("persistence", row, away, why or unusable))
    what = ("launched − holdout over the take-up difference: the complier effect (LATE)"
            if estimand.kind is EstimandKind.LATE
            else "launched − holdout: the intention-to-treat effect")
    return RowTable(rows, f"Effect after launch by period ({what}); intervals hold for all periods")


def effect_trend(inputs: MonitorInputs, sums: MonitorSums, alpha: float = 0.05) -> RowTable:
    """Per metric: the WLS slope of the per-period effects, tested at the spent level of the
    current look (decay when it moves toward 0 from the experiment's sign). Periods whose effect
    could not be estimated are left out; with fewer than 3 left the trend is not checked."""
    _, by_metric = effects_by_period(inputs, sums)
    rows: list[EffectTrendRow] = []
    for m, metric in enumerate(inputs.model.metrics):
        base, _ = sums.comparison().experiment_effect(m)
        series = by_metric[metric]
        slope, test = trend_test(series.usable, series.std_errors**2, alpha)
        used = series.count
        toward_zero = slope * math.copysign(1.0, base) < 0
        row = EffectTrendRow(
            metric=metric,
            estimand=sums.comparison().estimand.short,
            periods=used,
            slope_per_period=slope,
            z=test.statistic,
            p_value=test.p_value,
            level=test.level,
        )
        why = "" if used >= 3 else too_few(used, "an effect")
        finding = ("decay" if toward_zero else "growth") if math.isfinite(base) else "trend"
        rows.append(settle("effect_trend", row, finding, why))
    return RowTable(rows, "Trend of the effect over the periods since launch")
