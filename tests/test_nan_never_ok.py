"""A NaN or infinite statistic never reads as "ok", "consistent", "pass" or "ship", in any public
result: decisions and their guardrails, the memo, report cards, sentences of answers, statuses of
checks, the first stage. Property tests inject non-finite numbers where the numbers come from
(an effect's estimate or variance) and read every word that results."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse_causal.effects.table import Sequential
from warehouse_causal.fit.diagnostics import FirstStageRow
from warehouse_causal.fluent import Effects
from warehouse_causal.meaning import Direction, Status
from warehouse_causal.meaning.direction import judge
from warehouse_causal.surfaces import sentences

BAD = st.sampled_from([math.nan, math.inf, -math.inf])
GOOD = st.floats(-5.0, 5.0, allow_nan=False)
SE = st.floats(0.001, 2.0, allow_nan=False)


def _effects(rows: list[tuple[str, str, float, float]]) -> Effects:
    """Hand-made effects: (metric, arm, estimate, variance), segment 'all'."""
    return Effects(
        metric=tuple(r[0] for r in rows), arm=tuple(r[1] for r in rows), segment=("all",) * len(rows),
        estimate=np.array([r[2] for r in rows]), cov_estimated=np.diag([r[3] for r in rows]),
        n=(100_000,) * len(rows), df=1e6, alpha=0.05,
        sequential=Sequential("t", 1e5, 1e5 - 4, 4, 1e5, 1_000.0), adjust="holm", relative=False,
        queries=(), model=None,
    )


@settings(max_examples=60, deadline=None)
@given(primary=GOOD, se=SE, bad=BAD, where=st.sampled_from(["estimate", "variance"]),
       evidence=st.sampled_from(["anytime-valid", "classical"]))
def test_a_non_finite_guardrail_is_never_passed_and_never_ships(primary: float, se: float, bad: float,
                                                                where: str, evidence: str) -> None:
    guard = (bad, 0.25) if where == "estimate" else (0.0, bad)
    effects = _effects([("conversion", "A", abs(primary) + 10 * se, se ** 2), ("latency", "A", *guard)])
    decision = effects.decide("conversion", {"latency": 1.0}, evidence=evidence)
    arm = decision.arms[0]
    assert arm.verdict != "ship"
    assert [c.status for c in arm.guardrails] == ["not checked"]
    assert "SHIP" not in str(decision).upper().replace("DON'T SHIP", "")


@settings(max_examples=60, deadline=None)
@given(bad=BAD, where=st.sampled_from(["estimate", "variance"]),
       evidence=st.sampled_from(["anytime-valid", "classical"]))
def test_a_non_finite_primary_never_ships(bad: float, where: str, evidence: str) -> None:
    row = ("conversion", "A", bad, 0.0001) if where == "estimate" else ("conversion", "A", 0.5, bad)
    decision = _effects([row]).decide("conversion", evidence=evidence)
    assert decision.arms[0].verdict != "ship"


@given(lower=st.one_of(BAD, GOOD), upper=st.one_of(BAD, GOOD),
       direction=st.sampled_from(list(Direction)))
def test_an_interval_with_a_non_finite_bound_is_never_coloured(lower: float, upper: float,
                                                               direction: Direction) -> None:
    if not (math.isfinite(lower) and math.isfinite(upper)):
        assert judge(lower, upper, direction) == ""  # grey: neither good nor bad


@given(bad=BAD)
def test_sentences_never_call_a_missing_interval_significant_or_not(bad: float) -> None:
    found = [sentences.Contrast("y", "1", "0", 0.3, bad, 0.5)]
    assert sentences.not_significant(found, 0.05) is None
    assert sentences.significantly_worse(found, ["y", "z"], {}) is None
    missing = sentences.no_interval(found)
    assert missing is not None and "not checked" in missing


@given(p=st.one_of(BAD, st.none()))
def test_a_sample_ratio_without_a_p_value_is_not_checked(p: float | None) -> None:
    check = sentences.sample_ratio(p, 0.001)
    assert check.status is Status.NOT_CHECKED and check.as_dict()["ok"] is None


@given(f=BAD)
def test_a_first_stage_without_a_finite_f_is_not_checked(f: float) -> None:
    row = FirstStageRow("used", f, f, "HC1")
    shown = sentences.first_stage_rows([row])
    assert shown[0]["status"] == "not checked" and shown[0]["f_statistic"] is None


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_memo_never_says_an_unchecked_guardrail_passed(bad: float) -> None:
    effects = _effects([("conversion", "A", 0.5, 0.0001), ("latency", "A", bad, 0.25)])
    memo = effects.memo("conversion", {"latency": 1.0})
    assert "latency not checked" in memo and "latency pass" not in memo
