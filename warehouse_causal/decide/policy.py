r"""Serving decisions without the warehouse: ``ContextVector`` → ``RewardModel.infer_reward`` →
``Policy(...).decide()``.

A ``RewardModel`` holds only what a decision needs — term layout, covariate centring and the
posterior of each metric's coefficients — and round-trips through a small JSON document
(``to_json`` / :func:`load_model`). For a context c the reward of arm a is
:math:`x(a, c)'\beta` with :math:`x(a, c) = [1, e_a, c - \bar c, e_a \otimes (c - \bar c)]`; the
rewards of all arms share β, so they are jointly Student-t (or Gaussian). Thompson sampling draws
once from that joint distribution and plays the argmax, i.e. each arm with its posterior
probability of being best (Russo et al. 2018, arXiv:1707.02038).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.bayes import MultivariateT, prob_best
from warehouse_causal.core.documents import Limits, parse_document, read_text
from warehouse_causal.core.errors import DocumentError, InvalidParameterError, SchemaError, closest_name
from warehouse_causal.core.validation import NONE, InstanceOf, Integer, Real, check_param, validated
from warehouse_causal.fit.design_row import design_values

__all__ = ["ContextVector", "Policy", "RewardDistribution", "RewardModel", "load_model"]

FORMAT = "warehouse_causal.RewardModel/1"
#: A reward model document: larger than a settings file (a k×k scale per metric), as shallow.
MODEL_LIMITS = Limits(max_bytes=64_000_000, max_depth=32, max_items=100_000, max_values=10_000_000)


class ContextVector(dict):
    """The covariate values of one decision context, keyed by covariate name.

    ``ContextVector(device="desktop", tenure=3)``; a covariate written as SQL is named by its text:
    ``ContextVector(**{"tenure > 2": 1})``.
    """

    def __init__(self, *args: Any, **values: Any):
        super().__init__(*args, **values)
        for key, value in self.items():
            if not isinstance(key, str):
                raise InvalidParameterError(
                    f"ContextVector keys must be covariate names (strings). Got {key!r} instead.")
            if isinstance(value, str) or isinstance(value, bool):
                continue
            check_param(value, key, "ContextVector", Real(), InstanceOf(str, "a category (string)"))

    def _immutable(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("ContextVector is immutable; build a new one.")

    # contexts are values, not containers
    __setitem__ = __delitem__ = __ior__ = update = pop = popitem = clear = setdefault = _immutable  # type: ignore[assignment]


@dataclass(frozen=True)
class CovariateColumn:
    """A centred design column: numeric ``(value - shift) - mean`` or dummy ``1[value == level] - mean``."""

    label: str
    source: str
    level: Any
    shift: float
    mean: float

    def value(self, context: dict[str, Any]) -> float:
        raw = context[self.source]
        if self.level is None:
            number = check_param(raw, self.source, "RewardModel.infer_reward (context)", Real())
            return number - self.shift - self.mean
        return float(raw == self.level) - self.mean


@dataclass(frozen=True)
class RewardDistribution:
    """Joint posterior of the reward of every arm (``arms[0]`` is the control) for one context."""

    arms: tuple[Any, ...]
    rewards: MultivariateT
    metric: str

    def __post_init__(self) -> None:
        owner = "RewardDistribution"
        check_param(self.arms, "arms", owner, InstanceOf(tuple, "a tuple of arms (control first)"))
        check_param(self.rewards, "rewards", owner, InstanceOf(MultivariateT, "a MultivariateT"))
        k = len(self.arms)
        if k == 0:
            raise InvalidParameterError(f"The 'arms' parameter of {owner} is empty: a decision needs at "
                                        "least one arm (control first).")
        mean, scale = np.asarray(self.rewards.mean), np.asarray(self.rewards.scale)
        if mean.shape != (k,) or scale.shape != (k, k):
            raise InvalidParameterError(
                f"The 'rewards' parameter of {owner} must be over the {k} arm(s) {list(self.arms)}: a mean "
                f"of {k} value(s) and a {k}x{k} scale; got shapes {mean.shape} and {scale.shape}.")
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise InvalidParameterError(f"The 'rewards' parameter of {owner} holds NaN or infinite values.")

    def mean(self) -> dict[Any, float]:
        """Posterior mean reward of each arm."""
        return dict(zip(self.arms, self.rewards.mean.tolist(), strict=True))


@dataclass(frozen=True)
class Policy:
    """Thompson sampling over a :class:`RewardDistribution`."""

    reward_distribution: RewardDistribution

    def __post_init__(self) -> None:
        check_param(self.reward_distribution, "reward_distribution", "Policy",
                    InstanceOf(RewardDistribution, "a RewardDistribution (from model.infer_reward(context))"))

    @validated("Policy.decide", rng=(InstanceOf(np.random.Generator, "a numpy Generator"), Integer(0), NONE))
    def decide(self, rng: np.random.Generator | int | None = None) -> Any:
        """Draw the rewards once from the posterior and return the arm with the largest draw."""
        generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        draw = self.reward_distribution.rewards.sample(1, generator)[0]
        return self.reward_distribution.arms[int(np.argmax(draw))]

    @validated("Policy.probabilities", draws=Integer(1, 10**8), seed=Integer(0))
    def probabilities(self, draws: int = 200_000, seed: int = 0) -> dict[Any, float]:
        """P(each arm is best): the probabilities ``decide`` plays them with (exact for two arms)."""
        p = prob_best(self.reward_distribution.rewards, draws=draws, seed=seed)
        return dict(zip(self.reward_distribution.arms, p.tolist(), strict=True))


@dataclass(frozen=True)
class RewardModel:
    """Everything needed to turn a context into each arm's posterior reward (JSON-serializable)."""

    terms: tuple[str, ...]
    metrics: tuple[str, ...]
    arms: tuple[Any, ...]  # control first
    treatment_terms: tuple[str, ...]  # one per non-control arm
    covariates: tuple[CovariateColumn, ...]
    interactions: tuple[tuple[str, str, str], ...]  # (term, arm term, covariate column)
    posteriors: tuple[MultivariateT, ...]  # one per metric, over ``terms``
    categories: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # every level of each categorical covariate

    @property
    def sources(self) -> tuple[str, ...]:
        """Covariate names a context must give."""
        return tuple(dict.fromkeys(c.source for c in self.covariates))

    def _check(self, context: dict[str, Any]) -> None:
        for key in context:
            if key not in self.sources:
                near = closest_name(key, self.sources)
                hint = f" Did you mean {near!r}?" if near else ""
                raise SchemaError(f"The context names {key!r}, which is not a covariate of the model.{hint}")
        missing = [s for s in self.sources if s not in context]
        if missing:
            raise InvalidParameterError(f"The context is missing covariate(s) {missing}.")
        for source, levels in self.categories:
            if context[source] not in levels:
                raise InvalidParameterError(
                    f"{source}={context[source]!r} is not a category of the model; known: {list(levels)}."
                )

    def design_rows(self, context: dict[str, Any]) -> NDArray[np.float64]:
        """x(a, c) for every arm a (rows, control first) in the order of ``terms``."""
        self._check(context)
        covariates = {c.label: float(c.value(context)) for c in self.covariates}
        rows = np.zeros((len(self.arms), len(self.terms)))
        for r, arm_term in enumerate((None, *self.treatment_terms)):
            arms = {term: float(term == arm_term) for term in self.treatment_terms}
            values = design_values(self.terms[0], arms, covariates, self.interactions, 1.0)
            rows[r] = [values[term] for term in self.terms]
        return rows

    def infer_reward(self, context: dict[str, Any], metric: str | None = None) -> RewardDistribution:
        """The joint posterior reward of every arm for ``context`` on ``metric``."""
        if metric is None:
            if len(self.metrics) > 1:
                raise InvalidParameterError(f"Name the reward metric: one of {list(self.metrics)}.")
            metric = self.metrics[0]
        if metric not in self.metrics:
            raise InvalidParameterError(f"metric={metric!r} is not one of {list(self.metrics)}.")
        posterior = self.posteriors[self.metrics.index(metric)]
        return RewardDistribution(self.arms, posterior.linear(self.design_rows(dict(context))), metric)

    def to_json(self) -> str:
        """A JSON document; :func:`load_model` restores an identical model."""
        return json.dumps({
            "format": FORMAT, "terms": self.terms, "metrics": self.metrics, "arms": self.arms,
            "treatment_terms": self.treatment_terms,
            "covariates": [[c.label, c.source, c.level, c.shift, c.mean] for c in self.covariates],
            "interactions": self.interactions,
            "categories": [[source, list(levels)] for source, levels in self.categories],
            "posteriors": [{"mean": p.mean.tolist(), "scale": p.scale.tolist(),
                            "df": None if np.isinf(p.df) else p.df} for p in self.posteriors],
        })


