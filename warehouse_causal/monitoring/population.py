"""The population layer of the monitor: how far production's covariates drifted from the
experiment's (standardized mean differences per period and covariate, and a membership R²), and the
experiment's effects re-projected to the latest period's covariate means."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from warehouse_causal.algebra.inference import standard_errors
from warehouse_causal.algebra.monitoring import membership_r2, standardized_difference
from warehouse_causal.core.tables import RowTable
from warehouse_causal.fit.design_row import effect_vector
from warehouse_causal.monitoring.estimands import model_estimand
from warehouse_causal.monitoring.inputs import MonitorInputs
from warehouse_causal.monitoring.queries import PERIOD, MonitorSums
from warehouse_causal.monitoring.rows import DriftRow, ProjectionRow

__all__ = ["population_drift", "projection"]


def population_drift(inputs: MonitorInputs, sums: MonitorSums) -> RowTable:
    """Per period and covariate column: the SMD against the experiment, and the period's
    membership R². Means are over the rows where the covariate is not NULL (the NULL rate is
    its own check) and shown in the covariate's units; the R² needs every covariate on every row
    (NaN, not checked, in a period with NULLs)."""
    model = inputs.model
    e, p = sums.experiment(), sums.periods()
    names = list(inputs.covariates)
    shift = {c: model.design.columns[c].shift for c in names}  # sums are of x − shift
    n_e = e.total("rows")
    units_e = float(model.n_clusters or n_e)  # covariates of one unit's rows move together
    mean_e = {c: e.total("sum", c) / n_e for c in names}
    var_e = {c: e.total("product", (c, c)) / n_e - mean_e[c] ** 2 for c in names}
    sum_e = np.array([e.total("sum", c) for c in names])
    cross_e = _symmetric(names, lambda a, b: e.total("product", (a, b)))
    rows: list[DriftRow] = []
    keys = p.key(PERIOD)
    for i in sums.order():
        period, n_p = keys[i], p.column("rows")[i]
        sum_p = np.array([p.column("sum", c)[i] for c in names])
        present = {c: p.column("present", c)[i] for c in names}
        cross_p = _symmetric(names, lambda a, b, i=i: p.column("product", (a, b))[i])
        complete = all(present[c] == n_p for c in names)
        r2 = 0.0 if not names else (
            membership_r2(n_e, sum_e, cross_e, n_p, sum_p, cross_p) if complete else math.nan)
        units_p = float(p.column("unitcount")[i])
        for c in names:
            counted = present[c] if present[c] > 0 else math.nan  # no value at all: NaN, not 0
            mean_p = sum_p[names.index(c)] / counted
            var_p = p.column("product", (c, c))[i] / counted - mean_p**2
            pooled = math.sqrt(max((var_e[c] + var_p) / 2.0, 0.0))
            rows.append(DriftRow(
                period=period,
                covariate=c,
                mean_experiment=mean_e[c] + shift[c],
                mean_production=float(mean_p + shift[c]),
                smd=standardized_difference(mean_e[c], var_e[c], mean_p, var_p),
                se_smd=(math.sqrt(max(var_e[c] / units_e + var_p / units_p, 0.0)) / pooled
                        if pooled else 0.0),
                membership_r2=r2,
                rows=int(n_p),
                units=int(units_p),
            ))
    return RowTable(rows, "Covariates: the experiment vs each production period (SMD, membership R²)")


def projection(inputs: MonitorInputs, sums: MonitorSums) -> RowTable:
    """The launched arm's effect on each metric at the latest period's covariate means:
    β_arm + Σ_c β_arm:c (x̄_c,production − x̄_c,experiment), with its delta-method SE (the means
    taken as known)."""
    model = inputs.model
    p, design = sums.periods(), model.design
    last, k = sums.order()[-1], len(model.terms)
    estimand = model_estimand(model, inputs.launched_arm).short
    arm_term = design.treatment[design.arms.index(inputs.launched_arm)]
    cov = model.cov
    rows: list[ProjectionRow] = []
    for m, metric in enumerate(model.metrics):
        d = np.zeros(k * len(model.metrics))
        arm = m * k + model.terms.index(arm_term)
        shift = {}
        for _, interacted_arm, covariate in design.interactions:
            if interacted_arm == arm_term:
                present = p.column("present", covariate)[last]
                mean_now = p.column("sum", covariate)[last] / present if present > 0 else math.nan
                shift[covariate] = mean_now - model.covariate_means[covariate]
        d[m * k:(m + 1) * k] = effect_vector(model.terms, arm_term, design.interactions, shift)
        estimate = float(d @ model.params.T.reshape(-1))
        base, se_base = float(model.params.T.reshape(-1)[arm]), math.sqrt(cov[arm, arm])
        rows.append(ProjectionRow(
            metric=metric,
            arm=str(inputs.launched_arm),
            estimand=estimand,
            period=p.key(PERIOD)[last],
            experiment_effect=base,
            projected_effect=estimate,
            std_error=float(standard_errors(np.array([d @ cov @ d]))[0]),
            change_in_se=(estimate - base) / se_base if se_base > 0 else math.nan,
            interacted=bool(design.interactions),
        ))
    return RowTable(rows, "The experiment's effects re-projected to the latest production mix")


def _symmetric(names: list[str], get: Any) -> np.ndarray:
    out = np.empty((len(names), len(names)))
    for i, a in enumerate(names):
        for j in range(i, len(names)):
            out[i, j] = out[j, i] = get(a, names[j])
    return out
