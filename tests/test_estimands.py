"""Every row of every result says which estimand it estimates (issue 24 item 6): LATE for the arm
effects of an instrumented design, ITT when the arm is the assignment, ATE when a received arm is
its own instrument; quantile rows are differences by assigned arm (quantile ITT) under an
instrument too, and their numbers are those differences, not complier effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.helpers import Sim, simulate
from warehouse_causal.decide.decisions import memo
from warehouse_causal.design.estimands import assigned_estimand, design_estimand
from warehouse_causal.meaning import EstimandKind


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    df = simulate(Sim(n=3_000, encouragement=True, seed=2))
    df["day"] = np.arange(len(df)) % 6
    return df


def _designs(frame: pd.DataFrame) -> dict[str, wc.ExperimentData]:
    t = wc.table(frame)
    return {
        "LATE": wc.ExperimentData(t, intent_to_treat="z", treated="d"),
        "ITT": wc.ExperimentData(t, intent_to_treat="z"),
        "ATE": wc.ExperimentData(t, intent_to_treat="z", treated="d", instrument="d"),
    }


@pytest.mark.parametrize("kind", ["LATE", "ITT", "ATE"])
def test_effect_rows_carry_the_design_estimand(frame: pd.DataFrame, kind: str) -> None:
    exp = _designs(frame)[kind]
    assert design_estimand(exp).short == kind
    model = exp.add_metric(["y", "y2"], ["x1", "device"]).fit(wc.LinearModel)
    effects = model.infer_effect(["device = 'mobile'"])
    table = effects.to_pandas()
    assert "estimand" in table.columns and set(table.estimand) == {kind}
    derived = [model.infer_effect(relative=True), effects.combine({"y": 1.0, "y2": -1.0}, name="net"),
               effects.project({"device = 'mobile'": 0.5, "all": 0.5})]
    for result in derived:
        assert {r["estimand"] for r in result.to_dicts()} == {kind}
    assert all(r["estimand"] == kind for r in model.cumulative("day", looks=3).to_dicts())


def test_the_late_label_follows_the_numbers(frame: pd.DataFrame) -> None:
    """The LATE row is the Wald ratio ITT_y / ITT_d, not the ITT that the ITT row holds."""
    designs = _designs(frame)
    late = designs["LATE"].add_metric("y").fit(wc.LinearModel).infer_effect().to_dicts()[0]
    itt = designs["ITT"].add_metric("y").fit(wc.LinearModel).infer_effect().to_dicts()[0]
    z = frame.z.to_numpy()
    wald = ((frame.y[z == 1].mean() - frame.y[z == 0].mean())
            / (frame.d[z == 1].mean() - frame.d[z == 0].mean()))
    assert (late["estimand"], itt["estimand"]) == ("LATE", "ITT")
    assert late["estimate"] == pytest.approx(wald, rel=1e-9)
    assert itt["estimate"] == pytest.approx(frame.y[z == 1].mean() - frame.y[z == 0].mean(), rel=1e-9)


def test_quantile_rows_under_an_instrument_are_the_quantile_itt(frame: pd.DataFrame) -> None:
    """The rows were differences by assigned arm shown under the design's LATE with no label."""
    exp = _designs(frame)["LATE"]
    quantiles = exp.infer_quantiles([wc.Quantile("y_p50", "y", 0.5), wc.Quantile("y_p90", "y", 0.9)])
    z = frame.z.to_numpy()
    for row in quantiles.to_dicts():
        assert row["estimand"] == str(EstimandKind.QUANTILE_ITT) == "quantile ITT"
        by_assignment = np.quantile(frame.y[z == 1], row["q"]) - np.quantile(frame.y[z == 0], row["q"])
        assert row["estimate"] == pytest.approx(by_assignment, rel=1e-9)
    assert "quantile ITT: differences by assigned arm" in quantiles.caption()
    effects = exp.add_metric("y").fit(wc.LinearModel).infer_effect()
    text = memo(effects, quantiles=quantiles)
    assert "| LATE |" not in text.split("## Quantile")[1] and "quantile ITT" in text.split("## Quantile")[1]
    assert assigned_estimand(exp, quantile=True).kind is EstimandKind.QUANTILE_ITT


def test_ratio_bayesian_calibrated_and_policy_rows_are_labelled() -> None:
    df = simulate(Sim(n=2_000, seed=5))
    df["orders"] = 1.0 + (df.conv > 0)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z")
    ratio = exp.add_metric([wc.Ratio("y_per_order", "y", "orders")]).fit(wc.LinearModel).infer_effect()
    assert {r["estimand"] for r in ratio.to_dicts()} == {"ITT"}
    posterior = exp.add_metric("y").fit(wc.BayesianLinearRegression).infer_effect()
    assert {r["estimand"] for r in posterior.to_dicts()} == {"ITT"}
    df["human"] = np.where(np.arange(len(df)) % 5 == 0, df.y + 0.1, np.nan)
    judged = wc.ExperimentData(wc.table(df), intent_to_treat="z").add_metric("y", calibrate_with="human")
    calibrated = judged.fit(wc.LinearModel).calibrated_effect()
    assert {r["estimand"] for r in calibrated.to_dicts()} == {"ITT"}
    logged = simulate(Sim(n=2_000, propensity=True, seed=6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        model = wc.ExperimentData(wc.table(logged), intent_to_treat="z", propensity="p").add_metric(
            "y", ["x2"]).fit(wc.LinearModel)
        rows = model.evaluate_policy("CASE WHEN x2 > 0 THEN 1 ELSE 0 END").to_dicts()
    assert {r["estimator"]: r["estimand"] for r in rows} == {
        "ips": "policy value", "snips": "policy value", "dm": "policy value", "dr": "policy value",
        "logged": "logged policy value"}
