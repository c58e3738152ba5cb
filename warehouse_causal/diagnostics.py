"""Design diagnostics of a fit, read off the pass-1 moments: first-stage strength and covariate
balance across assignment arms. Warnings name the term and the statistic."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from warehouse_causal.algebra.diagnostics import first_stage_f, standardized_difference
from warehouse_causal.errors import CovariateImbalanceWarning, DesignWarning, WeakInstrumentWarning
from warehouse_causal.moments import Design, Moments

__all__ = [
    "BALANCE_P",
    "BALANCE_SMD",
    "WEAK_F",
    "BalanceRow",
    "FirstStageRow",
    "balance_table",
    "check_clusters",
    "first_stage_table",
]

#: Stock–Yogo rule of thumb for one endogenous regressor.
WEAK_F = 10.0
#: A covariate is flagged when |standardised difference| exceeds this and p is below BALANCE_P.
BALANCE_SMD = 0.1
BALANCE_P = 0.001


class FirstStageRow(NamedTuple):
    """Partial F of the excluded instruments for one endogenous regressor."""

    term: str
    f_statistic: float


class BalanceRow(NamedTuple):
    """Weighted covariate means by assignment arm and their standardised difference."""

    covariate: str
    arm: str
    mean_control: float
    mean_arm: float
    standardized_difference: float
    p_value: float


def first_stage_table(design: Design, moments: Moments) -> tuple[FirstStageRow, ...]:
    """First-stage F for every regressor that is not its own instrument; warns below WEAK_F."""
    endogenous = [label for label in design.x if label not in design.z]
    if not endogenous:
        return ()
    excluded = np.array([label not in design.x for label in design.z])
    f = first_stage_f(
        moments.block(design.z, design.z),
        moments.block(design.z, endogenous),
        np.diag(moments.block(endogenous, endogenous)),
        excluded,
        moments.nobs,
    )
    rows = tuple(FirstStageRow(term, float(v)) for term, v in zip(endogenous, f, strict=True))
    weak = [r for r in rows if not r.f_statistic >= WEAK_F]
    if weak:
        listed = ", ".join(f"{r.term!r} (F={r.f_statistic:.1f})" for r in weak)
        warnings.warn(
            f"Weak instrument: first-stage F below {WEAK_F:g} for {listed}. 2SLS is biased towards "
            "OLS and its intervals are unreliable; the encouragement barely moves treatment.",
            WeakInstrumentWarning, stacklevel=5,
        )
    return rows


def balance_table(design: Design, moments: Moments) -> tuple[BalanceRow, ...]:
    """Covariate means by instrument (assignment) arm; warns on a likely post-treatment covariate."""
    if not design.covariates:
        return ()
    one = design.intercept
    sum_w = moments.block([one], [one])[0, 0]
    rows = []
    for arm in design.instruments:
        w_arm = moments.block([arm], [arm])[0, 0]  # Σ w d² = Σ w d for a dummy
        w_control = sum_w - sum(moments.block([a], [a])[0, 0] for a in design.instruments)
        for cov in design.covariates:
            total = moments.block([one], [cov])[0, 0]
            in_arm = moments.block([arm], [cov])[0, 0]
            in_any = sum(moments.block([a], [cov])[0, 0] for a in design.instruments)
            mean_all = total / sum_w
            var = moments.block([cov], [cov])[0, 0] / sum_w - mean_all**2
            shift = design.columns[cov].shift
            mean_arm = in_arm / w_arm + shift
            mean_control = (total - in_any) / w_control + shift
            smd, p = standardized_difference(mean_arm, mean_control, float(np.sqrt(max(var, 0.0))),
                                             w_arm, w_control)
            rows.append(BalanceRow(cov, arm, mean_control, mean_arm, smd, p))
    flagged = [r for r in rows if abs(r.standardized_difference) > BALANCE_SMD and r.p_value < BALANCE_P]
    if flagged:
        listed = ", ".join(
            f"{r.covariate!r} in {r.arm!r} (SMD={r.standardized_difference:+.2f})" for r in flagged
        )
        warnings.warn(
            f"Covariate imbalance across assignment arms: {listed}. A covariate that moves with "
            "assignment may be measured after treatment; adjusting for it biases the effect.",
            CovariateImbalanceWarning, stacklevel=5,
        )
    return tuple(rows)


def check_clusters(n_clusters: int, mixed: int, cluster: str) -> None:
    """Warn on clusters that hold several assignment arms (few clusters are handled by
    :func:`warehouse_causal.randomization.choose_inference`)."""
    if mixed:
        warnings.warn(
            f"{mixed} of {n_clusters} clusters of {cluster!r} contain more than one assignment arm: "
            "randomization was not by cluster. Clustered errors stay valid (and conservative) "
            "if the clusters capture the dependence between rows.",
            DesignWarning, stacklevel=5,
        )
