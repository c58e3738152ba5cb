"""The report of :class:`~warehouse_causal.monitoring.monitor.Monitor`: thresholds, one row per check (what it
measured, against what, what it means and what to do), and the layers' own tables."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from scipy import stats

from warehouse_causal.algebra.monitoring import spent_alpha
from warehouse_causal.core.html import write_page
from warehouse_causal.core.tables import RowTable, TableResult, strict_json
from warehouse_causal.core.validation import Real, check_param
from warehouse_causal.monitoring.report import render_monitor_html
from warehouse_causal.warehouse.backends import QueryRecord

if TYPE_CHECKING:
    from warehouse_causal.monitoring.monitor import Monitor

__all__ = ["CheckRow", "MonitorReport", "Thresholds", "build_report"]

THRESHOLD_RULE = "threshold rule (a size, not a test: no error rate)"
SPENT = "P(any false alarm, over every period monitored) ≤ α (α spent over the looks)"
FDR = (
    "Benjamini–Hochberg across segments at the level shown; with a holdout (accumulating data) α is "
    "spent over the looks, so P(any false alarm) ≤ α when no segment is harmed"
)


@dataclass(frozen=True)
class Thresholds:
    """The documented defaults of the threshold rules (sizes, not tests).

    smd: |standardized mean difference| of a covariate (Austin 2009's 0.1);
    membership_r2: R² of the production-vs-experiment membership model;
    projection_change: |re-projected − experiment effect| in the experiment's standard errors;
    null_rate: share of NULLs in a column the model reads (the experiment had none);
    rows_ratio: a period's rows below this share of the expected rows;
    version_share: share of the latest period's rows served another treatment version.
    """

    smd: float = 0.1
    membership_r2: float = 0.05
    projection_change: float = 1.0
    null_rate: float = 0.01
    rows_ratio: float = 0.5
    version_share: float = 0.01

    def __post_init__(self) -> None:
        # a NaN threshold would compare False everywhere: every check silently "ok"
        for name in ("smd", "projection_change"):
            check_param(getattr(self, name), name, "Thresholds", Real(0, math.inf, closed="left"))
        for name in ("membership_r2", "null_rate", "rows_ratio", "version_share"):
            check_param(getattr(self, name), name, "Thresholds", Real(0, 1, closed="both"))


@dataclass(frozen=True)
class CheckRow:
    """One check: its layer, what it measured (``statistic``) against ``threshold``, ``status``
    ("ok" or "alert"), the error guarantee, and what the result means and what to do."""

    layer: str
    check: str
    statistic: float
    threshold: float
    status: str
    guarantee: str
    detail: str

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, repr=False, eq=False)
class MonitorReport(TableResult):
    """One row per check (``to_pandas()``); ``layers`` holds each layer's table."""

    rows: tuple[CheckRow, ...]
    layers: dict[str, RowTable] = field(default_factory=dict)
    queries: tuple[QueryRecord, ...] = field(default=(), repr=False)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [r.as_row() for r in self.rows]

    def caption(self) -> str:
        return f"Post-launch monitoring: {len(self.rows)} checks, {len(self.alerts)} alert(s)"

    @property
    def alerts(self) -> list[CheckRow]:
        return [r for r in self.rows if r.status == "alert"]

    def to_json(self) -> str:
        document = {"checks": self.to_dicts(), "layers": {k: v.to_dicts() for k, v in self.layers.items()}}
        return json.dumps(strict_json(document), default=str, allow_nan=False)

    def report(self, path: Any = None, *, title: str = "Post-launch monitoring") -> str:
        """A self-contained HTML page (returned, and written to ``path`` when given)."""
        return write_page(render_monitor_html(self, self.layers, title), path, "MonitorReport.report")


def _status(alert: bool) -> str:
    return "alert" if alert else "ok"


def _smallest(rows: Any, key: str) -> float:
    return min((r[key] for r in rows if math.isfinite(r[key])), default=math.nan)


def build_report(monitor: Monitor, alpha: float) -> MonitorReport:
    """Run every layer the monitor's inputs allow and summarise each as check rows."""
    th = monitor.thresholds
    rows: list[CheckRow] = []
    layers: dict[str, RowTable] = {}
    drift = layers["population"] = monitor.population_drift()
    latest = [r for r in drift if r["period"] == drift[-1]["period"]] if len(drift) else []
    worst = max(latest, key=lambda r: abs(r["smd"]), default=None)
    if worst is not None:
        smd, looks = abs(worst["smd"]), len({r["period"] for r in drift})
        beyond = [
            r
            for r in latest
            if abs(r["smd"]) > th.smd
            and (
                not r["se_smd"]
                or stats.norm.sf((abs(r["smd"]) - th.smd) / r["se_smd"]) < spent_alpha(alpha, looks)
            )
        ]
        rows.append(
            CheckRow(
                "population",
                "covariate SMD (latest period)",
                smd,
                th.smd,
                _status(bool(beyond)),
                f"alert when |SMD| > {th.smd:g} is shown at α spent over the looks: P(any false alarm) ≤ α "
                "while every |SMD| ≤ the threshold",
                f"{worst['covariate']}: experiment mean {worst['mean_experiment']:.4g}, now "
                f"{worst['mean_production']:.4g} (SMD {worst['smd']:+.3f} ± {worst['se_smd']:.3f}). When "
                "the population moved, effects measured on the experiment's population may not transfer: "
                "read the re-projected effect.",
            )
        )
        r2 = worst["membership_r2"]
        rows.append(
            CheckRow(
                "population",
                "like-the-experiment (membership R²)",
                r2,
                th.membership_r2,
                _status(r2 > th.membership_r2),
                THRESHOLD_RULE,
                "Share of production-vs-experiment membership the covariates explain; high means "
                "today's traffic is distinguishable from the experiment's.",
            )
        )
        layers["projection"] = monitor.projection()
        for r in layers["projection"]:
            moved = abs(r["change_in_se"]) > th.projection_change
            rows.append(
                CheckRow(
                    "population",
                    f"re-projected effect on {r['metric']}",
                    abs(r["change_in_se"]),
                    th.projection_change,
                    _status(moved),
                    THRESHOLD_RULE,
                    f"Effect at the latest mix {r['projected_effect']:+.4g} vs the experiment's "
                    f"{r['experiment_effect']:+.4g} (change in the experiment's SEs). "
                    + (
                        "Re-estimate the launch's value for today's traffic."
                        if moved
                        else "The mix change does not move the effect materially."
                    )
                    + (
                        ""
                        if r["interacted"]
                        else " The model has no interactions, so it cannot move: fit interacted=True."
                    ),
                )
            )
    completeness = layers["completeness"] = monitor.completeness()
    low = min(completeness, key=lambda r: r["rows_ratio"])
    rows.append(
        CheckRow(
            "measurement",
            "rows per period",
            low["rows_ratio"],
            th.rows_ratio,
            _status(low["rows_ratio"] < th.rows_ratio),
            THRESHOLD_RULE,
            f"Period {low['period']} has {low['rows']:,} rows against {low['expected_rows']:,.0f} "
            "expected: check the logging pipeline before reading that period.",
        )
    )
    nulls = max(completeness, key=lambda r: r["null_rate"])
    rows.append(
        CheckRow(
            "measurement",
            "NULL rate",
            nulls["null_rate"],
            th.null_rate,
            _status(nulls["null_rate"] > th.null_rate),
            THRESHOLD_RULE,
            f"Worst: {nulls['worst_column'] or '-'} in period {nulls['period']}; the experiment had "
            "none. Missing values bias every mean that skips them.",
        )
    )
    if monitor.model.spec.calibration:
        calibration = layers["measurement"] = monitor.measurement(alpha)
        drifted = [r for r in calibration if r["status"] == "drift"]
        rows.append(
            CheckRow(
                "measurement",
                "judge calibration slope",
                _smallest(calibration, "p_value"),
                alpha,
                _status(bool(drifted)),
                SPENT,
                f"The judge's slope on human labels moved in {len(drifted)} period(s): recalibrate (a "
                "fresh audit, calibrate_with) before trusting judge metrics."
                if drifted
                else "Judge and humans agree as they did in the experiment.",
            )
        )
    if monitor.holdout is not None:
        persistence = layers["persistence"] = monitor.persistence(alpha)
        moved = [r for r in persistence if r["status"] != "ok"]
        rows.append(
            CheckRow(
                "persistence",
                "effect vs the experiment",
                _smallest(persistence, "p_value"),
                alpha,
                _status(bool(moved)),
                SPENT,
                f"{moved[0]['status'].capitalize()} in {len(moved)} period-metric(s) (first: "
                f"{moved[0]['metric']}, period {moved[0]['period']}): the launch is not delivering the "
                "experiment's effect."
                if moved
                else "Every period's effect is consistent with the experiment's.",
            )
        )
        layers["effect_trend"] = monitor.effect_trend(alpha)
        for trend in layers["effect_trend"]:
            rows.append(
                CheckRow(
                    "persistence",
                    f"trend of the effect on {trend['metric']}",
                    trend["p_value"],
                    trend["level"],
                    _status(trend["status"] != "ok"),
                    SPENT,
                    f"Slope {trend['slope_per_period']:+.4g} per period"
                    + (
                        f": {trend['status']} (novelty wearing off, or learning); project the long-run value "
                        "from the later periods."
                        if trend["status"] != "ok"
                        else "."
                    ),
                )
            )
    if monitor.served is not None or monitor.labelled is not None:
        layers["feedback"] = monitor.feedback()
        layers["feedback_trend"] = monitor.feedback_trend(alpha)
        for trend in layers["feedback_trend"]:
            rows.append(
                CheckRow(
                    "feedback",
                    f"trend of {trend['series']}",
                    trend["p_value"],
                    trend["level"],
                    _status(trend["status"] != "ok"),
                    SPENT,
                    f"Slope {trend['slope_per_period']:+.4g} per period. A rising served rate, or a drifting "
                    "gap between labelled rows and the population, means the model shapes its own training "
                    "data: evaluate on a holdout or shadow set, not on the labels it produced.",
                )
            )
    if monitor.guardrails:
        guards = layers["guardrails"] = monitor.guardrail_segments(alpha)
        harms = [r for r in guards if r["status"] == "harm"]
        rows.append(
            CheckRow(
                "guardrails",
                "harm by segment",
                _smallest(guards, "p_adjusted"),
                guards[0]["level"],
                _status(bool(harms)),
                FDR,
                "Harm beyond tolerance in "
                + ", ".join(f"{r['metric']} / {r['segment']}" for r in harms)
                + ": roll back for those segments or fix before widening."
                if harms
                else "No segment breaches its guardrail.",
            )
        )
    if monitor.version is not None:
        share = monitor.version_share()
        rows.append(
            CheckRow(
                "version",
                f"rows not on version {monitor.version[1]!r}",
                share,
                th.version_share,
                _status(share > th.version_share),
                THRESHOLD_RULE,
                "The experiment estimated one treatment version; rows on another version are outside its "
                "estimand: test the new version before relying on the old estimate.",
            )
        )
    return MonitorReport(tuple(rows), layers, tuple(monitor.runner.records))
