r"""``BayesianLinearRegression``: the conjugate Normal-Inverse-Gamma posterior of the same design
as ``LinearModel``, from the same pass-1 moments (no extra pass over rows), plus posterior effects,
arm rankings and the serializable reward model behind ``Policy``.

With ``cluster_by`` the iid likelihood behind the NIG posterior is wrong (rows in a cluster are
dependent), and its intervals would be too narrow. We then use the honest large-sample answer:
a Gaussian posterior centred at the NIG posterior mean with the cluster-robust (CR1) sandwich as
covariance (Müller 2013, "Risk of Bayesian inference in misspecified models, and the sandwich
covariance matrix", *Econometrica* 81(5), doi:10.3982/ECTA9097). ``posterior_kind`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.bayes import MultivariateT, nig_posterior, prob_best
from warehouse_causal.core.errors import DesignError, InvalidParameterError
from warehouse_causal.core.tables import TableResult
from warehouse_causal.core.validation import BOOLEAN, NONE, InstanceOf, Integer, Options, Real, validated
from warehouse_causal.decide.policy import CovariateColumn, RewardDistribution, RewardModel
from warehouse_causal.design.estimands import design_estimand
from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.effects.delta import segment_rows
from warehouse_causal.fit.models import LinearFit, Strategy, reparametrisation

__all__ = ["BayesianLinearRegression", "NormalInverseGamma", "PosteriorEffects"]

#: Default prior weight: each coefficient's prior is worth this fraction of one observation.
WEAK_PRIOR_WEIGHT = 1e-4
WEAK_SIGMA_PRIOR = 1e-3


@dataclass(frozen=True)
class NormalInverseGamma:
    r"""Prior :math:`\beta_j|\sigma^2 \sim N(m_j, \sigma^2 s_j^2)`, :math:`\sigma^2 \sim IG(a, b)`.

    ``mean`` and ``scale`` are one number for every non-intercept term or a dict by term name
    (coefficients of centred covariates, so ``arm[1]`` is the average effect); a term with no
    scale gets a flat prior. ``NormalInverseGamma.flat()`` is the flat prior
    (:math:`\propto 1/\sigma^2`), whose intervals equal OLS.
    """

    mean: float | dict[str, float] = 0.0
    scale: float | dict[str, float] | None = None
    a: float = WEAK_SIGMA_PRIOR
    b: float = WEAK_SIGMA_PRIOR
    flat_sigma: bool = False

    @classmethod
    def flat(cls) -> NormalInverseGamma:
        """The improper flat prior; posterior intervals are the OLS t intervals."""
        return cls(scale=None, a=0.0, b=0.0, flat_sigma=True)

    def arrays(self, terms: tuple[str, ...]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(μ0, Λ0) over ``terms`` (the intercept first, always flat)."""
        def pick(value: Any, term: str, default: Any) -> Any:
            return value.get(term, default) if isinstance(value, dict) else value

        unknown = [t for v in (self.mean, self.scale) if isinstance(v, dict) for t in v if t not in terms]
        if unknown:
            raise InvalidParameterError(f"The prior names unknown terms {unknown}; terms are {list(terms)}.")
        mu0 = np.array([0.0 if j == 0 else float(pick(self.mean, t, 0.0)) for j, t in enumerate(terms)])
        scale = [None if j == 0 else pick(self.scale, t, None) for j, t in enumerate(terms)]
        lambda0 = np.diag([0.0 if s is None else 1.0 / float(s) ** 2 for s in scale])
        return mu0, lambda0


def _weak_prior(model: LinearFit, xtx_design: NDArray[np.float64]) -> NormalInverseGamma:
    sum_w = model.moments.sum_w
    scale = {t: float(np.sqrt(sum_w / (WEAK_PRIOR_WEIGHT * xtx_design[j, j])))
             for j, t in enumerate(model.terms) if j > 0 and xtx_design[j, j] > 0}
    return NormalInverseGamma(scale=scale)


