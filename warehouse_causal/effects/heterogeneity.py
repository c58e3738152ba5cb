r"""Is the effect different between segments? The Wald test that the listed segments' effects are
equal, per (metric, arm), from their joint covariance (segments may overlap: the covariance carries
it; a z-score of two segments' difference that ignores it does not).

With θ the k segment effects and Σ their covariance, C the (k − 1) × k contrasts θ_i − θ_k:

.. math::

    W = (C\theta)'\,(C \Sigma C')^{-1}\,(C\theta), \qquad F = W / (k - 1)

referred to F(k − 1, df) with the effects' degrees of freedom (n − k, or G − 1 when clustered; χ²
when df is infinite), as statsmodels' ``wald_test(use_f=True)`` does for the interacted regression.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from scipy import stats

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.core.tables import RowTable
from warehouse_causal.effects.segments import ALL
from warehouse_causal.effects.table import EffectsTable
from warehouse_causal.meaning.status import is_finite

__all__ = ["HeterogeneityRow", "heterogeneity"]


class HeterogeneityRow(NamedTuple):
    """The test of equal effects across ``segments`` for one (metric, arm); ``statistic`` is F, NaN
    (and ``p_value`` NaN: not checked) when the contrasts' covariance is singular or not finite."""

    metric: str
    arm: str
    segments: str
    statistic: float
    df_num: int
    df_den: float
    p_value: float
    estimand: str
    meaning: str


def _wald(theta: np.ndarray, cov: np.ndarray, df: float) -> tuple[float, float]:
    q = len(theta) - 1
    contrasts = np.hstack([np.eye(q), -np.ones((q, 1))])
    diff, middle = contrasts @ theta, contrasts @ cov @ contrasts.T
    if not (np.isfinite(diff).all() and np.isfinite(middle).all()):
        return math.nan, math.nan
    try:
        solved = np.linalg.solve(middle, diff)
    except np.linalg.LinAlgError:
        return math.nan, math.nan
    f = float(diff @ solved) / q
    if not is_finite(f) or f < 0:
        return math.nan, math.nan
    p = float(stats.chi2.sf(f * q, q)) if math.isinf(df) else float(stats.f.sf(f, q, df))
    return f, p


def heterogeneity(effects: EffectsTable, segments: Any = None) -> RowTable:
    """Per (metric, arm): the Wald test that the effects in ``segments`` (labels of these effects;
    default every segment but "all") are equal (module docstring). At least two segments."""
    owner = "Effects.heterogeneity"
    present = list(dict.fromkeys(s for s in effects.segment if s != ALL))
    if segments is None:
        wanted = present
    elif isinstance(segments, str):
        wanted = [segments]
    elif isinstance(segments, (list, tuple)) and all(isinstance(s, str) for s in segments):
        wanted = list(segments)
    else:
        raise InvalidParameterError(f"The 'segments' parameter of {owner} must be a list of segment labels "
                                    f"of these effects. Got {segments!r} instead.")
    unknown = [s for s in wanted if s not in present]
    if unknown:
        raise InvalidParameterError(f"The 'segments' parameter of {owner} names {unknown}, which are not "
                                    f"segments of these effects: {present}.")
    if len(dict.fromkeys(wanted)) < 2:
        raise InvalidParameterError(f"{owner} compares two or more segments; these effects have "
                                    f"{present or 'none'} (infer_effect(condition_on=[...]) adds them).")
    rows = []
    for metric, arm in dict.fromkeys(zip(effects.metric, effects.arm, strict=True)):
        index = [next(i for i, (m, a, s) in enumerate(zip(effects.metric, effects.arm, effects.segment,
                                                         strict=True)) if (m, a, s) == (metric, arm, label))
                 for label in dict.fromkeys(wanted)]
        cov = effects.cov_estimated[np.ix_(index, index)]
        f, p = _wald(effects.estimate[index], cov, float(effects.df))
        estimand = "" if effects.estimand is None else effects.estimand.short
        meaning = ("not checked: the segments' covariance is singular or not finite" if not is_finite(p)
                   else f"p = {p:.3g} that effects this different arise when the {len(index)} segments' "
                        "effects are equal")
        rows.append(HeterogeneityRow(metric, arm, "; ".join(dict.fromkeys(wanted)), f, len(index) - 1,
                                     float(effects.df), p, estimand, meaning))
    return RowTable(rows, "Heterogeneity: Wald test of equal effects across segments")
