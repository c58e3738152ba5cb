r"""Design diagnostics of a fit: first-stage strength and covariate balance across assignment arms,
with the covariance the user chose. Warnings name the term and the statistic.

Both are side regressions whose coefficients come from the pass-1 moments and whose scores are
summed in pass 2 with the metrics' (:class:`~warehouse_causal.fit.moments.Auxiliary`), so under HC or
CR covariance they are robust at no extra scan:

* first stage: the treatment dummy :math:`D_j` on Z. The robust Wald F of the q excluded
  instruments, :math:`F_j = \hat\pi_e' \hat V_e^{-1} \hat\pi_e / q` with
  :math:`\hat V = c\,(Z'WZ)^{-1} M (Z'WZ)^{-1}`, is the Kleibergen–Paap Wald statistic for one
  endogenous regressor (Kleibergen and Paap 2006; Andrews, Stock and Sun 2019 recommend it, or
  the Montiel Olea–Pflueger effective F, which equals it with one instrument). The homoskedastic F
  stays as a second column; ``WeakInstrumentWarning`` reads the robust one.
* balance: each covariate on the intercept and the instrument arms; the arm coefficient is the
  difference of means, tested with the design's covariance (clusters as the units under CR), with
  t(G − 1) under CR as the fit's own tests.

References
----------
Kleibergen, F. and Paap, R. (2006). Generalized reduced rank tests using the singular value
decomposition. *Journal of Econometrics* 133(1), 97–126. doi:10.1016/j.jeconom.2005.02.011
Andrews, I., Stock, J. H. and Sun, L. (2019). Weak instruments in instrumental variables
regression: theory and practice. *Annual Review of Economics* 11, 727–753.
doi:10.1146/annurev-economics-080218-025643
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.diagnostics import first_stage_f, robust_wald_f, standardized_difference
from warehouse_causal.algebra.inference import NORMAL, standard_errors, wald_inference
from warehouse_causal.algebra.linalg import solve_spd
from warehouse_causal.algebra.sandwich import small_sample_factor
from warehouse_causal.core.errors import CovariateImbalanceWarning, DesignWarning, WeakInstrumentWarning
from warehouse_causal.fit.moments import Auxiliary, Design, Moments

__all__ = [
    "BALANCE_P",
    "BALANCE_SMD",
    "WEAK_F",
    "BalanceRow",
    "FirstStageRow",
    "RobustMeats",
    "balance_table",
    "check_clusters",
    "diagnostic_regressions",
    "exact_first_stage",
    "first_stage_table",
]

#: Stock–Yogo rule of thumb for one endogenous regressor.
WEAK_F = 10.0
#: A covariate is flagged when ``|standardised difference|`` exceeds this and p is below BALANCE_P.
BALANCE_SMD = 0.1
BALANCE_P = 0.001
#: A treatment dummy whose weighted share in every instrument cell is 0 or 1 within this relative
#: precision follows the instruments exactly (its first stage fits without residual).
EXACT_SHARE = 1e-9


class FirstStageRow(NamedTuple):
    """Strength of the excluded instruments for one endogenous regressor: ``f_statistic`` with the
    fit's covariance (robust Wald F under HC/CR), and the homoskedastic partial F beside it."""

    term: str
    f_statistic: float
    f_homoskedastic: float
    covariance: str


class BalanceRow(NamedTuple):
    """Weighted covariate means by assignment arm, their standardised difference and the p-value of
    the difference with the fit's covariance (``covariance``; "iid" treats rows as independent)."""

    covariate: str
    arm: str
    mean_control: float
    mean_arm: float
    standardized_difference: float
    p_value: float
    covariance: str = "iid"


@dataclass(frozen=True, eq=False)
class RobustMeats:
    """The side regressions of pass 2 and their meats, with what scales them (see module Notes)."""

    equations: tuple[Auxiliary, ...]
    meats: tuple[NDArray[np.float64], ...]
    covariance: str
    n_clusters: int | None
    #: False with too few clusters: cluster-robust tests are then degenerate, and balance is not tested.
    testable: bool = True

    def has(self, name: str) -> bool:
        """Whether pass 2 summed the side regression called ``name``."""
        return any(eq.name == name for eq in self.equations)

    def covariance_of(self, name: str, moments: Moments) -> tuple[Auxiliary, NDArray[np.float64]]:
        """The equation called ``name`` and the robust covariance of its coefficients."""
        e = next(i for i, eq in enumerate(self.equations) if eq.name == name)
        equation = self.equations[e]
        bread = np.linalg.inv(moments.block(equation.regressors, equation.regressors))
        scale = small_sample_factor(self.covariance, moments.nobs, len(equation.regressors), self.n_clusters)
        cov = scale * bread @ self.meats[e] @ bread
        return equation, (cov + cov.T) / 2.0


def diagnostic_regressions(design: Design, moments: Moments) -> tuple[Auxiliary, ...]:
    """The side regressions whose scores pass 2 sums: each endogenous regressor on Z (first stage),
    each covariate on the intercept and instrument arms (balance)."""
    out = []
    ztz = moments.block(design.z, design.z)
    # the treated arms only: an arm × covariate term's first stage would cost pass 2 a block of
    # sums as large as a metric's; those rows keep the homoskedastic F
    for label in design.treatment:
        if label not in design.z:
            coefs = solve_spd(ztz, moments.block(design.z, [label]))[:, 0]
            out.append(Auxiliary(f"first stage: {label}", label, design.z, coefs))
    arms = (design.intercept, *design.instruments)
    gram = moments.block(arms, arms)
    for label in design.covariates:
        coefs = solve_spd(gram, moments.block(arms, [label]))[:, 0]
        out.append(Auxiliary(f"balance: {label}", label, arms, coefs))
    return tuple(out)


