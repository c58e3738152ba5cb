"""What a minimum detectable effect means for each metric of a fitted experiment.

One bare number is ambiguous when metrics have different units: ``mde=0.03`` is 3% of a resolution
rate but 0.03 of a minute (which needed 24,814 days). An MDE here is therefore either

- **relative** (``relative=True``): a fraction of each metric's control mean, so ``0.03`` is a 3%
  lift on every metric (a dict gives each metric its own fraction); or
- **absolute** (a dict ``{metric: effect}`` in each metric's own units; ``relative=False`` also
  accepts one number when the model has a single metric).

The control mean is the baseline of ``infer_effect(relative=True)`` in the whole population: the
regression-adjusted control mean, b'θ with the covariates at their full-sample means, which is the
intercept of each metric (the covariates are centred there); for a ratio metric, the ratio of its
numerator's and denominator's control means. Every target carries both scales, so a result says
which one was given and the absolute value used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from warehouse_causal.core.errors import DesignError, InvalidParameterError
from warehouse_causal.core.validation import BOOLEAN, NONE, Real, check_param

if TYPE_CHECKING:
    from warehouse_causal.fit.models import LinearFit

__all__ = ["MdeInput", "MdeTarget", "control_means", "describe", "mde_targets", "metric_names",
           "read_mde"]

#: A control mean within this fraction of the metric's scale (SE × √n) of zero is zero: a relative
#: MDE on it would be a rounding error, not an effect.
ZERO_MEAN_TOLERANCE = 1e-9

_POSITIVE = Real(0.0, math.inf)


@dataclass(frozen=True)
class MdeTarget:
    """One metric's MDE: what was ``given``, the ``absolute`` effect used (the metric's units), the
    ``relative`` one (a fraction of the absolute control mean; NaN when that mean is 0) and the
    ``control_mean``."""

    metric: str
    given: Literal["relative", "absolute"]
    absolute: float
    relative: float
    control_mean: float


def control_means(model: LinearFit) -> dict[str, float]:
    """Each metric's control mean in the whole population (module docstring), ratios included."""
    row = model.terms.index(model.design.intercept)
    means = {metric: float(model.params[row, m]) for m, metric in enumerate(model.metrics)}
    for ratio in model.spec.ratios:
        den = means[ratio.denominator]
        means[ratio.name] = means[ratio.numerator] / den if den != 0 else math.nan
    return means


def _refuse(owner: str, value: Any, what: str) -> InvalidParameterError:
    error = InvalidParameterError(f"The 'mde' parameter of {owner} {what}. Got {value!r} instead.")
    error.parameter, error.owner = "mde", owner  # type: ignore[attr-defined]
    return error


def _example(metrics: Sequence[str]) -> str:
    return "mde={" + ", ".join(f"{m!r}: ..." for m in metrics[:2]) + "}"


def checked_mde(mde: Any, relative: Any, metrics: Sequence[str], owner: str
             ) -> tuple[dict[str, float], bool]:
    """The per-metric numbers given and whether they are relative, or InvalidParameterError."""
    relative = check_param(relative, "relative", owner, BOOLEAN, NONE)
    if isinstance(mde, Mapping):
        if not mde:
            raise _refuse(owner, mde, "must name at least one metric")
        unknown = [k for k in mde if k not in metrics]
        if unknown:
            raise _refuse(owner, mde, f"names {unknown!r}, which are not metrics of this model (its "
                                      f"metrics: {list(metrics)})")
        for metric, value in mde.items():
            if not _POSITIVE.accepts(value):
                raise _refuse(owner, mde, f"must map each metric to {_POSITIVE.description}; "
                                          f"{metric!r} has {value!r}")
        return {k: float(v) for k, v in mde.items()}, bool(relative)
    if not _POSITIVE.accepts(mde):
        raise _refuse(owner, mde, f"must be {_POSITIVE.description} or a dict of metric → such a number")
    number = float(mde)
    if relative is None:
        raise _refuse(owner, mde, (
            "must say what it measures: pass relative=True for a fraction of each metric's control mean "
            f"({number:g} = a {_percent(number)} lift), or an absolute MDE per metric in its own units as "
            f"a dict, {_example(metrics)}"))
    if not relative and len(metrics) > 1:
        raise _refuse(owner, mde, (
            f"is one absolute MDE for {len(metrics)} metrics {list(metrics)}, which have their own units: "
            f"pass a dict metric → absolute MDE, {_example(metrics)}, or relative=True for a fraction "
            "of each metric's control mean"))
    return dict.fromkeys(metrics, number), bool(relative)


@dataclass(frozen=True)
class MdeInput:
    """A checked ``mde`` argument: the number given per metric and whether it is relative."""

    values: dict[str, float]
    relative: bool


def metric_names(model: LinearFit) -> list[str]:
    """The metrics an MDE can name: the model's metrics, then its ratio metrics."""
    return [*model.metrics, *(ratio.name for ratio in model.spec.ratios)]


def read_mde(model: LinearFit, mde: Any, relative: Any, owner: str) -> MdeInput:
    """``mde`` and ``relative`` checked against the model's metrics (no query), or
    InvalidParameterError naming ``owner`` and the parameter (module docstring)."""
    values, is_relative = checked_mde(mde, relative, metric_names(model), owner)
    return MdeInput(values, is_relative)


def mde_targets(model: LinearFit, given: MdeInput, scales: Mapping[str, float],
                owner: str) -> dict[str, MdeTarget]:
    """The :class:`MdeTarget` of each metric ``given`` names, with ``scales`` the metrics' SE × √n
    (a control mean within :data:`ZERO_MEAN_TOLERANCE` of that is zero: a relative MDE on it is
    refused with a DesignError)."""
    means = control_means(model)
    out = {}
    for metric, value in given.values.items():
        mean = means[metric]
        zero = not math.isfinite(mean) or abs(mean) <= ZERO_MEAN_TOLERANCE * scales[metric]
        if given.relative and zero:
            raise DesignError(
                f"{owner}: a relative MDE is a fraction of the control mean, and {metric!r} has a control "
                f"mean of {mean:.3g}. Give it an absolute MDE instead: mde={{{metric!r}: ...}}.")
        absolute = value * abs(mean) if given.relative else value
        fraction = value if given.relative else (math.nan if zero else value / abs(mean))
        kind: Literal["relative", "absolute"] = "relative" if given.relative else "absolute"
        out[metric] = MdeTarget(metric, kind, absolute, fraction, mean)
    return out


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.3g}%"


def describe(targets: Mapping[str, MdeTarget]) -> str:
    """The targets in words, for a caption."""
    first = next(iter(targets.values()))
    if first.given == "relative" and len({t.relative for t in targets.values()}) == 1:
        return f"a relative MDE of {_percent(first.relative)} of each metric's control mean"
    if first.given == "relative":
        shares = ", ".join(f"{m} {_percent(t.relative)}" for m, t in targets.items())
        return f"relative MDEs of the control mean ({shares})"
    return "absolute MDEs (" + ", ".join(f"{m} {t.absolute:g}" for m, t in targets.items()) + ")"
