"""Which estimand a result's rows report: one rule, read by every result that labels its rows
(effects, quantile, cumulative, calibrated and off-policy rows), so no table shows one estimand
under another's name.

- The arm coefficients of the linear model (:func:`design_estimand`): the complier average effect
  (LATE) when ``treated`` is instrumented (Imbens & Angrist 1994); the intention-to-treat effect
  (ITT) when the arm is the assignment itself (it equals the average treatment effect only when
  everyone takes the arm they are assigned); the average treatment effect (ATE) when a received arm
  is its own instrument (randomized, or weighted by its propensity).
- Contrasts by the assigned arm whatever the design (:func:`assigned_estimand`): ITT, or the
  quantile ITT for differences of quantiles. Under an instrument they are not the LATE.
- Values of a policy (:class:`ValueKind`): not contrasts between arms, so kinds of their own.

The types are :class:`warehouse_causal.meaning.Estimand` and ``EstimandKind``; this module holds
the rule and imports nothing above ``meaning``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from warehouse_causal.meaning import Estimand, EstimandKind

__all__ = ["ValueKind", "assigned_estimand", "design_estimand"]


class ValueKind(str, Enum):
    """Row estimands that are a policy's mean outcome, not an effect (kinds ``EstimandKind`` lacks)."""

    POLICY_VALUE = "policy value"
    LOGGED_VALUE = "logged policy value"

    def __str__(self) -> str:
        return self.value


def design_estimand(experiment: Any) -> Estimand:
    """What the arm coefficients of a linear model of ``experiment`` estimate (module notes)."""
    control = str(experiment.design.treated_control)
    if experiment.is_iv:
        return Estimand(EstimandKind.LATE, experiment.treated_column, control=control, population="compliers")
    kind = EstimandKind.ITT if experiment.treated_column == experiment.intent_to_treat else EstimandKind.ATE
    return Estimand(kind, experiment.treated_column, control=control)


def assigned_estimand(experiment: Any, quantile: bool = False) -> Estimand:
    """The estimand of a contrast by the assigned arm (``intent_to_treat``): ITT, or quantile ITT."""
    kind = EstimandKind.QUANTILE_ITT if quantile else EstimandKind.ITT
    return Estimand(kind, experiment.intent_to_treat, control=str(experiment.design.control))
