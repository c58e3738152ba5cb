"""``ModelSpec``: the metrics and covariates of an experiment, ready to ``fit``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import ibis
import ibis.expr.types as ir
from ibis.common.deferred import Deferred

from warehouse_causal.core.errors import DesignError, DesignWarning, InvalidParameterError, SchemaError
from warehouse_causal.core.validation import Real, check_param
from warehouse_causal.design.metrics import Metric, attach_metrics, check_ratio_windows
from warehouse_causal.design.ratios import Ratio, RatioMetric, divides_inside
from warehouse_causal.meaning import Direction
from warehouse_causal.warehouse.contract import Columns
from warehouse_causal.warehouse.terms import Term, check_columns, resolve_term

if TYPE_CHECKING:
    from warehouse_causal.design.experiment import ExperimentDesign

__all__ = ["ModelSpec", "as_list", "covariates_argument"]

FittedModel = TypeVar("FittedModel")


_SPEC_TYPES = (str, ir.Value, Deferred, Metric, Ratio)
_EXPECTED = ("a column name, SQL expression, ibis expression, wc.Metric, wc.Ratio or callable, or a "
             "list of them")


def _is_spec(value: Any) -> bool:
    return isinstance(value, _SPEC_TYPES) or (callable(value) and not isinstance(value, type))


def as_list(value: Any, name: str = "y", owner: str = "ExperimentData.add_metric") -> list[Any]:
    """The specs of one parameter as a list, each checked to be something a term can be built from."""
    if value is None:
        return []
    if _is_spec(value):
        return [value]
    items = list(value) if isinstance(value, (list, tuple)) else None
    if items is None or not all(_is_spec(v) for v in items):
        bad = value if items is None else next(v for v in items if not _is_spec(v))
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {_EXPECTED}. Got {bad!r} "
            f"({type(bad).__name__}) instead."
        )
    return items



def covariates_argument(exogeneous: Any, exogenous: Any, owner: str) -> Any:
    """The covariates given as ``exogeneous_covariates`` (the paper's spelling) or its alias
    ``exogenous_covariates``: every ``add_metric`` accepts both, and refuses both at once."""
    if exogeneous is not None and exogenous is not None:
        raise InvalidParameterError(
            f"{owner}: pass covariates as 'exogeneous_covariates' or its alias 'exogenous_covariates', "
            "not both.")
    return exogeneous if exogeneous is not None else exogenous


@dataclass(frozen=True)
class Cap:
    """A winsorized metric: the percentiles asked for and the values they came to (pooled over arms)."""

    metric: str
    lower_q: float | None
    upper_q: float | None
    lower: float | None
    upper: float | None

    def __str__(self) -> str:
        parts = [f"below the {q:.3g} quantile ({v:.6g})" for q, v in ((self.lower_q, self.lower),)
                 if q is not None and v is not None]
        parts += [f"above the {q:.3g} quantile ({v:.6g})" for q, v in ((self.upper_q, self.upper),)
                  if q is not None and v is not None]
        return f"{self.metric} capped " + " and ".join(parts)


def _warn_mean_of_ratios(specs: list[Any]) -> None:
    for spec in specs:
        if isinstance(spec, Metric) and divides_inside(spec.value):
            warnings.warn(
                f"wc.Metric {spec.name!r} divides inside its per-unit aggregate ({spec.value!r}): its "
                "effect is on the mean of per-unit ratios, which weights every unit equally. For the "
                "ratio of totals (e.g. revenue per order), use wc.Ratio(name, numerator, denominator).",
                DesignWarning, stacklevel=5)


def _with_metric_columns(experiment: ExperimentDesign, y: Any, covariates: Any) -> tuple[Any, list, list]:
    """Join every ``wc.Metric`` to the experiment table; specs then name their columns."""
    ys, xs = as_list(y), as_list(covariates, "exogeneous_covariates")
    wanted = [s for s in ys + xs if isinstance(s, Metric)]
    if not wanted:
        return experiment, ys, xs
    table = attach_metrics(experiment.table, wanted, experiment.intent_to_treat, experiment.runner)
    joined = replace(experiment, table=table)  # re-validates on the joined table
    if joined.design.nobs != experiment.design.nobs:
        raise DesignError(
            f"Joining the metrics changed the number of rows ({experiment.design.nobs} -> "
            f"{joined.design.nobs}); the unit key must identify rows of the aggregated metrics."
        )
    def named(specs: list) -> list:
        return [s.name if isinstance(s, Metric) else s for s in specs]

    return joined, named(ys), named(xs)


def _declared_directions(specs: list[Any]) -> dict[str, Direction]:
    """The ``direction`` each ``wc.Metric`` / ``wc.Ratio`` declares, by name (two declarations of one
    name must agree)."""
    found: dict[str, Direction] = {}
    for spec in specs:
        own = getattr(spec, "direction", None) if isinstance(spec, (Metric, Ratio)) else None
        if own is None:
            continue
        if found.setdefault(spec.name, own) is not own:
            raise InvalidParameterError(
                f"Two definitions of {spec.name!r} declare different directions ({found[spec.name].value!r} "
                f"and {own.value!r}).")
    return found


def _same_as_earlier(term: Term, earlier: list[Term]) -> bool:
    """Whether a ratio's part is a metric already in the model (shared by name); a different
    expression under a name already taken would silently be replaced, so it is refused."""
    for other in earlier:
        if other.label == term.label:
            if not other.expr.equals(term.expr):
                raise InvalidParameterError(
                    f"A ratio's part is named {term.label!r} like another metric of the model but reads a "
                    "different expression; give it its own name (e.g. expr.name(...)).")
            return True
    return False


def _check_unique(terms: tuple[Term, ...], role: str) -> None:
    labels = [t.label for t in terms]
    if len(set(labels)) != len(labels):
        raise InvalidParameterError(f"{role} names must be unique; got {labels}.")


def _check_label_collisions(metrics: tuple[Term, ...], covariates: tuple[Term, ...],
                            design: dict[str, str]) -> None:
    """Two user names that would become one term are refused, naming both: a metric and a
    covariate with the same label, or a label that is a design column's name (an ibis expression
    renamed with ``.name(...)`` can carry any label)."""
    owners: dict[str, str] = {column: f"the {role!r} column" for column, role in design.items()}
    for role, terms in (("metric", metrics), ("covariate", covariates)):
        for term in terms:
            other = owners.get(term.label)
            if other is not None:
                raise SchemaError(
                    f"The {role} label {term.label!r} is also {other}; two inputs cannot share one "
                    f"label. Name it differently (e.g. expr.name('{term.label}_{role}')).",
                    column=term.label,
                )
            owners[term.label] = f"the label of the {role} {_describe(term)}"


def _describe(term: Term) -> str:
    columns = sorted(term.columns)
    return f"reading {columns}" if columns else "without columns"


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

    experiment: ExperimentDesign
    metrics: tuple[Term, ...]
    covariates: tuple[Term, ...]
    calibration: tuple[tuple[str, str], ...] = ()  # (judge metric label, human label column)
    ratios: tuple[RatioMetric, ...] = ()  # ratio metrics over pairs of the metrics
    caps: tuple[Cap, ...] = ()  # winsorized metrics: the pooled percentiles they were capped at
    #: The declared direction of good of metrics and ratios, by label; undeclared ones are "higher".
    directions: tuple[tuple[str, Direction], ...] = ()

    def direction_of(self, label: str) -> Direction:
        """Which direction of the metric (or ratio) ``label`` is good: declared, else higher."""
        return dict(self.directions).get(label, Direction.HIGHER)

    @classmethod
    def build(cls, experiment: ExperimentDesign, y: Any, covariates: Any,
              calibrate_with: str | None = None, cap: Any = None, direction: Any = None) -> ModelSpec:
        """Resolve and check the specs against the experiment table."""
        specs = as_list(y)
        ratios = [s for s in specs if isinstance(s, Ratio)]
        if any(isinstance(c, Ratio) for c in as_list(covariates, "exogeneous_covariates")):
            raise InvalidParameterError("A wc.Ratio is a metric; it cannot be a covariate.")
        for r in ratios:
            check_ratio_windows(r.name, r.numerator, r.denominator, "ExperimentData.add_metric")
        plain = [s for s in specs if not isinstance(s, Ratio)]
        parts = [p for r in ratios for p in (r.numerator, r.denominator)]
        declared = _declared_directions(plain + ratios + parts)
        _warn_mean_of_ratios(plain + parts)
        expanded = plain + parts
        experiment, expanded, covariates = _with_metric_columns(experiment, expanded, covariates)
        table = experiment.table
        resolved = [resolve_term(s, table, "metric") for s in expanded]
        ratio_metrics = tuple(RatioMetric(r.name, resolved[len(plain) + 2 * i].label,
                                          resolved[len(plain) + 2 * i + 1].label)
                              for i, r in enumerate(ratios))
        metrics = tuple(resolved[:len(plain)]) + tuple(
            t for i, t in enumerate(resolved[len(plain):])
            if not _same_as_earlier(t, resolved[:len(plain) + i]))
        if not metrics:
            raise InvalidParameterError("add_metric needs at least one metric in 'y'.")
        for m in metrics:
            if m.categorical:
                raise DesignError(
                    f"Metric {m.label!r} is a string column; a metric must be numeric or boolean."
                )
        terms = tuple(resolve_term(s, table, "covariate") for s in covariates)
        spec = cls(experiment, (), ())
        spec = replace(spec, metrics=spec._checked(metrics, terms), covariates=terms)
        if ratio_metrics:
            spec = spec._with_ratios(ratio_metrics)
        named = [t.label for t in resolved[:len(plain)]] + [r.name for r in ratio_metrics]
        spec = spec._with_directions(direction, declared, named)
        if cap is not None:
            spec = spec._with_caps(cap)
        return spec._with_calibration(calibrate_with) if calibrate_with is not None else spec

    def _with_directions(self, direction: Any, declared: dict[str, Direction], named: list[str],
                         owner: str = "ExperimentData.add_metric") -> ModelSpec:
        """The direction of good per metric: ``direction`` (one value for every metric named in
        ``y``, or a mapping from metric or ratio names) and the ``direction`` of each ``wc.Metric``
        and ``wc.Ratio``; the two must agree. Names that are not metrics of the model are refused."""
        labels = [m.label for m in self.metrics] + [r.name for r in self.ratios]
        given: dict[str, Direction] = {}
        if isinstance(direction, (str, Direction)):
            one = Direction.parse(direction, "direction", owner)
            given = dict.fromkeys(named, one)
        elif isinstance(direction, Mapping):
            for name, value in direction.items():
                if not isinstance(name, str) or name not in labels:
                    raise InvalidParameterError(
                        f"The 'direction' parameter of {owner} names {name!r}, which is not a metric of "
                        f"this model ({sorted(labels)}).")
                if not isinstance(value, (str, Direction)):
                    raise InvalidParameterError(
                        f"The 'direction' parameter of {owner} must give {name!r} 'higher', 'lower' or "
                        f"'neutral'. Got {value!r} instead.")
                given[name] = Direction.parse(value, "direction", f"{owner} (metric {name!r})")
        elif direction is not None:
            raise InvalidParameterError(
                f"The 'direction' parameter of {owner} must be 'higher', 'lower' or 'neutral' (for every "
                "metric) or a mapping of metric names to them, e.g. {'minutes': 'lower'}. Got "
                f"{direction!r} ({type(direction).__name__}) instead.")
        for name, value in given.items():
            own = declared.get(name)
            if own is not None and own is not value:
                raise InvalidParameterError(
                    f"The 'direction' parameter of {owner} says {value.value!r} for {name!r}, but its "
                    f"definition (wc.Metric / wc.Ratio, or the metric catalog) declares {own.value!r}.")
        merged = {**dict(self.directions), **{k: v for k, v in declared.items() if k in labels}, **given}
        return replace(self, directions=tuple((k, merged[k]) for k in labels if k in merged))

    def _with_caps(self, cap: Any) -> ModelSpec:
        """Each capped metric clipped at pooled percentiles of its values (the same thresholds in
        every arm, so the cap cannot create an effect), found by one aggregate over the table."""
        owner = "ExperimentData.add_metric"
        if not isinstance(cap, Mapping) or not cap:
            raise InvalidParameterError(
                f"The 'cap' parameter of {owner} must map metric names to an upper percentile in (0, 1) "
                f"or a (lower, upper) pair, e.g. {{'revenue': 0.99}}. Got {cap!r} instead.")
        labels = {m.label: m for m in self.metrics}
        wanted: dict[str, tuple[float | None, float | None]] = {}
        for name, value in cap.items():
            if name not in labels:
                raise InvalidParameterError(f"The 'cap' parameter of {owner} names {name!r}, which is not a "
                                            f"metric of this model ({sorted(labels)}).")
            if isinstance(value, (tuple, list)) and len(value) != 2:
                raise InvalidParameterError(
                    f"The 'cap' parameter of {owner}: the cap of {name!r} must be an upper percentile in "
                    f"(0, 1) or a (lower, upper) pair; got {len(value)} values {tuple(value)!r}.")
            lower, upper = (None, value) if not isinstance(value, (tuple, list)) else tuple(value)
            for q in (lower, upper):
                if q is not None:
                    check_param(q, "cap", owner, Real(0.0, 1.0))
            if lower is not None and upper is not None and not lower < upper:
                raise InvalidParameterError(f"The 'cap' parameter of {owner}: the lower percentile of "
                                            f"{name!r} must be below the upper one. Got {value!r} instead.")
            wanted[name] = (lower, upper)
        table = self.experiment.table
        query = Columns()
        for name, (lower, upper) in wanted.items():
            raw = labels[name].expr.cast("float64")
            for side, q in (("lower", lower), ("upper", upper)):
                if q is not None:
                    query.add(side, name, raw.quantile(q))
        found = query.aggregate(table).run(self.experiment.runner, "caps: pooled percentiles of the metrics")
        caps, metrics = [], []
        for metric in self.metrics:
            if metric.label not in wanted:
                metrics.append(metric)
                continue
            lower, upper = wanted[metric.label]
            values = [None if q is None else found.value(side, metric.label)
                      for side, q in (("lower", lower), ("upper", upper))]
            if any(q is not None and (v is None or not math.isfinite(v))
                   for v, q in zip(values, (lower, upper), strict=True)):
                raise DesignError(f"The metric {metric.label!r} has no finite percentile to cap at (it is "
                                  "empty, NULL or NaN); fix the column first.")
            caps.append(Cap(metric.label, lower, upper, values[0], values[1]))
            raw = metric.expr.cast("float64")
            clipped = raw.clip(lower=values[0], upper=values[1])
            metrics.append(Term(metric.label, ibis.ifelse(raw.isnan(), raw, clipped)))  # NaN stays NaN
        return replace(self, metrics=tuple(metrics), caps=tuple(caps))

    def _with_ratios(self, ratios: tuple[RatioMetric, ...]) -> ModelSpec:
        """Ratios need distinct names (not a metric's or covariate's) and a design without an
        instrument (2SLS levels mix populations, so a ratio of them is not a complier quantity)."""
        if self.experiment.is_iv:
            raise DesignError("Ratio metrics need a design without an instrument (treated = "
                              "intent_to_treat); fit the numerator and denominator as metrics and read "
                              "their LATEs.")
        taken = [m.label for m in self.metrics] + [c.label for c in self.covariates]
        names = [r.name for r in ratios]
        clash = [n for n in names if n in taken or names.count(n) > 1]
        if clash:
            raise InvalidParameterError(
                f"Ratio names must be distinct and differ from the metrics and covariates; {clash[0]!r} "
                "is taken.")
        same = [r.name for r in ratios if r.numerator == r.denominator]
        if same:
            raise InvalidParameterError(f"Ratio {same[0]!r} divides a metric by itself.")
        return replace(self, ratios=ratios)

    def _with_calibration(self, human: str) -> ModelSpec:
        if len(self.metrics) != 1:
            raise InvalidParameterError(
                "calibrate_with applies to one judge metric; add it with its own add_metric call.")
        check_columns(self.experiment.table, {"calibrate_with": human})
        if not self.experiment.table[human].type().is_numeric():
            raise DesignError(f"The human label {human!r} must be numeric.")
        design = self.experiment.design_roles()
        covariate_columns = frozenset().union(*(c.columns for c in self.covariates))
        if human in design or human in covariate_columns or human in self.metrics[0].columns:
            raise DesignError(f"The human label {human!r} is a design column, covariate or the judge metric.")
        return replace(self, calibration=((self.metrics[0].label, human),))

    def add_metric(self, y: Any, direction: Any = None) -> ModelSpec:
        """A new spec with more metrics (they share the covariates and one pass over the data);
        ``direction`` as in :meth:`ExperimentData.add_metric`."""
        specs = as_list(y, "y", "ModelSpec.add_metric")
        if any(isinstance(spec, (Ratio, Metric)) for spec in specs):
            raise InvalidParameterError("Add wc.Ratio and wc.Metric metrics in ExperimentData.add_metric("
                                        "y=[...]), with the other metrics of the model.")
        extra = tuple(resolve_term(s, self.experiment.table, "metric") for s in specs)
        spec = replace(self, metrics=self._checked(self.metrics + extra, self.covariates))
        return spec._with_directions(direction, {}, [t.label for t in extra], "ModelSpec.add_metric")

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
        _check_label_collisions(metrics, covariates, design)
        return metrics

    def fit(self, model: type[FittedModel], **options: Any) -> FittedModel:
        """Fit ``model`` (e.g. ``wc.LinearModel``) with keyword ``options``; returns the fitted model
        (an instance of ``model``: ``LinearModel`` or ``BayesianLinearRegression``)."""
        fit = getattr(model, "_fit", None)
        if not isinstance(model, type) or fit is None:
            raise InvalidParameterError(
                "The 'model' parameter of ModelSpec.fit must be a model class such as "
                f"wc.LinearModel. Got {model!r} instead."
            )
        return fit(self, **options)
