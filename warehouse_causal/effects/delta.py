r"""Delta vectors: every segment, arm and metric effect as a linear function of the coefficients.

Notes
-----
For segment S, arm a and control c (Wong et al. 2024), with covariates centred at the full-sample
weighted mean :math:`\bar w`:

.. math::

    d_S = \operatorname{mean}_{i\in S}[x(a, w_i) - x(c, w_i)], \qquad
    b_S = \operatorname{mean}_{i\in S}\, x(c, w_i)

so :math:`d_S` has 1 at the arm term and :math:`\bar w_S - \bar w` at each arm × covariate term, and
:math:`b_S` has 1 at the intercept and :math:`\bar w_S - \bar w` at each covariate. The effect is
:math:`d_S'\beta`, the baseline :math:`b_S'\beta`, the relative lift :math:`d_S'\beta / b_S'\beta`
with gradient :math:`d_S/(b_S'\beta) - (d_S'\beta)\,b_S/(b_S'\beta)^2` (delta method). Stacking rows
gives the joint covariance :math:`D V D'` over metrics, arms and segments. Segment means are
weighted by the design weights; one aggregate computes all of them.

References
----------
Wong, J., Lewis, R. and Wardrop, M. (2024). Efficient computation of conditional average treatment
effects with delta vectors. arXiv:2412.08788.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from warehouse_causal.algebra.anytime import optimal_g, rho2_exact
from warehouse_causal.algebra.ratio import ratio_effect
from warehouse_causal.algebra.sandwich import quadratic_form
from warehouse_causal.core.errors import (
    DesignError,
    DesignWarning,
    InvalidParameterError,
    QueryError,
)
from warehouse_causal.design.estimands import design_estimand
from warehouse_causal.design.ratios import RatioMetric
from warehouse_causal.effects.segments import (
    ALL,
    Segment,
    cell_masks,
    check_pre_treatment,
    denominator_counts,
    failing_condition,
    resolve_segments,
    segment_cells,
    segment_query,
)
from warehouse_causal.effects.table import EffectsTable, Sequential
from warehouse_causal.fit.design_row import effect_vector
from warehouse_causal.fit.moments import category_levels
from warehouse_causal.warehouse.backends import QueryRecord, QueryRunner
from warehouse_causal.warehouse.terms import resolve_term

if TYPE_CHECKING:
    from warehouse_causal.fit.models import LinearFit

__all__ = ["MIN_SEGMENT_ROWS", "DeltaRows", "infer_effect", "segment_rows"]

#: Segments with fewer rows are flagged: their effects lean on the model's linearity.
MIN_SEGMENT_ROWS = 30


def _over_segments(model: LinearFit, column: str, runner: QueryRunner) -> list[Segment]:
    spec = model.spec
    covariates = {c.label: c for c in spec.covariates if c.categorical}  # e.g. wc.exposure_age
    term = covariates.get(column) or resolve_term(column, spec.experiment.table, "over")
    check_pre_treatment(column, term.columns, spec)  # the same rules as segment conditions
    cells = model.moments.cells
    if cells is not None and term.label in cells.keys and term.categorical:
        levels = list(model.design.categories[term.label])  # every level is a pass-1 cell key
    else:
        levels = category_levels(term, spec.experiment.table, runner)
    return [Segment(f"{column}={level}", term.expr == level, key_level=(term.label, level))
            for level in levels]


#: Per (denominator label, arm as text, segment index): rows of the segment and arm whose
#: denominator is positive and non-zero (:func:`segments.denominator_counts`).
DenominatorCounts = dict[tuple[str, str, int], tuple[int, int]]


def _segment_sums(model: LinearFit, segments: list[Segment], runner: QueryRunner
                  ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], DenominatorCounts]:
    """Rows, Σw and Σw·(c − K_c) per segment: from the pass-1 cells when every condition reads
    categorical covariates only, else from one aggregate over the table grouped by design cell,
    with each condition as a 0/1 indicator (:func:`segments.segment_query`). A model with ratio
    metrics always runs the aggregate: it also counts, per segment and arm, the rows whose
    denominator is positive or non-zero, which the pass-1 cells do not carry."""
    design = model.design
    columns = [design.columns[label] for label in design.covariates]
    denominators = tuple(dict.fromkeys(r.denominator for r in model.spec.ratios))
    cells = model.moments.cells
    masks = None if cells is None or denominators else cell_masks(segments, model.spec, cells, runner)
    counts: DenominatorCounts = {}
    if cells is not None and masks is not None:
        per_segment = [cells.subset(mask) for mask in masks]
    else:
        query = segment_query(design, segments, denominators)
        try:
            found = query.run(runner, "segments: sizes and covariate means")
        except QueryError as err:
            raise failing_condition(design.table, segments, runner, err) from err
        per_segment = segment_cells(found, design, len(segments))
        counts = denominator_counts(found, model.spec.experiment.treated_column, denominators, len(segments))
    sizes = np.array([int(c.n.sum()) for c in per_segment])
    sum_w = np.array([float(c.sum_w.sum()) for c in per_segment])
    sums = np.array([[c.weighted_sum(col) for col in columns] for c in per_segment])
    return sizes, sum_w, sums.reshape(len(segments), len(columns)), counts


def _segment_means(model: LinearFit, segments: list[Segment], runner: QueryRunner
                   ) -> tuple[NDArray[np.float64], NDArray[np.int64], DenominatorCounts]:
    design = model.design
    sizes, sum_w, sums, counts = _segment_sums(model, segments, runner)
    means = np.zeros((len(segments), len(design.covariates)))
    for s, segment in enumerate(segments):
        if sizes[s] == 0:
            raise DesignError(f"The segment {segment.label!r} has no rows; its effect is not defined.")
        for j, label in enumerate(design.covariates):
            means[s, j] = sums[s, j] / sum_w[s] - model.covariate_means[label]
    small = [f"{seg.label!r} ({n} rows)"
             for seg, n in zip(segments, sizes, strict=True) if n < MIN_SEGMENT_ROWS]
    if small:
        warnings.warn(
            f"Small segments: {', '.join(small)}. Their effects rest on the model's linearity in the "
            "covariates more than on data from the segment.", DesignWarning, stacklevel=4,
        )
    return means, sizes, counts


def _vectors(model: LinearFit, means: NDArray[np.float64]) -> tuple[NDArray, NDArray, list[tuple]]:
    design, k = model.design, len(model.terms)
    index = {t: j for j, t in enumerate(model.terms)}
    cov_index = {c: j for j, c in enumerate(design.covariates)}
    n_params = k * len(model.metrics)
    rows_d, rows_b, labels = [], [], []
    for m, metric in enumerate(model.metrics):
        for a, arm_term in enumerate(model.treatment_terms):
            for s in range(means.shape[0]):
                centred = {cov: float(means[s, j]) for cov, j in cov_index.items()}
                d = np.zeros(n_params)
                b = np.zeros(n_params)
                d[m * k:(m + 1) * k] = effect_vector(model.terms, arm_term, design.interactions, centred)
                b[m * k + index[design.intercept]] = 1.0
                for cov, j in cov_index.items():
                    b[m * k + index[cov]] = means[s, j]
                rows_d.append(d)
                rows_b.append(b)
                labels.append((metric, str(model.arms[a]), s))
    return np.array(rows_d), np.array(rows_b), labels


def _sequential(model: LinearFit, alpha: float, planned_n: int | None) -> Sequential:
    if model.covariance_estimator.clustered:
        assert model.n_clusters is not None
        n = float(model.n_clusters)
        planned = float(planned_n or n)
        return Sequential("asymptotic", n, n - 1, len(model.terms), planned, rho2_exact(planned, alpha))
    n = float(model.nobs)
    planned = float(planned_n or n)
    k = len(model.terms)
    return Sequential("t", n, n - k, k, planned, optimal_g(planned, k, alpha))


@dataclass(frozen=True)
class DeltaRows:
    """Stacked delta vectors ``d`` and baselines ``b`` (R × k·M), labelled (metric, arm, segment)."""

    d: NDArray[np.float64]
    b: NDArray[np.float64]
    labels: tuple[tuple[str, str, str], ...]
    sizes: tuple[int, ...]
    queries: tuple[QueryRecord, ...]
    #: Per (ratio denominator, arm as text, segment label): (positive, non-zero) row counts.
    denominators: Mapping[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)


def segment_rows(model: LinearFit, condition_on: Any, over: str | None) -> DeltaRows:
    """Validate the conditions, run the one segment query and build every delta vector."""
    runner = QueryRunner()
    segments = resolve_segments(condition_on, model.spec)
    if over is not None:
        segments += _over_segments(model, over, runner)
    means, sizes, counts = _segment_means(model, segments, runner)
    d, b, labels = _vectors(model, means)
    return DeltaRows(d, b, tuple((m, a, segments[s].label) for m, a, s in labels),
                     tuple(int(sizes[s]) for _, _, s in labels), tuple(runner.records),
                     {(den, arm, segments[s].label): n for (den, arm, s), n in counts.items()})


def since_exposure_column(model: LinearFit, exposure: str) -> str:
    """The model's exposure-age covariate for ``exposure`` (added with ``wc.exposure_age``)."""
    labels = [c.label for c in model.spec.covariates
              if c.categorical and c.label in (f"days_since_{exposure}", f"weeks_since_{exposure}")]
    if not labels:
        raise DesignError(
            f"since_exposure={exposure!r} needs the exposure age in the model: add "
            f"wc.exposure_age(time=..., exposure={exposure!r}) to exogeneous_covariates (on unit × day "
            "rows, clustered by unit), so the model carries one effect per age.")
    return labels[0]


