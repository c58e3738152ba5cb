"""After launch: ``wc.Monitor(experiment=model, production=table, time="day", ...)`` checks that the
experiment's answer still holds in the new data-generating regime; ``.check()`` returns a
:class:`~warehouse_causal.monitoring.checks.MonitorReport`.

Layers (each a method returning its table):

* **population** — standardized mean differences of every covariate (dummies of categories: the
  traffic mix) between the experiment and each production period; the R² of a linear probability
  model of production-vs-experiment membership; the experiment's effects re-projected to the latest
  period's covariate means (the interacted model's delta vector);
* **persistence** — with a holdout in production: each period's effect, with intervals that hold for
  every period at once, tested against the experiment's estimate of the same estimand, and the trend
  of the effects (decay). Launched − holdout is an intention-to-treat effect (ITT), so it is compared
  with the experiment's ITT (its reduced form when it has an instrument); when production has the
  take-up column (``treated``) of an instrumented experiment, the LATE in production (the holdout as
  the instrument) is compared with the experiment's LATE (:mod:`~warehouse_causal.monitoring.estimands`).
  Every row names its ``estimand``;
* **measurement** — the judge–human calibration slope per period (metrics fitted with
  ``calibrate_with``) against the experiment's; NULL rates and row counts (logging);
* **feedback** — the served rate and the gap between labelled rows and the whole population, each
  tested for a trend (the model feeding its own training data);
* **guardrails** — guardrail effects in every segment, one-sided against the tolerance with
  Benjamini–Hochberg across segments (in production with a holdout, else from the experiment);
* **version** — the share of rows served a treatment version other than the one tested.

Every test that repeats over periods spends α over the looks
(:func:`~warehouse_causal.algebra.monitoring.spent_alpha`): the chance of any false alarm of that
check, however many days are monitored, is at most α. Threshold rules (SMD, R², NULL rate, row
count, projection change, version share) measure sizes and carry no error rate; the report says
which each check is. A check that could not run (no values, one unit, a NaN or infinite statistic)
has the status ``not checked`` (:class:`~warehouse_causal.meaning.Status`) and its ``note`` or
sentence says why; it never counts as ok. Periods are ordered in their own type (``PeriodAxis``):
day 10 comes after day 9.

Production data stay in the warehouse: one aggregate by period (nested by unit when there is a
unit, for cluster-robust variances), one by period × holdout, one by holdout for the segments, plus
one aggregate of the experiment table for its covariate and audit sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
from scipy import stats

from warehouse_causal.algebra.monitoring import (
    ClusterSums,
    Wald,
    cluster_mean,
    membership_r2,
    one_sided_harm_p,
    per_period_tests,
    spent_alpha,
    standardized_difference,
    trend_test,
    wald_effect,
)
from warehouse_causal.algebra.multiplicity import adjust_p_values
from warehouse_causal.core.errors import DesignError, InvalidParameterError, SchemaError
from warehouse_causal.core.tables import RowTable
from warehouse_causal.core.validation import NONE, InstanceOf, MappingOf, Real, check_param
from warehouse_causal.decide.decisions import guardrail_bound
from warehouse_causal.effects.delta import infer_effect
from warehouse_causal.fit.diagnostics import WEAK_F
from warehouse_causal.fit.models import LinearFit
from warehouse_causal.meaning import EstimandKind, PeriodAxis
from warehouse_causal.monitoring.checks import MonitorReport, Thresholds, build_report, settle
from warehouse_causal.monitoring.estimands import Comparison, compared, model_estimand
from warehouse_causal.warehouse.backends import QueryRunner, as_table
from warehouse_causal.warehouse.contract import CLUSTER, Columns, Sums
from warehouse_causal.warehouse.terms import rebind, referenced_columns, resolve_value

__all__ = ["Monitor", "MonitorReport", "Thresholds"]

OWNER = "Monitor"
PERIOD = "period"
#: The audit sums of a calibrated metric, in order: audited rows, Σj, Σh, Σj², Σh², Σjh.
AUDIT = ("n", "j", "h", "jj", "hh", "jh")

Ratios = dict[str, tuple[ir.Value, ir.Value]]  # name -> (denominator, numerator) per row


def _declare_cluster_sums(columns: Columns, name: str, den: ir.Value, num: ir.Value) -> None:
    """The :class:`ClusterSums` of ratio ``name`` over the rows of one level, whose ``den`` and
    ``num`` are a unit's sums (or a row's values when each row is its own unit)."""
    columns.add("dentotal", name, den.sum())
    columns.add("numtotal", name, num.sum())
    columns.add("squares", name, (num * num).sum())
    columns.add("cross", name, (den * num).sum())
    columns.add("sizes", name, (den * den).sum())
    columns.add("units", name, (den > 0).cast("int64").sum())


def _by_level(found: Sums, rows: Any, name: str) -> dict[bool, ClusterSums]:
    """The cluster sums of ratio ``name`` in the ``rows`` of ``found``, by holdout level (True: holdout)."""
    held = found.key("held")
    return {bool(held[i] == 1): _ratio(found, int(i), name) for i in rows}


def _why_missing(sums: dict[bool, ClusterSums], what: str, units: str) -> str:
    """Why launched − holdout of ``what`` is not a number with a standard error ('' when it is)."""
    for level, who in ((False, "launched"), (True, "holdout")):
        found = sums.get(level)
        if found is None or found.n <= 0:
            return f"no {who} rows with a value of {what}"
        if not all(math.isfinite(v) for v in found):
            return f"infinite (or overflowing) values of {what} among the {who} rows"
        if found.units < 2:
            return f"fewer than 2 {units} with a value of {what} among the {who} rows: no standard error"
    return ""


def _launched_minus_held(found: Sums, rows: Any, name: str, units: str = "units", what: str = ""
                         ) -> tuple[float, float, str]:
    """(launched − holdout mean of ratio ``name``, its SE, why they are not numbers: '' when they
    are) from the ``rows`` of ``found`` (one per holdout level, key "held")."""
    sums = _by_level(found, rows, name)
    missing = (math.nan, math.nan)
    (held_mean, held_se), (launched, launched_se) = (cluster_mean(sums[True]) if True in sums else missing,
                                                     cluster_mean(sums[False]) if False in sums else missing)
    return (launched - held_mean, math.sqrt(held_se**2 + launched_se**2),
            _why_missing(sums, what or name, units))


def _ratio(found: Sums, i: int, name: str) -> ClusterSums:
    """Row ``i``'s cluster sums of the ratio ``name`` of a :meth:`Monitor._grouped` query."""
    return ClusterSums(
        *(
            float(found.column(block, name)[i])
            for block in ("dentotal", "numtotal", "squares", "cross", "sizes", "units")
        )
    )


