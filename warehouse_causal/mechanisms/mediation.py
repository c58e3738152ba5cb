r"""Mediation over a causal graph: ``effects.with_graph("T -> searches -> views -> sales; T -> views")
.mediate_effect()``.

Every mediator and the outcome is regressed on its graph parents + the randomized treatment + the
model's (pre-treatment) covariates, all from ONE cross-product matrix of [1, T, X, mediators, Y]
(a block of the fit's own moments when every mediator is a metric of the model, else one
aggregate); a second aggregate returns the stacked estimating-equation meat with β inlined,
clustered when the design is. Path effects are products of coefficients (algebra/paths.py); rows
are each path, the direct effect, each mediator's total (all paths through it) and the total,
with delta-method and seeded Monte-Carlo intervals.

The treatment node is the randomized assignment (``intent_to_treat``); with non-compliance the
decomposition is of the intent-to-treat effect. Weights (propensity or user) are used throughout.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.inference import NORMAL, standard_errors, wald_inference
from warehouse_causal.algebra.paths import (
    PathSystem,
    classical_covariance,
    enumerate_paths,
    fit_paths,
    path_effects,
    path_gradient,
    stacked_covariance,
)
from warehouse_causal.core.errors import DesignError, InvalidParameterError
from warehouse_causal.core.tables import TableResult
from warehouse_causal.core.validation import NONE, InstanceOf, Integer, Options, Real, validated
from warehouse_causal.fit.moments import (
    CLUSTER,
    BasisColumn,
    Design,
    Moments,
    cluster_sum_of_products,
    cross_products_query,
    read_cross_products,
    read_meat,
    residual_expr,
    score_table,
    sum_of_products,
)
from warehouse_causal.warehouse.backends import QueryRecord, QueryRunner
from warehouse_causal.warehouse.contract import Columns, Named
from warehouse_causal.warehouse.terms import check_columns

if TYPE_CHECKING:
    from warehouse_causal.fit.models import LinearFit

__all__ = ["CausalGraph", "MediationEffects", "MediationSpec", "parse_graph"]

COVARIANCES = ("robust", "classical")
TREATMENT_ALIAS = "T"

ASSUMPTIONS = (
    "T is randomized: the total effect is causal without further assumptions.",
    "Sequential ignorability (untestable): no unmeasured confounding of mediator -> mediator and "
    "mediator -> outcome links given T, the covariates and upstream mediators.",
    "Linear structural model without T x mediator or mediator x mediator interactions.",
    "Covariates are measured before treatment.",
    "Paths that bypass an upstream mediator (recanting witness) are identified only by the linear "
    "model; the 'through <mediator>' totals are more robust.",
)


def parse_graph(graph: Any) -> tuple[tuple[str, str], ...]:
    """Edges from "A -> B -> C; A -> C" (';' or newlines between chains) or (parent, child) pairs."""
    if isinstance(graph, str):
        edges = []
        for chain in re.split(r"[;\n]", graph):
            nodes = [n.strip() for n in chain.split("->")]
            if chain.strip() == "":
                continue
            if len(nodes) < 2 or any(not n for n in nodes):
                raise InvalidParameterError(
                    f"Cannot read the graph chain {chain.strip()!r}; write 'A -> B -> C'."
                )
            edges += list(itertools.pairwise(nodes))
        return tuple(dict.fromkeys(edges))
    try:
        edges = [(str(a), str(b)) for a, b in graph]
    except (TypeError, ValueError):
        raise InvalidParameterError(
            "The graph must be a string of edges or a list of (parent, child) pairs."
        ) from None
    return tuple(dict.fromkeys(edges))


@dataclass(frozen=True)
class CausalGraph:
    """A validated DAG: the treatment root, the outcome sink and the mediators in topological order."""

    treatment: str
    outcome: str
    nodes: tuple[tuple[str, tuple[str, ...]], ...]  # (node, mediator parents), topological, outcome last

    @property
    def mediators(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.nodes[:-1])

    @classmethod
    def build(cls, graph: Any, model: LinearFit) -> CausalGraph:
        edges = parse_graph(graph)
        if not edges:
            raise InvalidParameterError("The graph has no edges.")
        exp = model.spec.experiment
        roots = {exp.intent_to_treat, exp.treated_column, TREATMENT_ALIAS}
        names = {n for edge in edges for n in edge}
        treatments = sorted(names & roots)
        if len(treatments) != 1:
            raise DesignError(f"The graph must contain the treatment once, as {TREATMENT_ALIAS!r} or "
                              f"{exp.intent_to_treat!r}; found {treatments or 'none'}.")
        treatment = treatments[0]
        if any(child == treatment for _, child in edges):
            raise DesignError(f"The treatment {treatment!r} must be a root of the graph (it is randomized).")
        sinks = sorted(names - {parent for parent, _ in edges})
        if len(sinks) != 1 or sinks[0] not in model.metrics:
            raise DesignError(f"The graph must end in one outcome that is a metric of the model "
                              f"({list(model.metrics)}); its sinks are {sinks}.")
        outcome = sinks[0]
        mediators = names - {treatment, outcome}
        for m in sorted(mediators):
            check_columns(exp.table, {"mediator": m})
        covariate_columns = frozenset().union(*(c.columns for c in model.spec.covariates))
        design_columns = exp.design_roles()
        for m in sorted(mediators):
            if m in covariate_columns:
                raise DesignError(f"{m!r} is a covariate of the model; a mediator is affected by treatment, "
                                  "so it cannot also be a pre-treatment covariate.")
            if m in design_columns:
                raise DesignError(f"{m!r} is a design column of the experiment, not a mediator.")
            if not exp.table[m].type().is_numeric() and not exp.table[m].type().is_boolean():
                raise DesignError(f"Mediator {m!r} has type {exp.table[m].type()}; it must be numeric.")
        return cls(treatment, outcome, _topological(edges, treatment, outcome, mediators))


def _topological(edges: tuple[tuple[str, str], ...], treatment: str, outcome: str,
                 mediators: set[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    parents = {n: [p for p, c in edges if c == n and p != treatment] for n in [*mediators, outcome]}
    order, done = [], set()
    pending = sorted(mediators)
    while pending:
        ready = [n for n in pending if all(p in done for p in parents[n])]
        if not ready:
            raise DesignError(f"The graph has a cycle among {pending}.")
        order += ready
        done |= set(ready)
        pending = [n for n in pending if n not in done]
    reach_outcome = {outcome}
    for n in reversed(order):
        if any(c in reach_outcome for p, c in edges if p == n):
            reach_outcome.add(n)
    reached = {treatment}
    for n in order:
        if any(p in reached for p, c in edges if c == n):
            reached.add(n)
    stray = sorted(m for m in mediators if m not in reach_outcome or m not in reached)
    if stray:
        raise DesignError(f"Mediator(s) {stray} are not on a path from {treatment!r} to {outcome!r}.")
    return tuple((n, tuple(parents[n])) for n in [*order, outcome])


@dataclass(frozen=True, repr=False)
class MediationEffects(TableResult):
    """Rows: each path, the direct effect, each mediator's total and the total, with delta-method and
    Monte-Carlo intervals. ``assumptions`` says what identifies each kind of row."""

    label: tuple[str, ...]
    kind: tuple[str, ...]
    estimate: NDArray[np.float64] = field(repr=False)
    cov: NDArray[np.float64] = field(repr=False)
    mc_lower: NDArray[np.float64] = field(repr=False)
    mc_upper: NDArray[np.float64] = field(repr=False)
    mc_p_value: NDArray[np.float64] = field(repr=False)
    alpha: float
    covariance: str
    assumptions: tuple[str, ...]
    queries: tuple[QueryRecord, ...] = field(repr=False, compare=False)

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per row: path, kind, estimate, std_error, ci_lower, ci_upper, p_value and the
        Monte-Carlo interval and p-value."""
        se = standard_errors(np.diag(self.cov))
        _, p, lower, upper = wald_inference(self.estimate, se, NORMAL, self.alpha)
        return [{"path": self.label[i], "kind": self.kind[i], "estimate": float(self.estimate[i]),
                 "std_error": float(se[i]), "ci_lower": float(lower[i]), "ci_upper": float(upper[i]),
                 "p_value": float(p[i]), "mc_ci_lower": float(self.mc_lower[i]),
                 "mc_ci_upper": float(self.mc_upper[i]), "mc_p_value": float(self.mc_p_value[i])}
                for i in range(len(self.label))]

    def caption(self) -> str:
        return f"Mediation: path effects ({self.covariance} covariance)"

    def __str__(self) -> str:
        notes = "\n".join(f"- {a}" for a in self.assumptions)
        return f"{self.caption()}\n{self.to_markdown()}\n\nAssumptions:\n{notes}"


