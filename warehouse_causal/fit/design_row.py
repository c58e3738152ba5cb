"""The design row: one place that lays out x(arm, covariates) in a fitted model's terms.

With covariates centred at their means (``LinearFit`` reports coefficients that way), the row of
arm a at covariate values w is x = [1, 1{a}, (w − w̄), 1{a}·(w − w̄)] in the order of the model's
terms (Lin 2013's interacted regression; the additive model has no interaction terms). Every reader
builds it here: the delta vectors of effects (arm − control at a segment's means), the monitor's
re-projected effect, the policy's reward rows and the off-policy prediction in SQL. The values may
be numbers or ibis expressions (anything that multiplies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

__all__ = ["design_values", "effect_vector"]

V = TypeVar("V")

Interactions = Sequence[tuple[str, str, str]]  # (term, arm term, covariate)


def design_values(intercept: str, arms: Mapping[str, V], covariates: Mapping[str, V],
                  interactions: Interactions, one: V) -> dict[str, V]:
    """x(arm, w) by term: the intercept ``one``, each arm term's indicator (``arms``), each centred
    covariate (``covariates``) and each interaction as the product of its arm's indicator and its
    covariate."""
    values: dict[str, Any] = {intercept: one, **arms, **covariates}
    for term, arm, covariate in interactions:
        values[term] = values[arm] * values[covariate]
    return values


def effect_vector(terms: Sequence[str], arm_term: str, interactions: Interactions,
                  centred_means: Mapping[str, float]) -> NDArray[np.float64]:
    """x(arm) − x(control) at covariates whose centred means are ``centred_means`` (covariate →
    its mean minus the model's mean; 0 for the experiment's population): 1 at the arm term and the
    centred mean at each of the arm's interactions. The effect is this vector times β."""
    index = {term: j for j, term in enumerate(terms)}
    d = np.zeros(len(terms))
    d[index[arm_term]] = 1.0
    for term, arm, covariate in interactions:
        if arm == arm_term:
            d[index[term]] = centred_means.get(covariate, 0.0)
    return d
