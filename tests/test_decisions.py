"""Guardrail decisions and the decision memo."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.helpers import Sim, simulate
from warehouse_causal.effects.table import Sequential
from warehouse_causal.fluent import Effects


def _effects(rows: list[tuple[str, str, float, float]]) -> Effects:
    """Hand-made effects: (metric, arm, estimate, std_error), segment 'all', large n."""
    return Effects(
        metric=tuple(r[0] for r in rows), arm=tuple(r[1] for r in rows), segment=("all",) * len(rows),
        estimate=np.array([r[2] for r in rows]), cov_estimated=np.diag([r[3] ** 2 for r in rows]),
        n=(100_000,) * len(rows), df=1e6, alpha=0.05,
        sequential=Sequential("t", 1e5, 1e5 - 4, 4, 1e5, 1_000.0), adjust="holm", relative=False,
        queries=(), model=None,
    )


def test_verdicts_follow_the_rules() -> None:
    effects = _effects([
        ("conversion", "A", 0.05, 0.01), ("latency", "A", -1.0, 0.5),     # improves, guardrail passes
        ("conversion", "B", 0.05, 0.01), ("latency", "B", 5.0, 0.5),      # guardrail fails
        ("conversion", "C", -0.05, 0.01), ("latency", "C", 0.0, 0.5),     # primary harms
        ("conversion", "D", 0.01, 0.01), ("latency", "D", 0.0, 0.5),      # undecided
        ("conversion", "E", 0.05, 0.01), ("latency", "E", 1.5, 0.5),      # guardrail unclear
    ])
    decision = effects.decide("conversion", {"latency": 2.0})
    verdicts = {a.arm: a.verdict for a in decision.arms}
    assert verdicts == {"A": "ship", "B": "don't ship", "C": "don't ship", "D": "inconclusive",
                        "E": "inconclusive"}
    by_arm = {a.arm: a for a in decision.arms}
    assert [c.status for c in by_arm["E"].guardrails] == ["unclear"]
    assert "guardrail latency fail" in "; ".join(by_arm["B"].reasons)
    assert list(decision.to_pandas().columns) == ["arm", "verdict", "primary_estimate", "primary_lower",
                                                  "primary_upper", "reasons"]
    assert str(decision).startswith("A: SHIP")


def test_anytime_valid_is_more_cautious_than_classical() -> None:
    effects = _effects([("conversion", "A", 0.025, 0.01)])  # z = 2.5: classical yes, sequential no
    assert effects.decide("conversion", evidence="classical").arms[0].verdict == "ship"
    assert effects.decide("conversion").arms[0].verdict == "inconclusive"


def test_lower_is_better_and_explicit_bounds() -> None:
    effects = _effects([("minutes", "A", -3.0, 0.5), ("errors", "A", -0.1, 0.02)])
    decision = effects.decide("minutes", {"errors": ("<", 0.0)}, higher_is_better=False)
    assert decision.arms[0].verdict == "ship"
    assert decision.arms[0].guardrails[0].bound == "<"


def test_decide_errors() -> None:
    effects = _effects([("conversion", "A", 0.05, 0.01)])
    with pytest.raises(wc.InvalidParameterError, match=r"decide needs effects on \['revenue'\]"):
        effects.decide("revenue")
    with pytest.raises(wc.InvalidParameterError, match=r"must give .conversion. a finite non-zero number"):
        effects.decide("conversion", {"conversion": 0})
    with pytest.raises(wc.InvalidParameterError, match="The 'evidence' parameter"):
        effects.decide("conversion", evidence="bayes")


def test_memo_has_estimand_effects_decision_and_caveats() -> None:
    rng = np.random.default_rng(2)
    n = 3_000
    z = rng.integers(0, 2, n)
    d = (rng.random(n) < 0.3 + 0.06 * z).astype(int)  # weak encouragement
    frame = pd.DataFrame({"z": z, "d": d, "x": rng.normal(size=n)})
    frame["y"] = 1 + 0.5 * d + frame.x + rng.normal(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(wc.table(frame), intent_to_treat="z", treated="d")
        effects = exp.add_metric("y", ["x"]).fit(wc.LinearModel).infer_effect(condition_on=["x > 0"])
    text = effects.memo("y")
    assert "complier average effect (LATE) of `d`" in text and "instrumented by `z`" in text
    assert "| y | 1 | x > 0 |" in text and "## Decision (primary `y`, anytime-valid intervals)" in text
    assert "Weak instrument: first-stage F below 10" in text
    assert "fix planned_n before the experiment" in text
    plain = simulate(Sim(n=500))
    basic = wc.ExperimentData(wc.table(plain), intent_to_treat="z").add_metric("y").fit(wc.LinearModel)
    assert "## Decision" not in basic.infer_effect().memo()


def test_a_guardrail_without_a_valid_interval_is_not_checked_and_never_ships() -> None:
    """A NaN estimate or interval compared False everywhere, so the guardrail read 'unclear' (and a
    half-NaN interval could read 'pass'); it is 'not checked', and the arm is not shipped."""
    from warehouse_causal.decide.decisions import _guardrail

    nan, inf = float("nan"), float("inf")
    for row in [(nan, 0.5), (-1.0, nan), (-1.0, inf)]:
        effects = _effects([("conversion", "A", 0.05, 0.01), ("latency", "A", *row)])
        for evidence in ("anytime-valid", "classical"):
            arm = effects.decide("conversion", {"latency": 2.0}, evidence=evidence).arms[0]
            assert [c.status for c in arm.guardrails] == ["not checked"]
            assert arm.verdict == "inconclusive" and "guardrail latency not checked" in "; ".join(arm.reasons)
    # one bound NaN: the other alone would have said "pass"
    row = {"estimate": 1.0, "av_ci_lower": 0.5, "av_ci_upper": nan, "ci_lower": 0.5, "ci_upper": nan}
    assert _guardrail("m", -1.0, row, "anytime-valid", None).status == "not checked"
    row = {"estimate": nan, "av_ci_lower": -0.5, "av_ci_upper": 0.5, "ci_lower": -0.5, "ci_upper": 0.5}
    assert _guardrail("m", 1.0, row, "classical", None).status == "not checked"
    # a failing guardrail still stops the arm when another was not checked
    effects = _effects([("conversion", "A", 0.05, 0.01), ("latency", "A", nan, 0.5),
                        ("errors", "A", 5.0, 0.1)])
    assert effects.decide("conversion", {"latency": 2.0, "errors": 1.0}).arms[0].verdict == "don't ship"


def test_a_primary_without_a_valid_interval_or_p_value_is_undecided() -> None:
    """A NaN adjusted p-value compared False with alpha, so the classical rule read the interval
    as significant: 'improves' on a p-value that does not exist."""
    from warehouse_causal.decide.decisions import _primary
    from warehouse_causal.meaning import Direction

    effects = _effects([("conversion", "A", float("nan"), 0.01)])
    for evidence in ("anytime-valid", "classical"):
        arm = effects.decide("conversion", evidence=evidence).arms[0]
        assert arm.verdict == "inconclusive" and "no valid" in arm.reasons[0]
    row = {"metric": "conversion", "estimate": 0.05, "ci_lower": 0.03, "ci_upper": 0.07,
           "p_adjusted": float("nan")}
    assert _primary(row, "classical", Direction.HIGHER, 0.05)[0] == "undecided"
