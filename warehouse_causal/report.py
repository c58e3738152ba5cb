"""A self-contained HTML report: design checks, the effects table, a forest plot with classical and
anytime-valid intervals (inline SVG, no plotting library needed) and the decision memo."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from warehouse_causal.decisions import Decision, caveats, estimand_name

if TYPE_CHECKING:
    from warehouse_causal.effects import Effects

__all__ = ["render_html"]

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


def render_html(effects: Effects, decision: Decision | None = None, title: str = "Experiment report") -> str:
    """The report as one HTML document (no external resources)."""
    rows = effects.to_dicts()
    columns = ["metric", "arm", "segment", "estimate", "ci_lower", "ci_upper", "p_value", "p_adjusted",
               "av_p_value", "av_ci_lower", "av_ci_upper", "n"]
    parts = [f"<h1>{html.escape(title)}</h1>", _design(effects), "<h2>Effects</h2>",
             _table(rows, columns, "effects"),
             "<p>Thick: classical interval. Thin: anytime-valid interval (valid under continuous "
             "monitoring).</p>",
             _forest(rows)]
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
