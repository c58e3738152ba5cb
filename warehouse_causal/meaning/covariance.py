r"""The covariance estimator of a fit, as one object that owns its cluster, small-sample factor,
degrees of freedom and whether it needs leverage (instead of a string and a nullable cluster column
re-tested by if-chains).

Factors (as statsmodels and Stata): iid :math:`\hat\sigma^2 = e'We/(n-k)`; HC0 1; HC1
:math:`n/(n-k)`; HC2/HC3 divide each score by :math:`(1-h_i)^{\delta}`, δ = 1/2 or 1 (MacKinnon &
White 1985); CR0 1; CR1 :math:`G/(G-1)\cdot(n-1)/(n-k)` (Cameron & Miller 2015). Inference uses t
with n − k degrees of freedom, or G − 1 when clustered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from warehouse_causal.algebra.sandwich import leverage_power, small_sample_factor
from warehouse_causal.core.errors import InvalidParameterError

CovarianceKind = Literal["iid", "HC0", "HC1", "HC2", "HC3", "CR0", "CR1"]
COVARIANCE_KINDS: tuple[str, ...] = get_args(CovarianceKind)
_CLUSTERED = ("CR0", "CR1")


@dataclass(frozen=True)
class Covariance:
    """``kind`` (iid, HC0–HC3, CR0, CR1) and, for CR0/CR1, the ``cluster`` column."""

    kind: str
    cluster: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in COVARIANCE_KINDS:
            raise InvalidParameterError(
                f"The 'covariance' parameter must be one of {', '.join(COVARIANCE_KINDS)}. "
                f"Got {self.kind!r} instead.")
        if self.clustered and not self.cluster:
            raise InvalidParameterError(
                f"covariance={self.kind!r} needs cluster_by in ExperimentData (the cluster column).")
        if not self.clustered and self.cluster is not None:
            object.__setattr__(self, "cluster", None)

    @classmethod
    def choose(cls, kind: str | None, cluster_by: str | None) -> Covariance:
        """The default is CR1 by ``cluster_by`` when the design is clustered, else HC1."""
        kind = kind or ("CR1" if cluster_by else "HC1")
        return cls(kind, cluster_by if kind in _CLUSTERED else None)

    @property
    def clustered(self) -> bool:
        return self.kind in _CLUSTERED

    @property
    def homoskedastic(self) -> bool:
        return self.kind == "iid"

    @property
    def meat_leverage_power(self) -> int:
        """The exponent of :math:`(1-h_i)` dividing a squared score in the meat: 2δ (1 for HC2, 2 for
        HC3, 0 otherwise; :func:`warehouse_causal.algebra.sandwich.leverage_power`)."""
        return leverage_power(self.kind)

    @property
    def needs_leverage(self) -> bool:
        return self.meat_leverage_power > 0

    def factor(self, n: float, k: int, clusters: int | None = None) -> float:
        """The small-sample factor that multiplies the sandwich (1 for iid, whose σ² carries n − k;
        :func:`warehouse_causal.algebra.sandwich.small_sample_factor`); NaN for CR1 with fewer than
        2 clusters."""
        if self.kind == "CR1" and (clusters is None or clusters < 2):
            return float("nan")
        return small_sample_factor(self.kind, int(n), k, clusters)

    def df(self, n: float, k: int, clusters: int | None = None) -> float:
        """Degrees of freedom of the t reference: G − 1 when clustered, else n − k."""
        if self.clustered:
            return float("nan") if clusters is None else float(clusters - 1)
        return float(n - k)

    @property
    def label(self) -> str:
        """'HC1', 'CR1 by team' ..."""
        return f"{self.kind} by {self.cluster}" if self.clustered else self.kind
