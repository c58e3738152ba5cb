r"""The design's basis columns and the shared query builders of a fit: the layout of X, Z and Y,
the ungrouped cross products (used by mediation), residuals, leverage and score sums. The grouped
passes of a fit are in :mod:`warehouse_causal.fit.grouped`. Nothing here solves.

Basis coordinates
-----------------
Every numeric covariate and metric is shifted in SQL by a provisional constant K (its mean over the
probe's first rows, see :func:`warehouse_causal.fit.grouped.probe`), so sums of products do not cancel
catastrophically when :math:`|\bar x| \gg s_x` (stack notes §5). Arm and category dummies are not
shifted. Interactions are :math:`d_a (w_j - K_j)`. The model is solved in these coordinates and
re-parametrised exactly to covariates centred at their weighted mean in :mod:`warehouse_causal.fit.models`.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
from numpy.typing import NDArray

from warehouse_causal.core.errors import DesignError
from warehouse_causal.core.frozen import read_only, values_equal
from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import CLUSTER, KEY, Columns, Named, Sums
from warehouse_causal.warehouse.shifts import shifted
from warehouse_causal.warehouse.terms import Term

__all__ = [
    "CLUSTER",
    "INTERCEPT",
    "Auxiliary",
    "BasisColumn",
    "Cells",
    "Design",
    "Moments",
    "Prepared",
    "category_levels",
    "check_levels",
    "cluster_sum_of_products",
    "cross_products_query",
    "design_keys",
    "indicator_product",
    "layout_design",
    "leverage_expr",
    "missing_values_error",
    "product_of",
    "product_sum",
    "read_cross_products",
    "read_meat",
    "residual_expr",
    "residual_exprs",
    "score_table",
    "sum_of_products",
    "weighted_sum",
]

INTERCEPT = "Intercept"
#: A categorical covariate may have at most this many levels (each becomes a dummy).
MAX_LEVELS = 50
#: Numeric covariates with at most this many distinct values are discrete (compressible).
DISCRETE_MAX_DISTINCT = 64


@dataclass(frozen=True)
class BasisColumn:
    """One column of [X | Z | Y] in basis coordinates: ``expr`` − ``shift`` (``expr`` None = 1)."""

    label: str
    expr: ir.Value | None
    shift: float | int = 0.0
    source: str | None = None  # the covariate term this column comes from
    level: Any = None  # the category of a dummy column (None for numeric columns)
    #: The column factorised as Π [key == level] × numeric (the grouped passes use this):
    indicators: tuple[tuple[str, Any], ...] = ()  # (design key, level) pairs that must all hold
    numeric: str | None = None  # label of the numeric factor (None = 1)

    def value(self) -> ir.Value | None:
        """The float64 SQL expression of the column, shift applied (None for the intercept)."""
        return None if self.expr is None else shifted(self.expr, self.shift)


@dataclass(frozen=True)
class Design:
    """Labels of X, Z and Y over a shared, ordered set of basis columns."""

    table: ir.Table
    columns: dict[str, BasisColumn]
    x: tuple[str, ...]
    z: tuple[str, ...]
    y: tuple[str, ...]
    weight: ir.Value | None
    covariates: tuple[str, ...]
    interactions: tuple[tuple[str, str, str], ...]  # (label, arm dummy, covariate) in X
    treatment: tuple[str, ...]  # arm dummies of X
    instruments: tuple[str, ...]  # arm dummies of Z
    arms: tuple[Any, ...]  # treated level of each arm dummy
    nobs: int
    categories: dict[str, tuple[Any, ...]]  # every level of each categorical covariate (first = reference)
    keys: dict[str, ir.Value] = field(default_factory=dict)  # discrete design keys (arms, categories)

    @property
    def labels(self) -> tuple[str, ...]:
        """All basis labels in query order."""
        return tuple(self.columns)

    @property
    def intercept(self) -> str:
        """The label of the intercept column (``Intercept`` unless a user term holds that name)."""
        return self.x[0]

    @property
    def numeric_covariates(self) -> tuple[str, ...]:
        """The numeric (not dummy) covariate columns, in order."""
        return tuple(c for c in self.covariates if self.columns[c].numeric is not None)


def indicator_product(keys: Mapping[str, NDArray[Any]], column: BasisColumn, size: int
                      ) -> NDArray[np.float64]:
    """Π [key == level] of a basis column over ``size`` cells (1 without indicators)."""
    out = np.ones(size)
    for key, level in column.indicators:
        out = out * (np.asarray(keys[key]) == level)
    return out


@dataclass(frozen=True, eq=False)
class Cells:
    """Per-cell sums of the grouped pass 1 (cells = distinct values of the design keys): the key
    values, n, Σw and Σw·g for every numeric column g (shifted). Segment statistics reuse them."""

    keys: Mapping[str, NDArray[Any]] = field(repr=False)
    n: NDArray[np.float64] = field(repr=False)
    sum_w: NDArray[np.float64] = field(repr=False)
    sums: Mapping[str, NDArray[np.float64]] = field(repr=False)  # numeric label -> Σ w g per cell

    __eq__ = values_equal
    __hash__ = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        for name in ("keys", "n", "sum_w", "sums"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    def factor(self, column: BasisColumn) -> NDArray[np.float64]:
        """Π [key == level] of a basis column, per cell."""
        return indicator_product(self.keys, column, len(self.n))

    def weighted_sum(self, column: BasisColumn) -> float:
        """Σ w·u of a basis column over the rows of these cells."""
        values = self.factor(column) * (self.sum_w if column.numeric is None else self.sums[column.numeric])
        return float(values.sum())

    def subset(self, mask: NDArray[np.bool_]) -> Cells:
        """The cells selected by ``mask``."""
        return Cells({k: v[mask] for k, v in self.keys.items()}, self.n[mask], self.sum_w[mask],
                     {k: v[mask] for k, v in self.sums.items()})


@dataclass(frozen=True, eq=False)
class Moments:
    """Weighted cross products U'WU of the basis columns, with n, Σw and Σw²."""

    labels: tuple[str, ...]
    matrix: NDArray[np.float64] = field(repr=False)
    nobs: int
    sum_w: float
    sum_w2: float
    cells: Cells | None = field(default=None, repr=False)  # when pass 1 was grouped by the keys

    __eq__ = values_equal
    __hash__ = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        read_only(self.matrix)

    def block(self, rows: Sequence[str], cols: Sequence[str]) -> NDArray[np.float64]:
        """The sub-matrix for the given row and column labels."""
        index = {label: i for i, label in enumerate(self.labels)}
        return self.matrix[np.ix_([index[r] for r in rows], [index[c] for c in cols])]


