"""A self-contained HTML report: design checks, the effects table, a forest plot with classical and
anytime-valid intervals (inline SVG, no plotting library needed) and the decision memo."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

from warehouse_causal.decisions import Decision, caveats, estimand_name

if TYPE_CHECKING:
    from warehouse_causal.effects import Effects
    from warehouse_causal.planning import PowerTable

__all__ = ["render_html", "render_power_html"]

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td.label{text-align:left}.ship{color:#1a7f37}.no{color:#b42318}.open{color:#9a6700}"""


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"<td>{value:.4g}</td>"
    return f'<td class="label">{html.escape(str(value))}</td>'


def _table(rows: list[dict[str, Any]], columns: list[str], element_id: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r[c]) for c in columns) + "</tr>" for r in rows)
    return f'<table id="{element_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _forest(rows: list[dict[str, Any]]) -> str:
    """One panel per metric (metrics have different units), each with its own scale."""
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    panels = [_panel([r for r in rows if r["metric"] == m]) for m in metrics]
    return '<div id="forest">' + "".join(panels) + "</div>"


def _panel(rows: list[dict[str, Any]]) -> str:
    """Estimates with classical (thick) and anytime-valid (thin) intervals, one row each."""
    lows = [min(r["av_ci_lower"], r["ci_lower"], 0.0) for r in rows]
    highs = [max(r["av_ci_upper"], r["ci_upper"], 0.0) for r in rows]
    lo, hi = min(lows), max(highs)
    span = (hi - lo) or 1.0
    width, left, row_h = 760, 260, 26

    def x(v: float) -> float:
        return left + (v - lo) / span * (width - left - 20)

    parts = [f'<line x1="{x(0):.1f}" y1="0" x2="{x(0):.1f}" y2="{row_h * len(rows)}" stroke="#888" '
             'stroke-dasharray="4 3"/>']
    for i, r in enumerate(rows):
        y = row_h * i + row_h / 2
        label = html.escape(f"{r['metric']} · {r['arm']} · {r['segment']}")
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12">{label}</text>')
        parts.append(f'<line class="av-interval" x1="{x(r["av_ci_lower"]):.1f}" y1="{y:.1f}" '
                     f'x2="{x(r["av_ci_upper"]):.1f}" y2="{y:.1f}" stroke="#999" stroke-width="1.5"/>')
        parts.append(f'<line class="interval" x1="{x(r["ci_lower"]):.1f}" y1="{y:.1f}" '
                     f'x2="{x(r["ci_upper"]):.1f}" y2="{y:.1f}" stroke="#1f5fbf" stroke-width="5"/>')
        parts.append(f'<circle class="estimate" cx="{x(r["estimate"]):.1f}" cy="{y:.1f}" r="4" '
                     'fill="#1f5fbf"/>')
    height = row_h * len(rows) + 4
    ticks = "".join(
        f'<text x="{x(v):.1f}" y="{height + 12}" text-anchor="middle" font-size="11">{v:.3g}</text>'
        for v in (lo, 0.0, hi)
    )
    return (f'<svg class="forest-panel" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height + 18}" role="img" aria-label="forest plot of {html.escape(rows[0]["metric"])}">'
            f'{"".join(parts)}{ticks}</svg>')


def _design(effects: Effects) -> str:
    model = effects.model
    if model is None:
        return ""
    exp = model.spec.experiment
    estimand = estimand_name(exp)
    control = html.escape(str(exp.design.control))
    items = [
        f"Estimand: {estimand} of <code>{html.escape(exp.treated_column)}</code> vs control "
        f"<code>{control}</code>",
        f"Rows: {model.nobs:,}" + (f"; clusters: {model.n_clusters:,}" if model.n_clusters else "")
        + f"; covariance {model.covariance}; strategy {model.strategy}",
    ]
    if exp.design.srm_p_value is not None:
        items.append(f'Sample-ratio test: <span id="srm">p = {exp.design.srm_p_value:.3g}</span>')
    items += [f"First-stage F ({html.escape(r.term)}): {r.f_statistic:,.1f}" for r in model.first_stage]
    out = "<h2>Design</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
    if model.balance:
        rows = [r._asdict() for r in model.balance]
        columns = ["covariate", "arm", "mean_control", "mean_arm", "standardized_difference", "p_value"]
        out += "<h3>Covariate balance</h3>" + _table(rows, columns, "balance")
    return out


