"""A percentile metric's declaration (``wc.Quantile``); its effects are estimated by
:mod:`warehouse_causal.effects.quantiles`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.core.validation import Real, check_param

__all__ = ["Quantile"]


@dataclass(frozen=True)
class Quantile:
    """A percentile metric: the ``q``-quantile (in (0, 1)) of ``column`` (a column or SQL expression)."""

    name: str
    column: Any
    q: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameterError(
                f"The 'name' parameter of Quantile must be a non-empty string. Got {self.name!r} instead.")
        object.__setattr__(self, "q", float(check_param(self.q, "q", "Quantile", Real(0.0, 1.0))))