def _posteriors(model: LinearFit, prior: NormalInverseGamma | None) -> tuple[MultivariateT, ...]:
    design, moments = model.design, model.moments
    t = reparametrisation(design, model.covariate_means)
    t_inv = np.linalg.inv(t)
    xtx_b = moments.block(design.x, design.x)
    prior = prior or _weak_prior(model, t_inv.T @ xtx_b @ t_inv)
    mu0_d, lambda0_d = prior.arrays(model.terms)
    lambda0_b = t.T @ lambda0_d @ t
    k = len(model.terms)
    a0 = -k / 2.0 if prior.flat_sigma else prior.a
    out = []
    for m, y in enumerate(design.y):
        shift = np.zeros(k)
        shift[0] = design.columns[y].shift
        post_b, _, _ = nig_posterior(xtx_b, moments.block(design.x, [y])[:, 0], moments.block([y], [y])[0, 0],
                                     moments.nobs, t_inv @ (mu0_d - shift), lambda0_b, a0, prior.b)
        mean = t @ post_b.mean + shift
        if model.n_clusters is not None:
            block = model.cov_estimated[m * k:(m + 1) * k, m * k:(m + 1) * k]
            out.append(MultivariateT(mean, np.array(block), np.inf))
        else:
            scale = t @ post_b.scale @ t.T
            out.append(MultivariateT(mean, (scale + scale.T) / 2.0, post_b.df))
    return tuple(out)


def _reward_model(model: LinearFit, posteriors: tuple[MultivariateT, ...]) -> RewardModel:
    design = model.design
    columns = tuple(
        CovariateColumn(c, design.columns[c].source or c, design.columns[c].level, design.columns[c].shift,
                        model.covariate_means[c])
        for c in design.covariates
    )
    return RewardModel(
        terms=model.terms, metrics=model.metrics,
        arms=(model.spec.experiment.design.treated_control, *model.arms),
        treatment_terms=model.treatment_terms, covariates=columns, interactions=design.interactions,
        posteriors=posteriors, categories=tuple(design.categories.items()),
    )


@dataclass(frozen=True, repr=False)
class PosteriorEffects(TableResult):
    """Posterior effect rows (metric, arm, segment): mean, sd, credible interval, P(effect > 0).

    ``distributions`` holds, per metric, the joint posterior of that metric's rows (they share β),
    which ``infer_rank`` uses.
    """

    metric: tuple[str, ...]
    arm: tuple[str, ...]
    segment: tuple[str, ...]
    n: tuple[int, ...]
    alpha: float
    distributions: tuple[tuple[str, tuple[int, ...], MultivariateT], ...] = field(repr=False)
    #: The label of the design's control arm (``infer_rank`` names every arm by its own label).
    control: str = "control"
    #: What every row estimates (``Estimand.short``: ITT or ATE; no instrument here).
    estimand: str | None = None

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per row: metric, arm, segment, mean, sd, ci_lower, ci_upper, prob_positive, n,
        estimand."""
        out: dict[int, dict[str, Any]] = {}
        for _, rows, dist in self.distributions:
            marginal = dist.marginal()
            sd = np.sqrt(np.diag(dist.scale) * (1.0 if np.isinf(dist.df) else dist.df / (dist.df - 2.0)))
            lo, hi = marginal.ppf(self.alpha / 2.0), marginal.ppf(1.0 - self.alpha / 2.0)
            positive = marginal.sf(0.0)
            for j, i in enumerate(rows):
                out[i] = {"metric": self.metric[i], "arm": self.arm[i], "segment": self.segment[i],
                          "mean": float(dist.mean[j]), "sd": float(sd[j]), "ci_lower": float(lo[j]),
                          "ci_upper": float(hi[j]), "prob_positive": float(positive[j]), "n": self.n[i],
                          "estimand": self.estimand}
        return [out[i] for i in sorted(out)]

    def caption(self) -> str:
        return f"Posterior effects ({100 * (1 - self.alpha):g}% credible intervals)"

    @validated("PosteriorEffects.infer_rank", draws=Integer(1, 10**8), seed=Integer(0))
    def infer_rank(self, draws: int = 200_000, seed: int = 0) -> Any:
        """P(each arm, control included, is best) per metric and segment (exact for two arms). Each
        arm is named by its own label; ``is_control`` marks the design's control arm."""
        import pandas as pd

        records = []
        for metric, rows, dist in self.distributions:
            for segment in dict.fromkeys(self.segment[i] for i in rows):
                picks = [j for j, i in enumerate(rows) if self.segment[i] == segment]
                arms = dist.linear(np.eye(len(rows))[picks])
                with_control = MultivariateT(np.concatenate([[0.0], arms.mean]),
                                             np.pad(arms.scale, ((1, 0), (1, 0))), arms.df)
                p = prob_best(with_control, draws=draws, seed=seed)
                names = [self.control, *(self.arm[rows[j]] for j in picks)]
                records += [{"metric": metric, "segment": segment, "arm": a, "is_control": k == 0,
                             "prob_best": float(v)} for k, (a, v) in enumerate(zip(names, p, strict=True))]
        return pd.DataFrame(records)


