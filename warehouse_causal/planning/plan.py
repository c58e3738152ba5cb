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

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import numpy as np
from numpy.typing import NDArray
from scipy import stats

from warehouse_causal.algebra.power import UnitVariance, mde, sequential_radius, two_arm_se, unit_variances
from warehouse_causal.core.errors import DesignError, InvalidParameterError
from warehouse_causal.core.html import write_page
from warehouse_causal.core.tables import TableResult
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
from warehouse_causal.effects.delta import infer_effect
from warehouse_causal.fit.grouped import PROBE_ROWS, provisional_centre
from warehouse_causal.fit.moments import category_levels, missing_values_error, shifted, weighted_sum
from warehouse_causal.planning.mde_targets import checked_mde, describe, mde_targets, read_mde
from warehouse_causal.planning.report import render_power_html
from warehouse_causal.warehouse.backends import QueryRecord, QueryRunner, as_table
from warehouse_causal.warehouse.contract import CLUSTER, KEY, Columns, Named, Sums
from warehouse_causal.warehouse.terms import Term, check_columns, resolve_term, resolve_value

if TYPE_CHECKING:
    from warehouse_causal.fit.models import LinearFit

__all__ = ["ExperimentPlan", "PlanSpec", "PowerTable", "SampleSizes", "days_left"]

