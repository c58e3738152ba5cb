"""The HTML report renders its key elements in a real headless browser (Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

import warehouse_causal as wc
from warehouse_causal.demo import simulate_support_rollout

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Offline sandbox: no background networking, fresh profile (see the machine notes).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _report(tmp_path: Path) -> Path:
    con = wc.connect()
    table = con.create_table("tickets", simulate_support_rollout(20_000, 100, seed=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(table, intent_to_treat="assigned", treated="used", cluster_by="team_id",
                                expected_split={0: 0.5, 1: 0.5})
        model = exp.add_metric(["resolved", "minutes"], ["tenure", "region"]).fit(wc.LinearModel)
        effects = model.infer_effect(condition_on=["region = 'apac'"])
    decision = effects.decide("resolved", {"minutes": 1.0})
    path = tmp_path / "report.html"
    path.write_text(effects.report(decision))
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
    _browser([f"--screenshot={tmp_path / 'report.png'}", "--window-size=1100,1400", path.as_uri()], tmp_path)
    assert (tmp_path / "report.png").stat().st_size > 10_000
