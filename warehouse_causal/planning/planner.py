"""The planner: the MDE, standard error, size and days of a planned design from its history's
moments (pure arithmetic; the formulas are in :mod:`warehouse_causal.algebra.power`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.power import mde, sequential_radius, two_arm_se
from warehouse_causal.core.errors import DesignError, InvalidParameterError
from warehouse_causal.planning.arrivals import Arrivals
from warehouse_causal.planning.history import History
from warehouse_causal.planning.planned import PlannedDesign

__all__ = ["Planner"]


@dataclass(frozen=True)
class Planner:
    """Everything the MDE of a planned size needs (pure arithmetic from here on)."""

    plan: PlannedDesign
    metrics: tuple[str, ...]
    history: History
    alpha: float
    power: float
    tests: int
    sequential: bool
    regressors: int  # 1 + covariates: the planned fit's terms are regressors + interactions + arms
    arrivals: Arrivals | None

    @property
    def treated_arms(self) -> list[Any]:
        return list(self.plan.arms)[1:]

    @property
    def terms(self) -> int:
        arms = len(self.plan.arms) - 1
        return self.regressors + arms + arms * (self.regressors - 1)

    @property
    def smallest_size(self) -> int:
        """The smallest planned size: 2 units in every arm and more units than model terms + 1."""
        analysed = max(self.terms + 2, math.ceil(2.0 / min(self.plan.arms.values()) - 1e-9))
        return math.ceil(analysed / self.history.trigger_share - 1e-9)

    def check_size(self, units: int, owner: str) -> None:
        if units < self.smallest_size:
            what = "clusters" if self.plan.cluster_by else "units"
            raise InvalidParameterError(
                f"{owner}: a planned size of {units} {what} is too small for {len(self.plan.arms)} arms "
                f"with shares {list(self.plan.arms.values())} and {self.terms} model terms; plan at least "
                f"{self.smallest_size} {what} (2 or more in every arm).")

    def analysed(self, units: float) -> float:
        """The units analysed of ``units`` randomized: the triggered share of them with a trigger."""
        return units * self.history.trigger_share

    def se(self, units: float) -> NDArray[np.float64]:
        """(metrics, treated arms) SE of the ITT difference at ``units`` planned (randomized) units."""
        control = self.plan.arms[self.plan.control]
        analysed = self.analysed(units)
        return np.column_stack([
            two_arm_se(self.history.variance.unit, analysed, self.plan.arms[a], control, self.history.kish)
            for a in self.treated_arms])

    def radius(self, units: float) -> float | None:
        if not self.sequential:
            return None
        # the sequence's level is α/tests, like the fixed-n test's
        return sequential_radius(self.analysed(units), self.terms, self.alpha / self.tests,
                                 bool(self.plan.cluster_by))

    def mde(self, units: float) -> NDArray[np.float64]:
        """(metrics, treated arms) minimum detectable effect (the LATE with compliance < 1)."""
        return mde(self.se(units), self.alpha, self.power, self.tests, self.plan.compliance,
                   self.radius(units))

    def units_for(self, target: float, metric: int, arm: int) -> int:
        """The smallest planned size whose MDE is at most ``target``."""
        low, high = 2, 2
        while self.mde(high)[metric, arm] > target:
            high *= 2
            if high > 10**15:
                raise DesignError(f"An MDE of {target:g} is out of reach (needs over 10^15 units).")
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (mid, high) if self.mde(mid)[metric, arm] > target else (low, mid)
        return high

    def days_for(self, units: float) -> float | None:
        """Days until ``units`` distinct units have arrived (None without arrivals)."""
        if self.arrivals is None:
            return None
        seen = np.cumsum(self.arrivals.new_per_day)
        reached = np.flatnonzero(seen >= units)
        if reached.size:
            return float(reached[0] + 1)
        if self.arrivals.rate_after <= 0:
            return math.inf
        return float(len(seen) + math.ceil((units - seen[-1]) / self.arrivals.rate_after))
