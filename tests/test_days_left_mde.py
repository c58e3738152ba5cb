"""``LinearModel.days_left`` takes an MDE that means one thing for every metric (issue 24, item 9).

A bare ``mde=0.03`` was applied to minutes (mean ≈ 30) and to a resolution rate (mean ≈ 0.7)
alike, as an absolute effect: 0.03 minutes needed 24,814 days. Now the MDE is either relative (a
fraction of each metric's control mean, ``relative=True``) or absolute per metric (a dict), the
rows say which and the absolute value used, and ambiguous or impossible input is refused.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import warehouse_causal as wc
from warehouse_causal.core.errors import DesignError, InvalidParameterError

Z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
OWNER = "LinearModel.days_left"


def _tickets(n: int = 6_000, seed: int = 3) -> pd.DataFrame:
    """Minutes (mean ≈ 30) and a resolution rate (≈ 0.7): metrics in different units."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "arm": arm, "x": x,
        "minutes": 30.0 - 1.0 * arm + 4.0 * x + rng.normal(scale=8.0, size=n),
        "resolved": (rng.random(n) < 0.7 + 0.02 * arm).astype(float),
    })


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _tickets()


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> wc.LinearModel:
    return wc.ExperimentData(frame, intent_to_treat="arm").add_metric(["minutes", "resolved"]).fit(
        wc.LinearModel)


def _rows(table: Any) -> dict[str, dict[str, Any]]:
    return {r["metric"]: r for r in table.to_dicts()}


def test_a_relative_mde_is_a_fraction_of_each_metrics_control_mean(
        frame: pd.DataFrame, model: wc.LinearModel) -> None:
    rows = _rows(model.days_left(mde=0.03, relative=True, traffic_per_day=200))
    se = {r["metric"]: r["std_error"] for r in model.infer_effect().to_dicts()}
    control = frame[frame.arm == 0]
    for metric in ("minutes", "resolved"):
        row = rows[metric]
        mean = control[metric].mean()  # no covariates: the control mean is the control arm's mean
        assert row["mde_given"] == "relative"
        assert row["control_mean"] == pytest.approx(mean, rel=1e-9)
        assert row["mde"] == pytest.approx(0.03 * mean, rel=1e-9)
        assert row["mde_relative"] == pytest.approx(0.03, rel=1e-12)
        assert row["n_needed"] == math.ceil(len(frame) * (Z * se[metric] / (0.03 * abs(mean))) ** 2)
        assert row["days_left"] == math.ceil(row["n_more"] / 200)
    # the same relative MDE: minutes no longer needs thousands of times more units than resolved
    assert rows["minutes"]["n_needed"] < 10 * rows["resolved"]["n_needed"]


def test_an_absolute_mde_per_metric_is_used_as_given(frame: pd.DataFrame, model: wc.LinearModel) -> None:
    table = model.days_left(mde={"minutes": 2.0, "resolved": 0.01})
    rows = _rows(table)
    se = {r["metric"]: r["std_error"] for r in model.infer_effect().to_dicts()}
    for metric, target in (("minutes", 2.0), ("resolved", 0.01)):
        assert rows[metric]["mde_given"] == "absolute"
        assert rows[metric]["mde"] == target
        assert rows[metric]["mde_relative"] == pytest.approx(
            target / abs(frame[frame.arm == 0][metric].mean()), rel=1e-9)
        assert rows[metric]["n_needed"] == math.ceil(len(frame) * (Z * se[metric] / target) ** 2)
    assert "absolute" in table.caption() and "minutes 2" in table.caption()
    # a dict may name some metrics only: rows for those
    assert list(_rows(model.days_left(mde={"resolved": 0.01}))) == ["resolved"]
    # relative=True with a dict: a fraction of each metric's own control mean
    both = _rows(model.days_left(mde={"minutes": 0.05, "resolved": 0.02}, relative=True))
    assert both["minutes"]["mde"] == pytest.approx(0.05 * both["minutes"]["control_mean"], rel=1e-12)
    assert both["resolved"]["mde"] == pytest.approx(0.02 * both["resolved"]["control_mean"], rel=1e-12)
    assert "relative" in model.days_left(mde=0.03, relative=True).caption()


