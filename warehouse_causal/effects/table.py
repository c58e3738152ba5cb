r"""``Effects``: rows of (metric, arm, segment) effects with their joint covariance, and the
classical, anytime-valid and multiplicity-adjusted inference derived from them.

Only ``estimate`` and ``cov`` are stored; every other column is computed on access.
``project`` and ``combine`` are linear maps L of the rows: estimate → L·estimate,
cov → L·cov·L'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from warehouse_causal.algebra.anytime import asymptotic_halfwidth, asymptotic_p_value, t_p_value, t_radius
from warehouse_causal.algebra.inference import standard_errors, wald_inference
from warehouse_causal.algebra.multiplicity import adjust_p_values
from warehouse_causal.algebra.sandwich import quadratic_form
from warehouse_causal.algebra.trend import gls_slope
from warehouse_causal.core.errors import DesignError, InvalidParameterError
from warehouse_causal.core.frozen import read_only, values_equal
from warehouse_causal.core.html import COLOURS
from warehouse_causal.core.tables import RowTable, TableResult
from warehouse_causal.core.validation import (
    InstanceOf,
    MappingOf,
    Real,
    check_param,
    validated,
)
from warehouse_causal.meaning import Estimand
from warehouse_causal.meaning.direction import Direction, judge
from warehouse_causal.warehouse.backends import QueryRecord

__all__ = ["COLUMNS", "EffectsTable", "Sequential"]

COLUMNS = ("metric", "arm", "segment", "estimate", "std_error", "ci_lower", "ci_upper", "p_value",
           "p_adjusted", "av_p_value", "av_ci_lower", "av_ci_upper", "n", "estimand")
#: Tolerance for "weights sum to one".
WEIGHT_SUM_TOL = 1e-9


class Sequential(NamedTuple):
    """Settings of the anytime-valid inference, fixed when the effects are computed.

    ``kind`` "t": Lindon et al. sequential t with n rows, ν = n − k and mixture g (classical or
    heteroskedasticity-robust se). ``kind`` "asymptotic": Gaussian-mixture confidence sequence with
    n = G clusters (the independent units) and mixture variance ρ² (cluster-robust se).
    ``tuning`` is g or ρ², set from ``planned_n``.
    """

    kind: str
    n: float
    nu: float
    k: int
    planned_n: float
    tuning: float


class TrendRow(NamedTuple):
    """The GLS slope of one (metric, arm)'s effects over the numbered levels of ``over``."""

    metric: str
    arm: str
    over: str
    levels: int
    slope: float
    std_error: float
    statistic: float
    p_value: float


_E = TypeVar("_E", bound="EffectsTable")



