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

import ibis.expr.types as ir
import numpy as np

from warehouse_causal.algebra.inference import NORMAL, wald_inference
from warehouse_causal.algebra.ppi import ArmSums, audit_mean, judge_mean, ppi_lambda, ppi_mean
from warehouse_causal.backends import QueryRecord, QueryRunner
from warehouse_causal.errors import DesignError
from warehouse_causal.moments import shifted
from warehouse_causal.tables import TableResult

if TYPE_CHECKING:
    from warehouse_causal.models import LinearModel

__all__ = ["CalibratedEffects", "calibrated_effect"]

ESTIMATORS = ("judge", "audit", "ppi", "ppi++")


@dataclass(frozen=True, repr=False)
class CalibratedEffects(TableResult):
    """Rows (metric, arm, estimator) with estimate, std_error, CI and the λ used."""

    rows: tuple[dict[str, Any], ...]
    queries: tuple[QueryRecord, ...]

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per (metric, arm, estimator): judge, audit, ppi, ppi++."""
        return [dict(r) for r in self.rows]

    def caption(self) -> str:
        return "Judge-scored effects calibrated to the human audit (raw judge, audit only, PPI, PPI++)"


def _query(model: LinearModel) -> ir.Table:
    exp = model.spec.experiment
    t = exp.table
    aggs: dict[str, ir.Value] = {}
    for i, (metric, human) in enumerate(model.spec.calibration):
        term = next(m for m in model.spec.metrics if m.label == metric)
        # Judge and human scores share a scale, so both are shifted by the judge metric's K (the
        # shared shift helper): the sums of squares then do not cancel, and the effects, which are
        # differences of arm means, are unchanged.
        shift = model.design.columns[metric].shift
        s, y = shifted(term.expr, shift), shifted(t[human], shift)
        audited, unaudited = y.notnull(), y.isnull()
        aggs.update({
            f"n_{i}": audited.cast("int64").sum(), f"sy_{i}": y.sum(), f"ss_{i}": s.sum(where=audited),
            f"syy_{i}": (y * y).sum(), f"sss_{i}": (s * s).sum(where=audited), f"sys_{i}": (y * s).sum(),
            f"bign_{i}": unaudited.cast("int64").sum(), f"ssu_{i}": s.sum(where=unaudited),
            f"sssu_{i}": (s * s).sum(where=unaudited),
        })
    return t.group_by(arm=t[exp.intent_to_treat]).aggregate(**aggs)


def _sums(row: dict[str, Any], i: int) -> ArmSums:
    keys = ("n", "sy", "ss", "syy", "sss", "sys", "bign", "ssu", "sssu")
    return ArmSums(*(float(row[f"{k}_{i}"] or 0.0) for k in keys))


def calibrated_effect(model: LinearModel, alpha: float | None = None) -> CalibratedEffects:
    """Judge, audit-only, PPI and PPI++ effects of each arm vs control for every calibrated metric."""
    exp = model.spec.experiment
    if not model.spec.calibration:
        raise DesignError("No metric was added with calibrate_with=...; nothing to calibrate.")
    if exp.weight_expr() is not None or exp.cluster_by is not None or exp.is_iv:
        raise DesignError("Calibrated (PPI) effects support unweighted, unclustered designs without an "
                          "instrument; analyse the judge metric with the LinearModel instead.")
    alpha = model.alpha if alpha is None else alpha
    runner = QueryRunner()
    rows = {r["arm"]: r for r in runner.run(_query(model), "calibration: audited and unaudited sums")}
    out = []
    for i, (metric, human) in enumerate(model.spec.calibration):
        sums = {arm: _sums(rows[arm], i) for arm in exp.design.arms}
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
                            "lambda_arm": None if lam is None else lam[1]})
    return CalibratedEffects(tuple(out), tuple(runner.records))
