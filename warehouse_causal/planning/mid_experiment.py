"""Mid-experiment: the units, and days, a running experiment still needs for a target MDE."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from scipy import stats

from warehouse_causal.core.errors import DesignError
from warehouse_causal.core.validation import Real, check_param
from warehouse_causal.effects.delta import infer_effect
from warehouse_causal.planning.mde_targets import describe, mde_targets, read_mde
from warehouse_causal.planning.tables import SampleSizes

if TYPE_CHECKING:
    from warehouse_causal.fit.models import LinearFit

__all__ = ["days_left"]


def days_left(model: LinearFit, mde: Any, traffic_per_day: float | None = None,
              power: float = 0.8, alpha: float | None = None, relative: bool | None = None) -> SampleSizes:
    """Mid-experiment: per (metric, arm), the units (clusters when clustered) the running experiment
    needs for ``power`` at an effect of ``mde``, from its current standard error scaled as
    SE·√(n_now/n); and the days left at ``traffic_per_day`` new units a day.

    ``mde`` is relative (``relative=True``: a fraction of each metric's control mean, one number or
    a dict per metric) or absolute (a dict metric → effect in the metric's units; one number with
    ``relative=False`` for a single-metric model); a bare number without ``relative`` is refused
    (:mod:`warehouse_causal.planning.mde_targets`). Each row says which was given (``mde_given``), the
    absolute ``mde`` used, ``mde_relative`` and the ``control_mean``.

    (z₁₋α/₂ + z_power)·SE_now·√(n_now/n) = mde gives n = n_now·((z₁₋α/₂ + z_power)·SE_now/mde)².
    """
    owner = "LinearModel.days_left"
    given = read_mde(model, mde, relative, owner)  # before any query
    power = float(check_param(power, "power", owner, Real(0.0, 1.0)))
    alpha = model.alpha if alpha is None else float(check_param(alpha, "alpha", owner, Real(0.0, 1.0)))
    rate = None if traffic_per_day is None else float(
        check_param(traffic_per_day, "traffic_per_day", owner, Real(0.0, math.inf)))
    effects = infer_effect(model, alpha=model.alpha).to_dicts()
    now = model.n_clusters if model.n_clusters is not None else model.nobs
    scales = {r["metric"]: r["std_error"] * math.sqrt(now) for r in effects}
    targets = mde_targets(model, given, scales, owner)
    z = stats.norm.ppf(1.0 - alpha / 2.0) + stats.norm.ppf(power)
    unit = "clusters" if model.n_clusters is not None else "units"
    rows = []
    for r in effects:
        target = targets.get(r["metric"])
        if target is None:  # a dict that names some metrics only
            continue
        if not math.isfinite(r["std_error"]):
            raise DesignError(f"{owner}: the standard error of {r['metric']!r} (arm {r['arm']}) is "
                              f"{r['std_error']}; the units needed cannot be computed.")
        needed = math.ceil(now * (z * r["std_error"] / target.absolute) ** 2)
        more = max(0, needed - now)
        rows.append({"metric": r["metric"], "arm": r["arm"], "mde_given": target.given,
                     "mde": target.absolute, "mde_relative": target.relative,
                     "control_mean": target.control_mean, "n_now": now, "n_needed": needed, "n_more": more,
                     "days_left": None if rate is None else math.ceil(more / rate),
                     "status": "reached" if more == 0 else f"needs {more:,} more {unit}"})
    title = f"Days left for power {power:g} at {describe(targets)} (α = {alpha:g})"
    return SampleSizes(tuple(rows), title)