def calibration_slope(sums: list[float]) -> tuple[float, float, float, float]:
    """(slope of human on judge, its classical SE, correlation, audited rows) from the audit sums
    (:data:`AUDIT`); NaN below 3 audited rows or without judge variation."""
    n, j, h, jj, hh, jh = sums
    sjj, shh, sjh = (jj - j * j / n, hh - h * h / n, jh - j * h / n) if n else (0.0, 0.0, 0.0)
    if n < 3 or sjj <= 0:
        return math.nan, math.nan, math.nan, n
    slope = sjh / sjj
    residual = max(shh - slope * sjh, 0.0) / (n - 2)
    return slope, math.sqrt(residual / sjj), (sjh / math.sqrt(sjj * shh) if shh > 0 else math.nan), n


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

    @property
    def count(self) -> int:
        """Periods with an effect and a positive standard error."""
        return int(np.sum(np.isfinite(self.usable) & np.isfinite(self.std_errors) & (self.std_errors > 0)))


class Monitor:
    """Post-launch checks of a fitted experiment against production traffic (module docstring).

    Parameters
    ----------
    experiment : the fitted ``LinearModel`` of the experiment.
    production : post-launch rows (ibis table or a DataFrame) with the columns the experiment's
        covariates and metrics read, and ``time``.
    time : the period column (a day number, a date, a week).
    holdout : a boolean or 0/1 column, 1 on rows of the long-term holdout (kept on control).
    treated : the take-up column in production (the arm each row received), for an experiment with an
        instrument: persistence then compares the LATE in production (the holdout as the instrument)
        with the experiment's LATE. Default: the experiment's ``treated`` column when production has
        it; without it, launched − holdout (an ITT) is compared with the experiment's reduced form.
    unit : the unit whose rows are correlated; default the experiment's ``cluster_by`` when the
        production table has it. Variances are then cluster-robust by unit.
    launched_arm : the arm launched (default: the experiment's only treatment arm).
    segments : SQL conditions on pre-treatment covariates, for the guardrails by segment.
    guardrails : ``{metric: tolerance}`` as in ``Effects.decide``.
    served : a boolean or 0/1 column: the model's output was acted on (feedback check).
    labelled : a column that is NULL on unlabelled rows (feedback check).
    version : ``(column, the treatment version the experiment tested)``.
    expected_rows : rows expected per period (default: the median of the production periods).
    thresholds : :class:`~warehouse_causal.monitoring.checks.Thresholds`.
    """

    def __init__(
        self,
        experiment: Any,
        production: Any,
        time: str,
        *,
        holdout: str | None = None,
        treated: str | None = None,
        unit: str | None = None,
        launched_arm: Any = None,
        segments: Any = None,
        guardrails: dict[str, Any] | None = None,
        served: str | None = None,
        labelled: str | None = None,
        version: tuple[str, Any] | None = None,
        expected_rows: float | None = None,
        thresholds: Thresholds | None = None,
    ):
        check_param(experiment, "experiment", OWNER, InstanceOf(LinearFit, "a fitted wc.LinearModel"))
        self.model = experiment
        self.exp = experiment.spec.experiment
        self.production: ir.Table = as_table(production, "production", OWNER)
        columns = list(self.production.columns)
        name = InstanceOf(str, "a column name")
        for role, value in (
            ("time", time),
            ("holdout", holdout),
            ("treated", treated),
            ("unit", unit),
            ("served", served),
            ("labelled", labelled),
        ):
            check_param(value, role, OWNER, name, *(() if role == "time" else (NONE,)))
            if value is not None and value not in columns:
                raise SchemaError(
                    f"The '{role}' parameter of {OWNER} names {value!r}, which is not a column "
                    f"of the production table ({columns}).",
                    column=value,
                )
        self.time, self.holdout, self.served, self.labelled = time, holdout, served, labelled
        self.unit = (
            unit if unit is not None else (self.exp.cluster_by if self.exp.cluster_by in columns else None)
        )
        self.thresholds = check_param(
            thresholds or Thresholds(), "thresholds", OWNER, InstanceOf(Thresholds, "a wc.Thresholds")
        )
        self.expected_rows = check_param(expected_rows, "expected_rows", OWNER, Real(0, math.inf), NONE)
        self.version = self._checked_version(version)
        self.launched_arm = self._checked_arm(launched_arm)
        self.treated = self._checked_treated(treated)
        self.guardrails = dict(
            check_param(
                guardrails or {},
                "guardrails",
                OWNER,
                MappingOf(
                    InstanceOf(object, "tolerance"), "a mapping of metric to tolerance", allow_empty=True
                ),
            )
        )
        unknown = sorted(set(self.guardrails) - set(experiment.metrics))
        if unknown:
            raise InvalidParameterError(
                f"The 'guardrails' parameter of {OWNER} names {unknown}, which are not "
                f"metrics of the experiment ({list(experiment.metrics)})."
            )
        for metric, tolerance in self.guardrails.items():
            guardrail_bound(metric, tolerance)
        design = experiment.design
        read = {c for t in experiment.spec.covariates for c in referenced_columns(t.expr)}
        read |= {c for m in experiment.metrics for c in referenced_columns(design.columns[m].expr)}
        # audit labels are NULL by design: not counted
        self.null_columns = sorted(read | ({self.treated} if self.treated else set()))
        read |= {human for _, human in experiment.spec.calibration}
        missing = sorted(c for c in read if c not in columns)
        if missing:
            raise SchemaError(
                f"The production table of {OWNER} lacks {missing}, which the experiment's "
                "covariates and metrics read; the checks compare like with like.",
                column=missing[0],
            )
        for c in sorted(read):
            was, now = self.exp.table[c].type(), self.production[c].type()
            if _family(was) != _family(now):
                raise SchemaError(
                    f"Column {c!r} is {now} in production but was {was} in the experiment; {OWNER} "
                    "needs the same kind (numeric, boolean, string, temporal).",
                    column=c,
                )
        self.covariates = {
            c: rebind(design.columns[c].value(), self.exp.table, self.production) for c in design.covariates
        }
        self.metrics = {
            m: rebind(design.columns[m].value(), self.exp.table, self.production) for m in experiment.metrics
        }
        self.segments = self._checked_segments(segments)
        self.runner = QueryRunner()
        if holdout is not None:
            flag = self.production[holdout].type()
            if not (flag.is_boolean() or flag.is_integer()):
                raise SchemaError(
                    f"The holdout column {holdout!r} must be boolean or 0/1; it is {flag}.", column=holdout
                )

    # -- argument checks -------------------------------------------------------------------------
    def _checked_version(self, version: Any) -> tuple[str, Any] | None:
        if version is None:
            return None
        if not (isinstance(version, tuple) and len(version) == 2 and isinstance(version[0], str)):
            raise InvalidParameterError(
                f"The 'version' parameter of {OWNER} must be (column, tested version). "
                f"Got {version!r} instead."
            )
        if version[0] not in self.production.columns:
            raise SchemaError(
                f"The version column {version[0]!r} is not in the production table.", column=version[0]
            )
        return version

    def _checked_arm(self, arm: Any) -> Any:
        arms = [a for a in self.exp.design.arms if a != self.exp.design.control]
        if arm is None and len(arms) == 1:
            return arms[0]
        if arm is None or arm not in arms:
            raise InvalidParameterError(
                f"The 'launched_arm' parameter of {OWNER} must be one of {arms}. Got {arm!r} instead."
            )
        return arm

    def _checked_treated(self, treated: str | None) -> str | None:
        """The production take-up column compared as a LATE, or None (compare ITTs)."""
        exp = self.exp
        if treated is None:  # the experiment's own take-up column, when production logs it
            logged = exp.is_iv and exp.treated_column in self.production.columns
            if self.holdout is None or not logged:
                return None
            treated = exp.treated_column
        elif self.holdout is None:
            raise InvalidParameterError(
                f"The 'treated' parameter of {OWNER} is read with a holdout (the LATE in production uses "
                "the holdout as its instrument): pass holdout='column' too.")
        elif not exp.is_iv:
            raise InvalidParameterError(
                f"The 'treated' parameter of {OWNER} names a take-up column, but the experiment has no "
                "instrument: its effect is the effect of assignment, which launched − holdout (an ITT) "
                "estimates directly. Leave 'treated' out.")
        was, now = exp.table[exp.treated_column].type(), self.production[treated].type()
        if _family(was) != _family(now):
            raise SchemaError(
                f"Column {treated!r} is {now} in production but the experiment's treated column "
                f"{exp.treated_column!r} was {was}; {OWNER} compares its levels with the launched arm.",
                column=treated)
        return treated

    @cached_property
    def _comparison(self) -> Comparison:
        """What persistence compares (module docstring): the LATE or the ITT, on both sides."""
        return compared(self.model, self.launched_arm, self.treated, self.runner)

    @property
    def estimand(self) -> Any:
        """The :class:`~warehouse_causal.meaning.Estimand` that persistence compares (for an
        experiment with an instrument and no take-up column in production, reading it fits the
        experiment's reduced form)."""
        return self._comparison.estimand

    def _checked_segments(self, segments: Any) -> list[tuple[str, ir.Value]]:
        """(label, condition on production) for each segment; conditions read covariates only."""
        covariate_columns = {c for t in self.model.spec.covariates for c in referenced_columns(t.expr)}
        out = []
        for item in [segments] if isinstance(segments, str) else list(segments or []):
            label, condition = resolve_value(item, self.production, "segment")
            outside = sorted(referenced_columns(condition) - covariate_columns)
            if outside:
                raise DesignError(
                    f"The segment {label!r} reads {outside}, which are not covariates of the "
                    "experiment; segments condition on pre-treatment covariates only."
                )
            out.append((label, condition))
        return out

    def _held(self) -> ir.Value:
        return self.production[str(self.holdout)].cast("int64")

    # -- queries ---------------------------------------------------------------------------------
    def _grouped(
        self,
        by: dict[str, ir.Value],
        additive: dict[tuple[str, Any], ir.Value],
        ratios: Ratios,
        purpose: str,
        pairs: dict[str, tuple[str, str]] | None = None,
    ) -> Sums:
        """One aggregate of the production rows with a period, grouped by ``by``: row sums of
        ``additive``, for each ratio its :class:`ClusterSums` by unit (rows when no unit), and for
        each of ``pairs`` (name: two ratios over the same rows) Σ_g S_g·T_g of their unit sums (block
        "paired")."""
        pairs = pairs or {}
        t = self.production.filter(self.production[self.time].notnull())
        inner = Columns()
        inner.add("rows", None, t.count())
        if self.unit is None:
            inner.add("unitcount", None, t.count())
        for (block, key), expr in additive.items():
            inner.add(block, key, expr.sum())
        unit = self.unit
        if unit is None:  # each row its own unit: the squares are of row values
            for name, (den, num) in ratios.items():
                _declare_cluster_sums(inner, name, den, num)
            for name, (a, b) in pairs.items():
                inner.add("paired", name, (ratios[a][1] * ratios[b][1]).sum())
            return inner.aggregate(t, by).ordered().run(self.runner, purpose)
        for name, (den, num) in ratios.items():
            inner.add("dentotal", name, den.sum())
            inner.add("numtotal", name, num.sum())
        per_unit = inner.aggregate(t, {CLUSTER: t[unit], **by})
        outer = Columns()
        outer.add("rows", None, per_unit["rows", None].sum())
        outer.add("unitcount", None, per_unit.table.count())
        for block, key in additive:
            outer.add(block, key, per_unit[block, key].sum())
        for name in ratios:
            _declare_cluster_sums(outer, name, per_unit["dentotal", name], per_unit["numtotal", name])
        for name, (a, b) in pairs.items():
            outer.add("paired", name, (per_unit["numtotal", a] * per_unit["numtotal", b]).sum())
        return (
            outer.aggregate(per_unit.table, {k: per_unit.key(k) for k in by})
            .ordered()
            .run(self.runner, purpose)
        )

    @staticmethod
    def _covariate_sums(exprs: dict[str, ir.Value]) -> dict[tuple[str, Any], ir.Value]:
        names = list(exprs)
        sums: dict[tuple[str, Any], ir.Value] = {}
        for i, a in enumerate(names):
            sums[("sum", a)] = exprs[a]
            for b in names[i:]:
                sums[("product", (a, b))] = exprs[a] * exprs[b]
        return sums

    def _audit_sums(self, table: ir.Table, metrics: dict[str, ir.Value]) -> dict[tuple[str, Any], ir.Value]:
        out: dict[tuple[str, Any], ir.Value] = {}
        for metric, human in self.model.spec.calibration:
            h = table[human].cast("float64")
            audited = h.notnull() & metrics[metric].notnull()
            j, h0 = audited.ifelse(metrics[metric], 0.0), audited.ifelse(h, 0.0)
            for key, expr in zip(
                AUDIT, (audited.cast("float64"), j, h0, j * j, h0 * h0, j * h0), strict=True
            ):
                out[("audit", (metric, key))] = expr
        return out

    @cached_property
    def _experiment_sums(self) -> Sums:
        """The experiment table's covariate sums and, per calibrated metric, its audit sums."""
        design, table = self.model.design, self.exp.table
        additive = self._covariate_sums({c: design.columns[c].value() for c in design.covariates})
        additive.update(self._audit_sums(table, {m: design.columns[m].value() for m in self.model.metrics}))
        columns = Columns()
        columns.add("rows", None, table.count())
        for (block, key), expr in additive.items():
            columns.add(block, key, expr.sum())
        return columns.aggregate(table).run(self.runner, "monitor: experiment covariates")

    @cached_property
    def _periods(self) -> Sums:
        """Production by period: rows, covariate sums, NULL counts, audit, feedback, version."""
        t = self.production
        additive = self._covariate_sums(self.covariates)
        additive.update({("present", c): expr.notnull().cast("int64") for c, expr in self.covariates.items()})
        additive.update({("nulls", c): t[c].isnull().cast("int64") for c in self.null_columns})
        additive.update(self._audit_sums(t, self.metrics))
        if self.version is not None:
            column, tested = self.version
            additive[("version", None)] = (t[column] != tested).fill_null(True).cast("int64")
        ratios: Ratios = {}
        one = t[self.time].notnull().cast("float64")  # 1 on every row with a period
        if self.served is not None:
            ratios["served"] = (one, t[self.served].cast("float64").fill_null(0.0))
        if self.labelled is not None:
            ratios["labelled"] = (one, t[self.labelled].notnull().cast("float64"))
            for m, y in self.metrics.items():
                has = (t[self.labelled].notnull() & y.notnull()).cast("float64")
                ratios[f"all:{m}"] = (y.notnull().cast("float64"), y.fill_null(0.0))
                ratios[f"labelled:{m}"] = (has, has * y.fill_null(0.0))
        found = self._grouped({PERIOD: t[self.time]}, additive, ratios, "monitor: production by period")
        if found.n_cells == 0:
            raise DesignError(f"The production table has no rows with a {self.time!r}; nothing to monitor.")
        if any(isinstance(v, float) and not math.isfinite(v) for v in found.key(PERIOD).tolist()):
            raise DesignError(f"The time column {self.time!r} of the production table holds NaN or infinite "
                              "values; periods need an order.")
        return found

    @cached_property
    def _order(self) -> list[int]:
        """The rows of :attr:`_periods` in period order (the period's own type: day 10 after day 9)."""
        return _in_period_order(self._periods.key(PERIOD), self.time)

    @cached_property
    def _holdout_periods(self) -> Sums:
        """Per period × holdout level: each metric's cluster sums; with a take-up column also the
        take-up's over the same rows (a metric and take-up both logged) and their cross sums."""
        ratios: Ratios = {}
        pairs: dict[str, tuple[str, str]] = {}
        if self.treated is None:
            ratios = {m: (y.notnull().cast("float64"), y.fill_null(0.0)) for m, y in self.metrics.items()}
        else:
            took = self.production[self.treated]
            d = (took == self.launched_arm).cast("float64")
            for m, y in self.metrics.items():
                both = (y.notnull() & took.notnull()).cast("float64")
                ratios[m] = (both, both * y.fill_null(0.0))
                ratios[f"take-up:{m}"] = (both, both * d.fill_null(0.0))
                pairs[m] = (m, f"take-up:{m}")
        found = self._grouped(
            {PERIOD: self.production[self.time], "held": self._held()},
            {},
            ratios,
            "monitor: effect by period (holdout)",
            pairs,
        )
        return self._checked_holdout_levels(found)

    def _checked_holdout_levels(self, found: Sums) -> Sums:
        """``found`` (grouped by the holdout flag) when the flag had exactly the levels 0 and 1."""
        levels = set(found.key("held").tolist())
        if levels != {0, 1}:
            raise DesignError(
                f"The holdout column {self.holdout!r} must be 1/true on holdout rows and 0/false on "
                f"launched rows, both present and never NULL; it has {sorted(levels, key=str)}."
            )
        return found

    # -- layers ----------------------------------------------------------------------------------
    def population_drift(self) -> RowTable:
        """Per period and covariate column: the SMD against the experiment, and the period's
        membership R². Means are over the rows where the covariate is not NULL (the NULL rate is
        its own check) and shown in the covariate's units; the R² needs every covariate on every row
        (NaN, not checked, in a period with NULLs)."""
        e, p = self._experiment_sums, self._periods
        names = list(self.covariates)
        shift = {c: self.model.design.columns[c].shift for c in names}  # sums are of x − shift
        n_e = e.total("rows")
        units_e = float(self.model.n_clusters or n_e)  # covariates of one unit's rows move together
        mean_e = {c: e.total("sum", c) / n_e for c in names}
        var_e = {c: e.total("product", (c, c)) / n_e - mean_e[c] ** 2 for c in names}
        sum_e = np.array([e.total("sum", c) for c in names])
        cross_e = _symmetric(names, lambda a, b: e.total("product", (a, b)))
        rows, keys = [], p.key(PERIOD)
        for i in self._order:
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
                rows.append(
                    {
                        "period": period,
                        "covariate": c,
                        "mean_experiment": mean_e[c] + shift[c],
                        "mean_production": float(mean_p + shift[c]),
                        "smd": standardized_difference(mean_e[c], var_e[c], mean_p, var_p),
                        "se_smd": (math.sqrt(max(var_e[c] / units_e + var_p / units_p, 0.0)) / pooled
                                   if pooled else 0.0),
                        "membership_r2": r2,
                        "rows": int(n_p),
                        "units": int(units_p),
                    }
                )
        return RowTable(rows, "Covariates: the experiment vs each production period (SMD, membership R²)")

    def projection(self) -> RowTable:
        """The launched arm's effect on each metric at the latest period's covariate means:
        β_arm + Σ_c β_arm:c (x̄_c,production − x̄_c,experiment), with its delta-method SE (the means
        taken as known)."""
        p, model, design = self._periods, self.model, self.model.design
        last, k = self._order[-1], len(model.terms)
        estimand = model_estimand(model, self.launched_arm).short
        arm_term = design.treatment[design.arms.index(self.launched_arm)]
        cov = model.cov
        rows = []
        for m, metric in enumerate(model.metrics):
            d = np.zeros(k * len(model.metrics))
            arm = m * k + model.terms.index(arm_term)
            d[arm] = 1.0
            for label, interacted_arm, covariate in design.interactions:
                if interacted_arm == arm_term:
                    present = p.column("present", covariate)[last]
                    mean_now = p.column("sum", covariate)[last] / present if present > 0 else math.nan
                    d[m * k + model.terms.index(label)] = mean_now - model.covariate_means[covariate]
            estimate = float(d @ model.params.T.reshape(-1))
            base, se_base = float(model.params.T.reshape(-1)[arm]), math.sqrt(cov[arm, arm])
            rows.append(
                {
                    "metric": metric,
                    "arm": str(self.launched_arm),
                    "estimand": estimand,
                    "period": p.key(PERIOD)[last],
                    "experiment_effect": base,
                    "projected_effect": estimate,
                    "std_error": math.sqrt(max(float(d @ cov @ d), 0.0)),
                    "change_in_se": (estimate - base) / se_base if se_base > 0 else math.nan,
                    "interacted": bool(design.interactions),
                }
            )
        return RowTable(rows, "The experiment's effects re-projected to the latest production mix")

    @property
    def _units(self) -> str:
        """What the standard errors count as independent: the unit column's values, or rows."""
        return f"units ({self.unit})" if self.unit else "rows"

    def _effects_by_period(self) -> tuple[list[Any], dict[str, PeriodEffects]]:
        if self.holdout is None:
            raise DesignError(f"persistence needs a long-term holdout: {OWNER}(..., holdout='column').")
        found = self._holdout_periods
        periods = found.key(PERIOD)
        order = list(dict.fromkeys(periods[i] for i in _in_period_order(periods, self.time)))
        out = {}
        for metric in self.model.metrics:
            cells = [np.flatnonzero(periods == period) for period in order]
            if self.treated is None:  # launched − holdout: the ITT
                itt = [_launched_minus_held(found, rows, metric, self._units) for rows in cells]
                out[metric] = PeriodEffects(np.array([e for e, _, _ in itt]),
                                            np.array([s for _, s, _ in itt]), [why for _, _, why in itt])
                continue
            late = [self._late(found, rows, metric) for rows in cells]
            out[metric] = PeriodEffects(
                np.array([w.effect for w, _ in late]), np.array([w.std_error for w, _ in late]),
                [why for _, why in late], np.array([w.first_stage for w, _ in late]),
                np.array([_first_stage_f(w) for w, _ in late]))
        return order, out

    def _late(self, found: Sums, rows: Any, metric: str) -> tuple[Wald, str]:
        """The LATE in one period: launched − holdout of the metric over that of take-up (the
        holdout as the instrument), and why it cannot be tested ('' when it can)."""
        y, d = _by_level(found, rows, metric), _by_level(found, rows, f"take-up:{metric}")
        why = _why_missing(y, f"{metric} (with {self.treated!r} logged)", self._units)
        if why:
            return Wald(math.nan, math.nan, math.nan, math.nan), why
        held = found.key("held")
        cross = {bool(held[i] == 1): float(found.column("paired", metric)[i]) for i in rows}
        wald = wald_effect((y[False], d[False], cross[False]), (y[True], d[True], cross[True]))
        strength = _first_stage_f(wald)
        if not strength >= WEAK_F:
            why = (f"the holdout moves take-up of arm {self.launched_arm!r} by {wald.first_stage:+.3g} only "
                   f"(first-stage F {strength:.3g} < {WEAK_F:g}): the LATE is not identified well enough to "
                   "test")
        return wald, why

    def _experiment_effect(self, m: int) -> tuple[float, float]:
        """The experiment's estimate of the compared estimand for metric ``m``, and its SE."""
        return self._comparison.experiment_effect(m)

    def persistence(self, alpha: float = 0.05) -> RowTable:
        """Per metric and period: launched − holdout, its interval at the period's spent level (they
        hold for every period at once), and its test against the experiment's effect. A period whose
        effect could not be estimated is not checked, and its ``note`` says why."""
        order, by_metric = self._effects_by_period()
        estimand = self._comparison.estimand
        rows = []
        for m, metric in enumerate(self.model.metrics):
            base, se_base = self._experiment_effect(m)
            series = by_metric[metric]
            unusable = "" if math.isfinite(base) and se_base > 0 else (
                "the experiment's estimate has no finite standard error")
            tests = per_period_tests(series.usable, series.std_errors, base, se_base, alpha)
            for look, (period, effect, se, why, test) in enumerate(
                zip(order, series.effects, series.std_errors, series.why, tests, strict=True), 1
            ):
                half = float(stats.norm.isf(test.level / 2)) * se
                away = "decay" if (effect - base) * math.copysign(1.0, base) < 0 else "growth"
                row: dict[str, Any] = {
                    "period": period,
                    "look": look,
                    "metric": metric,
                    "estimand": estimand.short,
                    "effect": float(effect),
                    "std_error": float(se),
                    "lower": float(effect - half),
                    "upper": float(effect + half),
                    "level": test.level,
                    "experiment_effect": base,
                    "z": test.statistic,
                    "p_value": test.p_value,
                }
                if series.take_up is not None and series.first_stage_f is not None:
                    row.update(take_up_difference=float(series.take_up[look - 1]),
                               first_stage_f=float(series.first_stage_f[look - 1]))
                rows.append(settle("persistence", row, away, why or unusable))
        what = ("launched − holdout over the take-up difference: the complier effect (LATE)"
                if estimand.kind is EstimandKind.LATE
                else "launched − holdout: the intention-to-treat effect")
        return RowTable(rows, f"Effect after launch by period ({what}); intervals hold for all periods")

    def effect_trend(self, alpha: float = 0.05) -> RowTable:
        """Per metric: the WLS slope of the per-period effects, tested at the spent level of the
        current look (decay when it moves toward 0 from the experiment's sign). Periods whose effect
        could not be estimated are left out; with fewer than 3 left the trend is not checked."""
        _, by_metric = self._effects_by_period()
        rows = []
        for m, metric in enumerate(self.model.metrics):
            base, _ = self._experiment_effect(m)
            series = by_metric[metric]
            slope, test = trend_test(series.usable, series.std_errors**2, alpha)
            used = series.count
            toward_zero = slope * math.copysign(1.0, base) < 0
            row = {
                "metric": metric,
                "estimand": self._comparison.estimand.short,
                "periods": used,
                "slope_per_period": slope,
                "z": test.statistic,
                "p_value": test.p_value,
                "level": test.level,
            }
            why = "" if used >= 3 else _too_few(used, "an effect")
            finding = ("decay" if toward_zero else "growth") if math.isfinite(base) else "trend"
            rows.append(settle("effect_trend", row, finding, why))
        return RowTable(rows, "Trend of the effect over the periods since launch")

    def measurement(self, alpha: float = 0.05) -> RowTable:
        """Per calibrated metric and period: the slope of the human label on the judge score and
        their correlation, the slope tested against the experiment's (classical SEs: the audit is a
        random sample of rows)."""
        e, p = self._experiment_sums, self._periods
        rows = []
        for metric, _ in self.model.spec.calibration:
            ref = calibration_slope([e.total("audit", (metric, key)) for key in AUDIT])
            now = [
                calibration_slope([p.column("audit", (metric, key))[i] for key in AUDIT])
                for i in self._order
            ]
            tests = per_period_tests(
                np.array([c[0] for c in now]), np.array([c[1] for c in now]), ref[0], ref[1], alpha
            )
            periods = [p.key(PERIOD)[i] for i in self._order]
            reference = "" if math.isfinite(ref[0]) and ref[1] > 0 else (
                f"the experiment's calibration slope is undefined ({int(ref[3])} audited rows, or a judge "
                "score that does not vary among them)")
            for look, (period, c, test) in enumerate(zip(periods, now, tests, strict=True), start=1):
                row = {
                    "period": period,
                    "look": look,
                    "metric": metric,
                    "audited": c[3],
                    "slope": c[0],
                    "std_error": c[1],
                    "agreement": c[2],
                    "experiment_slope": ref[0],
                    "experiment_agreement": ref[2],
                    "level": test.level,
                    "p_value": test.p_value,
                }
                why = reference or (
                    f"{int(c[3])} audited row(s) in the period: the slope needs 3" if c[3] < 3
                    else "the judge score does not vary among the audited rows" if not math.isfinite(c[0])
                    else "")
                rows.append(settle("measurement", row, "drift", why))
        return RowTable(rows, "Judge calibration (slope of the human label on the judge) by period")

    def completeness(self) -> RowTable:
        """Per period: rows against the expected rows, and the worst NULL rate of a column read."""
        p = self._periods
        counts = p.column("rows")
        expected = self.expected_rows or float(np.median(counts))
        rows, keys = [], p.key(PERIOD)
        for i in self._order:
            period = keys[i]
            worst = max(
                ((c, p.column("nulls", c)[i] / counts[i]) for c in self.null_columns),
                key=lambda item: item[1],
                default=("", 0.0),
            )
            rows.append(
                {
                    "period": period,
                    "rows": int(counts[i]),
                    "expected_rows": expected,
                    "rows_ratio": counts[i] / expected if expected else math.nan,
                    "worst_column": worst[0] if worst[1] > 0 else "",
                    "null_rate": worst[1],
                }
            )
        return RowTable(rows, "Logging completeness by period")

    def _feedback_series(self) -> tuple[list[dict[str, Any]], dict[str, tuple[list[float], list[float]]]]:
        if self.served is None and self.labelled is None:
            raise DesignError(f"feedback needs {OWNER}(..., served=...) and/or labelled=... columns.")
        p = self._periods
        series: dict[str, tuple[list[float], list[float]]] = {}
        rows = []

        def add(name: str, value: float, variance: float) -> None:
            values, variances = series.setdefault(name, ([], []))
            values.append(value)
            variances.append(variance)

        keys = p.key(PERIOD)
        for i in self._order:
            row: dict[str, Any] = {"period": keys[i]}
            if self.served is not None:
                rate, se = cluster_mean(_ratio(p, i, "served"))
                row.update(served_rate=rate, served_se=se)
                add("served rate", rate, se**2)
            if self.labelled is not None:
                row["labelled_share"] = cluster_mean(_ratio(p, i, "labelled"))[0]
                for m in self.model.metrics:
                    everyone, se_all = cluster_mean(_ratio(p, i, f"all:{m}"))
                    labelled, se_labelled = cluster_mean(_ratio(p, i, f"labelled:{m}"))
                    row[f"{m}_population"], row[f"{m}_labelled"] = everyone, labelled
                    # the two means share rows; adding their variances is conservative
                    add(f"{m}: labelled − population", labelled - everyone, se_all**2 + se_labelled**2)
            rows.append(row)
        return rows, series

    def feedback(self) -> RowTable:
        """Per period: the served rate, the labelled share, and each metric among labelled rows and
        in the whole population."""
        rows = self._feedback_series()[0]
        return RowTable(rows, "Feedback: served rate and labelled rows vs the population")

    def feedback_trend(self, alpha: float = 0.05) -> RowTable:
        """The WLS slope over the periods of the served rate and of each labelled-vs-population gap,
        tested at the spent level of the current look."""
        rows = []
        for name, (values, variances) in self._feedback_series()[1].items():
            value, variance = np.array(values), np.array(variances)
            slope, test = trend_test(value, variance, alpha)
            used = int(np.sum(np.isfinite(value) & np.isfinite(variance) & (variance > 0)))
            row = {
                "series": name,
                "periods": used,
                "slope_per_period": slope,
                "z": test.statistic,
                "p_value": test.p_value,
                "level": test.level,
            }
            why = "" if used >= 3 else _too_few(used, "a value")
            rows.append(settle("feedback_trend", row, "trend", why))
        return RowTable(rows, "Feedback trends over the periods")

    def guardrail_segments(self, alpha: float = 0.05) -> RowTable:
        """Per guardrail metric and segment: the effect, one-sided p-value of harm beyond the
        tolerance, Benjamini–Hochberg across segments."""
        if not self.guardrails:
            raise DesignError(f"guardrail_segments needs {OWNER}(..., guardrails={{metric: tolerance}}).")
        labels = ["all", *(label for label, _ in self.segments)]
        level = alpha  # the experiment's data are fixed: re-running repeats the same test
        if self.holdout is not None:  # production data accumulate: spend α over the looks
            estimates, source = self._production_segments(), "production holdout"
            level = spent_alpha(alpha, self._periods.n_cells)
        else:
            effects = infer_effect(self.model, [label for label, _ in self.segments] or None,
                                   alpha=self.model.alpha)
            found = {
                (r["metric"], r["segment"]): (r["estimate"], r["std_error"], "")
                for r in effects.to_dicts()
                if r["arm"] == str(self.launched_arm)
            }
            estimates = {m: [found[(m, s)] for s in labels] for m in self.guardrails}
            source = "experiment"
        estimand = (EstimandKind.ITT.value if source == "production holdout"
                    else model_estimand(self.model, self.launched_arm).short)
        rows = []
        for metric, tolerance in self.guardrails.items():
            bound, limit = guardrail_bound(metric, tolerance)
            estimate = np.array([e for e, _, _ in estimates[metric]])
            std_error = np.array([s for _, s, _ in estimates[metric]])
            p_values = one_sided_harm_p(estimate, std_error, bound, limit)
            p_values[~(np.isfinite(estimate) & np.isfinite(std_error))] = np.nan  # not in the family
            for label, e, se, p, q, (_, _, why) in zip(
                labels, estimate, std_error, p_values, adjust_p_values(p_values, "bh"), estimates[metric],
                strict=True,
            ):
                row = {
                    "metric": metric,
                    "segment": label,
                    "source": source,
                    "estimand": estimand,
                    "estimate": float(e),
                    "std_error": float(se),
                    "tolerance": f"{bound} {limit:g}",
                    "p_value": float(p),
                    "p_adjusted": float(q),
                    "level": level,
                }
                rows.append(settle("guardrails", row, "harm", why))
        return RowTable(rows, "Guardrails by segment (Benjamini–Hochberg across segments)")

    def _production_segments(self) -> dict[str, list[tuple[float, float, str]]]:
        conditions = [ibis.literal(True), *(condition for _, condition in self.segments)]
        ratios: Ratios = {}
        for metric in self.guardrails:
            y = self.metrics[metric]
            for j, condition in enumerate(conditions):
                inside = (condition.fill_null(False) & y.notnull()).cast("float64")
                ratios[f"{metric}|{j}"] = (inside, inside * y.fill_null(0.0))
        found = self._checked_holdout_levels(
            self._grouped({"held": self._held()}, {}, ratios, "monitor: guardrails by segment"))
        every = range(found.n_cells)
        return {metric: [_launched_minus_held(found, every, f"{metric}|{j}", self._units, metric)
                         for j in range(len(conditions))]
                for metric in self.guardrails}

    def version_share(self) -> float:
        """The latest period's share of rows not on the tested treatment version."""
        if self.version is None:
            raise DesignError(f"version_share needs {OWNER}(..., version=(column, tested version)).")
        p, last = self._periods, self._order[-1]
        return float(p.column("version")[last] / p.column("rows")[last])

    def check(self, alpha: float = 0.05) -> MonitorReport:
        """Every layer the inputs allow, one row per check (see the module docstring)."""
        return build_report(self, check_param(alpha, "alpha", f"{OWNER}.check", Real(0, 1)))


