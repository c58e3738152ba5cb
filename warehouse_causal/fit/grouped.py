r"""Pass 1 and pass 2 grouped by the discrete keys of the design (arms and categorical covariates).

Notes
-----
Every basis column factorises as :math:`u_a = f_a(k)\,g_a`: an indicator product :math:`f_a` of the
discrete keys k (arm dummies, category dummies, and their interactions) times one numeric column
:math:`g_a` (a shifted covariate or metric, or 1). Grouping by the keys, each cell c returns
:math:`n_c`, :math:`\sum w`, :math:`\sum w g_i` and :math:`\sum w g_i g_j` over the numeric columns
only, and

.. math::

    (U'WU)_{ab} = \sum_c f_a(k_c) f_b(k_c) \sum_{i\in c} w_i g_{ia} g_{ib}

recovers every cross product exactly. With 2 arms, 5 covariates and 3 metrics that is 45 sums per
row instead of 120 (the interactions and dummies no longer multiply the products). The meats
factorise the same way: HC needs :math:`\sum_{i\in c} w_i^2 e_{im} e_{il} g_{ia} g_{ib}` per cell, and
CR the per-(cluster, cell) sums :math:`\sum w e_m g_a`, combined into :math:`s_g` and
:math:`\sum_g s_g s_g'` in numpy (read as columns while clusters × cells stay under
``MAX_CLUSTER_CELLS``) or else in a small outer aggregate. The returned rows are cells (design
cells × category levels, or clusters × cells), never data rows.

Pass 1 also counts NULLs of every metric and covariate, and the provisional shifts come from a probe
of the first ``PROBE_ROWS`` rows (any centre inside the data's range prevents the cancellation the
shift is there for; the exact mean is not needed), so a fit reads the fact data twice.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir
import numpy as np
import scipy.sparse
from numpy.typing import NDArray

from warehouse_causal.core.errors import DesignError, PrecisionWarning
from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.fit.moments import (
    CLUSTER,
    Auxiliary,
    BasisColumn,
    Cells,
    Design,
    Moments,
    Prepared,
    check_levels,
    design_keys,
    indicator_product,
    missing_values_error,
    product_sum,
    residual_exprs,
    weighted_sum,
)
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import KEY, Columns, Named, Sums
from warehouse_causal.warehouse.shifts import PROBE_ROWS, provisional_centre, shifted

__all__ = [
    "CANCELLATION_RATIO",
    "CLUSTER",
    "IN_PROCESS_BACKENDS",
    "MAX_CLUSTER_CELLS",
    "MAX_CLUSTER_VALUES",
    "MAX_GROUPS",
    "ClusterMeat",
    "PassOne",
    "Probe",
    "TermSums",
    "check_null_keys",
    "check_terms",
    "cluster_cells_fit",
    "cluster_cells_query",
    "cluster_meat_from_cells",
    "cluster_meat_from_products",
    "cluster_meat_query",
    "clusters_per_arm",
    "clusters_with_several_arms",
    "constant_metric_error",
    "grouped_moments",
    "hc_meat_query",
    "levels_from_cells",
    "metric_pairs",
    "non_finite_error",
    "one_pass_cluster_limit",
    "outer_of_cluster_sums",
    "pass1_query",
    "probe",
    "read_aux_hc_meats",
    "read_cluster_meat",
    "read_hc_meat",
    "read_moments",
    "recentred_shifts",
    "warn_precision",
]

#: Pass 1 refuses designs with more key cells than this (arms × category levels).
MAX_GROUPS = 100_000
#: Up to this many (cluster, cell) rows, and this many values in them, the clustered meat is formed
#: in numpy from those rows (about 480 MB at most); beyond either, in SQL (one nested aggregate).
#: Measured at 1M clusters × 5 rows (benchmarks/README.md): the numpy route 4.5–4.8 s, the nested
#: aggregate 5.2–5.6 s, at the same peak memory.
MAX_CLUSTER_CELLS = 2_000_000
MAX_CLUSTER_VALUES = 60_000_000
#: Engines that run in this process hand the rows over without a network; from a remote warehouse
#: the (cluster, cell) rows come back only up to a tenth of those limits.
IN_PROCESS_BACKENDS = frozenset({"duckdb", "datafusion", "polars", "sqlite"})
REMOTE_SHARE = 10


@dataclass(frozen=True)
class Probe:
    """Means (the shifts) and distinct counts of the terms in the first PROBE_ROWS rows."""

    shifts: dict[str, float]
    distinct: dict[str, int]  # numeric covariates
    levels: dict[str, int]  # categorical covariates


def _numeric_terms(spec: ModelSpec) -> list[Any]:
    return [t for t in spec.covariates if not t.categorical] + list(spec.metrics)


def probe(spec: ModelSpec, runner: QueryRunner) -> Probe:
    """Means and distinct counts of the numeric terms over the first ``PROBE_ROWS`` rows."""
    terms = _numeric_terms(spec)
    covariates = {t.label for t in spec.covariates}
    categorical = [t for t in spec.covariates if t.categorical]
    integer = [i for i, t in enumerate(terms) if t.expr.type().is_integer()]
    columns = Columns()
    columns.update("value", {i: t.expr.cast("float64") for i, t in enumerate(terms)})
    columns.update("integer", {i: terms[i].expr.cast("int64") for i in integer})
    columns.update("category", {i: t.expr for i, t in enumerate(categorical)})
    rows = columns.select(spec.experiment.table).limit(PROBE_ROWS)
    aggs = Columns()
    aggs.add("rows", None, rows.table.count())
    aggs.update("levels", {i: rows["category", i].nunique() for i in range(len(categorical))})
    aggs.update("mean", {i: rows["value", i].mean() for i in range(len(terms))})
    # over finite values only: a NaN or infinity is refused by pass 1 with its count, but DuckDB 1.5's
    # STDDEV_POP raises "out of range" on one instead of returning NaN (2.0 and PostgreSQL return it)
    aggs.update("sd", {i: rows["value", i].std(how="pop", where=~(rows["value", i].isnan()
                                                                   | rows["value", i].isinf()))
                       for i in range(len(terms))})
    aggs.update("distinct", {i: rows["value", i].nunique() for i, t in enumerate(terms)
                             if t.label in covariates})
    aggs.update("minimum", {i: rows["integer", i].min() for i in integer})
    found = aggs.aggregate(rows.table).run(runner, f"probe (first {PROBE_ROWS:,} rows: shifts)")
    shifts = {
        term.label: provisional_centre(found.value("mean", i), found.value("sd", i),
                                       found.value("minimum", i) if i in integer else None, i in integer)
        for i, term in enumerate(terms)
    }
    distinct = {t.label: int(found.value("distinct", i) or 0) for i, t in enumerate(terms)
                if t.label in covariates}
    levels = {t.label: int(found.value("levels", i) or 0) for i, t in enumerate(categorical)}
    return Probe(shifts, distinct, levels)


#: Past this ratio (mean − K)² / variance, which costs 6 of float64's 16 digits, a pass whose
#: probe-chosen shifts were poor (rows sorted by the metric, say) runs again around the mean it found.
CANCELLATION_RATIO = 1e6


class TermSums(NamedTuple):
    """Σw over all rows, and each term's (Σw·g, Σw·g²) around its shift: what re-centring and the
    constant-metric check read from a pass."""

    sum_w: float
    sums: list[tuple[float, float]]

    def weighted_moments(self) -> list[tuple[float, float]]:
        """Each term's weighted mean and mean square around its shift (NaN when Σw = 0)."""
        if self.sum_w <= 0:
            return [(np.nan, np.nan)] * len(self.sums)
        return [(s / self.sum_w, ss / self.sum_w) for s, ss in self.sums]