@dataclass(frozen=True)
class BayesianLinearRegression:
    """Posterior of the ``LinearModel`` design's coefficients, per metric.

    Create it with ``spec.fit(wc.BayesianLinearRegression, prior=None)``; ``prior`` is a
    :class:`NormalInverseGamma` (default: each coefficient worth 1e-4 of an observation, σ² ~
    IG(0.001, 0.001), intercept flat). ``posterior_kind`` is "normal-inverse-gamma" or, with
    ``cluster_by``, "cluster-robust gaussian" (module docstring).
    """

    posteriors: tuple[MultivariateT, ...] = field(repr=False)
    terms: tuple[str, ...]
    metrics: tuple[str, ...]
    posterior_kind: str
    alpha: float
    base: LinearFit = field(repr=False, compare=False)
    reward_model: RewardModel = field(repr=False, compare=False)

    @classmethod
    @validated("BayesianLinearRegression.fit", interacted=BOOLEAN,
               strategy=Options("auto", "moments", "compressed"), alpha=Real(0, 1))
    def _fit(cls, spec: ModelSpec, prior: NormalInverseGamma | None = None, interacted: bool = True,
             strategy: Strategy = "auto", alpha: float = 0.05) -> BayesianLinearRegression:
        exp = spec.experiment
        if exp.is_iv:
            raise DesignError(
                "BayesianLinearRegression models the arm received with no instrument; this design has "
                f"treated={exp.treated_column!r} instrumented by {exp.instrument_column!r}. Fit "
                "wc.LinearModel (2SLS), or analyse assignment (intent to treat) without 'treated'."
            )
        if prior is not None and not isinstance(prior, NormalInverseGamma):
            raise InvalidParameterError(
                "The 'prior' parameter of BayesianLinearRegression.fit must be None or a "
                f"wc.NormalInverseGamma. Got {type(prior).__name__} instead."
            )
        # the posterior reads the CR1 covariance itself (inference="classical": few clusters warn)
        base = LinearFit._fit(spec, covariance="CR1" if exp.cluster_by else "iid",
                                interacted=interacted, strategy=strategy, alpha=alpha, inference="classical")
        posteriors = _posteriors(base, prior)
        kind = "cluster-robust gaussian" if base.n_clusters is not None else "normal-inverse-gamma"
        return cls(posteriors, base.terms, base.metrics, kind, alpha, base, _reward_model(base, posteriors))

    def coefficients(self) -> Any:
        """Posterior mean, sd and credible interval of every coefficient of every metric."""
        import pandas as pd

        rows = []
        for metric, post in zip(self.metrics, self.posteriors, strict=True):
            marginal = post.marginal()
            lo, hi = marginal.ppf(self.alpha / 2), marginal.ppf(1 - self.alpha / 2)
            for j, term in enumerate(self.terms):
                rows.append({"metric": metric, "term": term, "mean": float(post.mean[j]),
                             "ci_lower": float(lo[j]), "ci_upper": float(hi[j])})
        return pd.DataFrame(rows)

    @validated("BayesianLinearRegression.infer_effect", over=(InstanceOf(str, "a column name"), NONE),
               alpha=(Real(0, 1), NONE))
    def infer_effect(self, condition_on: Any = None, *, over: str | None = None,
                     alpha: float | None = None) -> PosteriorEffects:
        """Posterior effects of every arm on every metric, overall and per segment (delta vectors)."""
        delta = segment_rows(self.base, condition_on, over)
        labels, k = delta.labels, len(self.terms)
        distributions = []
        for m, metric in enumerate(self.metrics):
            rows = tuple(i for i, label in enumerate(labels) if label[0] == metric)
            block = delta.d[list(rows), m * k:(m + 1) * k]
            distributions.append((metric, rows, self.posteriors[m].linear(block)))
        return PosteriorEffects(
            metric=tuple(lb[0] for lb in labels), arm=tuple(lb[1] for lb in labels),
            segment=tuple(lb[2] for lb in labels), n=delta.sizes,
            alpha=self.alpha if alpha is None else alpha,
            distributions=tuple(distributions), control=str(self.reward_model.arms[0]),
            estimand=design_estimand(self.base.spec.experiment).short,
        )

    infer_effects = infer_effect

    def infer_reward(self, context: dict[str, Any], metric: str | None = None) -> RewardDistribution:
        """The joint posterior reward of every arm for one context (see ``wc.Policy``)."""
        return self.reward_model.infer_reward(context, metric)

    def to_json(self) -> str:
        """The reward model as JSON, to serve decisions without the warehouse (``wc.load_model``)."""
        return self.reward_model.to_json()