def _first_stage_f(wald: Wald) -> float:
    """(first stage / its SE)²: the Wald F of the holdout on take-up (inf when take-up is exact)."""
    if wald.first_stage_se > 0:
        return float((wald.first_stage / wald.first_stage_se) ** 2)
    return math.inf if math.isfinite(wald.first_stage) and wald.first_stage != 0 else math.nan


def _too_few(used: int, what: str) -> str:
    return (f"a trend needs 3 periods with {what} and a standard error; there "
            f"{'is' if used == 1 else 'are'} {used}")


def _in_period_order(periods: Any, time: str) -> list[int]:
    """Indices of ``periods`` sorted by period in its own type (numbers as numbers, dates as time), not
    as the text the query's cells were sorted by; equal periods keep their order."""
    axis = PeriodAxis.of(list(periods), OWNER, time)
    rank = {value: position for position, value in enumerate(axis)}
    return sorted(range(len(periods)), key=lambda i: rank[periods[i]])


def _family(kind: Any) -> str:
    """The kind of a column type that must not change between the experiment and production."""
    if kind.is_boolean():
        return "boolean"
    if kind.is_numeric():
        return "numeric"
    if kind.is_temporal():
        return "temporal"
    return "string" if kind.is_string() else str(kind)


def _symmetric(names: list[str], get: Any) -> np.ndarray:
    out = np.empty((len(names), len(names)))
    for i, a in enumerate(names):
        for j in range(i, len(names)):
            out[i, j] = out[j, i] = get(a, names[j])
    return out