def recentred_shifts(found: TermSums, terms: Sequence[Any], shifts: dict[str, float | int]
                     ) -> dict[str, float | int]:
    r"""The terms whose cell sums show catastrophic cancellation, with a better shift for each.

    ``found`` holds the (Σw·g, Σw·g²) of each term; :math:`m = \sum wg/\sum w` and
    :math:`v = \sum wg^2/\sum w - m^2` are the weighted mean and variance around the shift. A term
    is re-centred when :math:`m^2 > ` ``CANCELLATION_RATIO`` · v; a term constant at its shift
    (:math:`\sum wg^2 = 0`) is exact and left alone.
    """
    better: dict[str, float | int] = {}
    for term, (mean, mean_square) in zip(terms, found.weighted_moments(), strict=True):
        if mean_square == 0.0 or np.isnan(mean_square):
            continue
        variance = mean_square - mean * mean
        if variance <= 0.0 or mean * mean > CANCELLATION_RATIO * variance:
            shift = shifts[term.label]
            integer = isinstance(shift, int)
            spread = float(np.sqrt(max(variance, 0.0)))
            centre = provisional_centre(float(shift) + mean, spread, None, integer)
            if integer:
                centre = shift + round(mean)  # exact integer arithmetic, also beyond 2**53
            if centre != shift:
                better[term.label] = centre
    return better


def warn_precision(terms: Iterable[str]) -> None:
    """Cancellation that re-centring did not cure: say which terms may have lost digits."""
    warnings.warn(
        f"The sums of {sorted(terms)} still cancel catastrophically after re-centring: their "
        "estimates may have lost digits. Subtract a typical value from these columns first.",
        PrecisionWarning, stacklevel=6,
    )


def constant_metric_error(found: TermSums, metrics: Sequence[Any]) -> DesignError | None:
    """A metric with no variation (every row equal, up to rounding) has effect 0 with standard error
    0 and an undefined p-value: an error that names it, as constant covariates get."""
    for term, (mean, mean_square) in zip(metrics, found.weighted_moments(), strict=True):
        if np.isnan(mean_square):
            continue
        if mean_square - mean**2 <= 8 * np.finfo(float).eps * mean_square:
            return DesignError(
                f"The metric {term.label!r} is constant (it takes one value in every row): its effect "
                "is 0 with no uncertainty, so there is nothing to test. Drop it, or check the column.")
    return None


# -- pass 1 ------------------------------------------------------------------------------------


def pass1_query(spec: ModelSpec, shifts: dict[str, float], cluster: str | None = None,
                limit: int = MAX_GROUPS) -> Named:
    r"""GROUP BY the design keys: n (``rows``), Σw (``weight``), Σw² (``weightsquared``), the NULLs
    of each numeric term i (``nulls``), Σ w g_i (``sum``) and Σ w g_i g_j (``product``, i ≤ j).

    With ``cluster``, GROUP BY (cluster, keys), ordered: the same sums per (cluster, cell), from
    which both the cells (summed over clusters) and the clustered meat are formed
    (:func:`cluster_meat_from_products`), so a clustered fit reads the data once."""
    t, w = spec.experiment.table, spec.experiment.weight_expr()
    terms = _numeric_terms(spec)
    values = [shifted(term.expr, shifts[term.label]) for term in terms]
    aggs = Columns()
    aggs.add("rows", None, t.count())
    aggs.add("weight", None, weighted_sum(t, [w]))
    aggs.add("weightsquared", None, weighted_sum(t, [w, w]))
    aggs.update("nulls", {i: t.count() - term.expr.count() for i, term in enumerate(terms)})
    aggs.update("sum", {i: weighted_sum(t, [values[i], w]) for i in range(len(terms))})
    aggs.update("product", {(i, j): weighted_sum(t, [values[i], values[j], w])
                            for i, j in itertools.combinations_with_replacement(range(len(terms)), 2)})
    if cluster is None:
        return aggs.aggregate(t, by=design_keys(spec)).limit(limit + 1)
    by: dict[Any, ir.Value] = {CLUSTER: t[cluster], **design_keys(spec)}
    return aggs.aggregate(t, by=by).ordered().limit(limit + 1)


