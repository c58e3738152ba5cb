"""Which causal quantity a number estimates, carried by every result row.

With an instrument the arm coefficients of 2SLS estimate the complier average effect (LATE;
Imbens & Angrist 1994); without one, randomized assignment identifies the average effect of the
arm (ATE, which is the intention-to-treat effect of assignment, ITT, when treatment follows
assignment). A difference of outcome quantiles by assigned arm is a quantile difference of the
ITT kind, not a LATE; the complier quantile treatment effect (Abadie, Angrist & Imbens 2002) is
its own kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class EstimandKind(str, Enum):
    ATE = "ATE"
    ITT = "ITT"
    LATE = "LATE"
    QUANTILE_ITT = "quantile ITT"
    QUANTILE_LATE = "complier quantile effect"

    def __str__(self) -> str:
        return self.value

    @property
    def description(self) -> str:
        return {
            "ATE": "average treatment effect",
            "ITT": "intention-to-treat effect (of assignment)",
            "LATE": "complier average effect (LATE)",
            "quantile ITT": "difference of outcome quantiles by assigned arm (intention to treat)",
            "complier quantile effect":
                "quantile treatment effect on compliers (Abadie, Angrist & Imbens 2002)",
        }[self.value]


@dataclass(frozen=True)
class Estimand:
    """One estimand: its ``kind``, the ``treatment`` column, the ``arm`` against ``control``, the
    ``population`` it averages over and the ``unit`` of analysis."""

    kind: EstimandKind
    treatment: str
    arm: str = ""
    control: str = ""
    population: str = "all units"
    unit: str = "row"

    @property
    def short(self) -> str:
        """The label for a table column: 'LATE', 'ITT', 'quantile ITT' ..."""
        return self.kind.value

    @property
    def sentence(self) -> str:
        contrast = f" of {self.arm!r} vs {self.control!r}" if self.arm else ""
        return (f"The {self.kind.description}{contrast} on the metric, through {self.treatment!r}, "
                f"averaged over {self.population} (unit: {self.unit}).")
