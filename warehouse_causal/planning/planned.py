"""What the planning modules read of an :class:`~warehouse_causal.planning.plan.ExperimentPlan`: the
planned design (allocation, unit, compliance, propensity, trigger, time) and its history. A protocol,
so that the history readers and the planner below the plan never import it."""

from __future__ import annotations

from typing import Any, Protocol

import ibis.expr.types as ir

__all__ = ["PlannedDesign"]


class PlannedDesign(Protocol):
    """The planned design as the history readers and the planner read it (an ``ExperimentPlan``)."""

    @property
    def history(self) -> ir.Table:
        """The pre-experiment rows."""

    @property
    def arms(self) -> dict[Any, float]:
        """The planned allocation ``{level: share}``; the first is control."""

    @property
    def control(self) -> Any:
        """The control arm: the first of ``arms``."""

    @property
    def cluster_by(self) -> str | None:
        """The planned randomization unit when coarser than rows."""

    @property
    def compliance(self) -> float:
        """The expected take-up, in (0, 1]."""

    @property
    def propensity(self) -> str | float | None:
        """The planned probability of the assigned arm (a column or a constant), if any."""

    @property
    def time(self) -> str | None:
        """The time column for durations."""

    @property
    def unit(self) -> str | None:
        """The unit column for durations."""

    @property
    def trigger(self) -> ir.BooleanValue | None:
        """The trigger condition on history rows, if any."""