@dataclass(frozen=True, repr=False, eq=False)
class EffectsTable(TableResult):
    """Effects of arms vs control by metric and segment; create with ``model.infer_effect(...)``.

    Columns of ``to_pandas()``: metric, arm, segment, estimate, std_error, ci_lower, ci_upper,
    p_value (t with the model's inference df), p_adjusted (``adjust``: Holm by default, over all
    rows), av_p_value, av_ci_lower, av_ci_upper (anytime-valid, see :class:`Sequential`), n (rows
    in the segment), estimand (LATE with an instrument, else ITT or ATE:
    :mod:`warehouse_causal.design.estimands`). With ``relative=True`` estimates are lifts over the
    segment's control mean.
    """

    metric: tuple[str, ...]
    arm: tuple[str, ...]
    segment: tuple[str, ...]
    estimate: NDArray[np.float64] = field(repr=False)
    #: The rows' covariance as estimated; entries between metrics NaN until needed (see ``cov``).
    cov_estimated: NDArray[np.float64] = field(repr=False)
    n: tuple[int, ...]
    df: float
    alpha: float
    sequential: Sequential
    adjust: str
    relative: bool
    queries: tuple[QueryRecord, ...] = field(repr=False, compare=False)
    model: Any = field(repr=False, compare=False)
    #: The derivative of each row with respect to vec β (rows × k·M): recomputes ``cov`` when the
    #: model gains the blocks between metrics.
    gradient: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    #: How p-values and intervals are made: "classical"; "randomization" (few clusters: the rows in
    #: ``randomized`` carry randomization-inference p-values and intervals, the others none); or the
    #: unreliable-classical label of :data:`warehouse_causal.fit.randomization.UNRELIABLE`.
    inference: str = "classical"
    #: Per row, (p-value, lower, upper) from randomization inference, or None.
    randomized: tuple[tuple[float, float, float] | None, ...] | None = field(default=None, repr=False)
    #: What every row estimates (:func:`warehouse_causal.design.estimands.design_estimand`); None only
    #: for effects made by hand.
    estimand: Estimand | None = None

    __eq__ = values_equal  # arrays compared element by element
    __hash__ = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        for array in (self.estimate, self.cov_estimated, self.gradient):
            read_only(array)

    @cached_property
    def cov(self) -> NDArray[np.float64]:
        """The rows' joint covariance. Entries between rows of different metrics come from the
        model's covariance between metrics, computed on first use when the fit left it for later
        (:attr:`LinearModel.cov`); NaN only where it is not available."""
        if (not np.isnan(self.cov_estimated).any() or self.model is None or self.gradient is None
                or not self.model.cross_metric_covariance):
            return self.cov_estimated
        cov = quadratic_form(self.gradient, self.model.cov)
        return read_only((cov + cov.T) / 2.0)

    # -- derived columns ---------------------------------------------------------------------
    @property
    def std_error(self) -> NDArray[np.float64]:
        """Standard error of each row: NaN where the variance is not a finite number or is negative
        beyond rounding (a clip to 0 would claim infinite precision); rounding below 0 reads as 0."""
        return standard_errors(np.diag(self.cov_estimated))

    def _classical(self) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        stat, p, lo, hi = wald_inference(self.estimate, self.std_error, self.df, self.alpha)
        if self.inference != "randomization":
            return stat, p, lo, hi
        p, lo, hi = (np.full(len(self.estimate), np.nan) for _ in range(3))
        for i, row in enumerate(self.randomized or ()):
            if row is not None:
                p[i], lo[i], hi[i] = row
        return stat, p, lo, hi

    @property
    def p_value(self) -> NDArray[np.float64]:
        """Two-sided classical p-value (valid for one look only)."""
        return self._classical()[1]

    @property
    def p_adjusted(self) -> NDArray[np.float64]:
        """Classical p-values adjusted across all rows by ``adjust``."""
        return adjust_p_values(self.p_value, self.adjust)

    @property
    def av_p_value(self) -> NDArray[np.float64]:
        """Anytime-valid p-value: valid however often the experiment is looked at.

        Never below the classical p-value of the same row: the Gaussian-mixture sequence (clusters)
        has lighter tails than the classical t with G − 1 df, so in extreme tails it could fall
        below it; the larger of two valid p-values is valid, and a peeking-safe answer is then never
        more confident than a one-look answer."""
        seq, se = self.sequential, self.std_error
        if self.inference == "randomization":  # the asymptotic sequence needs many clusters
            return np.full(len(self.estimate), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = self.estimate / se
        if seq.kind == "t":
            p = t_p_value(stat, seq.nu, seq.n, seq.tuning)
        else:
            p = asymptotic_p_value(stat, seq.n, seq.tuning)
        return np.maximum(p, wald_inference(self.estimate, se, self.df, self.alpha)[1])

    def _av_halfwidth(self) -> NDArray[np.float64]:
        """Half-width of the confidence sequence, never narrower than the classical interval (see
        :attr:`av_p_value`)."""
        seq, se = self.sequential, self.std_error
        if self.inference == "randomization":
            return np.full(len(self.estimate), np.nan)
        if seq.kind == "t":
            half = se * t_radius(seq.tuning, seq.n, seq.k, self.alpha)
        else:
            half = asymptotic_halfwidth(se, seq.n, seq.tuning, self.alpha)
        _, _, _, upper = wald_inference(self.estimate, se, self.df, self.alpha)
        return np.maximum(half, upper - self.estimate)

    # -- conversions ---------------------------------------------------------------------------
    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per row with the columns in ``COLUMNS`` (the one conversion)."""
        _, p, lo, hi = self._classical()
        half = self._av_halfwidth()
        columns = {
            "estimate": self.estimate, "std_error": self.std_error, "ci_lower": lo, "ci_upper": hi,
            "p_value": p, "p_adjusted": adjust_p_values(p, self.adjust), "av_p_value": self.av_p_value,
            "av_ci_lower": self.estimate - half, "av_ci_upper": self.estimate + half,
        }
        estimand = None if self.estimand is None else self.estimand.short
        return [
            {"metric": self.metric[i], "arm": self.arm[i], "segment": self.segment[i],
             **{k: float(v[i]) for k, v in columns.items()}, "n": self.n[i], "estimand": estimand}
            for i in range(len(self.metric))
        ]


    def to_markdown(self, digits: int = 4) -> str:
        """A compact markdown table: estimate, CI, p-values and anytime-valid CI per row."""
        head = "| metric | arm | segment | estimate | 95% CI | p | p adj | av p | av CI | n |"
        head = head.replace("95%", f"{100 * (1 - self.alpha):g}%")
        lines = [head, "|" + "---|" * 10]
        for r in self.to_dicts():
            f = f"{{:.{digits}g}}".format
            lines.append(
                f"| {r['metric']} | {r['arm']} | {r['segment']} | {f(r['estimate'])} | "
                f"[{f(r['ci_lower'])}, {f(r['ci_upper'])}] | {r['p_value']:.3g} | {r['p_adjusted']:.3g} | "
                f"{r['av_p_value']:.3g} | [{f(r['av_ci_lower'])}, {f(r['av_ci_upper'])}] | {r['n']} |"
            )
        return "\n".join(lines)

    @property
    def directions(self) -> dict[str, Direction]:
        """Which direction of each metric is good: declared in ``add_metric(direction=...)`` (or by
        its ``wc.Metric``, ``wc.Ratio`` or catalog entry), else higher (also for combined rows)."""
        spec = getattr(self.model, "spec", None)
        return {m: spec.direction_of(m) if spec is not None else Direction.HIGHER
                for m in dict.fromkeys(self.metric)}

    def caption(self) -> str:
        kind = "relative lift" if self.relative else "effect"
        inference = "" if self.inference == "classical" else f"; inference: {self.inference}"
        return f"Effects ({kind}, {len(self.metric)} rows{inference})"

    # -- linear maps ------------------------------------------------------------------------------
    def mapped(self: _E, weights: NDArray[np.float64], metric: list[str], arm: list[str],
               segment: list[str], n: list[int]) -> _E:
        """The linear map ``weights @ estimate`` of these rows, with covariance W Σ W′, as new rows
        named by ``metric``, ``arm`` and ``segment`` (projections, combinations, pooled arms)."""
        estimate = weights @ self.estimate
        cov = quadratic_form(weights, self.cov_estimated)
        gradient = None if self.gradient is None else weights @ self.gradient
        return replace(self, metric=tuple(metric), arm=tuple(arm), segment=tuple(segment),
                       estimate=estimate, cov_estimated=(cov + cov.T) / 2.0, n=tuple(n), gradient=gradient,
                       randomized=None)

    def _with_metric_covariance(self: _E, metrics: list[str]) -> _E:
        """These effects with the covariance between ``metrics``, from the model's one extra HC pass
        when the fit skipped it (``cross_metric_covariance=False``)."""
        if self.model is None or self.gradient is None:
            raise InvalidParameterError(
                "combine needs the covariance between metrics, which these effects do not carry "
                "(fit(..., cross_metric_covariance=False), then combined or projected without the "
                "model); combine the effects from model.infer_effect(...) instead."
            )
        model = self.model.with_cross_metric_covariance(metrics)
        cov = quadratic_form(self.gradient, model.cov)
        new_queries = model.queries[len(self.model.queries):]
        return replace(self, cov_estimated=(cov + cov.T) / 2.0, model=model,
                       queries=self.queries + new_queries)

    @validated("Effects.combine", weights=MappingOf(Real(), "a non-empty mapping of metric to weight"),
               name=InstanceOf(str, "a string"))
    def combine(self: _E, weights: dict[str, float], name: str) -> _E:
        """A linear combination across metrics, per arm and segment (e.g. net value)."""
        unknown = [m for m in weights if m not in self.metric]
        if unknown:
            raise InvalidParameterError(
                f"combine got metrics {unknown} that are not in these effects ({sorted(set(self.metric))})."
            )
        keys = list(dict.fromkeys(zip(self.arm, self.segment, strict=True)))
        matrix = np.zeros((len(keys), len(self.metric)))
        n = []
        for r, (a, s) in enumerate(keys):
            for i in range(len(self.metric)):
                if self.arm[i] == a and self.segment[i] == s and self.metric[i] in weights:
                    matrix[r, i] = weights[self.metric[i]]
            n.append(next(self.n[i] for i in range(len(self.metric)) if self.segment[i] == s))
        labels = ([name] * len(keys), [k[0] for k in keys], [k[1] for k in keys], n)
        combined = self.mapped(matrix, *labels)
        if np.isnan(combined.cov_estimated).any():  # the covariance between these metrics is not in yet
            used = [m for m, w in weights.items() if w != 0]
            combined = self._with_metric_covariance(used).mapped(matrix, *labels)
        return replace(combined, model=None, gradient=None)

    def pool(self: _E, arms: Any, name: str = "pooled", weights: Mapping[Any, float] | None = None) -> _E:
        """The effect of several treatment arms pooled against control, per metric and segment:
        Σ_a w_a · effect_a with w_a the arms' allocation (their rows, or clusters when clustered, in
        the experiment), or ``weights`` given per arm. One delta vector per row, so the standard
        error uses the arms' joint covariance (they share the control). With ``relative`` lifts the
        control base is common to the arms, so the pooled lift is the lift of the pooled effect."""
        owner = "Effects.pool"
        check_param(name, "name", owner, InstanceOf(str, "a string"))
        present = list(dict.fromkeys(self.arm))
        wanted = [str(a) for a in (arms if isinstance(arms, (list, tuple)) else [arms])]
        if len(set(wanted)) < 2 or any(a not in present for a in wanted):
            raise InvalidParameterError(
                f"The 'arms' parameter of {owner} must list at least two distinct arms of these effects "
                f"({present}). Got {arms!r} instead.")
        shares = self._allocation(wanted) if weights is None else {
            str(a): float(check_param(w, "weights", owner, Real(0.0, math.inf))) for a, w in weights.items()}
        if set(shares) != set(wanted) or not sum(shares.values()) > 0:
            raise InvalidParameterError(f"The 'weights' parameter of {owner} must give a weight to each of "
                                        f"{wanted}. Got {weights!r} instead.")
        total = sum(shares.values())
        keys = list(dict.fromkeys((m, s) for m, a, s in zip(self.metric, self.arm, self.segment, strict=True)
                                  if a in wanted))
        matrix = np.zeros((len(keys), len(self.metric)))
        n = []
        for r, (metric, segment) in enumerate(keys):
            for i in range(len(self.metric)):
                if self.metric[i] == metric and self.segment[i] == segment and self.arm[i] in shares:
                    matrix[r, i] = shares[self.arm[i]] / total
            n.append(next(self.n[i] for i in range(len(self.metric)) if self.segment[i] == segment))
        return self.mapped(matrix, [k[0] for k in keys], [name] * len(keys), [k[1] for k in keys], n)

    def trend(self, over: str | None = None) -> RowTable:
        """A test for a linear trend of the effects across numbered segments: the exposure ages of
        ``infer_effect(since_exposure=...)`` (found by default) or the levels of ``over``. Per
        (metric, arm): the GLS slope per age unit over the rows' joint covariance
        (:mod:`warehouse_causal.algebra.trend`), its standard error, z and two-sided p-value.
        Ages "pre" (before exposure) are left out; the oldest level "NNN+" counts as NNN."""
        prefixes = {s.split("=", 1)[0] for s in self.segment if "=" in s}
        if over is None:
            found = sorted(p for p in prefixes if "_since_" in p)
            if not found:
                raise InvalidParameterError("Effects.trend needs effects by exposure age "
                                            "(infer_effect(since_exposure=...)) or over=<column>.")
            over = found[0]
        elif over not in prefixes:
            raise InvalidParameterError(f"The 'over' parameter of Effects.trend must be one of "
                                        f"{sorted(prefixes)}. Got {over!r} instead.")
        rows = []
        for metric, arm in dict.fromkeys(zip(self.metric, self.arm, strict=True)):
            index, points = [], []
            for i, (m, a, s) in enumerate(zip(self.metric, self.arm, self.segment, strict=True)):
                level = s.split("=", 1)[1] if s.startswith(f"{over}=") else None
                if m == metric and a == arm and level is not None and level.rstrip("+").isdigit():
                    index.append(i)
                    points.append(float(level.rstrip("+")))
            if len(index) < 3:
                raise DesignError(f"Effects.trend needs 3 or more numbered levels of {over!r}; found "
                                  f"{len(index)}.")
            cov = self.cov_estimated[np.ix_(index, index)]
            slope, se = gls_slope(np.array(points), self.estimate[index], cov)
            z = slope / se
            p_value = float(2 * stats.norm.sf(abs(z)))
            rows.append(TrendRow(metric, arm, over, len(index), slope, se, z, p_value))
        return RowTable(rows, f"Linear trend of the effects over {over} (GLS)")

    def _allocation(self, arms: list[str]) -> dict[str, float]:
        """Rows (clusters when clustered) of each treated arm in the experiment."""
        if self.model is None:
            raise InvalidParameterError("pool needs weights= for effects without their model (combined).")
        design = self.model.spec.experiment.design
        if self.model.clusters_per_arm:
            return {a: float(c) for a, c in ((str(k), v) for k, v in self.model.clusters_per_arm.items())
                    if a in arms}
        counts: dict[str, float] = {}
        for _, treated, _, rows in design.cells:
            if str(treated) in arms:
                counts[str(treated)] = counts.get(str(treated), 0.0) + rows
        return counts

    def plot(self) -> Any:
        """Forest plot, one panel per metric with its own scale: classical intervals (thick, green
        when wholly better, red when wholly worse by the metric's direction of good, blue when a
        neutral metric moved, grey when they cross 0) and anytime-valid ones (thin), the
        zero line, and rows labelled arm · segment. Lifts (``relative=True``) are in percent.
        Returns the matplotlib Figure (``pip install 'warehouse_causal[plot]'``)."""
        try:
            import matplotlib.pyplot as plt
            from matplotlib.ticker import PercentFormatter
        except ImportError as err:  # optional extra
            raise ImportError("Effects.plot needs matplotlib: pip install 'warehouse_causal[plot]'") from err
        rows, directions = self.to_dicts(), self.directions
        metrics = list(dict.fromkeys(r["metric"] for r in rows))
        heights = [sum(r["metric"] == m for r in rows) * 0.42 + 0.9 for m in metrics]
        figure, axes = plt.subplots(len(metrics), 1, figsize=(8, sum(heights)), squeeze=False,
                                    gridspec_kw={"height_ratios": heights})
        for ax, metric in zip(axes[:, 0], metrics, strict=True):
            panel = [r for r in rows if r["metric"] == metric]
            y = np.arange(len(panel))[::-1]
            ax.axvline(0.0, color="0.3", lw=0.8, ls="--")
            for yi, r in zip(y, panel, strict=True):
                colour = COLOURS[judge(r["ci_lower"], r["ci_upper"], directions[metric])]
                ax.plot([r["av_ci_lower"], r["av_ci_upper"]], [yi, yi], color=colour, lw=1, alpha=0.6)
                ax.plot([r["ci_lower"], r["ci_upper"]], [yi, yi], color=colour, lw=3.5)
                ax.plot(r["estimate"], yi, "o", color=colour)
            ax.set_yticks(y, [f"{r['arm']} · {r['segment']}" for r in panel])
            ax.set_ylim(-0.7, len(panel) - 0.3)
            ax.set_title(metric, loc="left", fontsize=11, fontweight="bold")
            ax.set_xlabel("lift over control" if self.relative else f"effect on {metric}")
            if self.relative:
                ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax.grid(axis="x", alpha=0.3)
        figure.tight_layout()
        return figure