def test_the_control_mean_is_the_baseline_of_relative_effects_with_covariates(frame: pd.DataFrame) -> None:
    data = frame.assign(region=np.where(frame.x > 0.5, "apac", np.where(frame.x < -0.5, "emea", "amer")))
    adjusted = wc.ExperimentData(data, intent_to_treat="arm").add_metric(
        ["minutes", "resolved"], ["x", "region"]).fit(wc.LinearModel)
    absolute = _rows(adjusted.infer_effect())
    lift = _rows(adjusted.infer_effect(relative=True))
    rows = _rows(adjusted.days_left(mde=0.03, relative=True))
    for metric in ("minutes", "resolved"):
        baseline = absolute[metric]["estimate"] / lift[metric]["estimate"]
        assert rows[metric]["control_mean"] == pytest.approx(baseline, rel=1e-9)


def test_a_ratio_metric_is_relative_to_its_control_ratio(frame: pd.DataFrame) -> None:
    data = frame.assign(handled=1.0 + frame.resolved)
    ratio = wc.Ratio("minutes_per_handled", numerator="minutes", denominator="handled")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        fitted = wc.ExperimentData(data, intent_to_treat="arm").add_metric([ratio]).fit(wc.LinearModel)
    rows = _rows(fitted.days_left(mde=0.05, relative=True))
    control = data[data.arm == 0]
    expected = control.minutes.mean() / control.handled.mean()
    assert rows["minutes_per_handled"]["control_mean"] == pytest.approx(expected, rel=1e-9)
    assert rows["minutes_per_handled"]["mde"] == pytest.approx(0.05 * expected, rel=1e-9)
    assert set(rows) == {"minutes", "handled", "minutes_per_handled"}


@pytest.mark.parametrize("kwargs, message", [
    # a bare number does not say whether it is relative or absolute
    ({"mde": 0.03}, "relative=True"),
    # one absolute number for metrics in different units
    ({"mde": 0.03, "relative": False}, "dict"),
    ({"mde": math.nan, "relative": True}, "'mde'"),
    ({"mde": math.inf, "relative": True}, "'mde'"),
    ({"mde": 0.0, "relative": True}, "'mde'"),
    ({"mde": -0.03, "relative": True}, "'mde'"),
    ({"mde": True, "relative": True}, "'mde'"),
    ({"mde": "0.03", "relative": True}, "'mde'"),
    ({"mde": None, "relative": True}, "'mde'"),
    ({"mde": {}}, "'mde'"),
    ({"mde": {"minutes": 2.0, "csat": 0.1}}, "csat"),
    ({"mde": {"minutes": math.nan}}, "'mde'"),
    ({"mde": {"minutes": -2.0}}, "'mde'"),
    ({"mde": {"minutes": math.inf}}, "'mde'"),
    ({"mde": {"minutes": 2.0}, "relative": "yes"}, "'relative'"),
    ({"mde": {"minutes": 2.0}, "relative": 1}, "'relative'"),
])
def test_ambiguous_or_impossible_mdes_are_refused(model: wc.LinearModel, kwargs: dict[str, Any],
                                                  message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message) as err:
        model.days_left(**kwargs)
    assert OWNER in str(err.value)


def test_one_metric_takes_a_bare_absolute_mde_when_it_says_so(frame: pd.DataFrame) -> None:
    single = wc.ExperimentData(frame, intent_to_treat="arm").add_metric("minutes").fit(wc.LinearModel)
    row = single.days_left(mde=2.0, relative=False).to_dicts()[0]
    assert row["mde"] == 2.0 and row["mde_given"] == "absolute"
    with pytest.raises(InvalidParameterError, match="relative"):
        single.days_left(mde=2.0)


def test_a_relative_mde_needs_a_non_zero_control_mean(frame: pd.DataFrame) -> None:
    data = frame.assign(treated_only=frame.minutes * frame.arm)  # 0 on every control row
    fitted = wc.ExperimentData(data, intent_to_treat="arm").add_metric(["treated_only", "resolved"]).fit(
        wc.LinearModel)
    assert abs(_rows(fitted.days_left(mde={"treated_only": 1.0}))["treated_only"]["control_mean"]) < 1e-9
    with pytest.raises(DesignError, match="treated_only"):
        fitted.days_left(mde=0.03, relative=True)
