"""A self-contained HTML report: design checks, the effects table, a forest plot with classical and
anytime-valid intervals (inline SVG, no plotting library needed) and the decision memo."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

from warehouse_causal.core.html import COLOURS, axis_ticks, document, html_table, over_time_chart
from warehouse_causal.core.tables import format_value
from warehouse_causal.decide.decisions import Decision, caveats, estimand_name, judge, metric_directions
from warehouse_causal.fit.diagnostics import WEAK_F
from warehouse_causal.meaning import Direction
from warehouse_causal.meaning.periods import period_sort_key
from warehouse_causal.meaning.status import is_finite

if TYPE_CHECKING:
    from warehouse_causal.effects.cumulative import CumulativeEffects
    from warehouse_causal.effects.table import EffectsTable

__all__ = ["render_html"]




def _judged(row: dict[str, Any], directions: dict[str, Direction]) -> str:
    """"good" / "bad" / "moved" / "" for the row's classical interval and its metric's direction."""
    return judge(row["ci_lower"], row["ci_upper"], directions.get(row["metric"], Direction.HIGHER))


def _cards(rows: list[dict[str, Any]], relative: bool, directions: dict[str, Direction]) -> str:
    """One summary card per (metric, arm) in the whole population: estimate and intervals, with a
    left border green when the classical interval is wholly better (by the metric's direction of
    good), red when wholly worse, blue when a neutral metric moved, grey across 0."""
    def fmt(v: float) -> str:
        return f"{v:+.1%}" if relative else f"{v:+.4g}"

    cards = [
        f'<div class="card {_judged(r, directions)}"><div class="metric">{html.escape(r["metric"])}'
        f'{_direction_tag(directions.get(r["metric"], Direction.HIGHER))} · arm '
        f'{html.escape(r["arm"])}</div><div class="value">{fmt(r["estimate"])}</div>'
        f'<div class="ci">95% [{fmt(r["ci_lower"])}, {fmt(r["ci_upper"])}] · anytime-valid '
        f'[{fmt(r["av_ci_lower"])}, {fmt(r["av_ci_upper"])}] · p {format_value("p_value", r["p_value"])}'
        "</div></div>"
        for r in rows if r["segment"] == "all"]
    return '<div class="cards" id="cards">' + "".join(cards) + "</div>"


def _direction_tag(direction: Direction) -> str:
    """The metric's direction of good next to its name, when it is not the default (higher)."""
    if direction is Direction.HIGHER:
        return ""
    return f' <span class="ci">({html.escape(direction.phrase)})</span>'


def _forest(rows: list[dict[str, Any]], directions: dict[str, Direction]) -> str:
    """One panel per metric (metrics have different units), each with its own scale and ticks."""
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    panels = [_panel(m, [r for r in rows if r["metric"] == m], directions.get(m, Direction.HIGHER))
              for m in metrics]
    return '<div id="forest">' + "".join(panels) + "</div>"