def _mediator_columns(model: LinearFit, graph: CausalGraph, runner: QueryRunner) -> list[BasisColumn]:
    t = model.spec.experiment.table
    aggs = Columns()
    aggs.update("nulls", {m: t[m].isnull().cast("int64").sum() for m in graph.mediators})
    aggs.update("mean", {m: t[m].cast("float64").mean() for m in graph.mediators})
    found = aggs.aggregate(t).run(runner, "mediators: NULLs and shifts")
    for m in graph.mediators:
        nulls = found.value("nulls", m)
        if nulls:
            raise DesignError(f"Mediator {m!r} has {nulls} NULL value(s); filter or fill them.")
    return [BasisColumn(m, t[m], float(found.value("mean", m))) for m in graph.mediators]


def _design(model: LinearFit, graph: CausalGraph, mediators: list[BasisColumn]) -> Design:
    exp, base = model.spec.experiment, model.design
    if len(model.arms) != 1:
        raise DesignError(f"Mediation compares one treatment arm with control; this model has arms "
                          f"{list(model.arms)}. Filter the table to two arms first.")
    t = exp.table
    treatment = BasisColumn(graph.treatment, (t[exp.intent_to_treat] == exp.design.arms[1]).cast("float64"))
    columns = {base.intercept: base.columns[base.intercept], graph.treatment: treatment}
    columns.update({c: base.columns[c] for c in base.covariates})
    columns.update({m.label: m for m in mediators})
    columns[graph.outcome] = base.columns[graph.outcome]
    regressors = tuple(label for label in columns if label != graph.outcome)
    return Design(table=t, columns=columns, x=regressors, z=regressors, y=(graph.outcome,),
                  weight=base.weight, covariates=base.covariates, interactions=(),
                  treatment=(graph.treatment,), instruments=(graph.treatment,), arms=model.arms,
                  nobs=model.nobs, categories=base.categories)


