"""What a number means, as types every layer reads instead of re-deriving it.

- :class:`Status`: the outcome of a check (ok / alert / not checked / refused); NaN can never become ok.
- :class:`Direction`: whether higher or lower values of a metric are better.
- :class:`Estimand`: which causal quantity a row estimates (ITT, LATE, ATE, quantile differences ...).
- :class:`PeriodAxis`: period values ordered in their own type (numbers, dates, timestamps, text).
- :class:`Covariance`: the covariance estimator, its cluster, small-sample factor and degrees of freedom.

This package sits just above ``errors`` and the pure algebra: it imports nothing else of the package.
"""

from warehouse_causal.meaning.covariance import COVARIANCE_KINDS, Covariance
from warehouse_causal.meaning.direction import Direction
from warehouse_causal.meaning.estimand import Estimand, EstimandKind
from warehouse_causal.meaning.periods import PeriodAxis, period_sort_key
from warehouse_causal.meaning.status import Status, is_finite

__all__ = [
    "COVARIANCE_KINDS",
    "Covariance",
    "Direction",
    "Estimand",
    "EstimandKind",
    "PeriodAxis",
    "Status",
    "is_finite",
    "period_sort_key",
]
