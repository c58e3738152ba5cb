"""A self-contained HTML report: design checks, the effects table, a forest plot with classical and
anytime-valid intervals (inline SVG, no plotting library needed) and the decision memo."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

from warehouse_causal.decisions import Decision, caveats, estimand_name
from warehouse_causal.meaning import Status
from warehouse_causal.tables import format_value

if TYPE_CHECKING:
    from warehouse_causal.cumulative import CumulativeEffects
    from warehouse_causal.effects import Effects
    from warehouse_causal.monitor_checks import MonitorReport
    from warehouse_causal.planning import PowerTable

__all__ = ["render_html", "render_monitor_html", "render_power_html"]

STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:82%}.wide{overflow-x:auto}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right;white-space:nowrap}
th{background:#f5f5f5}td.label{text-align:left}.ship{color:#1a7f37}.no{color:#b42318}.open{color:#9a6700}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.card{flex:1 1 14em;border:1px solid #ddd;border-left:6px solid #999;border-radius:6px;padding:.6em .8em}
.card.up{border-left-color:#1a7f37}.card.down{border-left-color:#b42318}
.card .metric{font-weight:600}.card .value{font-size:1.6em;margin:.15em 0}.card .ci{color:#555;font-size:90%}
.charts{display:flex;flex-wrap:wrap;gap:1em}svg{max-width:100%;height:auto}
.checks{display:grid;grid-template-columns:repeat(auto-fit,minmax(18em,1fr));gap:1em}
.check table{font-size:78%}.check td,.check th{padding:.15em .4em}
.check{border:1px solid #ddd;border-radius:6px;padding:.5em .8em}.check h3{margin:.2em 0 .4em;font-size:1em}
details{margin:.8em 0}summary{cursor:pointer;color:#1f5fbf}
pre{white-space:pre-wrap;font-size:80%;background:#f7f7f7;padding:.6em}
@media print{details{display:none}.card{break-inside:avoid}svg{max-width:100%}}"""


def _cell(column: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"<td>{html.escape(format_value(column, value))}</td>"
    return f'<td class="label">{html.escape(str(value))}</td>'


def _table(rows: list[dict[str, Any]], columns: list[str], element_id: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(c, r[c]) for c in columns) + "</tr>" for r in rows)
    return f'<table id="{element_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _direction(row: dict[str, Any]) -> str:
    """"up" / "down" when the classical interval excludes 0 on that side, else ""."""
    return "up" if row["ci_lower"] > 0 else "down" if row["ci_upper"] < 0 else ""


def _cards(rows: list[dict[str, Any]], relative: bool) -> str:
    """One summary card per (metric, arm) in the whole population: estimate and intervals, with a
    left border coloured by the side of 0 the classical interval is on."""
    def fmt(v: float) -> str:
        return f"{v:+.1%}" if relative else f"{v:+.4g}"

    cards = [
        f'<div class="card {_direction(r)}"><div class="metric">{html.escape(r["metric"])} · arm '
        f'{html.escape(r["arm"])}</div><div class="value">{fmt(r["estimate"])}</div>'
        f'<div class="ci">95% [{fmt(r["ci_lower"])}, {fmt(r["ci_upper"])}] · anytime-valid '
        f'[{fmt(r["av_ci_lower"])}, {fmt(r["av_ci_upper"])}] · p {format_value("p_value", r["p_value"])}'
        "</div></div>"
        for r in rows if r["segment"] == "all"]
    return '<div class="cards" id="cards">' + "".join(cards) + "</div>"


def _forest(rows: list[dict[str, Any]]) -> str:
    """One panel per metric (metrics have different units), each with its own scale and ticks."""
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    panels = [_panel(m, [r for r in rows if r["metric"] == m]) for m in metrics]
    return '<div id="forest">' + "".join(panels) + "</div>"