def non_finite_error(spec: ModelSpec, term: Any, role: str, nobs: int, runner: QueryRunner
                      ) -> DesignError:
    """Count the NaN and infinite values of a term (an extra query, on the error path only)."""
    t = spec.experiment.table
    value = term.expr.cast("float64")
    counts = Columns()
    counts.add("nan", None, value.isnan().cast("int64").sum())
    counts.add("inf", None, value.isinf().cast("int64").sum())
    found = counts.aggregate(t).run(runner, f"count NaN values of {term.label}")
    if found.value("nan"):
        return missing_values_error(role, term.label, int(found.value("nan")), nobs, "NaN")
    infinite = int(found.value("inf") or 0)
    if infinite == 0:  # every value is finite: the sums overflowed (huge values, or huge weights)
        return DesignError(
            f"The {role} {term.label!r} has no NaN or infinite value, but its weighted sums of squares "
            "overflow a double (values or weights near 1e154 or beyond); rescale the column or the "
            "weights.")
    return DesignError(
        f"The {role} {term.label!r} has {infinite} infinite value(s) out of {nobs} "
        "rows (e.g. from a division by zero); filter or fix them."
    )


def check_terms(nobs: int, spec: ModelSpec, runner: QueryRunner,
                terms: Sequence[tuple[Any, str, float, float]]) -> None:
    """For each (term, role, NULL count, Σ square): NULLs are an error, and so is a non-finite sum of
    squares (NaN or inf, then counted by one more query)."""
    for term, role, nulls, square in terms:
        if nulls:
            raise missing_values_error(role, term.label, int(nulls), nobs)
        if not np.isfinite(square):
            raise non_finite_error(spec, term, role, nobs, runner)


def check_null_keys(found: Sums, keys: Mapping[Hashable, str]) -> None:
    """A cell whose group key (key → covariate label) is NULL holds rows with a NULL covariate."""
    n = found.column("rows")
    nobs = int(n.sum())
    for key, label in keys.items():
        nulls = int(n[np.array([v is None for v in found.values(KEY, key)], dtype=bool)].sum())
        if nulls:
            raise missing_values_error("covariate", label, nulls, nobs)


def _term_sums(found: Sums, indices: Iterable[int], first: str, second: str) -> TermSums:
    return TermSums(found.total("weight"),
                    [(found.total(first, i), found.total(second, (i, i))) for i in indices])


def _check_cells(found: Sums, spec: ModelSpec, runner: QueryRunner) -> None:
    if found.n_cells > MAX_GROUPS:
        raise DesignError(
            f"The arms and categorical covariates combine into more than {MAX_GROUPS:,} cells; group "
            "rare levels of the categorical covariates (e.g. a CASE expression) first."
        )
    covariates = {t.label for t in spec.covariates}
    check_terms(int(found.total("rows")), spec, runner, [
        (term, "covariate" if term.label in covariates else "metric", found.total("nulls", i),
         found.total("product", (i, i)))
        for i, term in enumerate(_numeric_terms(spec))
    ])
    check_null_keys(found, {key: key for key in design_keys(spec)})


def _gram(cells: Cells, columns: Sequence[BasisColumn], products: dict[tuple[str, str], NDArray]
          ) -> NDArray[np.float64]:
    factors = [cells.factor(c) for c in columns]
    size = len(columns)
    matrix = np.empty((size, size))
    for a, b in itertools.combinations_with_replacement(range(size), 2):
        ga, gb = columns[a].numeric, columns[b].numeric
        if ga is None and gb is None:
            per_cell = cells.sum_w
        elif ga is None or gb is None:
            per_cell = cells.sums[ga or gb]  # type: ignore[index]
        else:
            per_cell = products[(ga, gb)]
        matrix[a, b] = matrix[b, a] = float((factors[a] * factors[b] * per_cell).sum())
    return matrix


class PassOne(NamedTuple):
    """Pass 1: the cell sums, what the layout needs, the query; and with a cluster the (cluster,
    cell) rows the cells were summed from."""

    cells: Sums
    prepared: Prepared
    query: ir.Table
    cluster_rows: Sums | None = None


def grouped_moments(spec: ModelSpec, shifts: dict[str, float | int], runner: QueryRunner,
                    cluster: str | None = None, limit: int = MAX_GROUPS) -> PassOne | None:
    """Run the grouped pass 1 and check it.

    When the sums show catastrophic cancellation (the probe's rows were unlike the rest), pass 1
    runs once more around the means it found (:func:`recentred_shifts`). With ``cluster`` it groups
    by (cluster, keys) and returns None when there are more than ``limit`` such rows (the caller
    then takes the two-pass route)."""
    terms = _numeric_terms(spec)
    for attempt in range(2):
        query = pass1_query(spec, shifts, cluster, limit)
        what = "by cluster and design cell" if cluster else "by design cell"
        purpose = f"pass 1: cross products {what}" + (" (re-centred)" if attempt else "")
        rows = query.run(runner, purpose, sort=cluster is None)
        if cluster is not None and rows.n_cells > limit:
            return None
        found = rows if cluster is None else rows.collapse(list(design_keys(spec)))
        if not found.n_cells:
            raise DesignError("The experiment table is empty.")
        _check_cells(found, spec, runner)
        better = recentred_shifts(_term_sums(found, range(len(terms)), "sum", "product"), terms, shifts)
        if not better:
            break
        if attempt:
            warn_precision(better)
        else:
            shifts = {**shifts, **better}
    n_covariates = len(terms) - len(spec.metrics)
    constant = constant_metric_error(
        _term_sums(found, range(n_covariates, len(terms)), "sum", "product"), spec.metrics)
    if constant is not None:
        raise constant
    prepared = Prepared(dict(shifts), levels_from_cells(found, spec), int(found.total("rows")))
    return PassOne(found, prepared, query.table, None if cluster is None else rows)


