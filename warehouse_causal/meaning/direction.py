"""Which direction of a metric is good: declared once per metric, read by decisions, guardrails,
memos, report colours and agent answers (so a fall in minutes of latency is shown as good)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.meaning.status import is_finite

_SPELLINGS = {
    "higher": "higher", "increase": "higher", "up": "higher", "higher_is_better": "higher",
    "lower": "lower", "decrease": "lower", "down": "lower", "lower_is_better": "lower",
    "neutral": "neutral", "none": "neutral", "either": "neutral",
}


class Direction(str, Enum):
    """``HIGHER`` (higher is better, the default for a metric), ``LOWER`` or ``NEUTRAL``."""

    HIGHER = "higher"
    LOWER = "lower"
    NEUTRAL = "neutral"

    def __str__(self) -> str:
        return self.value

    @property
    def sign(self) -> int:
        """+1 when higher is better, −1 when lower is better, 0 when neither."""
        return {"higher": 1, "lower": -1, "neutral": 0}[self.value]

    @property
    def phrase(self) -> str:
        return {"higher": "higher is better", "lower": "lower is better",
                "neutral": "no preferred direction"}[self.value]

    def is_good(self, change: float) -> bool | None:
        """Whether a change of this sign is an improvement (None: neutral metric, zero or NaN change)."""
        if self is Direction.NEUTRAL or not change == change or change == 0:
            return None
        return (change > 0) == (self is Direction.HIGHER)

    @classmethod
    def parse(cls, value: Any, name: str = "direction", owner: str = "add_metric") -> Direction:
        """A Direction from itself, None (higher) or one of its spellings, else a clear error."""
        if value is None:
            return cls.HIGHER
        if isinstance(value, Direction):
            return value
        if isinstance(value, str) and value.strip().lower() in _SPELLINGS:
            return cls(_SPELLINGS[value.strip().lower()])
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be 'higher', 'lower' or 'neutral' (which direction "
            f"of the metric is good). Got {value!r} instead.")


def judge(lower: float, upper: float, direction: Direction) -> str:
    """How an interval reads for a metric with this good direction: "good" (wholly on the good
    side of 0), "bad" (wholly on the bad side), "moved" (off 0, for a neutral metric) or ""
    (across 0, or not finite). Report cards, forest plots and charts colour by it."""
    if not (is_finite(lower) and is_finite(upper)) or lower <= 0 <= upper:
        return ""
    return {True: "good", False: "bad", None: "moved"}[direction.is_good(upper if lower > 0 else lower)]
