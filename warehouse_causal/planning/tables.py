"""The plan's result tables: the MDE per planned size (:class:`PowerTable`, with its sample sizes,
HTML page and plot) and the sizes that reach a target MDE (:class:`SampleSizes`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from warehouse_causal.core.errors import DesignError
from warehouse_causal.core.html import write_page
from warehouse_causal.core.tables import TableResult
from warehouse_causal.planning.mde_targets import checked_mde
from warehouse_causal.planning.planner import Planner
from warehouse_causal.planning.report import render_power_html
from warehouse_causal.warehouse.backends import QueryRecord

__all__ = ["PowerTable", "SampleSizes"]


@dataclass(frozen=True)
class PowerTable(TableResult):
    """MDE per (planned size, metric, treated arm): ``to_pandas()`` has ``metric``, ``arm``, ``n``
    (randomized units: clusters when clustered), ``rows`` (expected rows), ``days``, ``mde`` (in the
    metric's units), ``mde_relative`` (over the history mean), ``se``, ``variance_reduction``,
    ``design_effect``, ``kish_effect``, ``planned_n`` (to pass to ``infer_effect`` when sequential)."""

    planner: Planner = field(repr=False)
    sizes: tuple[int, ...]
    days: tuple[int, ...] | None
    queries: tuple[QueryRecord, ...] = field(repr=False, default=())

    def to_dicts(self) -> list[dict[str, Any]]:
        p, h = self.planner, self.planner.history
        out = []
        for s, size in enumerate(self.sizes):
            effects, ses = p.mde(size), p.se(size)
            for m, metric in enumerate(p.metrics):
                for a, arm in enumerate(p.treated_arms):
                    mean = h.means[m]
                    out.append({
                        "metric": metric, "arm": str(arm), "n": size,
                        "clusters": size if p.plan.cluster_by else None,
                        "rows": round(size * h.variance.rows_per_unit),
                        "days": None if self.days is None else self.days[s],
                        "mde": float(effects[m, a]),
                        "mde_relative": float(effects[m, a] / abs(mean)) if mean != 0 else math.nan,
                        "se": float(ses[m, a]) / p.plan.compliance,
                        "variance_reduction": float(h.variance.variance_reduction[m]),
                        "design_effect": float(h.variance.design_effect[m]),
                        "kish_effect": h.kish,
                        "planned_n": round(p.analysed(size)) if p.sequential else None,
                    })
                    if h.overall_means is not None:
                        overall = float(effects[m, a]) * h.trigger_share
                        out[-1].update({
                            "triggered": round(p.analysed(size)), "trigger_share": h.trigger_share,
                            "mde_overall": overall,
                            "mde_overall_relative": overall / abs(h.overall_means[m])
                            if h.overall_means[m] != 0 else math.nan})
        return out

    def caption(self) -> str:
        p = self.planner
        unit = "clusters" if p.plan.cluster_by else "units"
        kind = "anytime-valid" if p.sequential else "fixed-n"
        estimand = "LATE" if p.plan.compliance < 1 else "ITT"
        return (f"Minimum detectable {estimand} ({kind}, α = {p.alpha:g}"
                f"{f' / {p.tests}' if p.tests > 1 else ''}, power {p.power:g}) by planned {unit}")

    def sample_size(self, mde: float | dict[str, float], relative: bool = False) -> SampleSizes:
        """The planned size (units, clusters when clustered) at which each (metric, arm) reaches an MDE
        of ``mde``, and the days to get there when the plan has arrivals. ``mde`` is absolute (in the
        metric's units; with several metrics a dict metric → MDE, since one number would mean 0.03
        minutes and 0.03 of a rate alike), or relative to each metric's history mean (``relative``:
        one fraction, or a dict of fractions)."""
        owner = "PowerTable.sample_size"
        p, h = self.planner, self.planner.history
        values, relative = checked_mde(mde, relative, list(p.metrics), owner)
        rows = []
        for m, metric in enumerate(p.metrics):
            if metric not in values:
                continue
            absolute = values[metric] * abs(h.means[m]) if relative else values[metric]
            if absolute <= 0:
                raise DesignError(f"A relative MDE needs a non-zero history mean; {metric!r} has mean 0.")
            for a, arm in enumerate(p.treated_arms):
                units = max(p.units_for(absolute, m, a), p.smallest_size)
                rows.append({"metric": metric, "arm": str(arm), "mde": absolute, "n": units,
                             "rows": round(units * h.variance.rows_per_unit), "days": p.days_for(units)})
        return SampleSizes(tuple(rows), self.caption().replace("Minimum detectable", "Sample size for an"))

    def report(self, path: Any = None, *, title: str = "Experiment plan") -> str:
        """A self-contained HTML page (returned, and written to ``path`` when given): the MDE table
        and a power curve per metric (inline SVG)."""
        page = render_power_html(self, "days" if self.days is not None else "n", title)
        return write_page(page, path, "PowerTable.report")

    def plot(self, ax: Any = None) -> Any:
        """MDE against the planned size (or days), one line per (metric, arm); needs matplotlib."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as err:  # optional extra
            raise ImportError("PowerTable.plot needs matplotlib: "
                              "pip install 'warehouse_causal[plot]'") from err
        rows = self.to_dicts()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        x_name = "days" if self.days is not None else "n"
        for key in dict.fromkeys((r["metric"], r["arm"]) for r in rows):
            line = [r for r in rows if (r["metric"], r["arm"]) == key]
            ax.plot([r[x_name] for r in line], [r["mde_relative"] for r in line], marker="o",
                    label=f"{key[0]} · arm {key[1]}")
        unit = "clusters" if self.planner.plan.cluster_by else "units"
        ax.set_xlabel("days" if x_name == "days" else unit)
        ax.set_ylabel("minimum detectable effect (relative to the mean)")
        ax.set_title(self.caption(), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        return ax


@dataclass(frozen=True)
class SampleSizes(TableResult):
    """Planned sizes that reach a target MDE: metric, arm, mde, n, rows, days."""

    rows: tuple[dict[str, Any], ...]
    title: str

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def caption(self) -> str:
        return self.title