def _moments_of_the_fit(model: LinearFit, graph: CausalGraph) -> tuple[Design, Moments] | None:
    """When every mediator is a metric of the model, the fit's cross products already hold
    [1, T, X, mediators, Y]: the mediation design reuses the model's columns (same shifts) and its
    moments are a block of the fit's, so no query is needed for them. None otherwise."""
    base, exp = model.design, model.spec.experiment
    if not set(graph.mediators) <= set(base.y) or len(model.arms) != 1:
        return None
    itt = ((exp.intent_to_treat, exp.design.arms[1]),)
    treatment = [label for label, c in base.columns.items() if c.indicators == itt and c.numeric is None]
    if not treatment:
        return None
    design = _design(model, graph, [base.columns[m] for m in graph.mediators])
    fit_label = {label: label for label in design.labels} | {graph.treatment: treatment[0]}
    fit = model.moments
    labels = [fit_label[label] for label in design.labels]
    moments = Moments(design.labels, fit.block(labels, labels), fit.nobs, fit.sum_w, fit.sum_w2)
    return design, moments


def _meat_query(design: Design, system: PathSystem, cluster: str | None) -> Named:
    labels = design.labels
    blocks = []
    for eq in system.equations:
        regressors = [(labels[i], design.columns[labels[i]].value()) for i in eq.regressors]
        dependent = design.columns[labels[eq.dependent]].value()
        blocks.append((residual_expr(dependent, [v for _, v in regressors], eq.coef), regressors))
    keys: dict[Hashable, ir.Value] = {CLUSTER: design.table[cluster]} if cluster else {}
    inner, scores = score_table(design.table, design.weight, blocks, keys)
    if cluster:
        return cluster_sum_of_products(inner, scores)
    return sum_of_products(scores).aggregate(inner.table)