# -- building the design -------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """What the design layout needs from the data: shifts, levels and rows."""

    shifts: dict[str, float | int]  # term label -> provisional centre K (metrics, numeric covariates)
    levels: dict[str, tuple[Any, ...]]  # categorical covariate -> sorted levels (first = reference)
    nobs: int


def missing_values_error(role: str, label: str, count: int, nobs: int, what: str = "NULL") -> DesignError:
    """The error for NULL (or NaN) values in a metric or covariate."""
    if what == "NULL":
        return DesignError(
            f"The {role} {label!r} has {count} NULL value(s) out of {nobs} rows; filter those rows "
            "or fill the values (e.g. 0 for a count with no events)."
        )
    return DesignError(
        f"The {role} {label!r} has {count} {what} value(s) out of {nobs} rows (not-a-number, e.g. "
        "from 0/0); filter or fix them."
    )


def category_levels(term: Term, table: ir.Table, runner: QueryRunner) -> list[Any]:
    """Sorted distinct values of a categorical term (at most MAX_LEVELS, else DesignError)."""
    counts = Columns()
    counts.add("rows", None, table.count())
    query = counts.aggregate(table, by={"level": term.expr}).ordered().limit(MAX_LEVELS + 1)
    found = query.run(runner, f"levels of {term.label}", sort=False)
    return check_levels(term.label, found.values(KEY, "level"))


