"""Tidy views of a fitted model, derived from its one source of truth (``params`` and ``cov``).

``to_dicts`` is the one conversion; ``coefficients``/``summary`` build pandas frames on it, and
``sql`` shows the compiled text of every warehouse pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.inference import standard_errors, wald_inference
from warehouse_causal.warehouse.backends import backend_name, to_sql

__all__ = ["ModelResultsMixin"]


class ModelResultsMixin:
    """Derived statistics and tables for a model with ``params`` (k, M) and ``cov`` (k·M, k·M)."""

    params: NDArray[np.float64]
    terms: tuple[str, ...]
    metrics: tuple[str, ...]
    arms: tuple[Any, ...]
    treatment_terms: tuple[str, ...]
    nobs: int
    df_resid: int
    n_clusters: int | None
    alpha: float
    query_exprs: dict[str, Any]

    if TYPE_CHECKING:  # a field of one model, a lazily completed property of another
        @property
        def cov(self) -> NDArray[np.float64]: ...

    @property
    def _diagonal_cov(self) -> NDArray[np.float64]:
        """A covariance whose diagonal blocks are the model's (no pass is run to read it)."""
        return self.cov

    @property
    def std_errors(self) -> NDArray[np.float64]:
        """(k, M) standard errors."""
        k, m = self.params.shape
        return standard_errors(np.diag(self._diagonal_cov)).reshape(m, k).T

    @property
    def df_inference(self) -> int:
        """Degrees of freedom of t tests: G − 1 with clustered covariance, else n − k."""
        return self.n_clusters - 1 if self.n_clusters is not None else self.df_resid

    def _rows(self, pairs: list[tuple[int, int]], alpha: float) -> dict[str, NDArray[np.float64]]:
        est = np.array([self.params[j, m] for j, m in pairs])
        se = np.array([self.std_errors[j, m] for j, m in pairs])
        stat, p, lo, hi = wald_inference(est, se, self.df_inference, alpha)
        randomization = getattr(self, "randomization", None)
        if randomization is not None:  # few clusters: only the arm effects have valid inference
            p, lo, hi = (np.full(len(pairs), np.nan) for _ in range(3))
            for i, (j, m) in enumerate(pairs):
                if self.terms[j] in self.treatment_terms:
                    arm = str(self.arms[self.treatment_terms.index(self.terms[j])])
                    row = randomization.row(self.metrics[m], arm, alpha)
                    p[i], lo[i], hi[i] = row.p_value, row.ci_lower, row.ci_upper
        return {"estimate": est, "std_error": se, "statistic": stat, "p_value": p,
                "ci_lower": lo, "ci_upper": hi}

    def to_dicts(self, alpha: float | None = None) -> list[dict[str, Any]]:
        """One dict per (metric, term) coefficient with estimate, std_error, statistic, p_value, CI."""
        alpha = self.alpha if alpha is None else alpha
        pairs = [(j, m) for m in range(len(self.metrics)) for j in range(len(self.terms))]
        stats = self._rows(pairs, alpha)
        return [
            {"metric": self.metrics[m], "term": self.terms[j], **{k: float(v[i]) for k, v in stats.items()}}
            for i, (j, m) in enumerate(pairs)
        ]

    def coefficients(self, alpha: float | None = None) -> Any:
        """Every coefficient of every metric as a tidy pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.to_dicts(alpha))

    def summary(self, alpha: float | None = None) -> Any:
        """Average effect of each arm vs control, per metric (the arm coefficients), as a DataFrame.

        With an instrument these are complier average effects (LATE).
        """
        import pandas as pd

        alpha = self.alpha if alpha is None else alpha
        index = {t: j for j, t in enumerate(self.terms)}
        pairs = [(index[t], m) for m in range(len(self.metrics)) for t in self.treatment_terms]
        stats = self._rows(pairs, alpha)
        rows = [
            {"metric": self.metrics[m], "arm": str(self.arms[self.treatment_terms.index(self.terms[j])]),
             **{k: float(v[i]) for k, v in stats.items()}, "n": self.nobs}
            for i, (j, m) in enumerate(pairs)
        ]
        return pd.DataFrame(rows)

    def sql(self, dialect: str | None = None) -> str:
        """The compiled SQL of every warehouse pass of the fit, for ``dialect`` (default: backend's)."""
        parts = []
        for name, expr in self.query_exprs.items():
            target = dialect or backend_name(expr)
            parts.append(f"-- {name}\n{to_sql(expr, dialect=target)};")
        return "\n\n".join(parts)