def render_html(effects: Effects, decision: Decision | None = None, title: str = "Experiment report",
                quantiles: Any = None) -> str:
    """The report as one HTML document (no external resources); ``quantiles`` (a QuantileEffects)
    adds its table."""
    rows = effects.to_dicts()
    columns = ["metric", "arm", "segment", "estimate", "ci_lower", "ci_upper", "p_value", "p_adjusted",
               "av_p_value", "av_ci_lower", "av_ci_upper", "n"]
    parts = [f"<h1>{html.escape(title)}</h1>", _design(effects), "<h2>Effects</h2>",
             _table(rows, columns, "effects"),
             "<p>Thick: classical interval. Thin: anytime-valid interval (valid under continuous "
             "monitoring).</p>",
             _forest(rows)]
    if quantiles is not None:
        columns_q = ["metric", "arm", "q", "control_quantile", "arm_quantile", "estimate", "relative",
                     "ci_lower", "ci_upper", "p_value"]
        parts += [f"<h2>{html.escape(quantiles.caption())}</h2>",
                  _table(quantiles.to_dicts(), columns_q, "quantiles")]
    if decision is not None:
        css = {"ship": "ship", "don't ship": "no"}
        items = "".join(f'<li class="{css.get(a.verdict, "open")}"><b>{html.escape(a.arm)}: '
                        f'{html.escape(a.verdict)}</b> — {html.escape("; ".join(a.reasons))}</li>'
                        for a in decision.arms)
        heading = f"<h2>Decision (primary {html.escape(decision.primary)})</h2>"
        parts.append(f'{heading}<ul id="decision">{items}</ul>')
    notes = caveats(effects)
    if notes:
        parts.append("<h2>Caveats</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    body = "\n".join(p for p in parts if p)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values from at or below ``lo`` to at or above ``hi`` (steps of
    1, 2 or 5 × 10^k)."""
    span = (hi - lo) or abs(hi) or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(math.ceil((hi - first) / step - 1e-9) + 1)]


def _power_curve(rows: list[dict[str, Any]], x_name: str, metric: str) -> str:
    """MDE (relative to the history mean) against the planned size, one line per arm, with ticks."""
    width, height, left, bottom, top, right = 520, 260, 64, 40, 24, 16
    xs = [float(r[x_name]) for r in rows]
    ys = [float(r["mde_relative"]) * 100 for r in rows]
    x_ticks, y_ticks = _ticks(min(xs), max(xs)), _ticks(0.0, max(ys))
    x_lo, x_hi = min(xs + x_ticks), max(xs + x_ticks)
    y_hi = max(ys + y_ticks) or 1.0

    def px(v: float) -> float:
        return left + (v - x_lo) / ((x_hi - x_lo) or 1.0) * (width - left - right)

    def py(v: float) -> float:
        return height - bottom - v / y_hi * (height - bottom - top)

    parts = [f'<text x="{left}" y="14" font-size="13" font-weight="600">{html.escape(metric)}</text>']
    base = py(0)
    for t in x_ticks:
        parts.append(f'<line x1="{px(t):.1f}" y1="{base:.1f}" x2="{px(t):.1f}" y2="{base + 4:.1f}" '
                     f'stroke="#555"/><text x="{px(t):.1f}" y="{base + 16:.1f}" font-size="11" '
                     f'text-anchor="middle">{t:,.4g}</text>')
    for t in y_ticks:
        parts.append(f'<line x1="{left}" y1="{py(t):.1f}" x2="{width - right}" y2="{py(t):.1f}" '
                     f'stroke="#eee"/><text x="{left - 6}" y="{py(t) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{t:.3g}%</text>')
    parts.append(f'<line x1="{left}" y1="{base:.1f}" x2="{width - right}" y2="{base:.1f}" stroke="#555"/>')
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    for i, arm in enumerate(dict.fromkeys(r["arm"] for r in rows)):
        points = [(px(float(r[x_name])), py(float(r["mde_relative"]) * 100)) for r in rows if r["arm"] == arm]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        colour = colours[i % len(colours)]
        parts.append(f'<polyline class="power-curve" points="{path}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points]
        parts.append(f'<text x="{width - right}" y="{top + 14 * (i + 1)}" font-size="11" text-anchor="end" '
                     f'fill="{colour}">arm {html.escape(str(arm))}</text>')
    label = "days" if x_name == "days" else "planned units"
    parts.append(f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" font-size="11" '
                 f'text-anchor="middle">{label}</text>')
    return (f'<svg class="power" width="{width}" height="{height}" role="img" '
            f'aria-label="minimum detectable effect of {html.escape(metric)}">' + "".join(parts) + "</svg>")


def render_power_html(power: PowerTable, title: str = "Experiment plan") -> str:
    """The plan as one HTML document: the MDE table and a power curve per metric (inline SVG)."""
    rows = power.to_dicts()
    x_name = "days" if power.days is not None else "n"
    columns = ["metric", "arm", "n", "rows", "days", "mde", "mde_relative", "variance_reduction",
               "design_effect"]
    columns += [c for c in ("triggered", "mde_overall", "mde_overall_relative") if c in rows[0]]
    shown = [{c: ("–" if r[c] is None else r[c]) for c in columns} for r in rows]
    curves = "".join(_power_curve([r for r in rows if r["metric"] == m], x_name, m)
                     for m in dict.fromkeys(r["metric"] for r in rows))
    body = (f"<h1>{html.escape(title)}</h1><p>{html.escape(power.caption())}</p>"
            f"{_table(shown, columns, 'power')}<h2>Minimum detectable effect (% of the history mean)</h2>"
            f'<div id="curves">{curves}</div>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")