def check_levels(label: str, levels: Sequence[Any]) -> list[Any]:
    """The levels of a categorical covariate, refused when there are more than MAX_LEVELS."""
    if len(levels) > MAX_LEVELS:
        raise DesignError(
            f"Categorical covariate {label!r} has more than {MAX_LEVELS} levels; group rare "
            "levels first (e.g. a CASE expression) or use a numeric encoding."
        )
    return list(levels)


def design_keys(spec: ModelSpec) -> dict[str, ir.Value]:
    """The discrete keys of the design: treated arm, instrument arm and each categorical covariate."""
    exp = spec.experiment
    t = exp.table
    keys: dict[str, ir.Value] = {exp.treated_column: t[exp.treated_column]}
    keys.setdefault(exp.instrument_column, t[exp.instrument_column])
    for term in spec.covariates:
        if term.categorical:
            keys.setdefault(term.label, term.expr)
    return keys


def _dummy(label: str, expr: ir.Value, level: Any, name: str) -> BasisColumn:
    return BasisColumn(name, (expr == level).cast("float64"), source=label, level=level,
                       indicators=((label, level),))


class _Labels:
    """Term labels that never collide: the user's metric and numeric covariate labels are kept as
    given, and every generated label (the intercept, ``column[level]`` dummies, ``arm:covariate``
    interactions) that a user label or an earlier generated one already holds gets a ``#2``, ``#3``
    … suffix. (A column literally named ``Intercept`` or ``arm[1]`` is then just another term.)"""

    def __init__(self, user: Iterable[str]):
        self.taken = set(user)

    def fresh(self, wanted: str) -> str:
        label, i = wanted, 1
        while label in self.taken:
            i += 1
            label = f"{wanted}#{i}"
        self.taken.add(label)
        return label


def layout_design(spec: ModelSpec, prepared: Prepared, interacted: bool) -> Design:
    """Lay out X, Z and Y over basis columns shifted by ``prepared.shifts``."""
    exp, design = spec.experiment, spec.experiment.design
    t = exp.table
    labels = _Labels([m.label for m in spec.metrics]
                     + [c.label for c in spec.covariates if not c.categorical])
    intercept = BasisColumn(labels.fresh(INTERCEPT), None)
    trt, ins = exp.treated_column, exp.instrument_column
    treated = [_dummy(trt, t[trt], a, labels.fresh(f"{trt}[{a}]")) for a in design.treated_levels[1:]]
    instruments = treated if ins == trt else [
        _dummy(ins, t[ins], a, labels.fresh(f"{ins}[{a}]")) for a in design.instrument_levels[1:]]
    covariates: list[BasisColumn] = []
    for term in spec.covariates:
        if term.categorical:
            levels = prepared.levels[term.label]
            covariates += [_dummy(term.label, term.expr, lv, labels.fresh(f"{term.label}[{lv}]"))
                           for lv in levels[1:]]
        else:
            covariates.append(BasisColumn(term.label, term.expr, prepared.shifts[term.label],
                                          source=term.label, numeric=term.label))
    metrics = [BasisColumn(m.label, m.expr, prepared.shifts[m.label], numeric=m.label)
               for m in spec.metrics]

    def interact(arms: list[BasisColumn]) -> list[BasisColumn]:
        if not interacted:
            return []
        return [
            BasisColumn(labels.fresh(f"{a.label}:{c.label}"), product_of([a.expr, c.value()]),
                        indicators=a.indicators + c.indicators, numeric=c.numeric)
            for a, c in itertools.product(arms, covariates)
        ]

    x_interactions = interact(treated)
    z_interactions = x_interactions if instruments is treated else interact(instruments)
    x_cols = [intercept, *treated, *covariates, *x_interactions]
    z_cols = [intercept, *instruments, *covariates, *z_interactions]
    columns = {c.label: c for c in [*x_cols, *z_cols, *metrics]}
    interactions = tuple(
        (column.label, a.label, c.label)
        for column, (a, c) in zip(x_interactions, itertools.product(treated, covariates), strict=True)
    ) if interacted else ()
    return Design(
        table=t,
        columns=columns,
        x=tuple(c.label for c in x_cols),
        z=tuple(c.label for c in z_cols),
        y=tuple(c.label for c in metrics),
        weight=exp.weight_expr(),
        covariates=tuple(c.label for c in covariates),
        interactions=interactions,
        treatment=tuple(c.label for c in treated),
        instruments=tuple(c.label for c in instruments),
        arms=tuple(design.treated_levels[1:]),
        nobs=prepared.nobs,
        categories=dict(prepared.levels),
        keys=design_keys(spec),
    )


