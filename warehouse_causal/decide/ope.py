r"""Off-policy evaluation of a target policy from logged (context, action, propensity, reward) rows,
computed as one SQL aggregate.

Notes
-----
The target policy π is deterministic, given as a CASE expression; the reward model is the fitted
interacted model :math:`\hat q(x, a) = x(a, x)'\hat\beta` (β inlined as literals). The aggregate
returns the sums and pairwise products of the row terms W, R, Q, A, L and the mean design row under
π; :mod:`warehouse_causal.algebra.ope` turns them into IPS, SNIPS, DM, DR and the logged value with
delta-method standard errors (DM's includes the reward model's own uncertainty; alone, Var(Q)/n
badly under-covers). Rewards are shifted by the provisional constant K of the fit for precision;
estimates add K back.

Intervals are normal (large-sample). The logged policy's value is the mean reward of the log. A
cluster-robust model (``cluster_by``: repeated rows of one unit) gets cluster-robust standard errors
from the per-cluster sums of the row terms (:func:`~warehouse_causal.algebra.ope.cluster_mean_covariance`).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np

from warehouse_causal.algebra.inference import NORMAL, wald_inference
from warehouse_causal.algebra.ope import (
    TERMS,
    cluster_mean_covariance,
    iid_mean_covariance,
    policy_values,
)
from warehouse_causal.core.errors import DesignError, ExpressionError, OverlapWarning
from warehouse_causal.core.tables import TableResult
from warehouse_causal.design.estimands import ValueKind
from warehouse_causal.fit.design_row import design_values
from warehouse_causal.warehouse.backends import QueryRecord, QueryRunner
from warehouse_causal.warehouse.contract import CLUSTER, Columns, Named, Sums
from warehouse_causal.warehouse.terms import referenced_columns, resolve_value

if TYPE_CHECKING:
    from warehouse_causal.fit.models import LinearFit

__all__ = ["ESTIMATORS", "MIN_PROPENSITY", "PolicyEvaluation", "evaluate_policy"]

ESTIMATORS = ("ips", "snips", "dm", "dr", "logged")
#: Logging propensities below this make IPS-type estimates unstable: warn.
MIN_PROPENSITY = 0.01


@dataclass(frozen=True, repr=False)
class PolicyEvaluation(TableResult):
    """Estimated value of the target policy by estimator and metric, with overlap diagnostics."""

    rows: tuple[dict[str, Any], ...]
    nobs: int
    matched: int
    effective_sample_size: float
    min_propensity: float
    queries: tuple[QueryRecord, ...]

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per (metric, estimator): estimate, std_error, ci_lower, ci_upper, estimand (the
        target or the logged policy's value)."""
        return [dict(r) for r in self.rows]

    def caption(self) -> str:
        return (f"Off-policy value: {self.matched:,} of {self.nobs:,} logged rows match the policy "
                f"(effective sample size {self.effective_sample_size:,.0f})")


def _check_policy(label: str, expr: ir.Value, model: LinearFit) -> None:
    exp = model.spec.experiment
    forbidden = {exp.intent_to_treat: "the logged action", exp.treated_column: "the logged action"}
    if exp.propensity:
        forbidden[exp.propensity] = "the logging propensity"
    for metric in model.spec.metrics:
        forbidden.update({c: "an outcome" for c in metric.columns})
    for column in sorted(referenced_columns(expr)):
        if column in forbidden:
            raise ExpressionError(
                f"The policy {label!r} reads {column!r}, {forbidden[column]}; a policy may only use "
                "what is known before the action is taken."
            )
    action = exp.table[exp.intent_to_treat].type()
    kind = expr.type()
    same = (kind.is_integer() and action.is_integer()) or (kind.is_string() and action.is_string()) or (
        kind.is_boolean() and action.is_boolean())
    if not same:
        raise ExpressionError(f"The policy {label!r} returns {kind}, but the logged actions are {action}.")


def _design_values(model: LinearFit, arm_value: ir.Value) -> dict[str, ir.Value]:
    """x(arm, w) in the model's centred coordinates for an arm given per row by ``arm_value``
    (:func:`~warehouse_causal.fit.design_row.design_values`)."""
    design = model.design
    arms = {term: (arm_value == level).cast("float64")  # NULL stays NULL (portable() on other engines)
            for term, level in zip(model.treatment_terms, model.arms, strict=True)}
    covariates = {c: design.columns[c].value() - ibis.literal(model.covariate_means[c])
                  for c in design.covariates}
    return design_values(design.intercept, arms, covariates, design.interactions, ibis.literal(1.0))


