"""HTML building blocks shared by every report (the experiment's, the plan's, the monitor's): the
style sheet, table cells, round axis ticks and the over-time chart, as inline SVG with no plotting
library. They know no result type; each layer's report composes them."""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.core.tables import format_value

__all__ = ["COLOURS", "STYLE", "axis_ticks", "cell", "document", "html_table", "over_time_chart",
           "short_time", "write_page"]

#: Colours of an interval by how it reads for its metric (``decide.decisions.judge``): wholly
#: better, wholly worse, off 0 for a metric without a preferred direction, across 0.
COLOURS = {"good": "#1a7f37", "bad": "#b42318", "moved": "#1f5fbf", "": "#6b6b6b"}

STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:82%}.wide{overflow-x:auto}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right;white-space:nowrap}
th{background:#f5f5f5}td.label{text-align:left}.ship{color:#1a7f37}.no{color:#b42318}.open{color:#9a6700}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.card{flex:1 1 14em;border:1px solid #ddd;border-left:6px solid #999;border-radius:6px;padding:.6em .8em}
.card.good{border-left-color:#1a7f37}.card.bad{border-left-color:#b42318}.card.moved{border-left-color:#1f5fbf}
.card .metric{font-weight:600}.card .value{font-size:1.6em;margin:.15em 0}.card .ci{color:#555;font-size:90%}
.charts{display:flex;flex-wrap:wrap;gap:1em}svg{max-width:100%;height:auto}
.checks{display:grid;grid-template-columns:repeat(auto-fit,minmax(18em,1fr));gap:1em}
.check table{font-size:78%}.check td,.check th{padding:.15em .4em}
.check{border:1px solid #ddd;border-radius:6px;padding:.5em .8em}.check h3{margin:.2em 0 .4em;font-size:1em}
details{margin:.8em 0}summary{cursor:pointer;color:#1f5fbf}
pre{white-space:pre-wrap;font-size:80%;background:#f7f7f7;padding:.6em}
@media print{details{display:none}.card{break-inside:avoid}svg{max-width:100%}}"""


def cell(column: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"<td>{html.escape(format_value(column, value))}</td>"
    return f'<td class="label">{html.escape(str(value))}</td>'


def html_table(rows: list[dict[str, Any]], columns: list[str], element_id: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(c, r[c]) for c in columns) + "</tr>" for r in rows)
    return f'<table id="{element_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def axis_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values from at or below ``lo`` to at or above ``hi`` (steps of
    1, 2 or 5 × 10^k)."""
    span = (hi - lo) or abs(hi) or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(math.ceil((hi - first) / step - 1e-9) + 1)]


def over_time_chart(title: str, rows: list[dict[str, Any]], judged: str) -> str:
    """The estimate over time with its band (``av_ci_*``) and dashed lines (``ci_*``); the band is
    coloured by ``judged``, how the last band reads for its metric ("good", "bad", "moved" or "":
    blue, as a band across 0 says nothing yet)."""
    width, height, left, bottom, top, right = 460, 230, 58, 38, 26, 36
    values = [v for r in rows for v in (r["av_ci_lower"], r["av_ci_upper"], r["ci_lower"], r["ci_upper"])
              if math.isfinite(v)]
    y_ticks = axis_ticks(min([*values, 0.0]), max([*values, 0.0]))
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
                         f'text-anchor="middle">{html.escape(short_time(r["through"]))}</text>')
    band = ([f"{px(i):.1f},{py(r['av_ci_upper']):.1f}" for i, r in enumerate(rows)]
            + [f"{px(i):.1f},{py(r['av_ci_lower']):.1f}" for i, r in reversed(list(enumerate(rows)))])
    colour = {**COLOURS, "": "#1f5fbf"}[judged]
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


def short_time(value: Any) -> str:
    """A time label for an axis: dates without a midnight time part."""
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") else text


def document(title: str, body: str) -> str:
    """A self-contained HTML document (no external resources) with the shared style."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def write_page(page: str, path: Any, owner: str) -> str:
    """``page``, also written to ``path`` when it is given: the one rule of every ``report(path)``.

    ``path`` must be a string or path whose folder exists; anything else (a Decision passed where
    the path goes, a folder, an unwritable place) is a clear error naming ``owner``."""
    if path is None:
        return page
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(
            f"The 'path' parameter of {owner} must be a file path (str or pathlib.Path) or None; other "
            f"options are keywords (e.g. decision=...). Got {type(path).__name__} instead.")
    target = Path(path)
    if target.is_dir():
        raise InvalidParameterError(
            f"The 'path' parameter of {owner} is a folder: {str(target)!r}; give a file.")
    if not target.parent.is_dir():
        raise InvalidParameterError(
            f"The 'path' parameter of {owner}: the folder {str(target.parent)!r} does not exist.")
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as err:
        raise InvalidParameterError(
            f"{owner} could not write {str(target)!r}: {err.strerror or err}.") from err
    return page