# -- pass 1: cross products ----------------------------------------------------------------


def product_of(factors: Sequence[ir.Value | None]) -> ir.Value | None:
    """The product of the present factors (None when there are none)."""
    present = [f for f in factors if f is not None]
    if not present:
        return None
    out = present[0]
    for f in present[1:]:
        out = out * f
    return out


def product_sum(factors: Sequence[ir.Value | None]) -> ir.Value:
    """SUM of the product of the present factors, at least one of which must be present."""
    product = product_of(factors)
    if product is None:
        raise ValueError("product_sum needs at least one factor")
    return product.sum()


def weighted_sum(table: ir.Table, factors: Sequence[ir.Value | None]) -> ir.Value:
    """SUM of the product of the present factors, or COUNT(*) as double when there are none."""
    prod = product_of(factors)
    return table.count().cast("float64") if prod is None else prod.sum()


def cross_products_query(design: Design) -> Named:
    """One aggregate with Σ w·u_i·u_j for every pair of basis columns (``product``, (i, j) with
    i ≤ j), plus n (``rows``), Σw (``weight``), Σw² (``weightsquared``)."""
    t, w = design.table, design.weight
    values = [c.value() for c in design.columns.values()]
    aggs = Columns()
    aggs.update("product", {(i, j): weighted_sum(t, [w, values[i], values[j]])
                            for i, j in itertools.combinations_with_replacement(range(len(values)), 2)})
    aggs.add("rows", None, t.count())
    aggs.add("weight", None, weighted_sum(t, [w]))
    aggs.add("weightsquared", None, weighted_sum(t, [w, w]))
    return aggs.aggregate(t)


def read_cross_products(found: Sums, design: Design) -> Moments:
    """Assemble the symmetric moment matrix from the sums of :func:`cross_products_query`."""
    u = len(design.columns)
    matrix = np.empty((u, u))
    for i, j in itertools.combinations_with_replacement(range(u), 2):
        matrix[i, j] = matrix[j, i] = found.total("product", (i, j))
    return Moments(design.labels, matrix, int(found.total("rows")), found.total("weight"),
                   found.total("weightsquared"))


# -- pass 2: meats ---------------------------------------------------------------------------


def _lit(value: float) -> ir.Value:
    return ibis.literal(float(value), type="float64")


def residual_expr(dependent: ir.Value, regressors: Sequence[ir.Value | None],
                  coefs: NDArray[np.float64]) -> ir.Value:
    """e = y − Σ_j b_j x_j with b inlined as float literals (full precision; None = intercept)."""
    e = dependent
    for x, coef in zip(regressors, coefs, strict=True):
        if coef != 0.0:
            e = e - (_lit(coef) if x is None else _lit(coef) * x)
    return e


def residual_exprs(design: Design, params: NDArray[np.float64]) -> list[ir.Value]:
    """e_m = y_m − Σ_j β_jm x_j for every metric, in basis coordinates."""
    x = [design.columns[label].value() for label in design.x]
    return [residual_expr(design.columns[y].value(), x, params[:, m]) for m, y in enumerate(design.y)]