def _panel(metric: str, rows: list[dict[str, Any]]) -> str:
    """Estimates with classical (thick, coloured by the side of 0) and anytime-valid (thin)
    intervals, one row each, on round ticks that include 0."""
    finite = [v for r in rows for v in (r["av_ci_lower"], r["ci_lower"], r["av_ci_upper"], r["ci_upper"])
              if math.isfinite(v)]
    ticks = _ticks(min([*finite, 0.0]), max([*finite, 0.0]))
    lo, hi = ticks[0], ticks[-1]
    span = (hi - lo) or 1.0
    width, left, right, top, row_h = 760, 250, 30, 24, 26
    colours = {"up": "#1a7f37", "down": "#b42318", "": "#6b6b6b"}

    def x(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / span * (width - left - right)

    body = top + row_h * len(rows)
    parts = [f'<text x="4" y="16" font-size="13" font-weight="600">{html.escape(metric)}</text>']
    for t in ticks:
        parts.append(f'<line x1="{x(t):.1f}" y1="{top}" x2="{x(t):.1f}" y2="{body}" stroke="#eee"/>'
                     f'<text x="{x(t):.1f}" y="{body + 14}" text-anchor="middle" font-size="11">'
                     f'{t:.3g}</text>')
    parts.append(f'<line x1="{x(0):.1f}" y1="{top}" x2="{x(0):.1f}" y2="{body}" stroke="#555" '
                 'stroke-dasharray="4 3"/>')
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        colour = colours[_direction(r)]
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


def _design(effects: Effects) -> str:
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
        cells: dict[tuple[str, str], int] = {}
        for assigned, treated, _, n in exp.design.cells:
            cells[(str(assigned), str(treated))] = cells.get((str(assigned), str(treated)), 0) + n
        levels = sorted({t for _, t in cells})
        head = "".join(f"<th>{trt} = {html.escape(t)}</th>" for t in levels)
        body = "".join(f"<tr><td class=\"label\">{itt} = {html.escape(a)}</td>"
                       + "".join(f"<td>{cells.get((a, t), 0):,}</td>" for t in levels) + "</tr>"
                       for a in sorted({a for a, _ in cells}))
        checks.append(("Compliance", f'<table id="compliance"><tr><th></th>{head}</tr>{body}</table>'))
        main = [r for r in model.first_stage if ":" not in r.term]
        checks.append(("Instrument strength", "; ".join(
            f"first-stage F {r.f_statistic:,.1f}" + (" (weak)" if r.f_statistic < 10 else "") for r in main)))
    out = "<h2>Design checks</h2><div class=\"checks\">" + "".join(
        f'<div class="check"><h3>{title}</h3>{text}</div>' for title, text in checks) + "</div>"
    if model.balance:
        rows = [r._asdict() for r in model.balance]
        columns = ["covariate", "arm", "mean_control", "mean_arm", "standardized_difference", "p_value"]
        out += ("<details><summary>Covariate balance</summary>" + _table(rows, columns, "balance")
                + "</details>")
    return out


def _queries(effects: Effects) -> str:
    """The SQL that ran, with rows and seconds, in a collapsed section."""
    records = [*(effects.model.queries if effects.model is not None else ()), *effects.queries]
    items = "".join(f"<h4>{html.escape(q.purpose)} ({q.rows:,} rows, {q.seconds:.2f} s)</h4>"
                    f"<pre>{html.escape(q.sql)}</pre>" for q in records)
    return f"<details id=\"sql\"><summary>SQL that ran ({len(records)} queries)</summary>{items}</details>"


def _over_time(cumulative: CumulativeEffects) -> str:
    """One chart per (metric, arm): the cumulative estimate after each look, its confidence
    sequence as a band and the classical interval as dashed lines, on round ticks including 0."""
    rows = cumulative.to_dicts()
    pairs = list(dict.fromkeys((r["metric"], r["arm"]) for r in rows))
    charts = "".join(_over_time_chart(f"{m} · arm {a}", [r for r in rows if (r["metric"], r["arm"]) == (m, a)
                                                          ]) for m, a in pairs)
    return (f"<h2>Cumulative effect over time</h2><p>{html.escape(cumulative.caption())}. Band: the "
            "anytime-valid confidence sequence, safe to watch every day; dashed: the classical 95% "
            "interval, valid at one planned look only.</p>"
            f'<div id="over-time" class="charts">{charts}</div>')


def _over_time_chart(title: str, rows: list[dict[str, Any]]) -> str:
    width, height, left, bottom, top, right = 460, 230, 58, 38, 26, 36
    values = [v for r in rows for v in (r["av_ci_lower"], r["av_ci_upper"], r["ci_lower"], r["ci_upper"])
              if math.isfinite(v)]
    y_ticks = _ticks(min([*values, 0.0]), max([*values, 0.0]))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    n = len(rows)

    def px(i: int) -> float:
        return left + (i / (n - 1) if n > 1 else 0.5) * (width - left - right)

    def py(v: float) -> float:
        v = min(max(v, y_lo), y_hi)
        return top + (y_hi - v) / ((y_hi - y_lo) or 1.0) * (height - bottom - top)

    parts = [f'<text x="4" y="16" font-size="13" font-weight="600">{html.escape(title)}</text>']
    for t in y_ticks:
        parts.append(f'<line x1="{left}" y1="{py(t):.1f}" x2="{width - right}" y2="{py(t):.1f}" '
                     f'stroke="#eee"/><text x="{left - 6}" y="{py(t) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{t:.3g}</text>')
    parts.append(f'<line x1="{left}" y1="{py(0):.1f}" x2="{width - right}" y2="{py(0):.1f}" stroke="#555" '
                 'stroke-dasharray="4 3"/>')
    every = max(1, math.ceil(n / 5))  # at most about six labels on the time axis, the last one kept
    labelled = [i for i in range(0, n, every) if n - 1 - i >= every or i == n - 1] + [n - 1]
    for i, r in enumerate(rows):
        if i in labelled:
            parts.append(f'<text x="{px(i):.1f}" y="{height - bottom + 16}" font-size="10" '
                         f'text-anchor="middle">{html.escape(_short(r["through"]))}</text>')
    band = ([f"{px(i):.1f},{py(r['av_ci_upper']):.1f}" for i, r in enumerate(rows)]
            + [f"{px(i):.1f},{py(r['av_ci_lower']):.1f}" for i, r in reversed(list(enumerate(rows)))])
    last = rows[-1]
    colour = {"up": "#1a7f37", "down": "#b42318", "": "#1f5fbf"}[
        "up" if last["av_ci_lower"] > 0 else "down" if last["av_ci_upper"] < 0 else ""]
    parts.append(f'<polygon class="sequence" points="{" ".join(band)}" fill="{colour}" fill-opacity="0.16"/>')
    for bound in ("ci_lower", "ci_upper"):
        line = " ".join(f"{px(i):.1f},{py(r[bound]):.1f}" for i, r in enumerate(rows))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1" '
                     'stroke-dasharray="3 3"/>')
    path = " ".join(f"{px(i):.1f},{py(r['estimate']):.1f}" for i, r in enumerate(rows))
    parts.append(f'<polyline class="cumulative" points="{path}" fill="none" stroke="{colour}" '
                 'stroke-width="2"/>')
    parts += [f'<circle cx="{px(i):.1f}" cy="{py(r["estimate"]):.1f}" r="2.5" fill="{colour}"/>'
              for i, r in enumerate(rows)]
    return (f'<svg class="over-time" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            'role="img" '
            f'aria-label="{html.escape(title)} over time">{"".join(parts)}</svg>')


