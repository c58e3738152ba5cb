"""The demo command runs end to end and recovers the simulated effects."""

from __future__ import annotations

import re

import pytest

from warehouse_causal.cli import main
from warehouse_causal.demo import DemoTruth


def test_demo_prints_effects_close_to_truth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--rows", "40000", "--teams", "200", "--sql"]) == 0
    out = capsys.readouterr().out
    assert "Effect of using the assistant on compliers" in out
    assert "-- pass1" in out and "-- pass2" in out
    truth = DemoTruth()
    for metric in ("resolved", "minutes", "csat"):
        row = re.search(rf"^\s*{metric}\s+all\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
        assert row, metric
        estimate, lower, upper = (float(row.group(i)) for i in (2, 3, 4))
        std_error = (upper - lower) / (2 * 1.96)  # ~ t with 199 df
        assert abs(estimate - getattr(truth, metric)) < 4 * std_error  # a 1-in-15,000 miss
    assert "Projected to a future mix" in out and "Net value" in out


def test_unknown_command_exits_with_usage() -> None:
    with pytest.raises(SystemExit) as info:
        main(["nope"])
    assert info.value.code == 2
