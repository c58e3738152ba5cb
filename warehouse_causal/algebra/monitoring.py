r"""The statistics of post-launch monitoring (pure numpy, from per-period sums).

Repeated checks. A check that runs once per period (every day after launch) spends its error rate
over the looks: the k-th look tests at :math:`\alpha_k = 6\alpha/(\pi^2 k^2)`, and
:math:`\sum_k \alpha_k = \alpha`. So by the union bound the probability of *any* false alarm, over
any number of looks, is at most α. The intervals at level :math:`1-\alpha_k` then hold for every
period at once: a confidence sequence for the per-period values (the α-spending construction;
Lan & DeMets 1983; Howard et al. 2021, §1, on why fixed-level intervals fail under peeking).

Cluster-robust means. A period's mean of a metric over rows of many units is a ratio
:math:`\bar y = \sum_g S_g / \sum_g n_g`. Its variance is
:math:`\frac{G}{G-1}\sum_g (S_g - n_g\bar y)^2 / n^2`, from :math:`\sum S_g^2`,
:math:`\sum n_g S_g` and :math:`\sum n_g^2` (Cameron & Miller 2015, §2.3).

Threshold rules that are not tests: the standardized mean difference
:math:`(\bar x_p - \bar x_e)/\sqrt{(s_e^2 + s_p^2)/2}` over 0.1 (Austin 2009, Stat. Med. 28), and the
R² of a linear probability model of production-vs-experiment membership on the covariates. They
measure how large a difference is, so they carry no error rate.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = ["ClusterSums", "TestResult", "Wald", "cluster_mean", "difference_test", "membership_r2",
           "one_sided_harm_p", "per_period_tests", "slope_test", "spent_alpha", "standardized_difference",
           "trend_test", "wald_effect"]


def spent_alpha(alpha: float, look: int) -> float:
    """The level of the ``look``-th (1-based) test: 6α/(π²k²), summing to α over all looks."""
    if look < 1:
        raise ValueError("looks are numbered from 1")
    return 6.0 * alpha / (math.pi**2 * look**2)


class TestResult(NamedTuple):
    """A z-test: statistic, two-sided p-value, the level it was tested at and whether it rejected."""

    statistic: float
    p_value: float
    level: float
    rejected: bool


def _z_test(difference: float, std_error: float, level: float) -> TestResult:
    if not (std_error > 0 and math.isfinite(difference)):
        return TestResult(float("nan"), float("nan"), level, False)
    z = difference / std_error
    p = float(2.0 * stats.norm.sf(abs(z)))
    return TestResult(float(z), p, level, p < level)


def difference_test(a: float, se_a: float, b: float, se_b: float, level: float) -> TestResult:
    """z-test of a − b for independent estimates a and b."""
    return _z_test(a - b, math.sqrt(se_a**2 + se_b**2), level)


class ClusterSums(NamedTuple):
    """Sums over units g of one group: rows Σn_g, values ΣS_g, ΣS_g², Σn_g·S_g, Σn_g², units G."""

    n: float
    total: float
    squares: float
    cross: float
    sizes: float
    units: float


def cluster_mean(sums: ClusterSums) -> tuple[float, float]:
    """(mean, cluster-robust standard error) of a ratio mean (module notes); NaN when undefined."""
    if sums.n <= 0 or sums.units < 2:
        return (sums.total / sums.n if sums.n > 0 else float("nan")), float("nan")
    mean = sums.total / sums.n
    spread = sums.squares - 2.0 * mean * sums.cross + mean**2 * sums.sizes
    variance = sums.units / (sums.units - 1.0) * max(spread, 0.0) / sums.n**2
    return mean, math.sqrt(variance)


def combined_sums(y: ClusterSums, d: ClusterSums, cross: float, b: float) -> ClusterSums:
    """The :class:`ClusterSums` of y − b·d, from those of y and d over the same rows (same n_g) and
    ``cross`` = Σ_g S_g·D_g."""
    return ClusterSums(y.n, y.total - b * d.total, y.squares - 2.0 * b * cross + b * b * d.squares,
                       y.cross - b * d.cross, y.sizes, y.units)


class Wald(NamedTuple):
    """The Wald (instrumental-variable) effect of a binary instrument: (ȳ₁ − ȳ₀)/(d̄₁ − d̄₀), its
    delta-method standard error, and the first stage d̄₁ − d̄₀ with its standard error."""

    effect: float
    std_error: float
    first_stage: float
    first_stage_se: float


def wald_effect(on: tuple[ClusterSums, ClusterSums, float], off: tuple[ClusterSums, ClusterSums, float]
                ) -> Wald:
    r"""The Wald effect of an instrument that is on in one group and off in the other (independent
    groups), each given as (sums of y, sums of d over the same rows, Σ_g S_g·D_g).

    :math:`\hat b = \Delta\bar y/\Delta\bar d`; linearised, :math:`\hat b - b \approx \Delta\bar u /
    \Delta\bar d` with :math:`u = y - b d`, so :math:`\mathrm{SE}(\hat b) = \sqrt{\mathrm{SE}(\bar u_1)^2 +
    \mathrm{SE}(\bar u_0)^2}/|\Delta\bar d|` with each group's cluster-robust SE of the mean of u at
    :math:`\hat b` (the just-identified 2SLS sandwich; Imbens & Angrist 1994). NaN when the first
    stage is zero or undefined."""
    (y1, d1, c1), (y0, d0, c0) = on, off
    (mean_y1, _), (mean_d1, se_d1) = cluster_mean(y1), cluster_mean(d1)
    (mean_y0, _), (mean_d0, se_d0) = cluster_mean(y0), cluster_mean(d0)
    first, first_se = mean_d1 - mean_d0, math.hypot(se_d1, se_d0)
    if not (math.isfinite(first) and first != 0.0 and math.isfinite(mean_y1 - mean_y0)):
        return Wald(float("nan"), float("nan"), first, first_se)
    b = (mean_y1 - mean_y0) / first
    _, se_u1 = cluster_mean(combined_sums(y1, d1, c1, b))
    _, se_u0 = cluster_mean(combined_sums(y0, d0, c0, b))
    return Wald(b, math.hypot(se_u1, se_u0) / abs(first), first, first_se)


def standardized_difference(mean_a: float, var_a: float, mean_b: float, var_b: float) -> float:
    """(mean_b − mean_a) / sqrt((var_a + var_b)/2); 0 when both are constant and equal."""
    pooled = math.sqrt(max((var_a + var_b) / 2.0, 0.0))
    if pooled == 0.0:
        return 0.0 if mean_a == mean_b else math.copysign(math.inf, mean_b - mean_a)
    return (mean_b - mean_a) / pooled


def membership_r2(n_e: float, sum_e: NDArray[np.float64], cross_e: NDArray[np.float64],
                  n_p: float, sum_p: NDArray[np.float64], cross_p: NDArray[np.float64]) -> float:
    """R² of the linear probability model m ~ 1 + x, m = 1 for production rows and 0 for experiment
    rows, from each population's n, Σx and Σxx'. 0 when the covariate means agree (it sees only
    linear, mean differences); NaN when a sum is not finite."""
    if not all(np.isfinite(a).all() for a in (sum_e, cross_e, sum_p, cross_p)):
        return float("nan")  # infinite values: undefined (LAPACK fails on them)
    total = n_e + n_p
    s = sum_e + sum_p
    gram = np.block([[np.array([[total]]), s[None, :]], [s[:, None], cross_e + cross_p]])
    target = np.concatenate([[n_p], sum_p])
    beta = np.linalg.lstsq(gram, target, rcond=None)[0]
    share = n_p / total
    explained = float(beta @ target - total * share**2)
    spread = float(n_p - total * share**2)
    r2 = explained / spread if spread > 0 else float("nan")
    if not math.isfinite(r2):  # min/max would turn NaN into 1 (NaN compares False)
        return float("nan")
    return max(0.0, min(1.0, r2))


def per_period_tests(values: NDArray[np.float64], std_errors: NDArray[np.float64], reference: float,
                     reference_se: float, alpha: float) -> list[TestResult]:
    """Period k's value against the reference (the experiment's), tested at the spent level α_k:
    P(any false alarm over every period) ≤ α. Periods keep their index, so re-running the check
    each day repeats the same tests."""
    return [difference_test(float(v), float(s), reference, reference_se, spent_alpha(alpha, k))
            for k, (v, s) in enumerate(zip(values, std_errors, strict=True), start=1)]


def trend_test(values: NDArray[np.float64], variances: NDArray[np.float64], alpha: float
               ) -> tuple[float, TestResult]:
    """The slope over the periods so far, tested at α_K with K = the number of periods: run once
    per new period, the false alarms over all days add up to at most α."""
    return slope_test(values, variances, spent_alpha(alpha, max(len(values), 1)))


def slope_test(values: NDArray[np.float64], variances: NDArray[np.float64], level: float
               ) -> tuple[float, TestResult]:
    """Weighted least-squares slope of ``values`` over their index (0, 1, …), weights 1/variance,
    and its z-test against 0 at ``level``. Periods with a missing value or variance are skipped."""
    keep = np.isfinite(values) & np.isfinite(variances) & (variances > 0)
    x, y, w = np.arange(len(values), dtype=float)[keep], values[keep], 1.0 / variances[keep]
    if len(y) < 3:
        return float("nan"), TestResult(float("nan"), float("nan"), level, False)
    x_bar = float(np.sum(w * x) / np.sum(w))
    sxx = float(np.sum(w * (x - x_bar) ** 2))
    slope = float(np.sum(w * (x - x_bar) * y) / sxx)
    return slope, _z_test(slope, math.sqrt(1.0 / sxx), level)


def one_sided_harm_p(estimate: NDArray[np.float64], std_error: NDArray[np.float64], bound: str,
                     tolerance: float) -> NDArray[np.float64]:
    """p-values of H0 "the effect is on the safe side of ``tolerance``": for ``bound`` "<" (must
    stay below) small when the effect is above it, for ">" small when it is below."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (estimate - tolerance) / std_error
    return np.asarray(stats.norm.sf(z) if bound == "<" else stats.norm.cdf(z), dtype=float)