def _checked_posterior(p: Any, n_terms: int, index: int) -> MultivariateT:
    """One posterior of a reward-model document: finite mean, a symmetric positive semi-definite
    scale of matching size, df > 0 (or null for Gaussian)."""
    where = f"load_model: posterior {index}"
    try:
        mean = np.asarray(p["mean"], dtype=float)
        scale = np.asarray(p["scale"], dtype=float)
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidParameterError(f"{where} needs numeric 'mean' and 'scale' arrays ({err}).") from None
    if mean.shape != (n_terms,) or scale.shape != (n_terms, n_terms):
        raise InvalidParameterError(
            f"{where}: 'mean' must have {n_terms} values and 'scale' be {n_terms}x{n_terms}; got shapes "
            f"{mean.shape} and {scale.shape}.")
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise InvalidParameterError(f"{where} holds NaN or infinite values.")
    tolerance = 1e-10 * max(1.0, float(np.abs(scale).max()))
    if not np.allclose(scale, scale.T) or np.linalg.eigvalsh((scale + scale.T) / 2).min() < -tolerance:
        raise InvalidParameterError(f"{where}: 'scale' must be a symmetric positive semi-definite matrix.")
    df = p.get("df")
    if df is not None:
        df = check_param(df, "df", where, Real(0, math.inf))
    return MultivariateT(mean, scale, np.inf if df is None else df)


