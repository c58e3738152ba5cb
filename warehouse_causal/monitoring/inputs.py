"""The validated inputs of :class:`~warehouse_causal.monitoring.monitor.Monitor`: every argument
checked before any query (the order of the checks is the order of the errors a user sees), and the
production expressions the layers read, in one frozen :class:`MonitorInputs` built by
:func:`monitor_inputs`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import ibis.expr.types as ir

from warehouse_causal.core.errors import DesignError, InvalidParameterError, SchemaError
from warehouse_causal.core.validation import NONE, InstanceOf, MappingOf, Real, check_param
from warehouse_causal.decide.decisions import guardrail_bound
from warehouse_causal.fit.models import LinearFit
from warehouse_causal.monitoring.results import Thresholds
from warehouse_causal.warehouse.backends import as_table
from warehouse_causal.warehouse.terms import rebind, referenced_columns, resolve_value

__all__ = ["OWNER", "MonitorInputs", "monitor_inputs"]

OWNER = "Monitor"


@dataclass(frozen=True, eq=False)
class MonitorInputs:
    """The monitor's arguments once checked (the parameters of
    :class:`~warehouse_causal.monitoring.monitor.Monitor`), and what they resolve to in production:
    ``unit`` (the given one, else the experiment's ``cluster_by`` when production has it),
    ``treated`` (the take-up column compared as a LATE, or None: ITTs), ``null_columns`` (the
    columns whose NULLs are counted), ``covariates`` and ``metrics`` (the experiment's expressions
    rebound to the production table) and ``segments`` ((label, condition on production))."""

    model: LinearFit
    production: ir.Table
    time: str
    holdout: str | None
    treated: str | None
    unit: str | None
    launched_arm: Any
    segments: tuple[tuple[str, ir.Value], ...]
    guardrails: Mapping[str, Any]
    served: str | None
    labelled: str | None
    version: tuple[str, Any] | None
    expected_rows: float | None
    thresholds: Thresholds
    null_columns: tuple[str, ...]
    covariates: Mapping[str, ir.Value]
    metrics: Mapping[str, ir.Value]

    @property
    def exp(self) -> Any:
        """The experiment's data (``ExperimentData``) the model was fitted on."""
        return self.model.spec.experiment

    @property
    def units(self) -> str:
        """What the standard errors count as independent: the unit column's values, or rows."""
        return f"units ({self.unit})" if self.unit else "rows"

    def held(self) -> ir.Value:
        """The holdout flag as 0/1 (a holdout is given)."""
        return self.production[str(self.holdout)].cast("int64")


def monitor_inputs(
    experiment: Any,
    production: Any,
    time: str,
    *,
    holdout: str | None,
    treated: str | None,
    unit: str | None,
    launched_arm: Any,
    segments: Any,
    guardrails: Mapping[str, Any] | None,
    served: str | None,
    labelled: str | None,
    version: tuple[str, Any] | None,
    expected_rows: float | None,
    thresholds: Thresholds | None,
) -> MonitorInputs:
    """Check the arguments of ``Monitor(...)`` (its parameters) and resolve them on production."""
    check_param(experiment, "experiment", OWNER, InstanceOf(LinearFit, "a fitted wc.LinearModel"))
    table = as_table(production, "production", OWNER)
    _check_columns(table, time=time, holdout=holdout, treated=treated, unit=unit, served=served,
                   labelled=labelled)
    exp = experiment.spec.experiment
    checked_thresholds = check_param(
        thresholds or Thresholds(), "thresholds", OWNER, InstanceOf(Thresholds, "a wc.Thresholds")
    )
    checked_rows = check_param(expected_rows, "expected_rows", OWNER, Real(0, math.inf), NONE)
    checked_version = _checked_version(version, table)
    arm = _checked_arm(launched_arm, exp)
    take_up = _checked_treated(treated, holdout, exp, table)
    checked_guardrails = _checked_guardrails(guardrails, experiment)
    null_columns = _checked_reads(experiment, table, take_up)
    design = experiment.design
    covariates = {c: rebind(design.columns[c].value(), exp.table, table) for c in design.covariates}
    metrics = {m: rebind(design.columns[m].value(), exp.table, table) for m in experiment.metrics}
    checked_segments = _checked_segments(segments, experiment, table)
    _check_holdout_type(holdout, table)
    return MonitorInputs(
        model=experiment, production=table, time=time, holdout=holdout, treated=take_up,
        unit=unit if unit is not None else (exp.cluster_by if exp.cluster_by in table.columns else None),
        launched_arm=arm, segments=checked_segments, guardrails=MappingProxyType(checked_guardrails),
        served=served, labelled=labelled, version=checked_version, expected_rows=checked_rows,
        thresholds=checked_thresholds, null_columns=null_columns,
        covariates=MappingProxyType(covariates), metrics=MappingProxyType(metrics),
    )


def _check_columns(table: ir.Table, **roles: str | None) -> None:
    """Each role's column is a name (``time`` required, the others optional) of a production column."""
    columns = list(table.columns)
    name = InstanceOf(str, "a column name")
    for role, value in roles.items():
        check_param(value, role, OWNER, name, *(() if role == "time" else (NONE,)))
        if value is not None and value not in columns:
            raise SchemaError(
                f"The '{role}' parameter of {OWNER} names {value!r}, which is not a column "
                f"of the production table ({columns}).",
                column=value,
            )


def _checked_version(version: Any, table: ir.Table) -> tuple[str, Any] | None:
    if version is None:
        return None
    if not (isinstance(version, tuple) and len(version) == 2 and isinstance(version[0], str)):
        raise InvalidParameterError(
            f"The 'version' parameter of {OWNER} must be (column, tested version). "
            f"Got {version!r} instead."
        )
    if version[0] not in table.columns:
        raise SchemaError(
            f"The version column {version[0]!r} is not in the production table.", column=version[0]
        )
    return version


def _checked_arm(arm: Any, exp: Any) -> Any:
    arms = [a for a in exp.design.arms if a != exp.design.control]
    if arm is None and len(arms) == 1:
        return arms[0]
    if arm is None or arm not in arms:
        raise InvalidParameterError(
            f"The 'launched_arm' parameter of {OWNER} must be one of {arms}. Got {arm!r} instead."
        )
    return arm


def _checked_treated(treated: str | None, holdout: str | None, exp: Any, table: ir.Table) -> str | None:
    """The production take-up column compared as a LATE, or None (compare ITTs)."""
    if treated is None:  # the experiment's own take-up column, when production logs it
        logged = exp.is_iv and exp.treated_column in table.columns
        if holdout is None or not logged:
            return None
        treated = exp.treated_column
    elif holdout is None:
        raise InvalidParameterError(
            f"The 'treated' parameter of {OWNER} is read with a holdout (the LATE in production uses "
            "the holdout as its instrument): pass holdout='column' too.")
    elif not exp.is_iv:
        raise InvalidParameterError(
            f"The 'treated' parameter of {OWNER} names a take-up column, but the experiment has no "
            "instrument: its effect is the effect of assignment, which launched − holdout (an ITT) "
            "estimates directly. Leave 'treated' out.")
    was, now = exp.table[exp.treated_column].type(), table[treated].type()
    if _family(was) != _family(now):
        raise SchemaError(
            f"Column {treated!r} is {now} in production but the experiment's treated column "
            f"{exp.treated_column!r} was {was}; {OWNER} compares its levels with the launched arm.",
            column=treated)
    return treated


def _checked_guardrails(guardrails: Mapping[str, Any] | None, experiment: Any) -> dict[str, Any]:
    """``{metric: tolerance}`` over metrics of the experiment, each tolerance as ``Effects.decide``
    reads it."""
    checked = dict(
        check_param(
            guardrails or {},
            "guardrails",
            OWNER,
            MappingOf(InstanceOf(object, "tolerance"), "a mapping of metric to tolerance", allow_empty=True),
        )
    )
    unknown = sorted(set(checked) - set(experiment.metrics))
    if unknown:
        raise InvalidParameterError(
            f"The 'guardrails' parameter of {OWNER} names {unknown}, which are not "
            f"metrics of the experiment ({list(experiment.metrics)})."
        )
    for metric, tolerance in checked.items():
        guardrail_bound(metric, tolerance)
    return checked


def _checked_reads(experiment: Any, table: ir.Table, treated: str | None) -> tuple[str, ...]:
    """The columns whose NULLs are counted (what the covariates and metrics read, and the take-up
    column), once production is shown to have every column the experiment read, of the same kind."""
    design, exp = experiment.design, experiment.spec.experiment
    read = {c for t in experiment.spec.covariates for c in referenced_columns(t.expr)}
    read |= {c for m in experiment.metrics for c in referenced_columns(design.columns[m].expr)}
    # audit labels are NULL by design: not counted
    null_columns = tuple(sorted(read | ({treated} if treated else set())))
    read |= {human for _, human in experiment.spec.calibration}
    missing = sorted(c for c in read if c not in table.columns)
    if missing:
        raise SchemaError(
            f"The production table of {OWNER} lacks {missing}, which the experiment's "
            "covariates and metrics read; the checks compare like with like.",
            column=missing[0],
        )
    for c in sorted(read):
        was, now = exp.table[c].type(), table[c].type()
        if _family(was) != _family(now):
            raise SchemaError(
                f"Column {c!r} is {now} in production but was {was} in the experiment; {OWNER} "
                "needs the same kind (numeric, boolean, string, temporal).",
                column=c,
            )
    return null_columns


def _checked_segments(segments: Any, experiment: Any, table: ir.Table) -> tuple[tuple[str, ir.Value], ...]:
    """(label, condition on production) for each segment; conditions read covariates only."""
    covariate_columns = {c for t in experiment.spec.covariates for c in referenced_columns(t.expr)}
    out = []
    for item in [segments] if isinstance(segments, str) else list(segments or []):
        label, condition = resolve_value(item, table, "segment")
        outside = sorted(referenced_columns(condition) - covariate_columns)
        if outside:
            raise DesignError(
                f"The segment {label!r} reads {outside}, which are not covariates of the "
                "experiment; segments condition on pre-treatment covariates only."
            )
        out.append((label, condition))
    return tuple(out)


def _check_holdout_type(holdout: str | None, table: ir.Table) -> None:
    if holdout is not None:
        flag = table[holdout].type()
        if not (flag.is_boolean() or flag.is_integer()):
            raise SchemaError(
                f"The holdout column {holdout!r} must be boolean or 0/1; it is {flag}.", column=holdout
            )


def _family(kind: Any) -> str:
    """The kind of a column type that must not change between the experiment and production."""
    if kind.is_boolean():
        return "boolean"
    if kind.is_numeric():
        return "numeric"
    if kind.is_temporal():
        return "temporal"
    return "string" if kind.is_string() else str(kind)
