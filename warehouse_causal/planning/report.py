"""The plan's HTML page: the MDE table and a power curve per metric (inline SVG)."""

from __future__ import annotations

import html
from typing import Any

from warehouse_causal.core.html import axis_ticks, document, html_table
from warehouse_causal.core.tables import TableResult

__all__ = ["render_power_html"]


def _power_curve(rows: list[dict[str, Any]], x_name: str, metric: str) -> str:
    """MDE (relative to the history mean) against the planned size, one line per arm, with ticks."""
    width, height, left, bottom, top, right = 520, 260, 64, 40, 24, 16
    xs = [float(r[x_name]) for r in rows]
    ys = [float(r["mde_relative"]) * 100 for r in rows]
    x_ticks, y_ticks = axis_ticks(min(xs), max(xs)), axis_ticks(0.0, max(ys))
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
    return (f'<svg class="power" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="minimum detectable effect of {html.escape(metric)}">' + "".join(parts) + "</svg>")


def render_power_html(power: TableResult, x_name: str, title: str = "Experiment plan") -> str:
    """The plan (a PowerTable) as one HTML document: the MDE table and a power curve per metric
    against ``x_name`` ("n" or "days"), as inline SVG."""
    rows = power.to_dicts()
    columns = ["metric", "arm", "n", "rows", "days", "mde", "mde_relative", "variance_reduction",
               "design_effect"]
    columns += [c for c in ("triggered", "mde_overall", "mde_overall_relative") if c in rows[0]]
    shown = [{c: ("–" if r[c] is None else r[c]) for c in columns} for r in rows]
    curves = "".join(_power_curve([r for r in rows if r["metric"] == m], x_name, m)
                     for m in dict.fromkeys(r["metric"] for r in rows))
    body = (f"<h1>{html.escape(title)}</h1><p>{html.escape(power.caption())}</p>"
            f"{html_table(shown, columns, 'power')}<h2>Minimum detectable effect (% of the history mean)</h2>"
            f'<div id="curves">{curves}</div>')
    return document(title, body)