def _panel(metric: str, rows: list[dict[str, Any]], direction: Direction) -> str:
    """Estimates with classical (thick, coloured by whether it is wholly better or worse for the
    metric's ``direction``) and anytime-valid (thin) intervals, one row each, on round ticks that
    include 0."""
    finite = [v for r in rows for v in (r["av_ci_lower"], r["ci_lower"], r["av_ci_upper"], r["ci_upper"])
              if math.isfinite(v)]
    ticks = axis_ticks(min([*finite, 0.0]), max([*finite, 0.0]))
    lo, hi = ticks[0], ticks[-1]
    span = (hi - lo) or 1.0
    width, left, right, top, row_h = 760, 250, 30, 24, 26

    def x(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / span * (width - left - right)

    body = top + row_h * len(rows)
    title = metric if direction is Direction.HIGHER else f"{metric} ({direction.phrase})"
    parts = [f'<text x="4" y="16" font-size="13" font-weight="600">{html.escape(title)}</text>']
    for t in ticks:
        parts.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{body}" stroke="#eee"/>'
                     f'<text x="{x(t):.1f}" y="{body + 14}" text-anchor="middle" font-size="11">'
                     f'{t:.3g}</text>')
    parts.append(f'<line x1="{x(0):.1f}" y1="{top}" x2="{x(0):.1f}" y2="{body}" stroke="#555" '
                 'stroke-dasharray="4 3"/>')
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        colour = COLOURS[judge(r["ci_lower"], r["ci_upper"], direction)]
        label = html.escape(f"{r['arm']} · {r['segment']}")
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12">{label}</text>')
        parts.append(f'<line class="av-interval" x1="{x(r["av_ci_lower"]):.1f}" y1="{y:.1f}" '
                     f'x2="{x(r["av_ci_upper"]):.1f}" y2="{y:.1f}" stroke="{colour}" stroke-opacity="0.45" '
                     'stroke-width="1.5"/>')
        parts.append(f'<line class="interval" x1="{x(r["ci_lower"]):.1f}" y1="{y:.1f}" '
                     f'x2="{x(r["ci_upper"]):.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="5"/>')
        parts.append(f'<circle class="estimate" cx="{x(r["estimate"]):.1f}" cy="{y:.1f}" r="4" '
                     f'fill="{colour}"/>')
    return (f'<svg class="forest-panel" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{body + 22}" viewBox="0 0 {width} {body + 22}" role="img" '
            f'aria-label="forest plot of {html.escape(metric)}">'
            f'{"".join(parts)}</svg>')


def _design(effects: EffectsTable) -> str:
    """The design and its checks in a compact grid: estimand and sizes; sample ratio; compliance
    (assignment × treatment, in the user's column names); instrument strength; covariate balance."""
    model = effects.model
    if model is None:
        return ""
    exp = model.spec.experiment
    control = html.escape(str(exp.design.control))
    checks = [
        ("Design", f"{estimand_name(exp)} of <code>{html.escape(exp.treated_column)}</code> vs control "
                   f"<code>{control}</code>; {model.nobs:,} rows"
                   + (f" in {model.n_clusters:,} clusters of <code>{html.escape(exp.cluster_by or '')}</code>"
                      if model.n_clusters else "") + f"; {model.covariance} covariance"),
    ]
    srm = exp.design.srm_p_value
    if srm is not None:
        verdict = "ok" if srm >= 0.001 else "MISMATCH: the assignment may be broken"
        checks.append(("Sample ratio", f'<span id="srm">p = {srm:.3g}</span> ({verdict})'))
    if exp.is_iv:
        itt, trt = html.escape(exp.intent_to_treat), html.escape(exp.treated_column)
        cells: dict[tuple[Any, Any], int] = {}
        for assigned, treated, _, n in exp.design.cells:
            cells[(assigned, treated)] = cells.get((assigned, treated), 0) + n
        levels = sorted({t for _, t in cells}, key=period_sort_key)  # 2 before 10: levels in their type
        head = "".join(f"<th>{trt} = {html.escape(str(t))}</th>" for t in levels)
        body = "".join(f"<tr><td class=\"label\">{itt} = {html.escape(str(a))}</td>"
                       + "".join(f"<td>{cells.get((a, t), 0):,}</td>" for t in levels) + "</tr>"
                       for a in sorted({a for a, _ in cells}, key=period_sort_key))
        checks.append(("Compliance", f'<table id="compliance"><tr><th></th>{head}</tr>{body}</table>'))
        main = [r for r in model.first_stage if ":" not in r.term]
        strength = "; ".join(
            (f"first-stage F {r.f_statistic:,.1f}" + (" (weak)" if r.f_statistic < WEAK_F else ""))
            if is_finite(r.f_statistic) else f"first-stage F of {r.term} not computed (not checked)"
            for r in main)
        checks.append(("Instrument strength", html.escape(
            strength or "treatment follows assignment exactly (no first stage to test)")))
    out = "<h2>Design checks</h2><div class=\"checks\">" + "".join(
        f'<div class="check"><h3>{title}</h3>{text}</div>' for title, text in checks) + "</div>"
    if model.balance:
        rows = [r._asdict() for r in model.balance]
        columns = ["covariate", "arm", "mean_control", "mean_arm", "standardized_difference", "p_value"]
        out += ("<details><summary>Covariate balance</summary>" + html_table(rows, columns, "balance")
                + "</details>")
    return out