def mediate(model: LinearFit, graph: Any, mediator: str | None = None, covariance: str = "robust",
            sims: int = 100_000, seed: int = 0, alpha: float | None = None) -> MediationEffects:
    """Path decomposition of the effect of T on the graph's outcome (module docstring)."""
    # the options are checked by MediationSpec.mediate_effect's @validated declaration
    alpha = model.alpha if alpha is None else alpha
    dag = CausalGraph.build(graph, model)
    if mediator is not None and mediator not in dag.mediators:
        raise InvalidParameterError(
            f"mediator={mediator!r} is not a mediator of the graph {list(dag.mediators)}."
        )
    runner = QueryRunner()
    reused = _moments_of_the_fit(model, dag)
    if reused is not None:
        design, moments = reused
    else:
        design = _design(model, dag, _mediator_columns(model, dag, runner))
        moments = read_cross_products(cross_products_query(design).run(runner, "mediation: cross products"),
                                      design)
    base = (design.intercept, dag.treatment, *design.covariates)
    system = fit_paths(moments.matrix, moments.labels, dag.treatment, base, dag.nodes, float(moments.nobs))
    cluster = model.spec.experiment.cluster_by  # clustered whenever the design declares clusters
    if covariance == "classical":
        cov = classical_covariance(system)
        inference = "classical (block-diagonal, RSS/(n - p) per equation)"
    else:
        found = _meat_query(design, system, cluster).run(runner, "mediation: stacked scores")
        meat = read_meat(found, system.theta.size)
        g = int(found.total("clusters")) if cluster else None
        cov = stacked_covariance(system, meat, g / (g - 1) if g else 1.0)
        inference = (f"stacked sandwich clustered by {cluster!r} (G = {g}, factor G/(G-1))" if g
                     else "stacked HC0 sandwich with cross-equation terms")
    return _rows(dag, system, cov, mediator, alpha, sims, seed, inference, model, tuple(runner.records))


def _rows(dag: CausalGraph, system: PathSystem, cov: NDArray[np.float64], mediator: str | None,
          alpha: float, sims: int, seed: int, inference: str, model: LinearFit,
          queries: tuple[QueryRecord, ...]) -> MediationEffects:
    paths = enumerate_paths(dag.treatment, dag.nodes)
    rows: list[tuple[str, str, list[tuple[str, ...]]]] = [
        (" -> ".join(p), "direct" if len(p) == 2 else "indirect", [p]) for p in paths
    ]
    rows += [(f"through {m}", "mediator total", [p for p in paths if m in p]) for m in dag.mediators]
    rows.append(("total", "total", paths))
    if mediator is not None:
        rows = [r for r in rows
                if r[0] == f"through {mediator}" or (r[1] == "indirect" and mediator in r[2][0])]
    gradient = np.array([sum(path_gradient(system, p) for p in members) for _, _, members in rows])
    estimate = np.array([sum(float(path_effects(system, p, system.theta)) for p in members)
                         for _, _, members in rows])
    draws = np.random.default_rng(seed).multivariate_normal(system.theta, cov, size=sims, method="eigh")
    simulated = np.column_stack([sum(path_effects(system, p, draws) for p in members)
                                 for _, _, members in rows])
    lower, upper = np.quantile(simulated, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    p_mc = 2.0 * np.minimum((simulated > 0).mean(axis=0), (simulated < 0).mean(axis=0))
    joint = gradient @ cov @ gradient.T
    exp = model.spec.experiment
    notes = list(ASSUMPTIONS)
    if exp.is_iv:
        notes.append(f"T is the assignment {exp.intent_to_treat!r}; with non-compliance these are "
                     "intent-to-treat effects, not effects of the treatment received.")
    if exp.weight_expr() is not None:
        notes.append("Rows are weighted by the design weights (inverse propensity and/or user weights).")
    notes.append(f"Inference: {inference}; Monte Carlo: {sims} draws, seed {seed}.")
    return MediationEffects(
        label=tuple(r[0] for r in rows), kind=tuple(r[1] for r in rows), estimate=estimate,
        cov=(joint + joint.T) / 2.0, mc_lower=lower, mc_upper=upper, mc_p_value=p_mc, alpha=alpha,
        covariance=inference, assumptions=tuple(notes), queries=queries,
    )


@dataclass(frozen=True)
class MediationSpec:
    """A fitted model with a causal graph; ``mediate_effect`` runs the decomposition."""

    model: Any = field(repr=False)
    graph: Any

    @validated("mediate_effect", mediator=(InstanceOf(str, "a mediator name"), NONE),
               covariance=Options(*COVARIANCES), sims=Integer(2, 10**8), seed=Integer(0),
               alpha=(Real(0, 1), NONE))
    def mediate_effect(self, mediator: str | None = None, *, covariance: str = "robust", sims: int = 100_000,
                       seed: int = 0, alpha: float | None = None) -> MediationEffects:
        """Path effects, the direct effect, per-mediator totals and the total (``mediator`` filters).

        ``covariance`` "robust" (default): stacked sandwich with cross-equation terms, clustered when the
        model is; "classical": block-diagonal RSS/(n − p) per equation (R ``mediate``'s choice).
        """
        return mediate(self.model, self.graph, mediator, covariance, sims, seed, alpha)
