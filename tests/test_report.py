"""The HTML report renders its key elements in a real headless browser (Chromium)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

import warehouse_causal as wc

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Offline sandbox: no background networking, fresh profile (see the machine notes).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _report(tmp_path: Path) -> Path:
    table = wc.datasets.tickets(rows=20_000, teams=100, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(table, intent_to_treat="assigned", treated="used", cluster_by="team_id",
                                expected_split={0: 0.5, 1: 0.5})
        model = exp.add_metric(["resolved", "minutes"], ["tenure", "region"]).fit(wc.LinearModel)
        effects = model.infer_effect(condition_on=["region = 'apac'"])
        cumulative = model.cumulative("created_at", looks=14)
    decision = effects.decide("resolved", {"minutes": 1.0})
    path = tmp_path / "report.html"
    path.write_text(effects.report(decision=decision, cumulative=cumulative))
    return path


def _browser(args: list[str], tmp_path: Path) -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs it)")
        pytest.skip("needs Chromium")
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def test_report_renders_in_a_headless_browser(tmp_path: Path) -> None:
    path = _report(tmp_path)
    dom = _browser(["--dump-dom", path.as_uri()], tmp_path)
    assert "<h1>Experiment report</h1>" in dom
    assert dom.count("<tr>") >= 1 + 4 and 'id="effects"' in dom  # header + 2 metrics x 2 segments
    assert dom.count('class="card ') == 2 and 'id="compliance"' in dom and 'id="sql"' in dom
    assert dom.count('class="forest-panel"') == 2 and "Design checks" in dom
    assert dom.count('class="interval"') == 4 and dom.count('class="av-interval"') == 4
    assert dom.count('class="forest-panel"') == 2  # one scale per metric
    assert 'id="srm"' in dom and 'id="balance"' in dom and 'id="decision"' in dom
    assert "complier average effect (LATE)" in dom and "Caveats" in dom
    assert dom.count('class="over-time"') == 2 and dom.count('class="sequence"') == 2
    _browser([f"--screenshot={tmp_path / 'report.png'}", "--window-size=1100,1400", path.as_uri()], tmp_path)
    assert (tmp_path / "report.png").stat().st_size > 10_000


#: Runs in the page after layout; writes what it measured into <pre id="layout-check"> as JSON.
LAYOUT_CHECK = """<script>
addEventListener('load', () => {
  const out = {overflowing: [], clipped: [], overlapping: [], page: document.documentElement.scrollWidth,
               view: innerWidth, cards: [], charts: []};
  for (const el of document.querySelectorAll('.card, .check, td, th, h1, h2, li, p, summary')) {
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible')
      out.overflowing.push(el.tagName + ': ' + el.textContent.slice(0, 60));
  }
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    out.charts.push([box.width, box.height]);
    const texts = [...svg.querySelectorAll('text')].map(t => [t, t.getBoundingClientRect()]);
    for (const [t, r] of texts)
      if (r.left < box.left - 1 || r.right > box.right + 1) out.clipped.push(t.textContent);
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
      const a = texts[i][1], b = texts[j][1];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
        out.overlapping.push(texts[i][0].textContent + ' / ' + texts[j][0].textContent);
    }
  }
  for (const card of document.querySelectorAll('.card')) out.cards.push(card.getBoundingClientRect().top);
  const pre = document.createElement('pre'); pre.id = 'layout-check';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""


@pytest.mark.parametrize("width", [1280, 760])
def test_report_layout_has_no_overflow_overlap_or_collapse(tmp_path: Path, width: int) -> None:
    """The layout in a real browser at a desktop and a narrow width: no text wider than its box, no
    SVG label outside its chart or on top of another, the page no wider than the window, cards side
    by side on a desktop, every chart drawn at a readable size."""
    path = _report(tmp_path)
    checked = tmp_path / "checked.html"
    checked.write_text(path.read_text().replace("</body>", LAYOUT_CHECK + "</body>"))
    dom = _browser(["--dump-dom", f"--window-size={width},1400", "--virtual-time-budget=2000",
                    checked.as_uri()], tmp_path)
    found = re.search(r'<pre id="layout-check">(.*?)</pre>', dom, re.S)
    assert found, "the layout check did not run"
    layout = json.loads(html.unescape(found.group(1)))
    assert layout["overflowing"] == [] and layout["clipped"] == [] and layout["overlapping"] == []
    assert layout["page"] <= layout["view"]
    assert all(w >= 200 and h >= 60 for w, h in layout["charts"]) and len(layout["charts"]) >= 4
    if width >= 1200:
        assert len(set(layout["cards"])) == 1  # the two summary cards share one row


def test_report_screenshot_fills_the_page(tmp_path: Path) -> None:
    """The screenshot, read back as pixels: content down the page without a large empty stretch
    (the old report left 40% of the page blank) and colour where the charts are."""
    image = pytest.importorskip("matplotlib.image")
    path = _report(tmp_path)
    shot = tmp_path / "report.png"
    _browser([f"--screenshot={shot}", "--window-size=1280,2600", path.as_uri()], tmp_path)
    pixels = image.imread(shot)[..., :3]
    ink = (pixels < 0.93).any(axis=2)  # non-white pixels
    rows = np.flatnonzero(ink.any(axis=1))
    content = ink[: rows[-1] + 1]
    blank_run = max(len(run) for run in np.split(np.arange(len(content)),
                                                  np.flatnonzero(content.any(axis=1)) + 1))
    assert blank_run < 0.1 * len(content), "a large empty band inside the report"
    coloured = np.abs(pixels[..., 0] - pixels[..., 1]) > 0.15  # green / red marks of effects
    assert coloured.sum() > 2_000