def _queries(effects: EffectsTable) -> str:
    """The SQL that ran, with rows and seconds, in a collapsed section."""
    records = [*(effects.model.queries if effects.model is not None else ()), *effects.queries]
    items = "".join(f"<h4>{html.escape(q.purpose)} ({q.rows:,} rows, {q.seconds:.2f} s)</h4>"
                    f"<pre>{html.escape(q.sql)}</pre>" for q in records)
    return f"<details id=\"sql\"><summary>SQL that ran ({len(records)} queries)</summary>{items}</details>"


def _over_time(cumulative: CumulativeEffects, directions: dict[str, Direction]) -> str:
    """One chart per (metric, arm): the cumulative estimate after each look, its confidence
    sequence as a band and the classical interval as dashed lines, on round ticks including 0."""
    rows = cumulative.to_dicts()
    pairs = list(dict.fromkeys((r["metric"], r["arm"]) for r in rows))
    charts = ""
    for m, a in pairs:
        own = [r for r in rows if (r["metric"], r["arm"]) == (m, a)]
        judged = judge(own[-1]["av_ci_lower"], own[-1]["av_ci_upper"], directions.get(m, Direction.HIGHER))
        charts += over_time_chart(f"{m} · arm {a}", own, judged)
    return (f"<h2>Cumulative effect over time</h2><p>{html.escape(cumulative.caption())}. Band: the "
            "anytime-valid confidence sequence, safe to watch every day; dashed: the classical 95% "
            "interval, valid at one planned look only.</p>"
            f'<div id="over-time" class="charts">{charts}</div>')


def render_html(effects: EffectsTable, decision: Decision | None = None, title: str = "Experiment report",
                quantiles: Any = None, cumulative: CumulativeEffects | None = None) -> str:
    """The report as one HTML document (no external resources); ``quantiles`` (a QuantileEffects)
    adds its table and ``cumulative`` (``model.cumulative(time)``) the effect over time."""
    rows, directions = effects.to_dicts(), metric_directions(effects, decision)
    columns = ["metric", "arm", "segment", "estimand", "estimate", "ci_lower", "ci_upper", "p_value",
               "p_adjusted", "av_p_value", "av_ci_lower", "av_ci_upper", "n"]
    columns = [c for c in columns if not rows or c in rows[0]]
    kind = "lifts over control" if effects.relative else "effects"
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(effects.caption())}</p>",
             _cards(rows, effects.relative, directions)]
    if decision is not None:
        css = {"ship": "ship", "don't ship": "no"}
        items = "".join(f'<li class="{css.get(a.verdict, "open")}"><b>{html.escape(a.arm)}: '
                        f'{html.escape(a.verdict)}</b> — {html.escape("; ".join(a.reasons))}</li>'
                        for a in decision.arms)
        heading = f"<h2>Decision (primary {html.escape(decision.primary)})</h2>"
        parts.append(f'{heading}<ul id="decision">{items}</ul>')
    if cumulative is not None and len(cumulative):
        parts.append(_over_time(cumulative, directions))
    parts += [_design(effects), f"<h2>By segment ({kind})</h2>",
             "<p>Thick: the classical 95% interval (green: wholly better, red: wholly worse, by each "
             "metric's direction of good; blue: a metric without one moved; grey: across 0). Thin: the "
             "anytime-valid interval, valid however often the experiment is looked at.</p>",
             _forest(rows, directions), f'<div class="wide">{html_table(rows, columns, "effects")}</div>']
    if quantiles is not None:
        columns_q = ["metric", "arm", "q", "estimand", "control_quantile", "arm_quantile", "estimate",
                     "relative", "ci_lower", "ci_upper", "p_value"]
        quantile_rows = quantiles.to_dicts()
        columns_q = [c for c in columns_q if not quantile_rows or c in quantile_rows[0]]
        parts += [f"<h2>{html.escape(quantiles.caption())}</h2>",
                  html_table(quantiles.to_dicts(), columns_q, "quantiles")]
    notes = caveats(effects)
    if notes:
        parts.append("<h2>Caveats</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    parts.append(_queries(effects))
    body = "\n".join(p for p in parts if p)
    return document(title, body)