def levels_from_cells(found: Sums, spec: ModelSpec) -> dict[str, tuple[Any, ...]]:
    """The sorted levels of each categorical covariate: the values of its group key."""
    levels = {}
    for term in spec.covariates:
        if term.categorical and term.label not in levels:
            values = sorted(set(found.values(KEY, term.label)), key=lambda v: (str(type(v)), v))
            levels[term.label] = tuple(check_levels(term.label, values))
    return levels


def read_moments(found: Sums, spec: ModelSpec, design: Design) -> Moments:
    """The full U'WU over the design's basis columns, assembled from the cell sums of pass 1."""
    labels = [t.label for t in _numeric_terms(spec)]
    cells = Cells(
        keys={key: found.key(key) for key in design_keys(spec)}, n=found.column("rows"),
        sum_w=found.column("weight"), sums={label: found.column("sum", i) for i, label in enumerate(labels)},
    )
    products = {}
    for i, j in itertools.combinations_with_replacement(range(len(labels)), 2):
        products[(labels[i], labels[j])] = products[(labels[j], labels[i])] = found.column("product", (i, j))
    columns = [design.columns[label] for label in design.labels]
    matrix = _gram(cells, columns, products)
    return Moments(design.labels, matrix, int(cells.n.sum()), float(cells.sum_w.sum()),
                   found.total("weightsquared"), cells)


# -- pass 2 ------------------------------------------------------------------------------------


def _numeric_parts(design: Design) -> list[str | None]:
    """The distinct numeric factors of Z (None = 1), in order of first appearance."""
    return list(dict.fromkeys(design.columns[label].numeric for label in design.z))


def _parts_of(design: Design, regressors: Sequence[str]) -> list[int]:
    """Indices (in :func:`_numeric_parts`) of the numeric factors that ``regressors`` use."""
    parts = _numeric_parts(design)
    return sorted({parts.index(design.columns[label].numeric) for label in regressors})


#: The group key of the assignment column when it is not a design key.
ASSIGNMENT = ("assignment",)


def _scored_rows(design: Design, params: NDArray[np.float64], extra: dict[Hashable, ir.Value],
                 aux: Sequence[Auxiliary] = (), leverage: ir.Value | None = None
                 ) -> tuple[Named, list[str | None]]:
    """Project the design keys (and ``extra`` group keys), w·e_m per metric (``score``; then w·r_e
    per auxiliary regression as ``score`` M+e), each numeric factor of Z once per row (``factor``)
    and the leverage factor, if any (``leverage``)."""
    parts = _numeric_parts(design)
    columns = Columns()
    residuals = [*residual_exprs(design, params), *(a.residual(design) for a in aux)]
    columns.update("score", {m: e if design.weight is None else design.weight * e
                             for m, e in enumerate(residuals)})
    columns.update("factor", {i: design.columns[part].value() for i, part in enumerate(parts)
                              if part is not None})
    if leverage is not None:
        columns.add("leverage", None, leverage)
    return columns.select(design.table, keys={**design.keys, **extra}), parts


def metric_pairs(n_metrics: int, cross_metric: bool) -> list[tuple[int, int]]:
    """The (m, l), m ≤ l, whose HC meat block is summed: all of them, or m = l only."""
    if cross_metric:
        return list(itertools.combinations_with_replacement(range(n_metrics), 2))
    return [(m, m) for m in range(n_metrics)]


def hc_meat_query(design: Design, params: NDArray[np.float64], factor: ir.Value | None,
                  pairs: list[tuple[int, int]], aux: Sequence[Auxiliary] = ()) -> Named:
    r"""GROUP BY keys: :math:`\sum w^2 e_m e_l g_a g_b` (× ``factor``) for a ≤ b and the metric
    ``pairs`` (m, l) (block ``meat``, entries (m, l, a, b)): all M·(M+1)/2 of them for the joint
    covariance, or fewer (see :func:`metric_pairs`); and for each auxiliary regression e its own
    block over the numeric factors of its regressors (block ``side``, entries (e, a, b); × ``factor``
    when they are all of Z, so the leverage is the fit's)."""
    inner, parts = _scored_rows(design, params, {}, aux, leverage=factor)
    f = inner["leverage", None] if factor is not None else None
    g = [None if p is None else inner["factor", i] for i, p in enumerate(parts)]
    aggs = Columns()
    aggs.update("meat", {
        (m, n, a, b): product_sum([inner["score", m], inner["score", n], g[a], g[b], f])
        for m, n in pairs
        for a, b in itertools.combinations_with_replacement(range(len(parts)), 2)
    })
    n_metrics = len(design.y)
    for e, equation in enumerate(aux):
        we, scale = inner["score", n_metrics + e], f if equation.regressors == design.z else None
        for a, b in itertools.combinations_with_replacement(_parts_of(design, equation.regressors), 2):
            aggs.add("side", (e, a, b), product_sum([we, we, g[a], g[b], scale]))
    return aggs.aggregate(inner.table, by={key: inner.key(key) for key in design.keys})


