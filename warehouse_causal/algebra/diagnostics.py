r"""Design diagnostics computed from counts and moments: sample-ratio mismatch, first-stage
strength, covariate balance.

References
----------
Fabijan, A. et al. (2019). Diagnosing sample ratio mismatch in online controlled experiments.
KDD '19. doi:10.1145/3292500.3330722.
Stock, J. H. and Yogo, M. (2005). Testing for weak instruments in linear IV regression. In
*Identification and Inference for Econometric Models*, 80–108. doi:10.1017/CBO9780511614491.006
Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline covariates.
*Statistics in Medicine* 28(25), 3083–3107. doi:10.1002/sim.3697
"""

from __future__ import annotations

import numpy as np
import scipy.stats
from numpy.typing import NDArray

from warehouse_causal.algebra.linalg import solve_spd

__all__ = ["first_stage_f", "robust_wald_f", "sample_ratio_test", "standardized_difference"]


def sample_ratio_test(
    observed: NDArray[np.float64], expected_share: NDArray[np.float64]
) -> tuple[float, float]:
    r"""Pearson :math:`\chi^2 = \sum_a (O_a - N p_a)^2 / (N p_a)` with A−1 df; returns (χ², p)."""
    observed = np.asarray(observed, dtype=float)
    share = np.asarray(expected_share, dtype=float) / np.sum(expected_share)
    expected = observed.sum() * share
    stat = float(np.sum((observed - expected) ** 2 / expected))
    return stat, float(scipy.stats.chi2.sf(stat, len(observed) - 1))


def _rss(ztz: NDArray[np.float64], ztd: NDArray[np.float64], dtd: NDArray[np.float64]) -> NDArray:
    coef = solve_spd(ztz, ztd)
    return dtd - np.einsum("ij,ij->j", ztd, coef)


def first_stage_f(
    ztz: NDArray[np.float64],
    ztd: NDArray[np.float64],
    dtd_diag: NDArray[np.float64],
    excluded: NDArray[np.bool_],
    nobs: int,
) -> NDArray[np.float64]:
    r"""Partial F of the excluded instruments in each first-stage regression (homoskedastic).

    Parameters
    ----------
    ztz : (kz, kz) Z'WZ.
    ztd : (kz, q) Z'WD for the q endogenous regressors D.
    dtd_diag : (q,) the diagonal of D'WD.
    excluded : (kz,) True for instruments excluded from the second stage.

    Notes
    -----
    .. math:: F_j = \frac{(RSS_{r,j} - RSS_{u,j}) / q_e}{RSS_{u,j} / (n - k_z)}

    where the restricted model drops the :math:`q_e` excluded instruments (Stock and Yogo 2005).
    """
    rss_u = _rss(ztz, ztd, dtd_diag)
    keep = ~excluded
    rss_r = _rss(ztz[np.ix_(keep, keep)], ztd[keep], dtd_diag)
    q = int(excluded.sum())
    df = nobs - ztz.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((rss_r - rss_u) / q) / (rss_u / df)


def robust_wald_f(coefs: NDArray[np.float64], cov: NDArray[np.float64]) -> float:
    r"""Wald F of H0: all ``coefs`` = 0 with their (robust) covariance:
    :math:`\hat\pi' \hat V^{-1} \hat\pi / q` (the Kleibergen–Paap Wald F for one endogenous
    regressor). Infinite when the covariance is singular and the coefficients are not 0."""
    q = len(coefs)
    try:
        value = float(coefs @ np.linalg.solve(cov, coefs)) / q
    except np.linalg.LinAlgError:
        return float("inf") if np.any(coefs != 0) else 0.0
    return value


def standardized_difference(
    mean_arm: float, mean_control: float, sd_pooled: float, n_arm: float, n_control: float
) -> tuple[float, float]:
    r"""Standardised mean difference :math:`(\bar x_a - \bar x_c)/s` and its two-sided z-test p-value.

    s is the pooled standard deviation; the test treats rows as independent (it is a screen, not
    an inference, under clustering).
    """
    if sd_pooled <= 0:
        return 0.0, 1.0
    smd = (mean_arm - mean_control) / sd_pooled
    z = smd / np.sqrt(1.0 / n_arm + 1.0 / n_control)
    return float(smd), float(2 * scipy.stats.norm.sf(abs(z)))
