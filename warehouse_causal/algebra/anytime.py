r"""Anytime-valid (peeking-safe) p-values and confidence sequences for linear-model effects.

Two families, both computed from an estimate, its standard error and sample sizes only:

* **Exact sequential t** (Lindon et al. 2022, avlm). With :math:`t = \hat\theta/se`,
  :math:`\nu = n - p` and :math:`r = g/(g+n)`:

  .. math::

      \log E = \tfrac12 \log r + \tfrac{\nu+1}{2}\left[\log(1 + t^2/\nu) - \log(1 + r t^2/\nu)\right],
      \qquad p = \min(1, 1/E)

  and the confidence sequence :math:`\hat\theta \pm se\,R_t` with :math:`c = (r\alpha^2)^{1/(\nu+1)}`,
  :math:`R_t = \sqrt{\nu(1-c)/(c-r)}`. g is fixed in advance by :func:`optimal_g` at a planned n.
  With heteroskedasticity-robust se the same formulas are used ("plug-in rule" of avlm).

* **Asymptotic Gaussian mixture** (Waudby-Smith et al. 2023; Howard et al. 2021), for
  cluster-robust se where the independent units are the G clusters: with :math:`z = \hat\theta/se`,

  .. math::

      h = se\sqrt{\frac{n\rho^2+1}{n\rho^2}\log\frac{n\rho^2+1}{\alpha^2}}, \qquad
      \log E = \frac{\rho^2 n z^2}{2(n\rho^2+1)} - \tfrac12\log(n\rho^2+1)

  with :math:`\rho^2` from :func:`rho2_exact` at the planned n.

References
----------
Lindon, M., Ham, D. W., Tingley, M. and Bojinov, I. (2022). Anytime-valid linear models and
regression adjusted causal inference in randomized experiments. arXiv:2210.08589.
Waudby-Smith, I., Arbour, D., Sinha, R., Kennedy, E. H. and Ramdas, A. (2023). Time-uniform central
limit theory and asymptotic confidence sequences. arXiv:2103.06476.
Howard, S. R., Ramdas, A., McAuliffe, J. and Sekhon, J. (2021). Time-uniform, nonparametric,
nonasymptotic confidence sequences. *Annals of Statistics* 49(2). doi:10.1214/20-AOS1991
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

__all__ = [
    "asymptotic_halfwidth",
    "asymptotic_p_value",
    "optimal_g",
    "rho2_exact",
    "t_p_value",
    "t_radius",
]


def _log_e_t(t: ArrayLike, nu: float, n: float, g: float) -> NDArray[np.float64]:
    t2 = np.asarray(t, dtype=float) ** 2
    r = g / (g + n)
    return 0.5 * np.log(r) + 0.5 * (nu + 1) * (np.log1p(t2 / nu) - np.log1p(r * t2 / nu))


def t_p_value(t: ArrayLike, nu: float, n: float, g: float) -> NDArray[np.float64]:
    """Anytime-valid p-value of the sequential t-test (avlm ``p_G_t``)."""
    return np.minimum(1.0, np.exp(-_log_e_t(t, nu, n, g)))


def t_radius(g: float, n: float, p: int, alpha: float) -> float:
    """Half-width of the confidence sequence in standard-error units (avlm ``t_radius``); inf if none."""
    nu = n - p
    r = g / (g + n)
    c = (r * alpha**2) ** (1.0 / (nu + 1))
    return float(np.sqrt(nu * (1 - c) / (c - r))) if c > r else float("inf")


def optimal_g(n: float, p: int, alpha: float) -> float:
    r"""g minimising :func:`t_radius` at sample size n (avlm ``optimal_g``); use a *planned* n."""
    nu = n - p
    a = alpha ** (2.0 / nu)
    upper = n * a / (1 - a)
    result = optimize.minimize_scalar(lambda g: t_radius(g, n, p, alpha), bounds=(1.0, upper),
                                      method="bounded", options={"xatol": 1e-10})
    return float(result.x)


def rho2_exact(n_planned: float, alpha: float) -> float:
    r""":math:`\rho^2 = (-W_{-1}(-\alpha^2/e) - 1)/n^*`, minimising the width at :math:`n^*`."""
    return float((-special.lambertw(-(alpha**2) / np.e, k=-1).real - 1.0) / n_planned)


def asymptotic_halfwidth(se: ArrayLike, n: float, rho2: float, alpha: float) -> NDArray[np.float64]:
    """Half-width of the two-sided asymptotic confidence sequence (Waudby-Smith et al., eq. 9)."""
    a = n * rho2 + 1.0
    return np.asarray(se, dtype=float) * np.sqrt(a / (n * rho2) * np.log(a / alpha**2))


def asymptotic_p_value(z: ArrayLike, n: float, rho2: float) -> NDArray[np.float64]:
    """Anytime-valid p-value dual to :func:`asymptotic_halfwidth`."""
    a = n * rho2 + 1.0
    log_e = rho2 * n * np.asarray(z, dtype=float) ** 2 / (2.0 * a) - 0.5 * np.log(a)
    return np.minimum(1.0, np.exp(-log_e))
