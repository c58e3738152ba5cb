"""The guardrails layer of the monitor: each guardrail metric's effect in every segment, one-sided
against its tolerance with Benjamini–Hochberg across segments; in production with a holdout
(launched − holdout, α spent over the looks), else from the experiment."""

from __future__ import annotations

import ibis
import numpy as np

from warehouse_causal.algebra.monitoring import one_sided_harm_p, spent_alpha
from warehouse_causal.algebra.multiplicity import adjust_p_values
from warehouse_causal.core.errors import DesignError
from warehouse_causal.core.tables import RowTable
from warehouse_causal.decide.decisions import guardrail_bound
from warehouse_causal.effects.delta import infer_effect
from warehouse_causal.meaning import EstimandKind
from warehouse_causal.monitoring.estimands import model_estimand
from warehouse_causal.monitoring.inputs import OWNER, MonitorInputs
from warehouse_causal.monitoring.queries import (
    MonitorSums,
    Ratios,
    checked_holdout_levels,
    grouped,
    launched_minus_held,
)
from warehouse_causal.monitoring.rows import GuardrailRow, settle

__all__ = ["guardrail_segments"]

# Per guardrail metric, one (estimate, standard error, why it is not a number: '') per segment.
_Estimates = dict[str, list[tuple[float, float, str]]]


def guardrail_segments(inputs: MonitorInputs, sums: MonitorSums, alpha: float = 0.05) -> RowTable:
    """Per guardrail metric and segment: the effect, one-sided p-value of harm beyond the
    tolerance, Benjamini–Hochberg across segments."""
    if not inputs.guardrails:
        raise DesignError(f"guardrail_segments needs {OWNER}(..., guardrails={{metric: tolerance}}).")
    labels = ["all", *(label for label, _ in inputs.segments)]
    level = alpha  # the experiment's data are fixed: re-running repeats the same test
    if inputs.holdout is not None:  # production data accumulate: spend α over the looks
        estimates, source = _production_segments(inputs, sums), "production holdout"
        level = spent_alpha(alpha, sums.periods().n_cells)
    else:
        estimates, source = _experiment_segments(inputs, labels), "experiment"
    estimand = (EstimandKind.ITT.value if source == "production holdout"
                else model_estimand(inputs.model, inputs.launched_arm).short)
    rows: list[GuardrailRow] = []
    for metric, tolerance in inputs.guardrails.items():
        bound, limit = guardrail_bound(metric, tolerance)
        estimate = np.array([e for e, _, _ in estimates[metric]])
        std_error = np.array([s for _, s, _ in estimates[metric]])
        p_values = one_sided_harm_p(estimate, std_error, bound, limit)
        p_values[~(np.isfinite(estimate) & np.isfinite(std_error))] = np.nan  # not in the family
        for label, e, se, p, q, (_, _, why) in zip(
            labels, estimate, std_error, p_values, adjust_p_values(p_values, "bh"), estimates[metric],
            strict=True,
        ):
            row = GuardrailRow(
                metric=metric,
                segment=label,
                source=source,
                estimand=estimand,
                estimate=float(e),
                std_error=float(se),
                tolerance=f"{bound} {limit:g}",
                p_value=float(p),
                p_adjusted=float(q),
                level=level,
            )
            rows.append(settle("guardrails", row, "harm", why))
    return RowTable(rows, "Guardrails by segment (Benjamini–Hochberg across segments)")


def _experiment_segments(inputs: MonitorInputs, labels: list[str]) -> _Estimates:
    """The launched arm's effects in the experiment, overall and in each segment."""
    model = inputs.model
    effects = infer_effect(model, [label for label, _ in inputs.segments] or None, alpha=model.alpha)
    found = {
        (r["metric"], r["segment"]): (r["estimate"], r["std_error"], "")
        for r in effects.to_dicts()
        if r["arm"] == str(inputs.launched_arm)
    }
    return {m: [found[(m, s)] for s in labels] for m in inputs.guardrails}


def _production_segments(inputs: MonitorInputs, sums: MonitorSums) -> _Estimates:
    """Launched − holdout overall and in each segment, from one aggregate by holdout level."""
    conditions = [ibis.literal(True), *(condition for _, condition in inputs.segments)]
    ratios: Ratios = {}
    for metric in inputs.guardrails:
        y = inputs.metrics[metric]
        for j, condition in enumerate(conditions):
            inside = (condition.fill_null(False) & y.notnull()).cast("float64")
            ratios[f"{metric}|{j}"] = (inside, inside * y.fill_null(0.0))
    found = checked_holdout_levels(
        grouped(inputs, sums.runner, {"held": inputs.held()}, {}, ratios, "monitor: guardrails by segment"),
        inputs.holdout)
    every = range(found.n_cells)
    return {metric: [launched_minus_held(found, every, f"{metric}|{j}", inputs.units, metric)
                     for j in range(len(conditions))]
            for metric in inputs.guardrails}
