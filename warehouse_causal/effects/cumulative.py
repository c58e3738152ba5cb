r"""The cumulative effect over time: the estimate an analyst would have seen at the end of each
look (the experiment's data up to that time), with its anytime-valid confidence sequence.

Each look refits the same specification (metrics, covariates, covariance, interactions) on the rows
with ``time <= look``: the sufficient statistics are computed in the warehouse, once per look.
The confidence sequence is valid only if its mixture is fixed before the first look, so every look
uses the same tuning, set from the final look's size (``planned_n`` of ``infer_effect``: rows, or
clusters for cluster-robust fits). Then P(∃ look: θ ∉ CS_look) ≤ α, however many looks are drawn
(Howard et al. 2021, *Ann. Statist.* 49(2); Lindon, Ham, Tingley & Bojinov 2022 for the t-mixture).
Classical intervals are shown for reference; read across looks they are not a valid monitor.

Metrics capped with ``cap=`` keep the thresholds found on the whole experiment at every look.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import ibis.expr.types as ir

from warehouse_causal.core.errors import DesignError, InvalidParameterError, WarehouseCausalWarning
from warehouse_causal.core.tables import RowTable
from warehouse_causal.core.validation import Integer, check_param
from warehouse_causal.effects.delta import infer_effect
from warehouse_causal.meaning.periods import period_sort_key
from warehouse_causal.warehouse.backends import QueryRecord, QueryRunner
from warehouse_causal.warehouse.contract import Columns
from warehouse_causal.warehouse.literals import exact_double
from warehouse_causal.warehouse.terms import Term, rebind

if TYPE_CHECKING:
    from warehouse_causal.design.spec import ModelSpec
    from warehouse_causal.fit.models import LinearFit

__all__ = ["CumulativeEffects", "CumulativeRow", "cumulative_effects", "look_times"]

#: At most this many looks (each one is a refit in the warehouse).
MAX_LOOKS = 100


class CumulativeRow(NamedTuple):
    """One (metric, arm) effect on the data up to ``through``; ``estimand`` as in ``Effects``."""

    metric: str
    arm: str
    through: Any
    n: int
    estimate: float
    ci_lower: float
    ci_upper: float
    av_ci_lower: float
    av_ci_upper: float
    av_p_value: float
    estimand: str


class CumulativeEffects(RowTable):
    """Rows of :class:`CumulativeRow`, one per look × metric × arm; ``plot()`` draws them and
    ``queries`` lists the warehouse queries of the refits."""

    queries: tuple[QueryRecord, ...]

    def __new__(cls, rows: Any = (), caption: str = "rows",
                queries: tuple[QueryRecord, ...] = ()) -> CumulativeEffects:
        table = cast("CumulativeEffects", super().__new__(cls, rows, caption))
        table.queries = queries
        return table

    def plot(self) -> Any:
        """One panel per metric: the estimate at each look, its anytime-valid confidence sequence
        (shaded) and the classical interval (dashed, for reference). Returns the matplotlib Figure."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as err:  # optional extra
            raise ImportError("CumulativeEffects.plot needs matplotlib: pip install "
                              "'warehouse_causal[plot]'") from err
        rows = self.to_dicts()
        metrics = list(dict.fromkeys(r["metric"] for r in rows))
        figure, axes = plt.subplots(len(metrics), 1, figsize=(8, 2.8 * len(metrics)), squeeze=False)
        for ax, metric in zip(axes[:, 0], metrics, strict=True):
            for arm in dict.fromkeys(r["arm"] for r in rows if r["metric"] == metric):
                line = [r for r in rows if r["metric"] == metric and r["arm"] == arm]
                x = [r["through"] for r in line]
                drawn = ax.plot(x, [r["estimate"] for r in line], marker="o", label=f"arm {arm}")
                colour = drawn[0].get_color()
                ax.fill_between(x, [r["av_ci_lower"] for r in line], [r["av_ci_upper"] for r in line],
                                color=colour, alpha=0.18, lw=0)
                for bound in ("ci_lower", "ci_upper"):
                    ax.plot(x, [r[bound] for r in line], color=colour, ls="--", lw=0.8)
            ax.axhline(0.0, color="0.3", lw=0.8)
            ax.set_title(metric, loc="left", fontsize=11, fontweight="bold")
            ax.set_ylabel("cumulative effect")
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize=8)
        figure.tight_layout()
        return figure