def infer_effect(model: LinearFit, condition_on: Any = None, *, over: str | None = None,
                 relative: bool = False, alpha: float = 0.05, planned_n: int | None = None,
                 adjust: str = "holm", since_exposure: str | None = None) -> EffectsTable:
    """Effects of every arm on every metric in the population ("all") and in each segment."""
    owner = "LinearModel.infer_effect"  # its @validated declaration checks the other options
    if since_exposure is not None:
        if over is not None:
            raise InvalidParameterError(f"{owner} takes over= or since_exposure=, not both.")
        over = since_exposure_column(model, since_exposure)
    if planned_n is not None and not (isinstance(planned_n, int) and planned_n > len(model.terms) + 1):
        raise InvalidParameterError(
            f"The 'planned_n' parameter of {owner} must be an integer above the number of model terms "
            f"plus one ({len(model.terms) + 1}). Got {planned_n!r} instead."
        )
    rows = segment_rows(model, condition_on, over)
    theta = model.params.T.ravel()
    estimate = rows.d @ theta
    gradient = rows.d
    if relative:
        base = rows.b @ theta
        estimate = estimate / base
        gradient = rows.d / base[:, None] - (estimate / base)[:, None] * rows.b
    if model.spec.ratios:
        rows, estimate, gradient = _with_ratio_rows(model, rows, theta, estimate, gradient, relative)
    # NaN only across metrics until needed; a ratio needs its numerator × denominator block now
    cov = quadratic_form(gradient, model.cov if model.spec.ratios else model.cov_estimated)
    randomized = None
    if model.randomization is not None:  # few clusters: the arm effects in "all" are re-randomized
        randomized = tuple(
            _randomized(model, m, a, alpha) if s == ALL and not relative and m in model.metrics else None
            for m, a, s in rows.labels)
    return EffectsTable(
        metric=tuple(lb[0] for lb in rows.labels), arm=tuple(lb[1] for lb in rows.labels),
        segment=tuple(lb[2] for lb in rows.labels), estimate=estimate, cov_estimated=(cov + cov.T) / 2.0,
        n=rows.sizes, df=float(model.df_inference), alpha=alpha,
        sequential=_sequential(model, alpha, planned_n), adjust=adjust, relative=relative,
        queries=rows.queries, model=model, gradient=gradient, inference=model.inference,
        randomized=randomized, estimand=design_estimand(model.spec.experiment),
    )