def read_hc_meat(found: Sums, design: Design, pairs: list[tuple[int, int]]) -> NDArray[np.float64]:
    """The (kz·M)² HC meat, metric-major, from the per-cell sums of :func:`hc_meat_query`; the
    blocks of metric pairs not summed are left at 0 (see ``without_cross_metric_blocks``)."""
    keys = found.keys()
    parts = _numeric_parts(design)
    z = [design.columns[label] for label in design.z]
    factors = [indicator_product(keys, c, found.n_cells) for c in z]
    part_of = [parts.index(c.numeric) for c in z]
    kz, n_metrics = len(z), len(design.y)
    meat = np.zeros((kz * n_metrics, kz * n_metrics))
    for m, n in pairs:
        for a, b in itertools.product(range(kz), repeat=2):
            pa, pb = sorted((part_of[a], part_of[b]))
            value = float((factors[a] * factors[b] * found.column("meat", (m, n, pa, pb))).sum())
            meat[m * kz + a, n * kz + b] = meat[n * kz + b, m * kz + a] = value
    return meat


def read_aux_hc_meats(found: Sums, design: Design, aux: Sequence[Auxiliary]
                      ) -> tuple[NDArray[np.float64], ...]:
    r"""Each auxiliary regression's HC meat :math:`\sum w^2 r^2 z z'` over its regressors, from the
    per-cell sums of :func:`hc_meat_query`."""
    keys = found.keys()
    parts = _numeric_parts(design)
    out = []
    for e, equation in enumerate(aux):
        columns = [design.columns[label] for label in equation.regressors]
        factors = [indicator_product(keys, c, found.n_cells) for c in columns]
        part_of = [parts.index(c.numeric) for c in columns]
        meat = np.empty((len(columns), len(columns)))
        for a, b in itertools.combinations_with_replacement(range(len(columns)), 2):
            pa, pb = sorted((part_of[a], part_of[b]))
            per_cell = found.column("side", (e, pa, pb))
            meat[a, b] = meat[b, a] = float((factors[a] * factors[b] * per_cell).sum())
        out.append(meat)
    return tuple(out)


def cluster_cells_fit(cluster_count_bound: int | None, n_cells: int, design: Design,
                      aux: Sequence[Auxiliary], backend: str) -> bool:
    """Whether the (cluster, cell) rows, at most clusters × cells, are few enough to come back (see
    MAX_CLUSTER_CELLS and MAX_CLUSTER_VALUES; a tenth of them from a remote warehouse, ``backend``
    not in-process); the clustered meat is then formed in numpy."""
    if cluster_count_bound is None:
        return False
    share = 1 if backend in IN_PROCESS_BACKENDS else REMOTE_SHARE
    rows = cluster_count_bound * n_cells
    sums = len(design.y) * len(_numeric_parts(design))
    sums += sum(len(_parts_of(design, a.regressors)) for a in aux)
    values = rows * (sums + len(design.keys) + 3)
    return rows <= MAX_CLUSTER_CELLS // share and values <= MAX_CLUSTER_VALUES // share