def _prediction(model: LinearFit, values: dict[str, ir.Value], m: int, shift: float) -> ir.Value:
    out: ir.Value = ibis.literal(float(model.params[0, m]) - shift)
    for j, term in enumerate(model.terms[1:], start=1):
        out = out + ibis.literal(float(model.params[j, m])) * values[term]
    return out


def _query(model: LinearFit, policy: ir.Value) -> Named:
    """Per row: the IPW weight W and, per metric m, the terms R (W·reward), Q (the model's prediction
    under the policy), A (W·residual under the logged action) and L (the logged reward): their sums
    (``sum``), the products within each metric (``product``), the design row under the policy
    (``design``), n, the smallest propensity, rows off the arms and rows the policy matches.

    When the model is cluster-robust the products are of the terms' per-cluster sums (with the
    cluster sizes as the term ("N", None)), from one nested aggregate."""
    exp, design = model.spec.experiment, model.design
    t = exp.table
    action, propensity = t[exp.intent_to_treat], t[exp.propensity].cast("float64")
    w = ibis.ifelse(action == policy, 1.0 / propensity, 0.0)
    under_policy, logged = _design_values(model, policy), _design_values(model, action)
    columns = Columns()
    columns.add("term", ("W", None), w)
    for m, y in enumerate(design.y):
        shift = design.columns[y].shift
        reward = design.columns[y].value()
        columns.add("term", ("R", m), w * reward)
        columns.add("term", ("Q", m), _prediction(model, under_policy, m, shift))
        columns.add("term", ("A", m), w * (reward - _prediction(model, logged, m, shift)))
        columns.add("term", ("L", m), reward)
    columns.update("design", {j: under_policy[term] for j, term in enumerate(model.terms)})
    columns.add("propensity", None, propensity)
    columns.add("offarm", None, (~policy.isin(exp.design.arms)).fill_null(True))
    clustered = model.n_clusters is not None
    inner = columns.select(t, {CLUSTER: t[str(exp.cluster_by)]} if clustered else None)
    terms = inner.entries("term")
    level = Columns()  # rows, or clusters: the sums every level carries
    level.add("rows", None, inner.table.count())
    level.add("minimum", None, inner["propensity", None].min())
    level.add("offarm", None, inner["offarm", None].cast("int64").sum())
    level.add("matched", None, (inner["term", ("W", None)] > 0).cast("int64").sum())
    level.update("sum", {term: inner["term", term].sum() for term in terms})
    level.update("design", {j: inner["design", j].sum() for j in range(len(model.terms))})
    if not clustered:
        for m in range(len(design.y)):
            for a, b in itertools.combinations_with_replacement(_metric_terms(m), 2):
                level.add("product", (a, b), (inner["term", a] * inner["term", b]).sum())
        return level.aggregate(inner.table)
    per_cluster = level.aggregate(inner.table, by={CLUSTER: inner.key(CLUSTER)})
    outer = Columns()
    outer.add("rows", None, per_cluster["rows", None].sum())
    outer.add("clusters", None, per_cluster.table.count())
    outer.add("minimum", None, per_cluster["minimum", None].min())
    for name in ("offarm", "matched"):
        outer.add(name, None, per_cluster[name, None].sum())
    outer.update("sum", {term: per_cluster["sum", term].sum() for term in terms})
    outer.update("design", {j: per_cluster["design", j].sum() for j in range(len(model.terms))})
    size = per_cluster["rows", None].cast("float64")
    outer.add("product", (COUNT, COUNT), (size * size).sum())
    for m in range(len(design.y)):
        for a in _metric_terms(m):
            if ("product", (COUNT, a)) not in outer:
                outer.add("product", (COUNT, a), (size * per_cluster["sum", a]).sum())
        for a, b in itertools.combinations_with_replacement(_metric_terms(m), 2):
            if ("product", (a, b)) not in outer:
                outer.add("product", (a, b), (per_cluster["sum", a] * per_cluster["sum", b]).sum())
    return outer.aggregate(per_cluster.table)


