"""Judge-scored metrics calibrated to a human-audited subsample: ``add_metric(y="judge_score",
calibrate_with="human_score")`` then ``model.calibrated_effect()``.

One GROUP BY over the assignment arms returns, per calibrated metric, the sums of the audited rows
(human label not NULL) and the unaudited rows, both scores shifted by the judge metric's K;
:mod:`warehouse_causal.algebra.ppi` does the rest.
Effects are differences in arm means (covariates are not used) for each of: the raw judge,
the audit only, PPI and PPI++.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from warehouse_causal.algebra.inference import NORMAL, wald_inference
from warehouse_causal.algebra.ppi import ArmSums, audit_mean, judge_mean, ppi_lambda, ppi_mean
from warehouse_causal.core.errors import DesignError
from warehouse_causal.core.tables import TableResult
from warehouse_causal.design.estimands import assigned_estimand
from warehouse_causal.warehouse.backends import QueryRecord, QueryRunner
from warehouse_causal.warehouse.contract import KEY, Columns, Named
from warehouse_causal.warehouse.shifts import shifted

if TYPE_CHECKING:
    from warehouse_causal.fit.models import LinearFit

__all__ = ["CalibratedEffects", "calibrated_effect"]

ESTIMATORS = ("judge", "audit", "ppi", "ppi++")


@dataclass(frozen=True, repr=False)
class CalibratedEffects(TableResult):
    """Rows (metric, arm, estimator) with estimate, std_error, CI and the λ used; every row's
    ``estimand`` is the ITT (differences of arm means by assignment)."""

    rows: tuple[dict[str, Any], ...]
    queries: tuple[QueryRecord, ...]

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per (metric, arm, estimator): judge, audit, ppi, ppi++."""
        return [dict(r) for r in self.rows]

    def caption(self) -> str:
        return "Judge-scored effects calibrated to the human audit (raw judge, audit only, PPI, PPI++)"


#: The sums of :class:`ArmSums`, in its field order, as the blocks of the calibration query.
_SUMS = ("audited", "human", "judge", "humansq", "judgesq", "humanjudge", "unaudited", "judgeu", "judgesqu")


def _query(model: LinearFit) -> Named:
    """GROUP BY arm: per calibrated metric i, the audited and unaudited counts and the sums of
    :class:`ArmSums` (block per sum, entry i)."""
    exp = model.spec.experiment
    t = exp.table
    aggs = Columns()
    for i, (metric, human) in enumerate(model.spec.calibration):
        term = next(m for m in model.spec.metrics if m.label == metric)
        # Judge and human scores share a scale, so both are shifted by the judge metric's K (the
        # shared shift helper): the sums of squares then do not cancel, and the effects, which are
        # differences of arm means, are unchanged.
        shift = model.design.columns[metric].shift
        s, y = shifted(term.expr, shift), shifted(t[human], shift)
        audited, unaudited = y.notnull(), y.isnull()
        sums = (audited.cast("int64").sum(), y.sum(), s.sum(where=audited), (y * y).sum(),
                (s * s).sum(where=audited), (y * s).sum(), unaudited.cast("int64").sum(),
                s.sum(where=unaudited), (s * s).sum(where=unaudited))
        for block, expr in zip(_SUMS, sums, strict=True):
            aggs.add(block, i, expr)
    return aggs.aggregate(t, by={exp.intent_to_treat: t[exp.intent_to_treat]})


def calibrated_effect(model: LinearFit, alpha: float | None = None) -> CalibratedEffects:
    """Judge, audit-only, PPI and PPI++ effects of each arm vs control for every calibrated metric."""
    exp = model.spec.experiment
    if not model.spec.calibration:
        raise DesignError("No metric was added with calibrate_with=...; nothing to calibrate.")
    if exp.weight_expr() is not None or exp.cluster_by is not None or exp.is_iv:
        raise DesignError("Calibrated (PPI) effects support unweighted, unclustered designs without an "
                          "instrument; analyse the judge metric with the LinearModel instead.")
    alpha = model.alpha if alpha is None else alpha
    runner = QueryRunner()
    found = _query(model).run(runner, "calibration: audited and unaudited sums")
    cell = {arm: c for c, arm in enumerate(found.values(KEY, exp.intent_to_treat))}
    estimand = assigned_estimand(exp).short  # grouped by the assigned arm
    out = []
    for i, (metric, human) in enumerate(model.spec.calibration):
        sums = {arm: ArmSums(*(float(found.column(block, i)[cell[arm]]) for block in _SUMS))
                for arm in exp.design.arms}
        for arm, s in sums.items():
            if s.n < 2 or s.big_n < 1:
                raise DesignError(f"Arm {arm!r} has {int(s.n)} audited and {int(s.big_n)} unaudited rows of "
                                  f"{human!r}; calibration needs both in every arm.")
        control = sums[exp.design.control]
        for arm in exp.design.arms[1:]:
            treated = sums[arm]
            for name in ESTIMATORS:
                lam = {"ppi": (1.0, 1.0), "ppi++": (ppi_lambda(control), ppi_lambda(treated))}.get(name)
                if name == "judge":
                    (m0, s0), (m1, s1) = judge_mean(control), judge_mean(treated)
                elif name == "audit":
                    (m0, s0), (m1, s1) = audit_mean(control), audit_mean(treated)
                else:
                    assert lam is not None
                    (m0, s0), (m1, s1) = ppi_mean(control, lam[0]), ppi_mean(treated, lam[1])
                estimate, se = m1 - m0, float(np.hypot(s0, s1))
                _, _, lower, upper = wald_inference(np.array([estimate]), np.array([se]), NORMAL, alpha)
                out.append({"metric": metric, "human": human, "arm": str(arm), "estimator": name,
                            "estimate": estimate, "std_error": se, "ci_lower": float(lower[0]),
                            "ci_upper": float(upper[0]),
                            "lambda_control": None if lam is None else lam[0],
                            "lambda_arm": None if lam is None else lam[1], "estimand": estimand})
    return CalibratedEffects(tuple(out), tuple(runner.records))
