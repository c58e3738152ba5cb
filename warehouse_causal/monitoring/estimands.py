"""Which effect :class:`~warehouse_causal.monitoring.monitor.Monitor` compares after launch: the experiment's
and production's estimates of one estimand.

Production with a long-term holdout measures launched − holdout: the effect of making the arm
available, an intention-to-treat effect (ITT). An experiment with an instrument (``treated`` other
than the assignment) reports complier average effects (LATE ≈ ITT / take-up difference). Compared
with a production ITT, that LATE flags "decay" whenever take-up is below 100%, even for a launch that
repeats the experiment exactly. So the monitor compares like with like:

* production has the take-up column: the LATE in production, the holdout as the instrument (a Wald
  ratio per period, :func:`~warehouse_causal.algebra.monitoring.wald_effect`), against the
  experiment's LATE;
* otherwise the production ITT against the experiment's ITT: for an instrumented experiment its
  reduced form (the same model, covariates, interactions, weights and covariance, fitted with the
  instrument as the arm: the effect of assignment), for one without an instrument its own arm
  effect (there the assignment is the treatment).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

from warehouse_causal.core.errors import DesignError, WarehouseCausalWarning
from warehouse_causal.meaning import Estimand, EstimandKind
from warehouse_causal.warehouse.backends import QueryRunner

__all__ = ["Comparison", "compared", "model_estimand", "reduced_form"]


def _unit(exp: Any) -> str:
    return str(exp.cluster_by) if exp.cluster_by else "row"


def model_estimand(model: Any, arm: Any) -> Estimand:
    """What the experiment model's coefficient of ``arm`` estimates: the LATE with an instrument,
    else the average effect of the arm (the effect of assignment)."""
    exp = model.spec.experiment
    control = str(exp.design.control)
    if exp.is_iv:
        return Estimand(EstimandKind.LATE, exp.treated_column, str(arm), control,
                        f"compliers (units whose {exp.treated_column!r} follows {exp.instrument_column!r})",
                        _unit(exp))
    return Estimand(EstimandKind.ATE, exp.treated_column, str(arm), control, "all units", _unit(exp))


def reduced_form(model: Any, runner: QueryRunner | None = None) -> Any:
    """The experiment's reduced form: ``model`` refitted with its instrument as the arm (no
    ``treated``), with the same metrics, covariates, interactions, weights, covariance and level.
    Its arm coefficients are the intention-to-treat effects of assignment, with their own
    covariance. The experiment's warnings (sample ratio, few clusters) were given at its own fit.
    Its queries are appended to ``runner``'s log, their purpose prefixed "monitor: reduced form"."""
    exp = model.spec.experiment
    itt = replace(exp, intent_to_treat=exp.instrument_column, treated=None, instrument=None,
                  expected_split=None, runner=QueryRunner())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WarehouseCausalWarning)
        fitted = replace(model.spec, experiment=itt).fit(
            type(model), covariance=model.covariance, interacted=model.interacted, alpha=model.alpha,
            inference="classical")
    if runner is not None:
        runner.records.extend(
            replace(r, purpose=f"monitor: reduced form ({r.purpose})") for r in fitted.queries)
    return fitted


@dataclass(frozen=True)
class Comparison:
    """The ``estimand`` both sides estimate; ``experiment`` is the fitted model whose coefficient of
    ``arm`` is the experiment's side; ``treated`` the production take-up column (LATE) or None (ITT)."""

    estimand: Estimand
    experiment: Any
    arm: Any
    treated: str | None

    def experiment_effect(self, metric: int) -> tuple[float, float]:
        """(estimate, standard error) of the experiment's side for metric number ``metric``."""
        model = self.experiment
        k = len(model.terms)
        term = model.terms.index(model.design.treatment[model.design.arms.index(self.arm)])
        variance = float(model.cov_estimated[metric * k + term, metric * k + term])
        return float(model.params[term, metric]), math.sqrt(variance) if variance >= 0 else math.nan


def compared(model: Any, arm: Any, treated: str | None, runner: QueryRunner | None = None) -> Comparison:
    """The :class:`Comparison` for launched arm ``arm``: the LATE when production has the take-up
    column ``treated`` (the experiment must have an instrument), else the ITT (fitting the
    experiment's reduced form when it has an instrument, its queries logged in ``runner``)."""
    exp = model.spec.experiment
    control, unit = str(exp.design.control), _unit(exp)
    if treated is not None:
        return Comparison(
            Estimand(EstimandKind.LATE, treated, str(arm), control,
                     "compliers (production: units whose take-up follows the holdout; experiment: the "
                     "assignment)", unit),
            model, arm, treated)
    estimand = Estimand(EstimandKind.ITT, exp.instrument_column, str(arm), control,
                        "all units (production: launched − holdout; experiment: by assignment)", unit)
    if not exp.is_iv:
        return Comparison(estimand, model, arm, None)
    itt = reduced_form(model, runner)
    if arm not in itt.design.arms:
        raise DesignError(
            f"The launched arm {arm!r} is not a level of the instrument {exp.instrument_column!r} "
            f"({list(itt.design.arms)}), so the experiment's intention-to-treat effect of launching it is "
            "not defined; give Monitor(..., treated=column) to compare complier effects (LATE) instead.")
    return Comparison(estimand, itt, arm, None)
