"""Ratio metrics: ``wc.Ratio(name, numerator, denominator)`` in ``add_metric(y=[...])``.

The effect is on the ratio of arm means μ_num/μ_den (e.g. cost per resolved task = Σ cost / Σ
resolved per arm), by the delta method over the model's joint covariance of the numerator and
denominator, which are fitted as two metrics (:mod:`warehouse_causal.algebra.ratio`). It is not
the mean of per-unit ratios, which weights units with small denominators as much as large ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.meaning import Direction

__all__ = ["Ratio", "RatioMetric", "divides_inside"]


@dataclass(frozen=True)
class Ratio:
    """A ratio metric: ``numerator`` and ``denominator`` are columns, SQL expressions, ibis
    expressions or ``wc.Metric`` s (per-unit aggregates of a fact table); ``direction`` says which
    direction of the ratio is good (``"higher"``, the default, ``"lower"`` or ``"neutral"``)."""

    name: str
    numerator: Any
    denominator: Any
    direction: Direction | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameterError(
                f"The 'name' parameter of Ratio must be a non-empty string. Got {self.name!r} instead.")
        for role in ("numerator", "denominator"):
            value = getattr(self, role)
            if value is None or isinstance(value, (Ratio, bool, int, float)):
                raise InvalidParameterError(
                    f"The {role!r} parameter of Ratio must be a column name, SQL expression, ibis "
                    f"expression or wc.Metric. Got {value!r} instead.")
        if self.direction is not None:
            object.__setattr__(self, "direction", Direction.parse(self.direction, "direction", "Ratio"))


@dataclass(frozen=True)
class RatioMetric:
    """A ratio resolved against the model: the labels of its numerator and denominator metrics."""

    name: str
    numerator: str
    denominator: str


_DIVISION = re.compile(r"\)\s*/|/\s*(SUM|COUNT|AVG|MAX|MIN)\s*\(", re.IGNORECASE)


def divides_inside(value: Any) -> bool:
    """Whether a per-unit aggregate (``wc.Metric(value=...)``) divides two aggregates, e.g.
    ``SUM(revenue) / COUNT(*)``: its mean over units is a mean of ratios, not a ratio metric."""
    return isinstance(value, str) and bool(_DIVISION.search(value))