#: Beyond the history's days, arrivals are extrapolated at the mean rate of its last days (its first
#: day excluded: there every returning unit looks new).
EXTRAPOLATION_DAYS = 7
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
class _History:
    """What the history query returned, reduced to the planning inputs."""

    variance: UnitVariance
    means: NDArray[np.float64]  # metric means (row level, unshifted; triggered rows with a trigger)
    rows: int
    units: int  # randomization units (clusters when clustered) in the history; triggered ones with a trigger
    kish: float
    regressors: int  # 1 + covariate columns (categories expanded)
    trigger_share: float = 1.0  # triggered units / all units
    overall_means: NDArray[np.float64] | None = None  # metric means over every row (with a trigger)


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
        history = _read_history(self, self.runner)
        arrivals = None
        if durations is not None:
            arrivals = _arrivals(self.plan, self.runner)
            sizes = [round(_units_in(arrivals, d)) for d in durations]
        elif sizes is None:
            sizes = [history.units]
        tests = (len(self.plan.arms) - 1) * len(self.metrics) if correction != "none" else 1
        planner = _Planner(self.plan, tuple(t.label for t in self.metrics), history, alpha, power, tests,
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


def _covariate_columns(spec: PlanSpec, runner: QueryRunner) -> list[Term]:
    """The covariates as numeric columns: a category becomes one 0/1 dummy per level but the first
    (its levels from one small GROUP BY, as the fit's)."""
    out: list[Term] = []
    for term in spec.covariates:
        if not term.categorical:
            out.append(term)
            continue
        levels = category_levels(term, spec.plan.history, runner)
        if len(levels) < 2:
            raise DesignError(f"ExperimentPlan: the categorical covariate {term.label!r} has one level "
                              "in the history; drop it.")
        if any(level is None for level in levels):
            raise DesignError(f"ExperimentPlan: the categorical covariate {term.label!r} has NULL values; "
                              "fill them (e.g. COALESCE(column, 'unknown')).")
        out += [Term(f"{term.label}[{level}]", (term.expr == level).cast("float64")) for level in levels[1:]]
    return out


def _history_query(spec: PlanSpec, covariates: Sequence[Term], shifts: Sequence[float]
                   ) -> tuple[Named, int]:
    """One aggregate: Σ t·v_i v_j over rows for v = [1, covariates, metrics] (``product``) with t the
    0/1 trigger (1 without one), NULL counts, the propensity checks and Σw, Σw²; grouped by the
    planned unit when clustered, then summed with the products of the per-unit sums
    (``unitproduct``) and the unit counts. With a trigger, also every row's count and metric sums
    (``allrows``, ``allsum``). Returns (query, size of v)."""
    plan, t = spec.plan, spec.plan.history
    terms = [*covariates, *spec.metrics]
    columns = Columns()
    columns.update("value", {j: shifted(term.expr, shifts[j - 1]) for j, term in enumerate(terms, start=1)})
    if isinstance(plan.propensity, str):
        columns.add("propensity", None, t[plan.propensity].cast("float64"))
    if plan.trigger is not None:
        columns.add("trigger", None, plan.trigger.fill_null(False).cast("float64"))
    keys = {CLUSTER: t[plan.cluster_by]} if plan.cluster_by else {}
    rows = columns.select(t, keys=keys)
    size = 1 + len(terms)
    trigger = rows["trigger", None] if plan.trigger is not None else None
    v: list[ir.Value | None] = [None, *(rows["value", j] for j in range(1, size))]
    pairs = list(itertools.combinations_with_replacement(range(size), 2))
    inner = Columns()
    inner.update("product", {(i, j): weighted_sum(rows.table, [trigger, v[i], v[j]]) for i, j in pairs})
    inner.update("nulls", {j: rows.table.count() - rows["value", j].count() for j in range(1, size)})
    if isinstance(plan.propensity, str):
        p = rows["propensity", None]
        inner.add("badpropensity", None, ((p <= 0) | (p > 1) | p.isnull()).cast("int64").sum())
        inner.add("weight", None, weighted_sum(rows.table, [trigger, 1.0 / p]))
        inner.add("weightsquared", None, weighted_sum(rows.table, [trigger, 1.0 / (p * p)]))
    if trigger is not None:
        inner.add("allrows", None, rows.table.count())
        inner.update("allsum", {j: v[j].sum() for j in range(1 + len(covariates), size)})  # type: ignore[union-attr]
    if not keys:
        return inner.aggregate(rows.table), size
    per_unit = inner.aggregate(rows.table, by={CLUSTER: rows.key(CLUSTER)})
    outer = Columns()
    for block in ("product", "nulls", "allsum"):
        outer.update(block, {key: per_unit[block, key].sum() for key in per_unit.entries(block)})
    for name in ("badpropensity", "weight", "weightsquared", "allrows"):
        if (name, None) in per_unit:
            outer.add(name, None, per_unit[name, None].sum())
    # a unit's (triggered) sum of v_j is its (0, j) product; their products summed over units
    outer.update("unitproduct", {(i, j): (per_unit["product", (0, i)] * per_unit["product", (0, j)]).sum()
                                 for i, j in pairs})
    outer.add("units", None, per_unit.table.count())
    if trigger is not None:
        outer.add("triggeredunits", None, (per_unit["product", (0, 0)] > 0).cast("int64").sum())
    return outer.aggregate(per_unit.table), size


def _symmetric(found: Sums, block: str, size: int) -> NDArray[np.float64]:
    matrix = np.empty((size, size))
    for i, j in itertools.combinations_with_replacement(range(size), 2):
        matrix[i, j] = matrix[j, i] = found.total(block, (i, j))
    return matrix


def _read_history(spec: PlanSpec, runner: QueryRunner) -> _History:
    """The probe (bounded) for the shifts, then one query for every cross product (module notes)."""
    plan = spec.plan
    covariates = _covariate_columns(spec, runner)
    shifts = _shifts([*covariates, *spec.metrics], plan.history, runner)
    query, size = _history_query(spec, covariates, shifts)
    what = "by unit" if plan.cluster_by else "over rows"
    found = query.run(runner, f"planning: history cross products {what}")
    matrix = _symmetric(found, "product", size)
    n = round(float(matrix[0, 0]))
    if n == 0:
        raise DesignError("ExperimentPlan: the history is empty" + (" of triggered rows." if plan.trigger
                                                                     is not None else "."))
    _check_values(found, spec, covariates, n, matrix)
    if plan.cluster_by:
        unit_matrix = _symmetric(found, "unitproduct", size)
        all_units = int(found.total("units"))
        units = int(found.total("triggeredunits")) if plan.trigger is not None else all_units
    else:
        unit_matrix, units = matrix, n
        all_units = int(found.total("allrows")) if plan.trigger is not None else n
    p = 1 + len(covariates)
    if units <= p + 1:
        unit = "clusters" if plan.cluster_by else "rows"
        raise DesignError(f"ExperimentPlan: the history has {units} {unit}; planning needs more than "
                          f"{p + 1} to estimate the variance (covariates and intercept: {p}).")
    kish = 1.0
    if isinstance(plan.propensity, str):
        kish = n * found.total("weightsquared") / found.total("weight") ** 2
    q, y = slice(0, p), slice(p, size)
    try:
        variance = unit_variances(matrix[q, q], matrix[q, y], matrix[y, y], unit_matrix[q, q],
                                  unit_matrix[q, y], unit_matrix[y, y], float(n), float(units))
    except np.linalg.LinAlgError as err:
        raise DesignError("ExperimentPlan: the covariates are collinear (or one is constant) in the "
                          "history; drop one.") from err
    constant = [t.label for t, var in zip(spec.metrics, variance.raw, strict=True) if not var > 0]
    if constant:
        raise DesignError(f"ExperimentPlan: the metric(s) {constant} are constant in the history; "
                          "their variance, and so any MDE, is 0.")
    metric_shifts = np.array(shifts[len(covariates):])
    means = matrix[0, y] / n + metric_shifts
    overall = None
    if plan.trigger is not None:
        every = int(found.total("allrows"))
        overall = np.array([found.total("allsum", j) for j in range(p, size)]) / every + metric_shifts
    return _History(variance, means, n, units, float(kish), p, units / all_units, overall)


def _check_values(found: Sums, spec: PlanSpec, covariates: Sequence[Term], n: int,
                  matrix: NDArray[np.float64]) -> None:
    """NULL metrics or covariates, NaN/inf values and bad propensities are errors."""
    for j, term in enumerate([*covariates, *spec.metrics], start=1):
        nulls = int(found.total("nulls", j))
        if nulls:
            raise missing_values_error("covariate" if j <= len(covariates) else "metric", term.label,
                                       nulls, n)
    if not np.isfinite(matrix).all():
        raise DesignError("ExperimentPlan: a metric or covariate of the history has NaN or infinite values.")
    if ("badpropensity", None) in found and found.total("badpropensity"):
        raise DesignError(f"ExperimentPlan: {int(found.total('badpropensity'))} propensities of "
                          f"{spec.plan.propensity!r} are NULL or outside (0, 1].")


def _shifts(terms: Sequence[Term], table: ir.Table, runner: QueryRunner) -> list[float]:
    """Provisional centres of ``terms`` (in order) from the first PROBE_ROWS rows, as the fit's
    probe, so that the sums of squares do not cancel."""
    columns = Columns()
    columns.update("value", {j: t.expr.cast("float64") for j, t in enumerate(terms)})
    sample = columns.select(table).limit(PROBE_ROWS)
    aggs = Columns()
    aggs.update("mean", {j: sample["value", j].mean() for j in range(len(terms))})
    aggs.update("sd", {j: sample["value", j].std(how="pop") for j in range(len(terms))})
    found = aggs.aggregate(sample.table).run(runner, f"planning: probe (first {PROBE_ROWS:,} rows: shifts)")
    return [float(provisional_centre(found.value("mean", j), found.value("sd", j), None, False))
            for j in range(len(terms))]


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


def _units_in(arrivals: Arrivals | None, days: int) -> float:
    assert arrivals is not None
    return arrivals.units(days)


def _arrivals(plan: ExperimentPlan, runner: QueryRunner) -> Arrivals:
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


@dataclass(frozen=True)
class _Planner:
    """Everything the MDE of a planned size needs (pure arithmetic from here on)."""

    plan: ExperimentPlan
    metrics: tuple[str, ...]
    history: _History
    alpha: float
    power: float
    tests: int
    sequential: bool
    regressors: int  # 1 + covariates: the planned fit's terms are regressors + interactions + arms
    arrivals: Arrivals | None

    @property
    def treated_arms(self) -> list[Any]:
        return list(self.plan.arms)[1:]

    @property
    def terms(self) -> int:
        arms = len(self.plan.arms) - 1
        return self.regressors + arms + arms * (self.regressors - 1)

    @property
    def smallest_size(self) -> int:
        """The smallest planned size: 2 units in every arm and more units than model terms + 1."""
        analysed = max(self.terms + 2, math.ceil(2.0 / min(self.plan.arms.values()) - 1e-9))
        return math.ceil(analysed / self.history.trigger_share - 1e-9)

    def check_size(self, units: int, owner: str) -> None:
        if units < self.smallest_size:
            what = "clusters" if self.plan.cluster_by else "units"
            raise InvalidParameterError(
                f"{owner}: a planned size of {units} {what} is too small for {len(self.plan.arms)} arms "
                f"with shares {list(self.plan.arms.values())} and {self.terms} model terms; plan at least "
                f"{self.smallest_size} {what} (2 or more in every arm).")

    def analysed(self, units: float) -> float:
        """The units analysed of ``units`` randomized: the triggered share of them with a trigger."""
        return units * self.history.trigger_share

    def se(self, units: float) -> NDArray[np.float64]:
        """(metrics, treated arms) SE of the ITT difference at ``units`` planned (randomized) units."""
        control = self.plan.arms[self.plan.control]
        analysed = self.analysed(units)
        return np.column_stack([
            two_arm_se(self.history.variance.unit, analysed, self.plan.arms[a], control, self.history.kish)
            for a in self.treated_arms])

    def radius(self, units: float) -> float | None:
        if not self.sequential:
            return None
        # the sequence's level is α/tests, like the fixed-n test's
        return sequential_radius(self.analysed(units), self.terms, self.alpha / self.tests,
                                 bool(self.plan.cluster_by))

    def mde(self, units: float) -> NDArray[np.float64]:
        """(metrics, treated arms) minimum detectable effect (the LATE with compliance < 1)."""
        return mde(self.se(units), self.alpha, self.power, self.tests, self.plan.compliance,
                   self.radius(units))

    def units_for(self, target: float, metric: int, arm: int) -> int:
        """The smallest planned size whose MDE is at most ``target``."""
        low, high = 2, 2
        while self.mde(high)[metric, arm] > target:
            high *= 2
            if high > 10**15:
                raise DesignError(f"An MDE of {target:g} is out of reach (needs over 10^15 units).")
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (mid, high) if self.mde(mid)[metric, arm] > target else (low, mid)
        return high

    def days_for(self, units: float) -> float | None:
        """Days until ``units`` distinct units have arrived (None without arrivals)."""
        if self.arrivals is None:
            return None
        seen = np.cumsum(self.arrivals.new_per_day)
        reached = np.flatnonzero(seen >= units)
        if reached.size:
            return float(reached[0] + 1)
        if self.arrivals.rate_after <= 0:
            return math.inf
        return float(len(seen) + math.ceil((units - seen[-1]) / self.arrivals.rate_after))


@dataclass(frozen=True)
class PowerTable(TableResult):
    """MDE per (planned size, metric, treated arm): ``to_pandas()`` has ``metric``, ``arm``, ``n``
    (randomized units: clusters when clustered), ``rows`` (expected rows), ``days``, ``mde`` (in the
    metric's units), ``mde_relative`` (over the history mean), ``se``, ``variance_reduction``,
    ``design_effect``, ``kish_effect``, ``planned_n`` (to pass to ``infer_effect`` when sequential)."""

    planner: _Planner = field(repr=False)
    sizes: tuple[int, ...]
    days: tuple[int, ...] | None
    queries: tuple[QueryRecord, ...] = field(repr=False, default=())

    def to_dicts(self) -> list[dict[str, Any]]:
        p, h = self.planner, self.planner.history
        out = []
        for s, size in enumerate(self.sizes):
            effects, ses = p.mde(size), p.se(size)
            for m, metric in enumerate(p.metrics):
                for a, arm in enumerate(p.treated_arms):
                    mean = h.means[m]
                    out.append({
                        "metric": metric, "arm": str(arm), "n": size,
                        "clusters": size if p.plan.cluster_by else None,
                        "rows": round(size * h.variance.rows_per_unit),
                        "days": None if self.days is None else self.days[s],
                        "mde": float(effects[m, a]),
                        "mde_relative": float(effects[m, a] / abs(mean)) if mean != 0 else math.nan,
                        "se": float(ses[m, a]) / p.plan.compliance,
                        "variance_reduction": float(h.variance.variance_reduction[m]),
                        "design_effect": float(h.variance.design_effect[m]),
                        "kish_effect": h.kish,
                        "planned_n": round(p.analysed(size)) if p.sequential else None,
                    })
                    if h.overall_means is not None:
                        overall = float(effects[m, a]) * h.trigger_share
                        out[-1].update({
                            "triggered": round(p.analysed(size)), "trigger_share": h.trigger_share,
                            "mde_overall": overall,
                            "mde_overall_relative": overall / abs(h.overall_means[m])
                            if h.overall_means[m] != 0 else math.nan})
        return out

    def caption(self) -> str:
        p = self.planner
        unit = "clusters" if p.plan.cluster_by else "units"
        kind = "anytime-valid" if p.sequential else "fixed-n"
        estimand = "LATE" if p.plan.compliance < 1 else "ITT"
        return (f"Minimum detectable {estimand} ({kind}, α = {p.alpha:g}"
                f"{f' / {p.tests}' if p.tests > 1 else ''}, power {p.power:g}) by planned {unit}")

    def sample_size(self, mde: float | dict[str, float], relative: bool = False) -> SampleSizes:
        """The planned size (units, clusters when clustered) at which each (metric, arm) reaches an MDE
        of ``mde``, and the days to get there when the plan has arrivals. ``mde`` is absolute (in the
        metric's units; with several metrics a dict metric → MDE, since one number would mean 0.03
        minutes and 0.03 of a rate alike), or relative to each metric's history mean (``relative``:
        one fraction, or a dict of fractions)."""
        owner = "PowerTable.sample_size"
        p, h = self.planner, self.planner.history
        values, relative = checked_mde(mde, relative, list(p.metrics), owner)
        rows = []
        for m, metric in enumerate(p.metrics):
            if metric not in values:
                continue
            absolute = values[metric] * abs(h.means[m]) if relative else values[metric]
            if absolute <= 0:
                raise DesignError(f"A relative MDE needs a non-zero history mean; {metric!r} has mean 0.")
            for a, arm in enumerate(p.treated_arms):
                units = max(p.units_for(absolute, m, a), p.smallest_size)
                rows.append({"metric": metric, "arm": str(arm), "mde": absolute, "n": units,
                             "rows": round(units * h.variance.rows_per_unit), "days": p.days_for(units)})
        return SampleSizes(tuple(rows), self.caption().replace("Minimum detectable", "Sample size for an"))

    def report(self, path: Any = None, *, title: str = "Experiment plan") -> str:
        """A self-contained HTML page (returned, and written to ``path`` when given): the MDE table
        and a power curve per metric (inline SVG)."""
        page = render_power_html(self, "days" if self.days is not None else "n", title)
        return write_page(page, path, "PowerTable.report")

    def plot(self, ax: Any = None) -> Any:
        """MDE against the planned size (or days), one line per (metric, arm); needs matplotlib."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as err:  # optional extra
            raise ImportError("PowerTable.plot needs matplotlib: "
                              "pip install 'warehouse_causal[plot]'") from err
        rows = self.to_dicts()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        x_name = "days" if self.days is not None else "n"
        for key in dict.fromkeys((r["metric"], r["arm"]) for r in rows):
            line = [r for r in rows if (r["metric"], r["arm"]) == key]
            ax.plot([r[x_name] for r in line], [r["mde_relative"] for r in line], marker="o",
                    label=f"{key[0]} · arm {key[1]}")
        unit = "clusters" if self.planner.plan.cluster_by else "units"
        ax.set_xlabel("days" if x_name == "days" else unit)
        ax.set_ylabel("minimum detectable effect (relative to the mean)")
        ax.set_title(self.caption(), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        return ax


@dataclass(frozen=True)
class SampleSizes(TableResult):
    """Planned sizes that reach a target MDE: metric, arm, mde, n, rows, days."""

    rows: tuple[dict[str, Any], ...]
    title: str

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def caption(self) -> str:
        return self.title


def days_left(model: LinearFit, mde: Any, traffic_per_day: float | None = None,
              power: float = 0.8, alpha: float | None = None, relative: bool | None = None) -> SampleSizes:
    """Mid-experiment: per (metric, arm), the units (clusters when clustered) the running experiment
    needs for ``power`` at an effect of ``mde``, from its current standard error scaled as
    SE·√(n_now/n); and the days left at ``traffic_per_day`` new units a day.

    ``mde`` is relative (``relative=True``: a fraction of each metric's control mean, one number or
    a dict per metric) or absolute (a dict metric → effect in the metric's units; one number with
    ``relative=False`` for a single-metric model); a bare number without ``relative`` is refused
    (:mod:`warehouse_causal.planning.mde_targets`). Each row says which was given (``mde_given``), the
    absolute ``mde`` used, ``mde_relative`` and the ``control_mean``.

    (z₁₋α/₂ + z_power)·SE_now·√(n_now/n) = mde gives n = n_now·((z₁₋α/₂ + z_power)·SE_now/mde)².
    """
    owner = "LinearModel.days_left"
    given = read_mde(model, mde, relative, owner)  # before any query
    power = float(check_param(power, "power", owner, Real(0.0, 1.0)))
    alpha = model.alpha if alpha is None else float(check_param(alpha, "alpha", owner, Real(0.0, 1.0)))
    rate = None if traffic_per_day is None else float(
        check_param(traffic_per_day, "traffic_per_day", owner, Real(0.0, math.inf)))
    effects = infer_effect(model, alpha=model.alpha).to_dicts()
    now = model.n_clusters if model.n_clusters is not None else model.nobs
    scales = {r["metric"]: r["std_error"] * math.sqrt(now) for r in effects}
    targets = mde_targets(model, given, scales, owner)
    z = stats.norm.ppf(1.0 - alpha / 2.0) + stats.norm.ppf(power)
    unit = "clusters" if model.n_clusters is not None else "units"
    rows = []
    for r in effects:
        target = targets.get(r["metric"])
        if target is None:  # a dict that names some metrics only
            continue
        if not math.isfinite(r["std_error"]):
            raise DesignError(f"{owner}: the standard error of {r['metric']!r} (arm {r['arm']}) is "
                              f"{r['std_error']}; the units needed cannot be computed.")
        needed = math.ceil(now * (z * r["std_error"] / target.absolute) ** 2)
        more = max(0, needed - now)
        rows.append({"metric": r["metric"], "arm": r["arm"], "mde_given": target.given,
                     "mde": target.absolute, "mde_relative": target.relative,
                     "control_mean": target.control_mean, "n_now": now, "n_needed": needed, "n_more": more,
                     "days_left": None if rate is None else math.ceil(more / rate),
                     "status": "reached" if more == 0 else f"needs {more:,} more {unit}"})
    title = f"Days left for power {power:g} at {describe(targets)} (α = {alpha:g})"
    return SampleSizes(tuple(rows), title)

