"""``ModelSpec``: the metrics and covariates of an experiment, ready to ``fit``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir

from warehouse_causal.errors import DesignError, InvalidParameterError
from warehouse_causal.terms import Term, resolve_term

if TYPE_CHECKING:
    from warehouse_causal.experiment import ExperimentData

__all__ = ["ModelSpec"]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, ir.Value)) or callable(value):
        return [value]
    return list(value)


def _check_unique(terms: tuple[Term, ...], role: str) -> None:
    labels = [t.label for t in terms]
    if len(set(labels)) != len(labels):
        raise InvalidParameterError(f"{role} names must be unique; got {labels}.")


def _refuse_design_columns(terms: tuple[Term, ...], role: str, design: dict[str, str], why: str) -> None:
    for term in terms:
        used = sorted(term.columns & design.keys())
        if used:
            raise DesignError(
                f"{role} {term.label!r} reads {used[0]!r}, the {design[used[0]]!r} column of the design.{why}"
            )


@dataclass(frozen=True)
class ModelSpec:
    """An experiment with named outcomes (``metrics``) and pre-treatment ``covariates``.

    Created by :meth:`ExperimentData.add_metric`; ``fit`` turns it into a fitted model. Every
    method returns a new object.
    """

    experiment: ExperimentData
    metrics: tuple[Term, ...]
    covariates: tuple[Term, ...]

    @classmethod
    def build(cls, experiment: ExperimentData, y: Any, covariates: Any) -> ModelSpec:
        """Resolve and check the specs against the experiment table."""
        table = experiment.table
        metrics = tuple(resolve_term(s, table, "metric") for s in _as_list(y))
        if not metrics:
            raise InvalidParameterError("add_metric needs at least one metric in 'y'.")
        for m in metrics:
            if m.categorical:
                raise DesignError(
                    f"Metric {m.label!r} is a string column; a metric must be numeric or boolean."
                )
        terms = tuple(resolve_term(s, table, "covariate") for s in _as_list(covariates))
        spec = cls(experiment, (), ())
        return replace(spec, metrics=spec._checked(metrics, terms), covariates=terms)

    def add_metric(self, y: Any) -> ModelSpec:
        """A new spec with more metrics (they share the covariates and one pass over the data)."""
        extra = tuple(resolve_term(s, self.experiment.table, "metric") for s in _as_list(y))
        return replace(self, metrics=self._checked(self.metrics + extra, self.covariates))

    def _checked(self, metrics: tuple[Term, ...], covariates: tuple[Term, ...]) -> tuple[Term, ...]:
        design = self.experiment.design_roles()
        _check_unique(metrics, "Metric")
        _check_unique(covariates, "Covariate")
        _refuse_design_columns(metrics, "Metric", design, "")
        _refuse_design_columns(covariates, "Covariate", design, " Covariates must be measured before "
                               "treatment and cannot be design columns.")
        metric_columns = frozenset().union(*(m.columns for m in metrics))
        for c in covariates:
            if c.columns & metric_columns:
                col = sorted(c.columns & metric_columns)[0]
                raise DesignError(
                    f"Covariate {c.label!r} reads {col!r}, which is also a metric; adjusting for the "
                    "outcome itself removes the effect. Use its pre-period value instead."
                )
        return metrics

    def fit(self, model: type, **options: Any) -> Any:
        """Fit ``model`` (e.g. ``wc.LinearModel``) with keyword ``options``; returns the fitted model."""
        fit = getattr(model, "_fit", None)
        if not isinstance(model, type) or fit is None:
            raise InvalidParameterError(
                "The 'model' parameter of ModelSpec.fit must be a model class such as "
                f"wc.LinearModel. Got {model!r} instead."
            )
        return fit(self, **options)
