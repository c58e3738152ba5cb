r"""Planning an experiment: minimum detectable effect, power, sample size and duration for the planned
design, from the warehouse's own history (the math is in :mod:`warehouse_causal.algebra.power`).

>>> plan = wc.ExperimentPlan(history, arms={0: 0.5, 1: 0.5}, cluster_by="team")  # doctest: +SKIP
>>> power = plan.add_metric(y=["resolved"], exogeneous_covariates=["pre_resolution"]).power(
...     n=[200, 400, 800])                                                         # doctest: +SKIP

The history is read by one query (plus a bounded probe of its first rows for the shifts, and one
more query when durations are asked for): the row-level cross products of [1, covariates, metrics]
and the cross products of their per-unit sums, grouped by the planned randomization unit in the
warehouse. Nothing row-level comes back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import numpy as np

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.core.validation import (
    BOOLEAN,
    NONE,
    InstanceOf,
    Integer,
    MappingOf,
    Options,
    Real,
    check_param,
)
from warehouse_causal.design.spec import as_list, covariates_argument
from warehouse_causal.planning.arrivals import read_arrivals, units_in
from warehouse_causal.planning.history import read_history
from warehouse_causal.planning.mid_experiment import days_left
from warehouse_causal.planning.planner import Planner
from warehouse_causal.planning.tables import PowerTable, SampleSizes
from warehouse_causal.warehouse.backends import QueryRunner, as_table
from warehouse_causal.warehouse.terms import Term, check_columns, resolve_term, resolve_value

__all__ = ["ExperimentPlan", "PlanSpec", "PowerTable", "SampleSizes", "days_left"]

_CORRECTIONS = ("none", "bonferroni", "holm")


def _share_constraint() -> MappingOf:
    return MappingOf(Real(0.0, 1.0, closed="neither"), "a mapping of at least two arms to their shares")


class ExperimentPlan:
    """The planned design of an experiment, read against its history (pre-experiment rows).

    Parameters
    ----------
    history : ibis table of pre-experiment rows (one per unit, or unit × day with ``cluster_by``).
    arms : planned allocation ``{level: share}``, shares in (0, 1) summing to 1; the first is control.
    cluster_by : the planned randomization unit when coarser than rows (a column of ``history``).
    compliance : expected share of assigned units that take the treatment, in (0, 1]; the effect
        planned for is then the LATE (the ITT MDE divided by it).
    propensity : planned probability of the assigned arm for an adaptive design: a column of
        ``history`` or a constant in (0, 1]; the 1/p weights cost Kish's design effect.
    time, unit : a date/timestamp (or integer day) column and the unit column, for durations
        (``power(days=...)``): units(d) are the distinct units first seen in the history's first d
        days. ``unit`` defaults to ``cluster_by``.
    trigger : a condition (SQL or ibis boolean) on history rows: only units with a triggered row are
        analysed (their triggered rows), as in triggered analysis (Deng & Hu 2015). The MDE is then
        the effect on triggered units, and ``mde_overall`` = MDE × the triggered share of units is the
        diluted effect on everyone (untriggered units unaffected).
    """

    def __init__(self, history: ir.Table, arms: Any = None, cluster_by: str | None = None,
                 compliance: float = 1.0, propensity: str | float | None = None,
                 time: str | None = None, unit: str | None = None, trigger: Any = None):
        owner = "ExperimentPlan"
        history = as_table(history, "history", owner)
        arms = {0: 0.5, 1: 0.5} if arms is None else arms
        shares = check_param(arms, "arms", owner, _share_constraint())
        if len(shares) < 2 or not math.isclose(sum(shares.values()), 1.0, rel_tol=0, abs_tol=1e-9):
            raise InvalidParameterError(
                f"The 'arms' parameter of {owner} must map at least two arms to shares that sum to 1. "
                f"Got {arms!r} instead (shares sum to {sum(shares.values()):g}).")
        column = InstanceOf(str, "a column name")
        for name, value in (("cluster_by", cluster_by), ("time", time), ("unit", unit)):
            check_param(value, name, owner, column, NONE)
        check_columns(history, {"cluster_by": cluster_by, "time": time, "unit": unit})
        self.compliance = float(check_param(compliance, "compliance", owner, Real(0.0, 1.0, closed="right")))
        if isinstance(propensity, str):
            check_columns(history, {"propensity": propensity})
        else:
            check_param(propensity, "propensity", owner, Real(0.0, 1.0, closed="right"), NONE)
        self.history = history
        self.arms: dict[Any, float] = dict(shares)
        self.cluster_by = cluster_by
        self.propensity = propensity
        self.time = time
        self.unit = unit if unit is not None else cluster_by
        self.trigger: ir.BooleanValue | None = None
        if trigger is not None:
            label, expr = resolve_value(trigger, history, "trigger")
            if not expr.type().is_boolean():
                raise InvalidParameterError(
                    f"The 'trigger' parameter of {owner} must be a condition (a boolean SQL expression or "
                    f"ibis expression). Got {label!r} of type {expr.type()} instead.")
            self.trigger = expr

    @property
    def control(self) -> Any:
        """The control arm: the first of ``arms``."""
        return next(iter(self.arms))

    def add_metric(self, y: Any, exogeneous_covariates: Any = None, *,
                   exogenous_covariates: Any = None) -> PlanSpec:
        """The metrics to plan for (numeric) and the covariates the analysis will adjust for (columns or
        SQL expressions of ``history``, as in ``ExperimentData.add_metric``; strings are categories,
        one dummy per level but the first). ``exogenous_covariates`` is an alias."""
        owner = "ExperimentPlan.add_metric"
        exogeneous_covariates = covariates_argument(exogeneous_covariates, exogenous_covariates, owner)
        metrics = [_numeric_term(s, self.history, "metric", owner) for s in as_list(y, "y", owner)]
        covariates = [resolve_term(s, self.history, "covariate")
                      for s in as_list(exogeneous_covariates, "exogeneous_covariates", owner)]
        if not metrics:
            raise InvalidParameterError(f"The 'y' parameter of {owner} must name at least one metric.")
        labels = [t.label for t in [*metrics, *covariates]]
        if len(set(labels)) != len(labels):
            raise InvalidParameterError(f"{owner}: metrics and covariates must be distinct; got {labels}.")
        return PlanSpec(self, tuple(metrics), tuple(covariates))


def _numeric_term(spec: Any, table: ir.Table, role: str, owner: str) -> Term:
    term = resolve_term(spec, table, role)
    if term.categorical:
        raise InvalidParameterError(
            f"{owner}: the {role} {term.label!r} is a string category; planning needs numeric columns "
            "(encode it, e.g. \"CASE WHEN region = 'us' THEN 1 ELSE 0 END\").")
    return term


@dataclass(frozen=True)
class PlanSpec:
    """An :class:`ExperimentPlan` with its metrics and covariates; ``power`` runs the history query."""

    plan: ExperimentPlan
    metrics: tuple[Term, ...]
    covariates: tuple[Term, ...]
    runner: QueryRunner = field(default_factory=QueryRunner, compare=False, repr=False)

    def power(self, alpha: float = 0.05, power: float = 0.8, n: Any = None, days: Any = None,
              sequential: bool = False, correction: str = "none") -> PowerTable:
        """The MDE of every arm against control, per metric, at each planned size ``n`` (randomized
        units: clusters when clustered; the history's size by default) or duration ``days``.

        ``sequential=True`` plans for the anytime-valid intervals (their half-width at planned_n = n
        replaces z₁₋α/₂·SE; pass the row's ``planned_n`` to ``infer_effect``). ``correction``
        "bonferroni" or "holm" divides α by arms × metrics (Holm's first step, its most demanding).
        """
        owner = "PlanSpec.power"
        alpha = float(check_param(alpha, "alpha", owner, Real(0.0, 1.0)))
        power = float(check_param(power, "power", owner, Real(0.0, 1.0)))
        sequential = check_param(sequential, "sequential", owner, BOOLEAN)
        correction = check_param(correction, "correction", owner, Options(*_CORRECTIONS))
        if n is not None and days is not None:
            raise InvalidParameterError(f"{owner} takes n or days, not both.")
        sizes = None if n is None else _positive_integers(n, "n", owner)
        durations = None if days is None else _positive_integers(days, "days", owner)
        if durations is not None and (self.plan.time is None or self.plan.unit is None):
            raise InvalidParameterError(
                f"The 'days' parameter of {owner} needs ExperimentPlan(time=..., unit=...) (or cluster_by): "
                "the units that arrive in d days are counted from the history.")
        history = read_history(self.plan, self.metrics, self.covariates, self.runner)
        arrivals = None
        if durations is not None:
            arrivals = read_arrivals(self.plan, self.runner)
            sizes = [round(units_in(arrivals, d)) for d in durations]
        elif sizes is None:
            sizes = [history.units]
        tests = (len(self.plan.arms) - 1) * len(self.metrics) if correction != "none" else 1
        planner = Planner(self.plan, tuple(t.label for t in self.metrics), history, alpha, power, tests,
                          sequential, history.regressors, arrivals)
        for size in sizes:
            planner.check_size(size, owner)
        return PowerTable(planner, tuple(sizes), None if durations is None else tuple(durations),
                          tuple(self.runner.records))


def _positive_integers(value: Any, name: str, owner: str) -> list[int]:
    values = list(value) if isinstance(value, (list, tuple, range, np.ndarray)) else [value]
    if not values:
        raise InvalidParameterError(f"The {name!r} parameter of {owner} must not be empty.")
    return [int(check_param(v, name, owner, Integer(low=1))) for v in values]

