r"""Power and minimum detectable effect of a planned experiment, from the moments of its history.

Notes
-----
Rows i of the history fall in randomization units g (clusters; a unit is a row when the design is
not clustered), :math:`N_g` rows each, :math:`\bar N = n/G`. With u = [1, covariates] (shifted) and
y the metrics, one query returns the row-level cross products :math:`A = \sum u u'`,
:math:`B = \sum u y'`, :math:`C = \sum y y'` and the same products of the per-unit sums
:math:`U_g = \sum_{i \in g} u_i`, :math:`Y_g = \sum_{i\in g} y_i` (:math:`A_c, B_c, C_c`).

- Covariate adjustment (CUPED / Lin 2013): the pooled OLS slope :math:`\beta = A^{-1}B`; the
  residual row variance :math:`\sigma_e^2 = (C - B'A^{-1}B)_{mm}/(n - p)` against the raw
  :math:`\sigma_y^2`; ``variance_reduction`` = :math:`1 - \sigma_e^2/\sigma_y^2` (= R²). Lin's
  interacted estimator has at most this variance asymptotically (Lin 2013, Thm. 2 and 3).
- Clustering: the residual sum of unit g is :math:`E_g = Y_g - U_g'\beta`, and
  :math:`\sum_g E_g^2 = C_c - B_c'\beta - \beta'B_c + \beta'A_c\beta` (diagonal). An arm mean is a
  ratio of sums, so by the delta method
  :math:`\mathrm{Var}(\bar y_a) \approx \sum_{g\in a}E_g^2/(\sum_{g \in a} N_g)^2`
  :math:`= s_E^2/(G_a \bar N^2)` with :math:`s_E^2 = \sum_g E_g^2/(G - p)`. Unit variance
  :math:`\sigma_u^2 = s_E^2/\bar N^2`; the design effect against :math:`\bar N` independent rows is
  :math:`s_E^2/(\bar N \sigma_e^2)`, which is :math:`1 + (m-1)\rho` for equal cluster sizes m and
  intra-cluster correlation ρ (Kish 1965, §5.4) and grows with unequal sizes. Without clusters
  :math:`N_g = 1` and :math:`\sigma_u^2 = \sigma_e^2`.
- Weights 1/p of an adaptive design multiply the variance by Kish's design effect
  :math:`n\sum w^2/(\sum w)^2` (Kish 1965, §11.7).
- With G units split by the planned shares :math:`\pi`, arm a against control:
  :math:`SE = \sqrt{\mathrm{deff}_w\,\sigma_u^2 (1/(G\pi_a) + 1/(G\pi_0))}`; the MDE at level α
  (two-sided, Bonferroni over ``tests`` comparisons) and power 1 − β is
  :math:`(z_{1-\alpha/2} + z_{1-\beta})\,SE / c` for compliance c (the Wald/LATE estimate is the ITT
  divided by c; Angrist, Imbens & Rubin 1996).
- Anytime-valid: :math:`z_{1-\alpha/2}\,SE` becomes the half-width of the confidence sequence that the
  effects use at the planned n (:mod:`warehouse_causal.algebra.anytime`), tuned to that n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from warehouse_causal.algebra.anytime import asymptotic_halfwidth, optimal_g, rho2_exact, t_radius
from warehouse_causal.algebra.linalg import solve_spd

__all__ = ["UnitVariance", "mde", "sequential_radius", "two_arm_se", "unit_variances"]


@dataclass(frozen=True)
class UnitVariance:
    """Per metric: the raw and residual row variances, the unit variance σ_u² and the design effect."""

    raw: NDArray[np.float64]  # σ_y², row level, no covariates
    residual: NDArray[np.float64]  # σ_e², row level, after the covariates
    unit: NDArray[np.float64]  # σ_u² = s_E² / N̄², per randomization unit
    design_effect: NDArray[np.float64]  # s_E² / (N̄ σ_e²); 1 without clusters
    rows_per_unit: float  # N̄

    @property
    def variance_reduction(self) -> NDArray[np.float64]:
        """1 − σ_e²/σ_y²: the share of the metric's variance the covariates explain (CUPED's R²)."""
        return np.asarray(1.0 - self.residual / self.raw)


def unit_variances(a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64],
                   a_units: NDArray[np.float64], b_units: NDArray[np.float64],
                   c_units: NDArray[np.float64], n: float, units: float) -> UnitVariance:
    """The variances of the module notes from the row-level (``a, b, c``) and per-unit
    (``a_units, b_units, c_units``) cross products; u's first column is the intercept, so
    ``a[0, 0]`` = n and ``a_units[0, 0]`` = Σ N_g²."""
    p = a.shape[0]
    if n <= p or units <= p:
        raise ValueError(f"need more rows ({n}) and units ({units}) than regressors ({p})")
    beta = solve_spd(a, b)
    residual = np.diag(c - b.T @ beta) / (n - p)
    means = b[0] / n
    raw = (np.diag(c) - n * means**2) / (n - 1)
    sum_e2 = np.diag(c_units - b_units.T @ beta - beta.T @ b_units + beta.T @ a_units @ beta)
    rows_per_unit = n / units
    s_e2 = sum_e2 / (units - p)
    unit = s_e2 / rows_per_unit**2
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant metric: refused by the caller
        design_effect = s_e2 / (rows_per_unit * residual)
    return UnitVariance(raw, residual, unit, design_effect, rows_per_unit)


def two_arm_se(unit_variance: NDArray[np.float64] | float, units: NDArray[np.float64] | float,
               share_arm: float, share_control: float, kish: float = 1.0) -> NDArray[np.float64]:
    """SE of the difference of an arm's mean and control's with ``units`` units split by the shares."""
    units = np.asarray(units, dtype=float)
    per_unit = 1.0 / (units * share_arm) + 1.0 / (units * share_control)
    return np.asarray(np.sqrt(kish * np.asarray(unit_variance) * per_unit))


def mde(se: NDArray[np.float64] | float, alpha: float, power: float, tests: int = 1, compliance: float = 1.0,
        radius: NDArray[np.float64] | float | None = None) -> NDArray[np.float64]:
    """(z_{1−α/(2·tests)} + z_{power}) · SE / compliance; with ``radius`` (the anytime-valid half-width
    in SE units) in place of the first z."""
    first = stats.norm.ppf(1.0 - alpha / (2.0 * tests)) if radius is None else np.asarray(radius)
    return np.asarray((first + stats.norm.ppf(power)) * np.asarray(se) / compliance, dtype=float)


def sequential_radius(units: float, terms: int, alpha: float, clustered: bool) -> float:
    """Half-width, in SE units, of the confidence sequence the effects report at ``units`` when it is
    also the planned n (``infer_effect(planned_n=units)``): the t-mixture for rows, the asymptotic
    one for clusters (as :func:`warehouse_causal.effects.delta._sequential` chooses)."""
    if clustered:
        return float(asymptotic_halfwidth(1.0, units, rho2_exact(units, alpha), alpha))
    return float(t_radius(optimal_g(units, terms, alpha), units, terms, alpha))
