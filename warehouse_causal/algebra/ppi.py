r"""Prediction-powered inference (PPI, PPI++) for a mean measured by a judge (e.g. an LLM score S)
and calibrated to a human label Y observed on a random audit subsample, from sums only.

Notes
-----
Per arm, audited rows L (n rows: Y and S) and unaudited rows U (N rows: S only):

.. math::

    \hat\theta_\lambda = \lambda \bar S_U + \overline{(Y - \lambda S)}_L, \qquad
    \widehat{Var} = \lambda^2 \frac{Var_U(S)}{N} + \frac{Var_L(Y - \lambda S)}{n}

(population variances, as ppi_py). λ = 1 is PPI; PPI++ uses
:math:`\hat\lambda = Cov_L(Y, S) / ((1 + n/N) Var_{L\cup U}(S))` clipped to [0, 1]. Arms are
independent, so effect variances add. Valid when the audit is random within each arm, even if the
judge's bias differs by arm.

References
----------
Angelopoulos, A. N., Bates, S., Fannjiang, C., Jordan, M. I. and Zrnic, T. (2023). Prediction-powered
inference. *Science* 382(6671), 669–674. doi:10.1126/science.adi6000
Angelopoulos, A. N., Duchi, J. C. and Zrnic, T. (2023). PPI++: efficient prediction-powered
inference. arXiv:2311.01453.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["ArmSums", "audit_mean", "judge_mean", "ppi_lambda", "ppi_mean"]


class ArmSums(NamedTuple):
    """Sums over one arm's audited (L) and unaudited (U) rows."""

    n: float  # audited rows
    sy: float
    ss: float
    syy: float
    sss: float
    sys: float
    big_n: float  # unaudited rows
    ss_u: float
    sss_u: float


def ppi_mean(a: ArmSums, lam: float) -> tuple[float, float]:
    """(θ̂_λ, standard error) for one arm."""
    my, ms, mu = a.sy / a.n, a.ss / a.n, a.ss_u / a.big_n
    var_u = a.sss_u / a.big_n - mu**2
    var_y, var_s, cov = a.syy / a.n - my**2, a.sss / a.n - ms**2, a.sys / a.n - my * ms
    estimate = lam * mu + my - lam * ms
    return estimate, float(np.sqrt(lam**2 * var_u / a.big_n + (var_y - 2 * lam * cov + lam**2 * var_s) / a.n))


def ppi_lambda(a: ArmSums) -> float:
    """PPI++ power-tuning λ̂, clipped to [0, 1]."""
    cov = a.sys / a.n - a.sy * a.ss / a.n**2
    total = a.n + a.big_n
    mean = (a.ss + a.ss_u) / total
    var = (a.sss + a.sss_u - total * mean**2) / (total - 1)
    return float(np.clip(cov / ((1 + a.n / a.big_n) * var), 0.0, 1.0))


def judge_mean(a: ArmSums) -> tuple[float, float]:
    """Mean judge score over all rows of the arm (biased for the human scale) and its SE."""
    total = a.n + a.big_n
    mean = (a.ss + a.ss_u) / total
    return mean, float(np.sqrt(((a.sss + a.sss_u) / total - mean**2) / total))


def audit_mean(a: ArmSums) -> tuple[float, float]:
    """Mean human label over the audited rows only, and its SE."""
    mean = a.sy / a.n
    return mean, float(np.sqrt((a.syy / a.n - mean**2) / a.n))
