r"""Conjugate Normal-Inverse-Gamma regression from cross products, Student-t contrasts and
Thompson-sampling probabilities.

Notes
-----
Prior :math:`\beta|\sigma^2 \sim N(\mu_0, \sigma^2\Lambda_0^{-1})`, :math:`\sigma^2 \sim IG(a_0, b_0)`.
From :math:`X'WX, X'Wy, y'Wy` and n:

.. math::

    \Lambda_n = \Lambda_0 + X'WX, \quad \mu_n = \Lambda_n^{-1}(\Lambda_0\mu_0 + X'Wy), \quad
    a_n = a_0 + n/2, \quad b_n = b_0 + \tfrac12(y'Wy + \mu_0'\Lambda_0\mu_0 - \mu_n'\Lambda_n\mu_n)

so :math:`\beta \sim t_{2a_n}(\mu_n, (b_n/a_n)\Lambda_n^{-1})` and a contrast
:math:`d'\beta \sim t_{2a_n}(d'\mu_n, \sqrt{(b_n/a_n) d'\Lambda_n^{-1}d})`. The flat prior
(:math:`\Lambda_0 = 0, a_0 = -p/2, b_0 = 0`) reproduces the OLS t-interval exactly.
Thompson sampling plays each arm with its posterior probability of being best (Russo et al. 2018).

References
----------
Murphy, K. P. (2012). *Machine Learning: A Probabilistic Perspective*, §7.6.3. MIT Press.
Gelman, A. et al. (2013). *Bayesian Data Analysis*, 3rd ed., §14.2. CRC Press.
Russo, D. et al. (2018). A tutorial on Thompson sampling. *Foundations and Trends in ML* 11(1).
arXiv:1707.02038.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats
from numpy.typing import NDArray

from warehouse_causal.algebra.linalg import solve_spd

__all__ = ["MultivariateT", "nig_posterior", "prob_best"]


@dataclass(frozen=True, eq=False)
class MultivariateT:
    """A multivariate Student-t (df = inf: Gaussian) with location ``mean`` and ``scale`` matrix.

    For df > 2 the covariance is scale·df/(df − 2); a linear map ``a'θ`` is univariate t with
    scale :math:`\\sqrt{a' S a}`.
    """

    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    df: float

    def __post_init__(self) -> None:
        for array in (self.mean, self.scale):
            array.setflags(write=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MultivariateT):
            return NotImplemented
        return (self.mean.shape == other.mean.shape and bool(np.array_equal(self.mean, other.mean))
                and bool(np.array_equal(self.scale, other.scale)) and self.df == other.df)

    __hash__ = None  # type: ignore[assignment]

    def linear(self, matrix: NDArray[np.float64]) -> MultivariateT:
        """The distribution of ``matrix @ θ``."""
        scale = matrix @ self.scale @ matrix.T
        return MultivariateT(matrix @ self.mean, (scale + scale.T) / 2.0, self.df)

    def marginal(self) -> scipy.stats.rv_continuous:
        """Frozen scipy distributions of each coordinate (vectorised)."""
        sd = np.sqrt(np.clip(np.diag(self.scale), 0.0, None))
        if np.isinf(self.df):
            return scipy.stats.norm(loc=self.mean, scale=sd)
        return scipy.stats.t(df=self.df, loc=self.mean, scale=sd)

    def sample(self, size: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """``size`` draws, shape (size, dim)."""
        dim = self.mean.size
        eigval, eigvec = np.linalg.eigh(self.scale)
        root = eigvec * np.sqrt(np.clip(eigval, 0.0, None))
        normal = rng.standard_normal((size, dim)) @ root.T
        if not np.isinf(self.df):
            normal = normal * np.sqrt(self.df / rng.chisquare(self.df, size))[:, None]
        return self.mean + normal


def nig_posterior(
    xtx: NDArray[np.float64], xty: NDArray[np.float64], yty: float, n: float,
    mu0: NDArray[np.float64], lambda0: NDArray[np.float64], a0: float, b0: float,
) -> tuple[MultivariateT, float, float]:
    """Posterior of β (multivariate t) and (a_n, b_n) of σ² (module Notes)."""
    precision = lambda0 + xtx
    mean = solve_spd(precision, lambda0 @ mu0 + xty)
    a_n = a0 + n / 2.0
    b_n = b0 + 0.5 * (yty + mu0 @ lambda0 @ mu0 - mean @ precision @ mean)
    cov_unit = solve_spd(precision, np.eye(precision.shape[0]))
    scale = (b_n / a_n) * (cov_unit + cov_unit.T) / 2.0
    return MultivariateT(mean, scale, 2.0 * a_n), float(a_n), float(b_n)


def prob_best(arms: MultivariateT, draws: int = 200_000, seed: int = 0) -> NDArray[np.float64]:
    r"""P(each coordinate is the largest). Two coordinates: exact t (or normal) cdf of the
    difference; more: Monte Carlo from ``draws`` seeded posterior draws."""
    k = arms.mean.size
    if k == 1:
        return np.ones(1)
    if k == 2:
        diff = arms.linear(np.array([[1.0, -1.0]]))
        p0 = float(diff.marginal().sf(0.0)[0])
        return np.array([p0, 1.0 - p0])
    sample = arms.sample(draws, np.random.default_rng(seed))
    return np.bincount(np.argmax(sample, axis=1), minlength=k) / draws
