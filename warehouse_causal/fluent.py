"""The classes users hold, with the paper's fluent verbs, over the plain result data below them.

``wc.ExperimentData(...).add_metric(...).fit(wc.LinearModel).infer_effect(...).decide(...)``: each
class here is a thin subclass of a plain data class defined low in the house
(:class:`~warehouse_causal.design.experiment.ExperimentDesign`,
:class:`~warehouse_causal.fit.models.LinearFit`,
:class:`~warehouse_causal.effects.table.EffectsTable`) whose methods call the verb functions of the
layers above that data (effects, decisions, mechanisms, planning, reports). Modules import only
downwards; this layer sits above every verb and below the surfaces (documents, agents, CLI).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from warehouse_causal.algebra.multiplicity import ADJUSTMENTS
from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.core.html import write_page
from warehouse_causal.core.tables import RowTable
from warehouse_causal.core.validation import (
    BOOLEAN,
    NONE,
    InstanceOf,
    Integer,
    MappingOf,
    Options,
    Real,
    check_param,
    validated,
)
from warehouse_causal.decide.decisions import Decision, decide, memo
from warehouse_causal.decide.ope import PolicyEvaluation, evaluate_policy
from warehouse_causal.design.experiment import ExperimentDesign
from warehouse_causal.design.spec import ModelSpec, covariates_argument
from warehouse_causal.effects.cumulative import CumulativeEffects, cumulative_effects
from warehouse_causal.effects.delta import infer_effect
from warehouse_causal.effects.heterogeneity import heterogeneity
from warehouse_causal.effects.projection import project
from warehouse_causal.effects.quantiles import QuantileEffects, infer_quantiles
from warehouse_causal.effects.table import EffectsTable
from warehouse_causal.fit.models import LinearFit
from warehouse_causal.mechanisms.calibration import CalibratedEffects, calibrated_effect
from warehouse_causal.mechanisms.mediation import CausalGraph, MediationSpec
from warehouse_causal.planning.plan import SampleSizes, days_left
from warehouse_causal.reports.experiment import render_html

__all__ = ["Effects", "ExperimentData", "LinearModel"]

_T = TypeVar("_T")


def _promote(cls: type[_T], data: Any) -> _T:
    """``data`` (an instance of ``cls``'s plain data base) as an instance of ``cls``: the same
    values (and cached properties), with the verbs of ``cls``. Frozen results: nothing is copied."""
    if isinstance(data, cls):
        return data
    promoted = object.__new__(cls)
    promoted.__dict__.update(data.__dict__)
    return promoted


class ExperimentData(ExperimentDesign):
    __doc__ = ExperimentDesign.__doc__

    def add_metric(self, y: Any, exogeneous_covariates: Any = None, *, exogenous_covariates: Any = None,
                   calibrate_with: str | None = None, cap: Any = None, direction: Any = None) -> ModelSpec:
        """Name the outcome(s) and pre-treatment covariates; returns a :class:`ModelSpec`.

        ``exogeneous_covariates`` (the paper's spelling) and ``exogenous_covariates`` are the same
        parameter; pass one. ``calibrate_with`` names a human-label column (NULL outside a random
        audit subsample) that calibrates a judge-scored metric ``y``; see
        ``LinearModel.calibrated_effect``.

        ``cap`` winsorizes metrics: ``{"revenue": 0.99}`` clips each value at the 0.99 quantile of
        the metric pooled over all arms (the same threshold in every arm), ``{"revenue": (0.01,
        0.99)}`` at both ends; one aggregate finds the thresholds (``spec.caps`` reports them). A
        ratio's numerator and denominator are capped by their own names.

        ``direction`` says which direction of a metric is good: ``"lower"`` for every metric in ``y``,
        or per metric (ratio names too), ``{"minutes": "lower"}``; ``"higher"`` (the default) or
        ``"neutral"``. Decisions, the memo and the report's colours read it; a ``wc.Metric`` or
        ``wc.Ratio`` may declare its own (``direction=``, as the metric catalog does).
        """
        check_param(calibrate_with, "calibrate_with", "ExperimentData.add_metric",
                    InstanceOf(str, "a column name"), NONE)
        covariates = covariates_argument(exogeneous_covariates, exogenous_covariates,
                                         "ExperimentData.add_metric")
        return ModelSpec.build(self, y, covariates, calibrate_with, cap, direction)

    def infer_quantiles(self, metrics: Any, alpha: float = 0.05, *, compliers: bool = False
                        ) -> QuantileEffects:
        """Differences of the arms' q-quantiles (``wc.Quantile``) with cluster-robust outer intervals
        (see :mod:`warehouse_causal.effects.quantiles`), by assigned arm (quantile ITT); with
        ``compliers``, the complier quantile effects of an instrumented design (quantile LATE)."""
        return infer_quantiles(self, metrics, alpha, compliers)


class Effects(EffectsTable):
    __doc__ = EffectsTable.__doc__

    @validated("Effects.project", mix=MappingOf(Real(), "a non-empty mapping of segment to weight"),
               name=InstanceOf(str, "a string"))
    def project(self, mix: dict[Any, float], name: str = "projection") -> Effects:
        """Effects re-weighted to a future mix of segments: Σ_s weight_s · effect_s per (metric, arm)
        (:func:`~warehouse_causal.effects.projection.project`)."""
        return _promote(Effects, project(self, mix, name))

    def heterogeneity(self, segments: Any = None) -> RowTable:
        """Is the effect different between segments? Per (metric, arm), the Wald test that the effects
        in ``segments`` (default every segment but "all") are equal, from their joint covariance
        (:mod:`warehouse_causal.effects.heterogeneity`)."""
        return heterogeneity(self, segments)

    @validated("Effects.decide", primary=InstanceOf(str, "a metric name"),
               guardrails=(InstanceOf(Mapping, "a mapping of metric to tolerance"), NONE),
               higher_is_better=(BOOLEAN, NONE), segment=InstanceOf(str, "a segment label"))
    def decide(self, primary: str, guardrails: dict[str, Any] | None = None, *,
               higher_is_better: bool | None = None, evidence: str = "anytime-valid", segment: str = "all"
               ) -> Decision:
        """Ship / don't ship / inconclusive per arm (rules in :mod:`warehouse_causal.decide.decisions`);
        each metric's direction of good is the declared one (``add_metric(direction=...)``)."""
        return decide(self, primary, guardrails, higher_is_better=higher_is_better, evidence=evidence,
                      segment=segment)

    def memo(self, primary: str | None = None, guardrails: dict[str, Any] | None = None,
             **options: Any) -> str:
        """A markdown decision memo: estimand, design, effects, decision (with ``primary``), caveats."""
        decision = self.decide(primary, guardrails, **options) if primary is not None else None
        return memo(self, decision)

    def report(self, path: Any = None, *, decision: Any = None, title: str = "Experiment report",
               quantiles: Any = None, cumulative: Any = None) -> str:
        """A self-contained HTML report (returned, and written to ``path`` when given): summary
        cards, ``decision``, the cumulative effect over time (when given ``model.cumulative(time)``),
        design checks, forest plot, quantile effects (when given ``exp.infer_quantiles(...)``),
        caveats and the SQL that ran."""
        check_param(cumulative, "cumulative", "Effects.report",
                    InstanceOf(CumulativeEffects, "the result of model.cumulative(time)"), NONE)
        check_param(decision, "decision", "Effects.report", InstanceOf(Decision, "effects.decide(...)"), NONE)
        return write_page(render_html(self, decision, title, quantiles, cumulative), path, "Effects.report")

    def with_graph(self, graph: Any) -> MediationSpec:
        """Attach a causal graph ("T -> searches -> views -> sales; T -> views") for ``mediate_effect``."""
        if self.model is None:
            raise InvalidParameterError("with_graph needs effects computed from a model (not combined).")
        CausalGraph.build(graph, self.model)  # validate now, before any query
        return MediationSpec(self.model, graph)


class LinearModel(LinearFit):
    __doc__ = LinearFit.__doc__

    def days_left(self, mde: float | dict[str, float], traffic_per_day: float | None = None,
                  power: float = 0.8, alpha: float | None = None, *, relative: bool | None = None
                  ) -> SampleSizes:
        """Mid-experiment: the units (clusters when clustered) still needed for ``power`` at an effect
        of ``mde``, and the days left at ``traffic_per_day`` (see :func:`planning.days_left`).

        ``mde=0.03, relative=True``: 3% of each metric's control mean; ``mde={"minutes": 2.0,
        "resolved": 0.01}``: absolute, in each metric's units. A bare number without ``relative`` is
        refused (it would mean 0.03 minutes and 0.03 of a rate alike)."""
        return days_left(self, mde, traffic_per_day, power, alpha, relative)

    @validated("LinearModel.infer_effect", over=(InstanceOf(str, "a column name"), NONE), relative=BOOLEAN,
               alpha=(Real(0, 1), NONE), planned_n=(Integer(2), NONE),
               adjust=Options(*ADJUSTMENTS), since_exposure=(InstanceOf(str, "a column name"), NONE))
    def infer_effect(self, condition_on: Any = None, *, over: str | None = None, relative: bool = False,
                     alpha: float | None = None, planned_n: int | None = None,
                     adjust: str = "holm", since_exposure: str | None = None) -> Effects:
        """Average, segment and per-period effects of every arm on every metric (see Effects).
        ``since_exposure`` names the exposure column of a ``wc.exposure_age`` covariate: one row
        per exposure age (``Effects.trend`` then tests for decay)."""
        return _promote(Effects, infer_effect(
            self, condition_on, over=over, relative=relative, alpha=self.alpha if alpha is None else alpha,
            planned_n=planned_n, adjust=adjust, since_exposure=since_exposure))

    infer_effects = infer_effect

    def cumulative(self, time: str, looks: int = 20) -> CumulativeEffects:
        """The effect as it stood after each look at ``time`` (the model refitted on the rows with
        ``time <= look``), with its anytime-valid confidence sequence; see
        :mod:`warehouse_causal.effects.cumulative`. ``looks`` (2–100) spreads that many looks over the
        distinct times."""
        return cumulative_effects(self, time, looks)

    @validated("LinearModel.calibrated_effect", alpha=(Real(0, 1), NONE))
    def calibrated_effect(self, alpha: float | None = None) -> CalibratedEffects:
        """Raw-judge, audit-only, PPI and PPI++ effects of judge metrics added with ``calibrate_with``."""
        return calibrated_effect(self, alpha)

    @validated("LinearModel.evaluate_policy", alpha=(Real(0, 1), NONE))
    def evaluate_policy(self, policy: Any, alpha: float | None = None) -> PolicyEvaluation:
        """Off-policy value of ``policy`` (IPS, SNIPS, DM, DR, logged): :mod:`warehouse_causal.decide.ope`."""
        return evaluate_policy(self, policy, alpha)