def one_pass_cluster_limit(spec: ModelSpec, found: Probe, cluster_count_bound: int | None,
                           backend: str, interacted: bool) -> int | None:
    """The row limit of a clustered pass 1 grouped by (cluster, keys) when that route applies (the
    assignment is a design key and the (cluster, cell) rows and their values are within
    MAX_CLUSTER_CELLS and MAX_CLUSTER_VALUES, a tenth of them from a remote warehouse), else None.
    The rows are at most clusters × cells: validation's (cluster, arm cell) count times the
    categorical levels the probe saw (the query stops at the limit if the probe saw too few). The
    route is taken only when its per-row work is the smaller (see the comment below)."""
    keys = design_keys(spec)
    if cluster_count_bound is None or spec.experiment.intent_to_treat not in keys:
        return None
    q = len(_numeric_terms(spec))
    # Per data row, pass 2 evaluates each metric's residual over the columns of X (dummies and
    # interactions included), the one pass q(q+1)/2 products instead: take it when that is less work
    # (measured: 1M clusters x 5 rows, 5 numeric covariates, 3 metrics: two passes 4.2 s, one 5.4 s;
    # 2,000 clusters x 30 days as a covariate: two passes 2.84 s, one 0.8 s).
    arms = len(spec.experiment.design.treated_levels)
    columns = 1 + sum(1 if not t.categorical else max(found.levels.get(t.label, 2) - 1, 1)
                      for t in spec.covariates)
    x_columns = arms * columns if interacted else arms - 1 + columns
    if len(spec.metrics) * x_columns <= q * (q + 1) // 2:
        return None
    share = 1 if backend in IN_PROCESS_BACKENDS else REMOTE_SHARE
    rows = cluster_count_bound
    for count in found.levels.values():
        rows *= max(count, 1)
    values = rows * (q * (q + 1) // 2 + 2 * q + 3 + len(keys) + 1)
    limit = MAX_CLUSTER_CELLS // share
    return limit if rows <= limit and values <= MAX_CLUSTER_VALUES // share else None


def cluster_cells_query(design: Design, params: NDArray[np.float64], cluster: str, assignment: str,
                        aux: Sequence[Auxiliary] = (), ordered: bool = False) -> Named:
    r"""GROUP BY (cluster, keys) → :math:`u_{m,i} = \sum w e_m g_i` (block ``cell``, entries (m, i);
    then the auxiliary regressions' sums over the numeric factors they use, as (M+e, i)) and the
    assignment's min/max (``lowest``/``highest``; none when the assignment is a key: then it is the
    key column). ``ordered`` sorts the rows by (cluster, keys), for :func:`cluster_meat_from_cells`."""
    t = design.table
    assignment_is_key = assignment in design.keys
    extra: dict[Hashable, ir.Value] = {CLUSTER: t[cluster]}
    if not assignment_is_key:
        extra[ASSIGNMENT] = t[assignment]
    inner, parts = _scored_rows(design, params, extra, aux)
    used = [range(len(parts))] * len(design.y) + [_parts_of(design, a.regressors) for a in aux]
    aggs = Columns()
    aggs.update("cell", {
        (m, i): (inner["score", m] if parts[i] is None else inner["score", m] * inner["factor", i]).sum()
        for m, indices in enumerate(used) for i in indices
    })
    if not assignment_is_key:
        aggs.add("lowest", None, inner.key(ASSIGNMENT).min())
        aggs.add("highest", None, inner.key(ASSIGNMENT).max())
    cells = aggs.aggregate(inner.table, by={key: inner.key(key) for key in [CLUSTER, *design.keys]})
    return cells.ordered() if ordered else cells


def _assignment_range(found: Sums, design: Design, assignment: str) -> tuple[NDArray[Any], NDArray[Any]]:
    """The lowest and highest assignment level per (cluster, cell) row."""
    if assignment in design.keys:
        level = found.key_array(assignment)
        return level, level
    return found.array("lowest"), found.array("highest")


class ClusterMeat(NamedTuple):
    """The clustered meat and what the clusters say about the design."""

    meat: NDArray[np.float64]
    n_clusters: int
    mixed: int  # clusters that hold more than one assignment arm
    per_arm: dict[Any, int]  # assignment level -> clusters that hold it
    aux: tuple[NDArray[np.float64], ...] = ()  # each auxiliary regression's meat


def _cluster_runs(cluster: NDArray[Any]) -> NDArray[np.intp]:
    """The first row of each cluster in rows sorted by cluster (a cluster is a run of rows)."""
    return np.flatnonzero(np.concatenate([[True], cluster[1:] != cluster[:-1]]))


def _outer_of_runs(scores: Sequence[NDArray[np.float64]], starts: NDArray[np.intp], n_rows: int
                   ) -> NDArray[np.float64]:
    """Σ_g s_g s_g′ where cluster g is the run of rows from ``starts[g]``: one ``reduceat`` in row
    order (repeatable bit for bit) and one matrix product; NULL (NaN) scores count as 0."""
    matrix = np.empty((len(scores), n_rows))  # one contiguous row per score: cache-friendly writes
    for j, score in enumerate(scores):
        matrix[j] = score
    per_cluster = matrix if len(starts) == n_rows else np.add.reduceat(matrix, starts, axis=1)
    return per_cluster @ per_cluster.T


def _holds(low: NDArray[Any], high: NDArray[Any], levels: Sequence[Any], starts: NDArray[np.intp]
           ) -> tuple[dict[Any, int], int]:
    """Clusters that hold each assignment level, and clusters that hold several."""
    holds = np.column_stack([np.logical_or.reduceat((low == level) | (high == level), starts)
                             for level in levels])
    per_arm = {level: int(count) for level, count in zip(levels, holds.sum(axis=0), strict=True)}
    return per_arm, int((holds.sum(axis=1) > 1).sum())


def cluster_meat_from_cells(found: Sums, design: Design, assignment: str,
                            levels: Sequence[Any], aux: Sequence[Auxiliary] = ()) -> ClusterMeat:
    r"""Σ_g s_g s_g' from the (cluster, cell) rows of :func:`cluster_cells_query` (in (cluster, key)
    order), in numpy: :math:`s_{g,(m,a)} = \sum_{c \in g} f_a(k_c)\,u_{c,m,i_a}`, and each auxiliary
    regression's own Σ_g s_g s_g'; with the clusters that hold each assignment level (``levels``)
    and those that hold several.

    The rows arrive sorted, so a cluster is a run of rows: its sums are one ``reduceat`` in row order
    (repeatable bit for bit) and Σ_g s_g s_g' one matrix product; nothing is hashed or re-sorted.
    """
    cluster = found.key_array(CLUSTER)
    n_rows = len(cluster)
    starts = _cluster_runs(cluster)
    keys = {key: found.key_array(key) for key in design.keys}
    parts = _numeric_parts(design)
    factors = {label: indicator_product(keys, design.columns[label], n_rows)
               for label in design.z if design.columns[label].indicators}

    def scores(equation: int, regressors: Sequence[str]) -> list[NDArray[np.float64]]:
        out = []
        for label in regressors:
            u = found.column("cell", (equation, parts.index(design.columns[label].numeric)))
            out.append(factors[label] * u if design.columns[label].indicators else u)
        return out

    meat = _outer_of_runs([s for m in range(len(design.y)) for s in scores(m, design.z)], starts, n_rows)
    aux_meats = tuple(_outer_of_runs(scores(len(design.y) + e, a.regressors), starts, n_rows)
                      for e, a in enumerate(aux))
    per_arm, mixed = _holds(*_assignment_range(found, design, assignment), levels, starts)
    return ClusterMeat(meat, len(starts), mixed, per_arm, aux_meats)


def cluster_meat_from_products(rows: Sums, spec: ModelSpec, design: Design, params: NDArray[np.float64],
                               assignment: str, levels: Sequence[Any], aux: Sequence[Auxiliary] = ()
                               ) -> ClusterMeat:
    r"""Σ_g s_g s_g′ from the (cluster, cell) rows of the clustered pass 1 (:func:`pass1_query` with
    a cluster), without a second scan.

    Within a (cluster, cell) row every dummy is constant, so the residual's score sums are linear
    in the row's sums of products :math:`P_{ab} = \sum w g_a g_b` (a, b numeric terms or 1): for an
    equation with dependent column :math:`d = f_d(k) g_d` and coefficients b on columns
    :math:`x_j = f_j(k) g_{p(j)}`,

    .. math::

        u_i = \sum w\,(d - x'b)\,g_i = f_d(k) P_{d i} - \sum_p c_p(k) P_{p i}, \qquad
        c_p(k) = \sum_{j: p(j) = p} b_j f_j(k),

    exactly (the compressed route's identity, Wong et al. 2021, at (cluster, cell) granularity); the
    scores :math:`s = f_a(k)\,u_{p(a)}` are summed per cluster as one sparse (cluster × cell) matrix
    of u times the cells' 0/1 factors (:class:`_ProductRows`). The coefficients c_p are formed once
    per distinct cell."""
    found = _ProductRows(rows, spec, design)
    kz = len(design.z)
    main = np.empty((found.n_clusters, kz * len(design.y)), order="F")
    for m, metric in enumerate(design.y):
        sums = found.score_sums(design.columns[metric], design.x, params[:, m], found.parts)
        main[:, m * kz:(m + 1) * kz] = found.cluster_scores(sums, design.z)
    aux_meats = []
    for equation in aux:
        used = list(dict.fromkeys(design.columns[label].numeric for label in equation.regressors))
        sums = found.score_sums(design.columns[equation.dependent], equation.regressors, equation.coefs, used)
        side = found.cluster_scores(sums, equation.regressors)
        aux_meats.append(side.T @ side)
    arm_codes, arm_levels = rows.codes(assignment)
    arm = np.asarray(arm_levels, dtype=object)[arm_codes]
    per_arm, mixed = _holds(arm, arm, levels, found.starts)
    return ClusterMeat(main.T @ main, found.n_clusters, mixed, per_arm, tuple(aux_meats))


class _ProductRows:
    """The (cluster, cell) rows of the clustered pass 1, read for :func:`cluster_meat_from_products`."""

    def __init__(self, rows: Sums, spec: ModelSpec, design: Design):
        self.rows, self.design = rows, design
        self.labels = {term.label: i for i, term in enumerate(_numeric_terms(spec))}
        cluster = rows.key_array(CLUSTER)
        self.n_rows = len(cluster)
        self.starts = _cluster_runs(cluster)
        self.n_clusters = len(self.starts)
        self.indptr = np.append(self.starts, self.n_rows)  # cluster g holds rows indptr[g]:indptr[g + 1]
        self.cell, self.cell_keys = _cell_index(rows, list(design.keys))
        self.n_cells = len(next(iter(self.cell_keys.values())))
        self.parts = _numeric_parts(design)
        self._row_factors: dict[str, NDArray[np.float64]] = {}

    def product(self, a: str | None, b: str | None) -> NDArray[np.float64]:
        """P_ab = Σ w g_a g_b per row (a, b numeric labels; None = 1)."""
        if a is None and b is None:
            return self.rows.column("weight")
        if a is None or b is None:
            return self.rows.column("sum", self.labels[a or b or ""])
        i, j = sorted((self.labels[a], self.labels[b]))
        return self.rows.column("product", (i, j))

    def per_cell(self, column: BasisColumn) -> NDArray[np.float64]:
        """The 0/1 factor f(k) of a basis column per distinct cell."""
        return indicator_product(self.cell_keys, column, self.n_cells)

    def per_row(self, label: str) -> NDArray[np.float64]:
        """The 0/1 factor of a dummy column on every row (gathered once per column)."""
        if label not in self._row_factors:
            self._row_factors[label] = self.per_cell(self.design.columns[label])[self.cell]
        return self._row_factors[label]

    def score_sums(self, dependent: BasisColumn, regressors: Sequence[str], coefs: NDArray[np.float64],
                   used: Sequence[str | None]) -> dict[str | None, NDArray[np.float64]]:
        """u_i per row for the numeric parts ``used`` (formula of :func:`cluster_meat_from_products`)."""
        fitted: dict[str | None, NDArray[np.float64]] = {}
        for label, coef in zip(regressors, coefs, strict=True):
            column = self.design.columns[label]
            if coef != 0.0:
                previous = fitted.get(column.numeric, np.zeros(self.n_cells))
                fitted[column.numeric] = previous + coef * self.per_cell(column)
        factor = self.per_row(dependent.label) if dependent.indicators else None
        out = {}
        for part in used:
            u = self.product(dependent.numeric, part)
            u = u * factor if factor is not None else u.copy()
            for p, c in fitted.items():
                u -= c[self.cell] * self.product(p, part)
            out[part] = u
        return out

    def cluster_scores(self, sums: dict[str | None, NDArray[np.float64]], regressors: Sequence[str]
                       ) -> NDArray[np.float64]:
        """s_g for the columns ``regressors``: per numeric part p, the (cluster × cell) matrix of u_p
        (sparse, one entry per row, built from the cluster runs without sorting) times the cells'
        0/1 factors of the columns on p. Nothing of size rows × columns is formed."""
        out = np.empty((self.n_clusters, len(regressors)), order="F")  # contiguous column writes
        by_part: dict[str | None, list[int]] = {}
        for i, label in enumerate(regressors):
            by_part.setdefault(self.design.columns[label].numeric, []).append(i)
        for part, indices in by_part.items():
            per_cluster_cell = scipy.sparse.csr_matrix((sums[part], self.cell, self.indptr),
                                                       shape=(self.n_clusters, self.n_cells))
            factors = np.column_stack([self.per_cell(self.design.columns[regressors[i]]) for i in indices])
            out[:, indices] = per_cluster_cell @ factors
        return out


def _cell_index(rows: Sums, keys: Sequence[str]) -> tuple[NDArray[np.intp], dict[str, NDArray[Any]]]:
    """The design cell of every row (an index into the distinct cells) and each key's value per
    distinct cell, from the keys' dictionary codes (no Python objects per row)."""
    combined = np.zeros(rows.n_cells, dtype=np.int64)
    dictionaries = []
    for key in keys:
        codes, values = rows.codes(key)
        combined = combined * (len(values) + 1) + (codes + 1)
        dictionaries.append((codes, values))
    _, first, cell = np.unique(combined, return_index=True, return_inverse=True)
    cell_keys = {key: np.array([values[c] if c >= 0 else None for c in codes[first]], dtype=object)
                 for key, (codes, values) in zip(keys, dictionaries, strict=True)}
    return cell.ravel(), cell_keys


def outer_of_cluster_sums(columns: Iterable[NDArray[np.float64]], cluster_index: NDArray[np.intp],
                          n_clusters: int) -> NDArray[np.float64]:
    r""":math:`\sum_g s_g s_g'` where :math:`s_g` sums each per-row column over the rows of cluster g
    (``cluster_index``); bincount adds in row order, so fixed-order rows give repeatable sums."""
    scores = np.column_stack([np.bincount(cluster_index, column, n_clusters) for column in columns])
    return (scores.T @ scores).astype(float)


def clusters_per_arm(cluster_index: NDArray[np.intp], arms: NDArray[Any]) -> dict[Any, int]:
    """How many clusters hold rows of each arm (``arms``: the arm of each row)."""
    values, codes = np.unique(arms, return_inverse=True)
    present = np.unique(cluster_index.astype(np.int64) * len(values) + codes.ravel())
    counts = np.bincount(present % len(values), minlength=len(values))
    return {_plain(v): int(c) for v, c in zip(values, counts, strict=True)}


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value the validation query reports (arm levels compare equal)."""
    return value.item() if isinstance(value, np.generic) else value


def clusters_with_several_arms(cluster_index: NDArray[np.intp], arm_codes: NDArray[np.intp],
                               n_clusters: int) -> int:
    """How many clusters hold rows of more than one arm (``arm_codes`` per row, as integers)."""
    lowest = np.full(n_clusters, arm_codes.max())
    highest = np.zeros(n_clusters, dtype=arm_codes.dtype)
    np.minimum.at(lowest, cluster_index, arm_codes)
    np.maximum.at(highest, cluster_index, arm_codes)
    return int((highest > lowest).sum())


def cluster_meat_query(design: Design, params: NDArray[np.float64], cluster: str,
                       assignment: str, levels: Sequence[Any], aux: Sequence[Auxiliary] = ()) -> Named:
    r"""The clustered meat in SQL, for many clusters: the (cluster, cell) sums of
    :func:`cluster_cells_query`; GROUP BY cluster → :math:`s_{g,(m,a)} = \sum_c f_a(k_c) u_{c,m,i_a}`;
    then :math:`\sum_g s_g s_g'` (block ``meat``, entries (i, j) over the stacked scores), G
    (``clusters``) in one nested aggregate.

    Also counts clusters whose rows carry more than one assignment arm (``mixed``), and the clusters
    that hold each assignment level (``holds``, by level index in ``levels``). Each auxiliary
    regression e adds its own block of products over its regressors (``side``, entries (e, a, b)).
    """
    per_cell = cluster_cells_query(design, params, cluster, assignment, aux)
    parts = _numeric_parts(design)

    def scores(equation: int, regressors: Sequence[str]) -> list[ir.Value]:
        out = []
        for label in regressors:
            column = design.columns[label]
            score: ir.Value = per_cell["cell", (equation, parts.index(column.numeric))]
            for key, level in column.indicators:
                score = ibis.ifelse(per_cell.key(key) == level, score, 0.0)
            out.append(score)
        return out

    if assignment in design.keys:
        low = high = per_cell.key(assignment)
    else:
        low, high = per_cell["lowest", None], per_cell["highest", None]
    main = [s for m in range(len(design.y)) for s in scores(m, design.z)]
    side = [scores(len(design.y) + e, a.regressors) for e, a in enumerate(aux)]
    per_cluster = Columns()
    per_cluster.update("score", {i: s.sum() for i, s in enumerate(main)})
    per_cluster.update("side", {(e, i): s.sum() for e, block in enumerate(side) for i, s in enumerate(block)})
    per_cluster.add("mixed", None, (low.min() != high.max()).cast("int64"))
    per_cluster.update("holds", {i: ((low == level) | (high == level)).cast("int64").max()
                                 for i, level in enumerate(levels)})
    clusters = per_cluster.aggregate(per_cell.table, by={CLUSTER: per_cell.key(CLUSTER)})
    outer = Columns()
    outer.update("meat", {(i, j): (clusters["score", i] * clusters["score", j]).sum()
                          for i, j in itertools.combinations_with_replacement(range(len(main)), 2)})
    outer.update("side", {
        (e, a, b): (clusters["side", (e, a)] * clusters["side", (e, b)]).sum()
        for e, block in enumerate(side)
        for a, b in itertools.combinations_with_replacement(range(len(block)), 2)
    })
    outer.add("clusters", None, clusters.table.count())
    outer.add("mixed", None, clusters["mixed", None].sum())
    outer.update("holds", {i: clusters["holds", i].sum() for i in range(len(levels))})
    return outer.aggregate(clusters.table)


def read_cluster_meat(found: Sums, design: Design, levels: Sequence[Any], aux: Sequence[Auxiliary]
                      ) -> ClusterMeat:
    """The clustered meat, the cluster counts and each auxiliary regression's Σ_g s_g s_g' from the
    one row of :func:`cluster_meat_query`."""
    def symmetric(size: int, entry: Any) -> NDArray[np.float64]:
        out = np.empty((size, size))
        for a, b in itertools.combinations_with_replacement(range(size), 2):
            out[a, b] = out[b, a] = found.total(*entry(a, b))
        return out

    meat = symmetric(len(design.z) * len(design.y), lambda a, b: ("meat", (a, b)))
    aux_meats = tuple(symmetric(len(equation.regressors), lambda a, b, e=e: ("side", (e, a, b)))
                      for e, equation in enumerate(aux))
    return ClusterMeat(meat, int(found.total("clusters")), int(found.total("mixed")),
                       {level: int(found.total("holds", i)) for i, level in enumerate(levels)}, aux_meats)