def exact_first_stage(design: Design, moments: Moments) -> tuple[str, ...]:
    """The regressors that are not their own instrument but follow the instruments exactly: a
    treatment dummy constant within every instrument cell (every unit takes the arm its assignment
    gives it, as when ``treated`` copies the assignment), and its arm × covariate terms.

    Their first stage fits without residual, so its F is not a statistic (it comes out as inf, a
    huge number or a negative one from rounding): there is no first stage to test."""
    one = design.intercept
    cells = [moments.block([z], [z])[0, 0] for z in design.instruments]
    cells.append(moments.block([one], [one])[0, 0] - sum(cells))  # the control cell
    exact = set()
    for dummy in design.treatment:
        if dummy in design.z:
            continue
        inside = [moments.block([z], [dummy])[0, 0] for z in design.instruments]
        inside.append(moments.block([one], [dummy])[0, 0] - sum(inside))
        if all(min(abs(s), abs(w - s)) <= EXACT_SHARE * abs(w) for s, w in zip(inside, cells, strict=True)):
            exact.add(dummy)
    arm_of = {label: arm for label, arm, _ in design.interactions}
    return tuple(label for label in design.x if label not in design.z
                 and (label in exact or arm_of.get(label) in exact))


def first_stage_table(design: Design, moments: Moments, robust: RobustMeats | None = None
                      ) -> tuple[FirstStageRow, ...]:
    """First-stage F for every regressor that is not its own instrument, with the fit's covariance
    for the treated arms when ``robust`` holds their pass-2 meats (arm × covariate terms keep the
    homoskedastic F); warns below WEAK_F.

    Regressors that follow the instruments exactly (:func:`exact_first_stage`) get no row: their F
    would be inf or a rounding artefact. A robust F that is negative (a covariance that rounding made
    indefinite) is NaN: not a statistic, and reported as not checked, never as weak or strong."""
    exact = exact_first_stage(design, moments)
    endogenous = [label for label in design.x if label not in design.z and label not in exact]
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
    rows = []
    for term, homoskedastic in zip(endogenous, f, strict=True):
        statistic, kind = float(homoskedastic), "iid"
        if robust is not None and robust.has(f"first stage: {term}"):
            equation, cov = robust.covariance_of(f"first stage: {term}", moments)
            statistic = robust_wald_f(equation.coefs[excluded], cov[np.ix_(excluded, excluded)])
            kind = robust.covariance
        rows.append(FirstStageRow(term, statistic if statistic >= 0 else float("nan"), float(homoskedastic),
                                  kind))
    weak = [r for r in rows if np.isfinite(r.f_statistic) and r.f_statistic < WEAK_F]
    if weak:
        listed = ", ".join(f"{r.term!r} (F={r.f_statistic:.1f})" for r in weak)
        warnings.warn(
            f"Weak instrument: first-stage F below {WEAK_F:g} for {listed}. 2SLS is biased towards "
            "OLS and its intervals are unreliable; the encouragement barely moves treatment.",
            WeakInstrumentWarning, stacklevel=5,
        )
    unknown = [r.term for r in rows if not np.isfinite(r.f_statistic)]
    if unknown:
        warnings.warn(
            f"The first-stage F of {unknown} could not be computed: the strength of the instrument "
            "is not checked for them.", WeakInstrumentWarning, stacklevel=5,
        )
    return tuple(rows)


def balance_table(design: Design, moments: Moments, robust: RobustMeats | None = None
                  ) -> tuple[BalanceRow, ...]:
    """Covariate means by instrument (assignment) arm, tested with the fit's covariance when
    ``robust`` holds its pass-2 meats; warns on a likely post-treatment covariate."""
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
            kind = "iid"
            if robust is not None and not robust.testable:
                p, kind = float("nan"), f"{robust.covariance} (too few clusters to test)"
            elif robust is not None:
                p = _robust_balance_p(robust, moments, cov, 1 + design.instruments.index(arm))
                kind = robust.covariance
            rows.append(BalanceRow(cov, arm, mean_control, mean_arm, smd, p, kind))
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


def _robust_balance_p(robust: RobustMeats, moments: Moments, covariate: str, index: int) -> float:
    """Two-sided p-value of the arm coefficient of the covariate's balance regression, with t(G − 1)
    under clusters and the normal otherwise."""
    equation, cov = robust.covariance_of(f"balance: {covariate}", moments)
    se = float(standard_errors(np.array([cov[index, index]]))[0])
    if se == 0.0:
        return 1.0 if equation.coefs[index] == 0 else 0.0
    df = NORMAL if robust.n_clusters is None else robust.n_clusters - 1
    return float(wald_inference(equation.coefs[index:index + 1], np.array([se]), df, 0.05)[1][0])


def check_clusters(n_clusters: int, mixed: int, cluster: str) -> None:
    """Warn on clusters that hold several assignment arms (few clusters are handled by
    :func:`warehouse_causal.fit.randomization.choose_inference`)."""
    if mixed:
        warnings.warn(
            f"{mixed} of {n_clusters} clusters of {cluster!r} contain more than one assignment arm: "
            "randomization was not by cluster. Clustered errors stay valid (and conservative) "
            "if the clusters capture the dependence between rows.",
            DesignWarning, stacklevel=5,
        )
