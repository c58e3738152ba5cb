"""Effects projected to a future mix of segments (``Effects.project``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.effects.delta import infer_effect
from warehouse_causal.effects.segments import ALL
from warehouse_causal.effects.table import WEIGHT_SUM_TOL, EffectsTable

__all__ = ["project"]


def project(effects: EffectsTable, mix: dict[Any, float], name: str = "projection") -> EffectsTable:
    """Effects re-weighted to a future mix of segments: Σ_s weight_s · effect_s per (metric, arm).

    Keys are segment labels of this object, or new conditions: then every key is recomputed
    with the same model (one segment query). Weights must sum to 1; the SE comes from the joint
    covariance of the segments.
    """
    total = sum(mix.values()) if mix else 0.0
    if abs(total - 1.0) > WEIGHT_SUM_TOL:
        raise InvalidParameterError(f"The weights of project must sum to 1; got {total!r}.")
    base, labels = effects, list(mix)
    if not all(isinstance(k, str) and k in effects.segment for k in mix):
        if effects.model is None:
            raise InvalidParameterError("New conditions need the model; these effects were combined.")
        seq = effects.sequential
        planned = None if seq.planned_n == seq.n else int(seq.planned_n)
        conditions = [k for k in mix if not (isinstance(k, str) and k == ALL)]
        base = infer_effect(effects.model, conditions, alpha=effects.alpha, relative=effects.relative,
                            adjust=effects.adjust, planned_n=planned)
        new_labels = iter(list(dict.fromkeys(base.segment))[1:])
        labels = [ALL if isinstance(k, str) and k == ALL else next(new_labels) for k in mix]
    pairs = list(dict.fromkeys(zip(base.metric, base.arm, strict=True)))
    row = {key: i for i, key in enumerate(zip(base.metric, base.arm, base.segment, strict=True))}
    weights = np.zeros((len(pairs), len(base.metric)))
    for r, (m, a) in enumerate(pairs):
        for label, w in zip(labels, mix.values(), strict=True):
            weights[r, row[(m, a, label)]] = w
    n = [max(base.n)] * len(pairs)
    return base.mapped(weights, [p[0] for p in pairs], [p[1] for p in pairs], [name] * len(pairs), n)