@dataclass(frozen=True, eq=False)
class Auxiliary:
    r"""A side regression whose robust covariance a diagnostic needs: the basis column
    ``dependent`` on the Z columns ``regressors`` with coefficients ``coefs`` (from pass 1). Pass 2
    sums its scores :math:`w\,(d - z'\pi)\,z` with the metrics' (first stage: the treatment on Z;
    balance: a covariate on the intercept and the instrument arms)."""

    name: str
    dependent: str
    regressors: tuple[str, ...]
    coefs: NDArray[np.float64]

    def residual(self, design: Design) -> ir.Value:
        """d − Σ π_j z_j in basis coordinates, coefficients inlined as literals."""
        z = [design.columns[label].value() for label in self.regressors]
        value = design.columns[self.dependent].value()
        assert value is not None
        return residual_expr(value, z, self.coefs)


def leverage_expr(design: Design, ztz_inv: NDArray[np.float64]) -> ir.Value:
    r"""h_i = w_i z_i'(Z'WZ)^{-1} z_i as a literal quadratic form."""
    z = [design.columns[label].value() for label in design.z]
    h: ir.Value | None = None
    for a, b in itertools.combinations_with_replacement(range(len(z)), 2):
        coef = ztz_inv[a, b] * (1.0 if a == b else 2.0)
        term = product_of([_lit(coef), z[a], z[b]])
        h = term if h is None else h + term
    return h if design.weight is None else h * design.weight


Block = tuple[ir.Value, list[tuple[str, ir.Value | None]]]


def score_table(table: ir.Table, weight: ir.Value | None, blocks: list[Block],
                keys: dict[Hashable, ir.Value]) -> tuple[Named, list[ir.Value]]:
    r"""Project each block's weighted residual :math:`w e_j` and every regressor once (with the group
    ``keys``), then form the scores :math:`s_{j,a} = (w e_j)\,x_a` for each regressor a of block j
    (block-major).

    A block is (residual expression, [(label, regressor expression or None for the intercept)]);
    regressors shared by several blocks are projected once. Projecting first lets the engine
    evaluate each long residual expression once per row instead of once per score.
    """
    columns = Columns()
    columns.update("residual", {j: product_of([weight, residual]) for j, (residual, _) in enumerate(blocks)})
    for _, regressors in blocks:
        for label, value in regressors:
            if value is not None and ("regressor", label) not in columns:
                columns.add("regressor", label, value)
    inner = columns.select(table, keys=keys)
    scores = [
        inner["residual", j] if value is None else inner["residual", j] * inner["regressor", label]
        for j, (_, regressors) in enumerate(blocks) for label, value in regressors
    ]
    return inner, scores


def sum_of_products(scores: list[ir.Value], factor: ir.Value | None = None) -> Columns:
    """Σ s_i s_j (× factor) over the upper triangle of the scores: block ``meat``, entries (i, j)."""
    aggs = Columns()
    aggs.update("meat", {(i, j): product_sum([scores[i], scores[j], factor])
                         for i, j in itertools.combinations_with_replacement(range(len(scores)), 2)})
    return aggs


def cluster_sum_of_products(inner: Named, scores: list[ir.Value]) -> Named:
    r"""GROUP BY the CLUSTER key of ``inner`` → :math:`s_g`, then :math:`\sum_g s_g s_g'` (``meat``)
    and G (``clusters``), one nested aggregate."""
    per_cluster = Columns()
    per_cluster.update("score", {i: s.sum() for i, s in enumerate(scores)})
    clusters = per_cluster.aggregate(inner.table, by={CLUSTER: inner.key(CLUSTER)})
    outer = sum_of_products([clusters["score", i] for i in range(len(scores))])
    outer.add("clusters", None, clusters.table.count())
    return outer.aggregate(clusters.table)


def read_meat(found: Sums, size: int) -> NDArray[np.float64]:
    """Assemble the symmetric size × size meat from the ``meat`` sums of :func:`sum_of_products`."""
    meat = np.empty((size, size))
    for i, j in itertools.combinations_with_replacement(range(size), 2):
        meat[i, j] = meat[j, i] = found.total("meat", (i, j))
    return meat