def _short(value: Any) -> str:
    """A time label for an axis: dates without a midnight time part."""
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") else text


def render_html(effects: Effects, decision: Decision | None = None, title: str = "Experiment report",
                quantiles: Any = None, cumulative: CumulativeEffects | None = None) -> str:
    """The report as one HTML document (no external resources); ``quantiles`` (a QuantileEffects)
    adds its table and ``cumulative`` (``model.cumulative(time)``) the effect over time."""
    rows = effects.to_dicts()
    columns = ["metric", "arm", "segment", "estimate", "ci_lower", "ci_upper", "p_value", "p_adjusted",
               "av_p_value", "av_ci_lower", "av_ci_upper", "n"]
    kind = "lifts over control" if effects.relative else "effects"
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(effects.caption())}</p>",
             _cards(rows, effects.relative)]
    if decision is not None:
        css = {"ship": "ship", "don't ship": "no"}
        items = "".join(f'<li class="{css.get(a.verdict, "open")}"><b>{html.escape(a.arm)}: '
                        f'{html.escape(a.verdict)}</b> — {html.escape("; ".join(a.reasons))}</li>'
                        for a in decision.arms)
        heading = f"<h2>Decision (primary {html.escape(decision.primary)})</h2>"
        parts.append(f'{heading}<ul id="decision">{items}</ul>')
    if cumulative is not None and len(cumulative):
        parts.append(_over_time(cumulative))
    parts += [_design(effects), f"<h2>By segment ({kind})</h2>",
             "<p>Thick: the classical 95% interval (green above 0, red below, grey across). Thin: the "
             "anytime-valid interval, valid however often the experiment is looked at.</p>",
             _forest(rows), f'<div class="wide">{_table(rows, columns, "effects")}</div>']
    if quantiles is not None:
        columns_q = ["metric", "arm", "q", "control_quantile", "arm_quantile", "estimate", "relative",
                     "ci_lower", "ci_upper", "p_value"]
        parts += [f"<h2>{html.escape(quantiles.caption())}</h2>",
                  _table(quantiles.to_dicts(), columns_q, "quantiles")]
    notes = caveats(effects)
    if notes:
        parts.append("<h2>Caveats</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    parts.append(_queries(effects))
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
    return (f'<svg class="power" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
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


def _effect_by_period_chart(metric: str, rows: list[dict[str, Any]]) -> str:
    """The per-period effect after launch with its simultaneous interval (band) and the
    experiment's estimate (dashed), reusing the cumulative chart's layout."""
    shaped = [{"through": r["period"], "estimate": r["effect"], "av_ci_lower": r["lower"],
               "av_ci_upper": r["upper"], "ci_lower": r["experiment_effect"],
               "ci_upper": r["experiment_effect"]} for r in rows]
    estimand = rows[0].get("estimand", "") if rows else ""
    return _over_time_chart(f"{metric}: {estimand or 'effect'} after launch", shaped)


def render_monitor_html(report: MonitorReport, title: str = "Post-launch monitoring") -> str:
    """The monitoring report as one HTML document: alerts first, every check with its guarantee,
    the effect by period when there is a holdout, and each layer's table (collapsed)."""
    checks = report.to_dicts()
    # alerts first, then checks that could not run (grey, never shown as ok), then ok
    rank = {Status.ALERT: 0, Status.NOT_CHECKED: 1, Status.REFUSED: 1, Status.OK: 2}
    order = sorted(checks, key=lambda r: rank[Status(r["status"])])
    look = {Status.ALERT: "down", Status.OK: "up"}
    items = "".join(
        f'<div class="card {look.get(Status(r["status"]), "unchecked")}"><div class="metric">'
        f'{html.escape(r["layer"])} · {html.escape(r["check"])}</div><div class="value">'
        f'{html.escape(r["status"].upper())}</div><div class="ci">'
        f'{html.escape(format_value("statistic", r["statistic"]))} vs '
        f'{html.escape(format_value("threshold", r["threshold"]))} · {html.escape(r["guarantee"])}</div>'
        f'<p class="ci">{html.escape(r["detail"])}</p></div>' for r in order)
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(report.caption())}</p>",
             f'<div class="cards" id="checks">{items}</div>']
    persistence = report.layers.get("persistence")
    if persistence is not None and len(persistence):
        rows = persistence.to_dicts()
        # periods not checked (no estimate, or a take-up the holdout barely moves) are not drawn
        drawn = [r for r in rows if Status(r["status"]).ran]
        charts = "".join(_effect_by_period_chart(m, [r for r in drawn if r["metric"] == m])
                         for m in dict.fromkeys(r["metric"] for r in drawn))
        if charts:
            parts.append("<h2>Effect after launch</h2><p>Band: intervals that hold for every period at once; "
                         "dashed: the experiment's estimate; periods not checked are not drawn.</p>"
                         f'<div class="charts" id="persistence">{charts}</div>')
    for name, table in report.layers.items():
        rows = table.to_dicts()
        if rows:
            columns = list(rows[0])
            parts.append(f"<details><summary>{html.escape(table.caption())}</summary>"
                         f'<div class="wide">{_table(rows, columns, "layer-" + name)}</div></details>')
    body = "\n".join(parts)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")
