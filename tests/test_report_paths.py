"""Every ``report()`` has one signature: ``report(path=None, *, title=..., ...)`` returns the page and
writes it to ``path`` when given; a non-path in the path's place, a folder or a missing folder is a
clear error (``effects.report("x.html")`` used to raise and ``power.report("x.html")`` took the
path as its title)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.core.html import write_page


def _effects() -> wc.Effects:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"arm": rng.integers(0, 2, 2_000), "x": rng.normal(size=2_000)})
    df["y"] = 0.3 * df.arm + df.x + rng.normal(size=2_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y", ["x"]).fit(
            wc.LinearModel).infer_effect()


def test_effects_report_writes_to_the_path_and_returns_the_page(tmp_path: Path) -> None:
    effects = _effects()
    target = tmp_path / "report.html"
    page = effects.report(target, title="Checkout test")
    assert target.read_text() == page and "<title>Checkout test</title>" in page
    assert effects.report(title="Checkout test") == page  # no path: the same page


def test_power_report_takes_the_path_not_as_its_title(tmp_path: Path) -> None:
    df = pd.DataFrame({"y": np.random.default_rng(1).normal(size=1_000)})
    power = wc.ExperimentPlan(wc.table(df)).add_metric("y").power(n=[100, 200])
    target = tmp_path / "plan.html"
    page = power.report(str(target))
    assert target.read_text() == page and "<title>Experiment plan</title>" in page


def test_a_decision_in_the_path_place_is_refused_with_the_keyword_to_use() -> None:
    effects = _effects()
    decision = effects.decide("y")
    with pytest.raises(wc.InvalidParameterError, match=r"'path' parameter of Effects.report.*decision="):
        effects.report(decision)  # type: ignore[arg-type]
    assert "Decision" in effects.report(decision=decision)


@pytest.mark.parametrize("bad, match", [
    ("{tmp}", "is a folder"),
    ("{tmp}/missing/report.html", "does not exist"),
    (3, "must be a file path"),
])
def test_write_page_refuses_what_is_not_a_writable_file(tmp_path: Path, bad: object, match: str) -> None:
    path = bad.format(tmp=tmp_path) if isinstance(bad, str) else bad
    with pytest.raises(wc.InvalidParameterError, match=match):
        write_page("<html></html>", path, "X.report")
