r"""``LinearFit``: weighted, cluster-robust 2SLS fitted from warehouse moments, as plain result data
(``wc.LinearModel`` adds the verbs: :mod:`warehouse_causal.fluent`).

The passes that produce its moments and covariance are run by :mod:`warehouse_causal.fit.passes`;
here the fit checks its options, chooses the inference (:mod:`warehouse_causal.fit.randomization`),
reads the diagnostics and re-parametrises the coefficients to covariates centred at their weighted
mean, so the arm coefficients are average effects (Lin 2013, doi:10.1214/12-AOAS583) and, with an
instrument, complier average effects (LATE; Imbens and Angrist 1994, doi:10.2307/2951620).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar, get_args

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra import (
    COVARIANCE_TYPES,
)
from warehouse_causal.algebra.sandwich import (
    CLUSTERED_TYPES,
    without_cross_metric_blocks,
)
from warehouse_causal.core.errors import (
    DesignError,
    InvalidParameterError,
)
from warehouse_causal.core.frozen import read_only, values_equal
from warehouse_causal.core.tables import RowTable
from warehouse_causal.core.validation import BOOLEAN, NONE, Integer, Options, Real, validated
from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.fit.diagnostics import (
    BalanceRow,
    FirstStageRow,
    RobustMeats,
    balance_table,
    check_clusters,
    first_stage_table,
)
from warehouse_causal.fit.moments import (
    Design,
    Moments,
)
from warehouse_causal.fit.passes import Passes, centred_covariance, hc_meat, run_passes, solve
from warehouse_causal.fit.randomization import (
    RandomizationInference,
    choose_inference,
    randomization_inference,
)
from warehouse_causal.fit.results import ModelResultsMixin
from warehouse_causal.fit.route import FitPlan, Route
from warehouse_causal.meaning.covariance import Covariance
from warehouse_causal.warehouse.backends import QueryRecord, QueryRunner

__all__ = ["LinearFit", "reparametrisation"]

_M = TypeVar("_M", bound="LinearFit")

#: Where ``LinearFit.cov`` keeps the covariance it completed (a cache on a frozen result).
_FILLED_COV = "_filled_cov"

Strategy = Literal["auto", "moments", "compressed"]
Inference = Literal["auto", "classical", "randomization"]
def _centred_estimates(design: Design, passes: Passes, estimator: Covariance
                       ) -> tuple[dict[str, float], NDArray[np.float64], NDArray[np.float64]]:
    """The covariates' weighted means, and the coefficients and their joint covariance with
    covariates centred at those means (read-only arrays; the blocks between metrics left NaN when
    the passes skipped them)."""
    one = design.intercept
    sum_w = passes.moments.block([one], [one])[0, 0]
    means = {c: float(passes.moments.block([one], [c])[0, 0] / sum_w) for c in design.covariates}
    t = reparametrisation(design, means)
    params = t @ passes.solution.params
    params[0] += np.array([design.columns[y].shift for y in design.y])
    cov = centred_covariance(design, passes, estimator, t)
    if not passes.cross_metric:  # computed on first use (see ``cov``)
        cov = without_cross_metric_blocks(cov, len(design.y))
    for array in (params, cov):
        array.setflags(write=False)
    return means, params, cov


def reparametrisation(design: Design, means: dict[str, float]) -> NDArray[np.float64]:
    r"""T with :math:`X_{basis} = X_{centred} T`, so :math:`\beta_{centred} = T\beta_{basis}`.

    A shifted covariate is :math:`w - K = (w - \bar w) + (\bar w - K)\cdot 1` and an interaction is
    :math:`d(w - K) = d(w - \bar w) + (\bar w - K) d`; ``means`` holds :math:`\bar w - K`, the
    weighted mean of each shifted covariate column.
    """
    index = {label: i for i, label in enumerate(design.x)}
    t = np.eye(len(design.x))
    for c in design.covariates:
        t[index[design.intercept], index[c]] = means[c]
    for label, arm, cov in design.interactions:
        t[index[arm], index[label]] = means[cov]
    return t


@dataclass(frozen=True, eq=False)
class LinearFit(ModelResultsMixin):
    r"""A fitted weighted (2SLS) linear model for one or many metrics.

    Create it with ``experiment.add_metric(...).fit(wc.LinearModel, covariance=..., interacted=...)``;
    the options of ``fit`` follow.

    Other Parameters
    ----------------
    covariance : "iid", "HC0", "HC1", "HC2", "HC3", "CR0" or "CR1" (default HC1, or CR1 with
        ``cluster_by``). HC2/HC3 leverage is :math:`h_i = w_i z_i'(Z'WZ)^{-1}z_i`.
    interacted : add arm × centred-covariate terms (Lin 2013); False gives the additive (CUPED) model.
    strategy : "auto" (default), "moments" or "compressed"; ``strategy_reason`` says why.
    alpha : level of the reported intervals (default 0.05).
    cross_metric_covariance : True (default): Cov(β_m, β_l) between metrics is part of the model.
        With HC covariance in the two-pass strategy those blocks would cost M(M+1)/2 metric pairs
        of per-row sums instead of M (quadratic in M), so the fit sums the same-metric pairs only
        and the blocks between metrics are computed on first use (``model.cov``, ``Effects.cov``,
        ``Effects.combine`` across metrics): one more HC pass for just the missing pairs. False:
        they stay NaN (unknown) unless ``with_cross_metric_covariance`` or a combine asks for them;
        every same-metric result is exact either way. Where the blocks come free (CR, iid,
        compressed cells) they are always estimated.
    inference : "auto" (default), "classical" or "randomization". With clusters too few for CR1
        (fewer than 50, or 10 in an arm; see :mod:`warehouse_causal.fit.randomization`) "auto" tests the
        arm effects by re-drawing the cluster assignment; ``model.inference`` says what ran.
    permutations, seed : assignments drawn for randomization inference (all of them when there
        are at most ``permutations``), and the seed of the draws.

    Attributes
    ----------
    params : (k, M) coefficients; column m belongs to ``metrics[m]``, row j to ``terms[j]``.
        Covariates are centred at their weighted mean, so arm rows are average effects.
    cov : (k·M, k·M) joint covariance, metric-major (block (m, l) is Cov(β_m, β_l)). With HC
        covariance in the two-pass strategy the blocks m ≠ l are computed on first use (reading
        ``cov``, combining effects across metrics): one more HC pass for just those pairs, logged in
        ``queries``; they are NaN when ``cross_metric_covariance=False``.
    cov_estimated : ``cov`` as the fit estimated it: the blocks m ≠ l NaN until they are needed.
    cross_metric_covariance : whether the blocks m ≠ l of ``cov`` are available.
    nobs, df_resid, n_clusters : rows, n − k, and clusters (CR covariance only).
    inference : "classical", "randomization", or "classical (too few clusters: unreliable)".
    clusters_per_arm : clusters holding each assignment arm (CR covariance only).
    first_stage, balance : design diagnostics with the fit's covariance (see
        :mod:`warehouse_causal.fit.diagnostics`).
    """

    params: NDArray[np.float64] = field(repr=False)
    cov_estimated: NDArray[np.float64] = field(repr=False)
    terms: tuple[str, ...]
    metrics: tuple[str, ...]
    arms: tuple[Any, ...]
    treatment_terms: tuple[str, ...]
    nobs: int
    df_resid: int
    n_clusters: int | None
    covariance: str
    strategy: str
    strategy_reason: str
    interacted: bool
    alpha: float
    first_stage: tuple[FirstStageRow, ...] = field(repr=False)
    balance: tuple[BalanceRow, ...] = field(repr=False)
    queries: tuple[QueryRecord, ...] = field(repr=False, compare=False)  # timings differ per run
    spec: ModelSpec = field(repr=False, compare=False)
    query_exprs: dict[str, Any] = field(repr=False, compare=False)
    design: Design = field(repr=False, compare=False)
    covariate_means: dict[str, float] = field(repr=False, compare=False)
    moments: Moments = field(repr=False, compare=False)
    cross_metric_covariance: bool = True
    inference: str = "classical"
    clusters_per_arm: dict[Any, int] | None = field(default=None, repr=False, compare=False)
    randomization: RandomizationInference | None = field(default=None, repr=False, compare=False)
    #: The route the passes took (see :mod:`warehouse_causal.fit.route`) and the plan that chose it.
    route: str = field(default="", compare=False)
    fit_plan: FitPlan | None = field(default=None, repr=False, compare=False)

    @property
    def covariance_estimator(self) -> Covariance:
        """The covariance as a typed object: its kind, cluster column, factor and degrees of freedom."""
        if self.fit_plan is not None:
            return self.fit_plan.covariance
        return Covariance.choose(self.covariance, self.spec.experiment.cluster_by)

    __eq__ = values_equal  # arrays compared element by element
    __hash__ = None  # type: ignore[assignment]

    @property
    def cov(self) -> NDArray[np.float64]:
        """The joint covariance; missing blocks between metrics are computed on first use (one HC
        pass, appended to ``queries``) when ``cross_metric_covariance`` is True."""
        cached = self.__dict__.get(_FILLED_COV)
        if cached is not None:
            return cached
        if not self.cross_metric_covariance or not np.isnan(self.cov_estimated).any():
            return self.cov_estimated
        filled = self.with_cross_metric_covariance()
        object.__setattr__(self, "queries", filled.queries)  # a cache: the result's values are unchanged
        object.__setattr__(self, _FILLED_COV, filled.cov_estimated)
        return filled.cov_estimated

    @property
    def _diagonal_cov(self) -> NDArray[np.float64]:
        return self.cov_estimated

    def with_cross_metric_covariance(self: _M, metrics: Any = None) -> _M:
        """This model with Cov(β_m, β_l) estimated between ``metrics`` (default all): one more HC pass
        that sums only the missing metric pairs, when the fit skipped them
        (``cross_metric_covariance=False``); the model itself when nothing is missing."""
        names = [metrics] if isinstance(metrics, str) else list(self.metrics if metrics is None else metrics)
        unknown = [m for m in names if m not in self.metrics]
        if unknown:
            raise InvalidParameterError(f"Unknown metrics {unknown}; the model has {list(self.metrics)}.")
        index = sorted({self.metrics.index(m) for m in names})
        k = len(self.terms)
        pairs = [(a, b) for i, a in enumerate(index) for b in index[i + 1:]
                 if np.isnan(self.cov_estimated[a * k, b * k])]
        if not pairs:
            return self
        cached = self.__dict__.get(_FILLED_COV)  # filled on first use of ``cov``
        if cached is not None and not any(np.isnan(cached[a * k, b * k]) for a, b in pairs):
            return replace(self, cov_estimated=cached, cross_metric_covariance=True)
        design, runner = self.design, QueryRunner(list(self.queries))
        solution, ztz = solve(design, self.moments)
        _, meat, _ = hc_meat(design, solution, ztz, self.covariance_estimator, pairs, runner,
                              "pass 2: HC scores between metrics")
        between = centred_covariance(design, Passes(self.moments, solution, meat, None, 0, {}),
                                      self.covariance_estimator,
                                      reparametrisation(design, self.covariate_means))
        cov = self.cov_estimated.copy()
        for a, b in pairs:
            rows, cols = slice(a * k, (a + 1) * k), slice(b * k, (b + 1) * k)
            cov[rows, cols], cov[cols, rows] = between[rows, cols], between[cols, rows]
        cov.setflags(write=False)
        return replace(self, cov_estimated=cov, cross_metric_covariance=not np.isnan(cov).any(),
                       queries=RowTable(runner.records, "Warehouse queries of this fit"))

    @classmethod
    @validated("LinearModel.fit", covariance=(Options(*COVARIANCE_TYPES), NONE), interacted=BOOLEAN,
               strategy=Options(*get_args(Strategy)), alpha=Real(0, 1), cross_metric_covariance=BOOLEAN,
               inference=Options(*get_args(Inference)), permutations=Integer(20, 1_000_000),
               seed=Integer(0))
    def _fit(cls: type[_M], spec: ModelSpec, covariance: str | None = None, interacted: bool = True,
             strategy: Strategy = "auto", alpha: float = 0.05,
             cross_metric_covariance: bool = True, inference: Inference = "auto",
             permutations: int = 2_000, seed: int = 0) -> _M:
        exp = spec.experiment  # the options are checked by the @validated declaration
        covariance = covariance or ("CR1" if exp.cluster_by else "HC1")
        if covariance in CLUSTERED_TYPES and exp.cluster_by is None:
            raise InvalidParameterError(
                f"covariance={covariance!r} needs a cluster column: pass cluster_by=... to ExperimentData."
            )
        if inference == "randomization" and (exp.cluster_by is None or covariance not in CLUSTERED_TYPES):
            raise InvalidParameterError(
                "inference='randomization' re-randomizes clusters: it needs cluster_by=... on "
                "ExperimentData and a cluster-robust covariance (CR0/CR1).")
        runner = QueryRunner(list(exp.runner.records))
        estimator = Covariance.choose(covariance, exp.cluster_by)
        design, passes, plan, route, reason = run_passes(spec, runner, interacted, strategy, estimator)
        if passes.n_clusters is not None:
            if passes.n_clusters < 2:
                raise DesignError(
                    f"Cluster-robust covariance needs at least 2 clusters; found {passes.n_clusters}."
                )
            check_clusters(passes.n_clusters, passes.mixed_clusters, str(exp.cluster_by))
        chosen_inference = choose_inference(inference, spec, design, passes.n_clusters,
                                            passes.mixed_clusters, passes.clusters_per_arm)
        robust = None
        if passes.aux:
            robust = RobustMeats(passes.aux, passes.aux_meats, covariance, passes.n_clusters,
                                 testable=chosen_inference == "classical")
        first_stage = first_stage_table(design, passes.moments, robust)
        balance = balance_table(design, passes.moments, robust)
        means, params, cov = _centred_estimates(design, passes, estimator)
        randomized = None
        if chosen_inference == "randomization":
            k = len(design.x)
            arm_rows = [design.x.index(term) for term in design.treatment]
            scales = np.sqrt(np.diag(cov)).reshape(len(design.y), k).T[arm_rows]
            randomized = randomization_inference(spec, design, means, params[arm_rows], scales, interacted,
                                                 permutations, seed, runner)
        return cls(
            params=params, cov_estimated=cov, terms=design.x, metrics=design.y,
            arms=design.arms, treatment_terms=design.treatment, nobs=passes.moments.nobs,
            df_resid=passes.moments.nobs - len(design.x), n_clusters=passes.n_clusters,
            covariance=covariance, strategy="compressed" if route is Route.COMPRESSED else "moments",
            strategy_reason=reason, route=route.value, fit_plan=plan, interacted=interacted,
            alpha=alpha, first_stage=RowTable(first_stage, "First stage: strength of the instruments"),
            balance=RowTable(balance, "Covariate balance across assignment arms"),
            queries=RowTable(runner.records, "Warehouse queries of this fit"),
            spec=spec, query_exprs=read_only(passes.queries), design=design, covariate_means=read_only(means),
            moments=passes.moments, cross_metric_covariance=cross_metric_covariance or passes.cross_metric,
            inference=chosen_inference, clusters_per_arm=read_only(passes.clusters_per_arm),
            randomization=randomized,
        )