def load_model(document: str | Path) -> RewardModel:
    """Restore a :class:`RewardModel` from ``to_json`` text or a file holding it.

    A ``Path`` is a file; a string is JSON text when it starts with ``{`` or ``[`` (after
    whitespace), else the path of a file; a string that is neither (no such file) is an error
    saying so, never parsed as the other. The file must be a regular file of at most 64 MB, and
    the document at most 32 levels deep. The document is checked: every posterior finite, its scale
    positive semi-definite and of the size of the terms (a hand-edited file cannot make a policy
    play on NaN)."""
    check_param(document, "document", "load_model", InstanceOf((str, Path), "JSON text or a file path"))
    if isinstance(document, str) and document.lstrip()[:1] in ("{", "["):
        text, where = document, "load_model: the document"
    else:
        path = Path(document)
        if isinstance(document, str) and not path.exists():
            shown = document if len(document) <= 80 else document[:77] + "..."
            raise DocumentError(
                f"load_model: {shown!r} is neither JSON text (a reward model document starts with '{{') nor "
                "an existing file.", shown)
        try:
            text = read_text(path, "reward model", MODEL_LIMITS.max_bytes)
        except DocumentError as err:
            raise DocumentError(f"load_model: {err}", str(path)) from None
        where = f"load_model: the file {str(path)!r}"
    data = parse_document(text, where, limits=MODEL_LIMITS)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise InvalidParameterError(f"Not a warehouse_causal reward model (format {found!r}).")
    try:
        return _model_from(data)
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, InvalidParameterError):
            raise
        raise InvalidParameterError(f"load_model: the reward model document is malformed ({err!r}).") \
            from None


def _model_from(data: dict[str, Any]) -> RewardModel:
    terms = tuple(data["terms"])
    return RewardModel(
        terms=terms, metrics=tuple(data["metrics"]), arms=tuple(data["arms"]),
        treatment_terms=tuple(data["treatment_terms"]),
        covariates=tuple(CovariateColumn(*c) for c in data["covariates"]),
        interactions=tuple(tuple(i) for i in data["interactions"]),
        categories=tuple((source, tuple(levels)) for source, levels in data["categories"]),
        posteriors=tuple(_checked_posterior(p, len(terms), i) for i, p in enumerate(data["posteriors"])),
    )