#: The cluster size as a term of the clustered products.
COUNT = ("N", None)


def _metric_terms(m: int) -> list[tuple[str, int | None]]:
    """The terms of metric m in the order of :data:`TERMS`: W, then R, Q, A, L of metric m."""
    return [("W", None)] + [(name, m) for name in TERMS[1:]]


def _estimates(found: Sums, model: LinearFit, m: int, alpha: float) -> list[dict[str, Any]]:
    """The estimators of metric m from the aggregate's sums (see :mod:`warehouse_causal.algebra.ope`),
    with normal intervals."""
    n = found.total("rows")
    names = _metric_terms(m)
    sums = np.array([found.total("sum", name) for name in names])
    products = np.empty((len(names), len(names)))
    for (i, a), (j, b) in itertools.combinations_with_replacement(enumerate(names), 2):
        products[i, j] = products[j, i] = found.total("product", (a, b))
    if ("clusters", None) in found:
        count_products = np.array([found.total("product", (COUNT, name)) for name in names])
        squares, clusters = found.total("product", (COUNT, COUNT)), found.total("clusters")
        mean_cov = cluster_mean_covariance(sums, products, count_products, squares, n, clusters)
    else:
        mean_cov = iid_mean_covariance(sums, products, n)
    shift = float(model.design.columns[model.design.y[m]].shift)
    k = len(model.terms)
    d_bar = np.array([found.total("design", j) / n for j in range(k)])
    v_beta = model.cov_estimated[m * k:(m + 1) * k, m * k:(m + 1) * k]
    results = policy_values(sums, mean_cov, n, d_bar, v_beta, shift)
    estimate = np.array([est for est, _ in results.values()])
    std_error = np.array([s for _, s in results.values()])
    _, _, lower, upper = wald_inference(estimate, std_error, NORMAL, alpha)
    return [{"metric": model.metrics[m], "estimator": name, "estimate": float(estimate[i]),
             "std_error": float(std_error[i]), "ci_lower": float(lower[i]), "ci_upper": float(upper[i]),
             "estimand": str(ValueKind.LOGGED_VALUE if name == "logged" else ValueKind.POLICY_VALUE)}
            for i, name in enumerate(results)]


def evaluate_policy(model: LinearFit, policy: Any, alpha: float | None = None) -> PolicyEvaluation:
    """Value of ``policy`` (an ibis expression or SQL CASE string giving the arm of each row)."""
    exp = model.spec.experiment
    if exp.propensity is None:
        raise DesignError("evaluate_policy needs the logging probability: ExperimentData(propensity=...).")
    if exp.is_iv:
        raise DesignError("evaluate_policy needs the logged action as the arm received (no instrument).")
    alpha = model.alpha if alpha is None else alpha  # checked by LinearModel.evaluate_policy
    label, expr = resolve_value(policy, exp.table, "policy")
    _check_policy(label, expr, model)
    runner = QueryRunner()
    found = _query(model, expr).run(runner, "off-policy evaluation sums")
    off_arm, matched, rows = int(found.total("offarm")), int(found.total("matched")), int(found.total("rows"))
    if off_arm:
        raise ExpressionError(
            f"The policy {label!r} gives {off_arm} row(s) a value that is not an arm "
            f"({list(exp.design.arms)}) or NULL; every row needs an arm."
        )
    if matched == 0:
        raise DesignError(
            f"The policy {label!r} never agrees with a logged action: there is no overlap to evaluate it."
        )
    weight = ("W", None)
    ess = found.total("sum", weight) ** 2 / found.total("product", (weight, weight))
    smallest = float(found.value("minimum"))
    if smallest < MIN_PROPENSITY:
        warnings.warn(
            f"Near-deterministic logging: the smallest propensity is {smallest:.2g}. IPS-type estimates "
            f"rest on few heavily weighted rows (effective sample size {ess:,.0f} of {rows:,}).",
            OverlapWarning, stacklevel=3,
        )
    estimates = [r for m in range(len(model.metrics)) for r in _estimates(found, model, m, alpha)]
    return PolicyEvaluation(tuple(estimates), rows, matched, ess, smallest, tuple(runner.records))