def _rebound(spec: ModelSpec, table: ir.Table, runner: QueryRunner) -> ModelSpec:
    """The spec with every term re-bound from the experiment table to ``table`` (a filter of it),
    its queries logged in ``runner`` (the user's experiment is not touched)."""
    old = spec.experiment.table

    def term(t: Term) -> Term:
        return replace(t, expr=rebind(t.expr, old, table))

    return replace(spec, experiment=replace(spec.experiment, table=table, runner=runner),
                   metrics=tuple(term(t) for t in spec.metrics),
                   covariates=tuple(term(t) for t in spec.covariates))


def look_times(model: LinearFit, time: str, looks: int, runner: QueryRunner) -> list[Any]:
    """The distinct values of ``time`` in the experiment (one query), thinned to ``looks`` values
    evenly spread over them and always including the last."""
    table = model.spec.experiment.table
    column = table[time]
    if not (column.type().is_temporal() or column.type().is_numeric()) or column.type().is_boolean():
        raise InvalidParameterError(
            f"The 'time' parameter of LinearModel.cumulative must name a date, timestamp or numeric "
            f"column; {time!r} is {column.type()}.")
    columns = Columns()
    columns.add("rows", None, column.count())
    sums = columns.aggregate(table.filter(column.notnull()), {"t": column}).run(
        runner, "cumulative: distinct times")
    values = sums.key("t").tolist()
    if any(isinstance(v, float) and not math.isfinite(v) for v in values):
        raise InvalidParameterError(
            f"The 'time' column {time!r} of LinearModel.cumulative holds NaN or infinite values; a look "
            "needs an order. Clean the column or cast it to a date.")
    values = sorted(values, key=period_sort_key)  # in its own type (one rule with the contract)
    if len(values) < 2:
        raise DesignError(f"LinearModel.cumulative needs at least 2 distinct values of {time!r}; "
                          f"found {len(values)}.")
    if len(values) <= looks:
        return values
    step = (len(values) - 1) / (looks - 1)
    return [values[round(i * step)] for i in range(looks)]


def cumulative_effects(model: LinearFit, time: str, looks: int = 20) -> CumulativeEffects:
    """Refit ``model`` on the rows with ``time <= t`` for each look t and keep the whole-population
    effects of every arm on every metric (see the module docstring for the guarantee)."""
    owner = "LinearModel.cumulative"
    looks = check_param(looks, "looks", owner, Integer(2, MAX_LOOKS))
    if not isinstance(time, str) or time not in model.spec.experiment.table.columns:
        raise InvalidParameterError(
            f"The 'time' parameter of {owner} must name a column of the experiment table "
            f"(columns: {list(model.spec.experiment.table.columns)}). Got {time!r} instead.")
    if model.inference != "classical":
        raise DesignError(
            f"{owner} refits the model at every look; this model uses {model.inference!r} inference "
            "(few clusters), which would re-randomize at each look. Fit with more clusters.")
    spec, table = model.spec, model.spec.experiment.table
    planned = model.n_clusters if model.n_clusters is not None else model.nobs
    rows: list[CumulativeRow] = []
    runner = QueryRunner()
    times = look_times(model, time, looks, runner)
    skipped: list[str] = []
    for through in times:
        try:
            with warnings.catch_warnings():  # the full model has warned already
                warnings.simplefilter("ignore", WarehouseCausalWarning)
                bound = exact_double(through) if isinstance(through, float) else through
                subset = _rebound(spec, table.filter(table[time] <= bound), runner)
                fitted = type(model)._fit(
                    subset, covariance=model.covariance, interacted=model.interacted, alpha=model.alpha,
                    cross_metric_covariance=False, inference="classical")
        except DesignError as err:  # too early: an empty arm, one cluster, a constant covariate
            if through == times[-1]:
                raise
            skipped.append(f"{through}: {err}")
            continue
        size = fitted.n_clusters if fitted.n_clusters is not None else fitted.nobs
        effects = infer_effect(fitted, alpha=fitted.alpha, planned_n=max(int(planned), int(size)))
        for r in effects.to_dicts():
            rows.append(CumulativeRow(
                r["metric"], r["arm"], through, int(r["n"]), r["estimate"], r["ci_lower"],
                r["ci_upper"], r["av_ci_lower"], r["av_ci_upper"], r["av_p_value"], r["estimand"]))
    caption = (f"Cumulative effects through each of {len(times) - len(skipped)} looks at {time!r}; "
               f"the anytime-valid intervals form a confidence sequence (mixture fixed at n = {planned:,})")
    if skipped:
        caption += f"; {len(skipped)} early look(s) could not be fitted (first: {skipped[0]})"
    return CumulativeEffects(rows, caption, tuple(runner.records))