def _with_ratio_rows(model: LinearFit, rows: DeltaRows, theta: NDArray[np.float64],
                     estimate: NDArray[np.float64], gradient: NDArray[np.float64], relative: bool
                     ) -> tuple[DeltaRows, NDArray[np.float64], NDArray[np.float64]]:
    """The rows with one row per (ratio, arm, segment) appended after the metrics' rows: the effect
    on μ_num/μ_den by the delta method (:func:`warehouse_causal.algebra.ratio.ratio_effect`)."""
    index = {label: i for i, label in enumerate(rows.labels)}
    labels, sizes = list(rows.labels), list(rows.sizes)
    control = str(model.spec.experiment.design.treated_control)
    estimates, gradients = list(estimate), list(gradient)
    for ratio in model.spec.ratios:
        for metric, arm, segment in rows.labels:
            if metric != ratio.numerator:
                continue
            i, j = index[(metric, arm, segment)], index[(ratio.denominator, arm, segment)]
            _check_denominator_rows(ratio, rows.denominators, control, arm, segment)
            value, grad, (den_c, den_t) = ratio_effect(theta, rows.d[i], rows.b[i], rows.d[j], rows.b[j],
                                                       relative)
            if not (den_c > 0 and den_t > 0):
                raise DesignError(
                    f"The ratio {ratio.name!r} divides by {ratio.denominator!r}, whose mean is "
                    f"{den_c:.4g} in control and {den_t:.4g} in arm {arm} (segment {segment!r}); a ratio "
                    "metric needs a denominator with a positive mean in every arm.")
            labels.append((ratio.name, arm, segment))
            sizes.append(rows.sizes[i])
            estimates.append(value)
            gradients.append(grad)
    extended = DeltaRows(rows.d, rows.b, tuple(labels), tuple(sizes), rows.queries, rows.denominators)
    return extended, np.array(estimates), np.array(gradients)


def _check_denominator_rows(ratio: RatioMetric, counts: Mapping[tuple[str, str, str], tuple[int, int]],
                            control: str, arm: str, segment: str) -> None:
    """Refuse a ratio whose denominator is zero, or never positive, in every row of the segment in
    the control or the arm, from exact row counts: the fitted means are then 0 or negative up to
    rounding noise, whose sign would otherwise decide between an error and a wrong estimate."""
    for level in (control, arm):
        positive, nonzero = counts.get((ratio.denominator, level, segment), (0, 0))
        if positive == 0:
            what = ("is zero in every row" if nonzero == 0 else "is negative or zero in every row")
            raise DesignError(
                f"The ratio {ratio.name!r} divides by {ratio.denominator!r}, which {what} of arm {level} "
                f"in segment {segment!r} (rows with a positive weight); the ratio is not defined there. "
                "A ratio metric needs a denominator with a positive mean in every arm: drop the segment "
                "or use a different denominator.")


def _randomized(model: LinearFit, metric: str, arm: str, alpha: float) -> tuple[float, float, float]:
    assert model.randomization is not None
    row = model.randomization.row(metric, arm, alpha)
    return row.p_value, row.ci_lower, row.ci_upper
