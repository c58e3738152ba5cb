"""The monitoring report's HTML page: alerts first, every check with its guarantee, the effect by
period when there is a holdout, and each layer's table (collapsed)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from warehouse_causal.core.html import document, html_table, over_time_chart
from warehouse_causal.core.tables import TableResult, format_value
from warehouse_causal.decide.decisions import judge
from warehouse_causal.meaning import Direction, Status

__all__ = ["render_monitor_html"]


def _effect_by_period_chart(metric: str, rows: list[dict[str, Any]], direction: Direction) -> str:
    """The per-period effect after launch with its simultaneous interval (band) and the
    experiment's estimate (dashed), reusing the cumulative chart's layout; coloured good/bad only
    for a known ``direction`` (neutral: blue when off 0)."""
    shaped = [{"through": r["period"], "estimate": r["effect"], "av_ci_lower": r["lower"],
               "av_ci_upper": r["upper"], "ci_lower": r["experiment_effect"],
               "ci_upper": r["experiment_effect"]} for r in rows]
    judged = judge(shaped[-1]["av_ci_lower"], shaped[-1]["av_ci_upper"], direction) if shaped else ""
    estimand = rows[0].get("estimand", "") if rows else ""
    return over_time_chart(f"{metric}: {estimand or 'effect'} after launch", shaped, judged)


def render_monitor_html(report: TableResult, layers: Mapping[str, TableResult],
                        title: str = "Post-launch monitoring",
                        directions: Mapping[str, Direction] | None = None) -> str:
    """The monitoring report as one HTML document: alerts first, then checks that did not run, every
    check with its guarantee (green only when it ran and passed), the effect by period when there is
    a holdout (green/red by ``directions``, the metrics' directions of good; without them, blue when
    off 0), and each layer's table (collapsed)."""
    checks = report.to_dicts()
    # alerts first, then checks that could not run (grey, never shown as ok), then ok
    rank = {Status.ALERT: 0, Status.NOT_CHECKED: 1, Status.REFUSED: 1, Status.OK: 2}
    order = sorted(checks, key=lambda r: rank[Status(r["status"])])
    css = {"alert": "bad", "ok": "good"}
    items = "".join(
        f'<div class="card {css.get(str(r["status"]), "unchecked")}"><div class="metric">'
        f'{html.escape(r["layer"])} · {html.escape(r["check"])}</div><div class="value">'
        f'{html.escape(r["status"].upper())}</div><div class="ci">'
        f'{html.escape(format_value("statistic", r["statistic"]))} vs '
        f'{html.escape(format_value("threshold", r["threshold"]))} · {html.escape(r["guarantee"])}</div>'
        f'<p class="ci">{html.escape(r["detail"])}</p></div>' for r in order)
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(report.caption())}</p>",
             f'<div class="cards" id="checks">{items}</div>']
    persistence = layers.get("persistence")
    if persistence is not None and persistence.to_dicts():
        rows = persistence.to_dicts()
        # periods not checked (no estimate, or a take-up the holdout barely moves) are not drawn
        drawn = [r for r in rows if Status(r["status"]).ran]
        charts = "".join(_effect_by_period_chart(m, [r for r in drawn if r["metric"] == m],
                                                 (directions or {}).get(m, Direction.NEUTRAL))
                         for m in dict.fromkeys(r["metric"] for r in drawn))
        if charts:
            parts.append("<h2>Effect after launch</h2><p>Band: intervals that hold for every period at "
                         "once; dashed: the experiment's estimate; periods not checked are not drawn.</p>"
                         f'<div class="charts" id="persistence">{charts}</div>')
    for name, table in layers.items():
        rows = table.to_dicts()
        if rows:
            columns = list(rows[0])
            parts.append(f"<details><summary>{html.escape(table.caption())}</summary>"
                         f'<div class="wide">{html_table(rows, columns, "layer-" + name)}</div></details>')
    body = "\n".join(parts)
    return document(title, body)
