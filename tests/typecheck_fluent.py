"""Checked by mypy in CI (not collected by pytest): the fluent API returns real types, not Any."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type  # typing.assert_type needs Python 3.11

import warehouse_causal as wc


def fluent(table: Any) -> None:
    exp = wc.ExperimentData(table, intent_to_treat="arm")
    spec = exp.add_metric("y", ["x"])
    assert_type(spec, wc.ModelSpec)
    model = spec.fit(wc.LinearModel)
    assert_type(model, wc.LinearModel)
    bayes = spec.fit(wc.BayesianLinearRegression)
    assert_type(bayes, wc.BayesianLinearRegression)
    effects = model.infer_effect(condition_on=["x > 0"])
    assert_type(effects, wc.Effects)
    assert_type(effects.project({"x > 0": 1.0}), wc.Effects)
    assert_type(effects.combine({"y": 1.0}, name="value"), wc.Effects)
    assert_type(bayes.infer_effect(), wc.PosteriorEffects)
    decision = effects.decide("y")
    assert_type(decision.arms[0].verdict, str)


def planning(history: Any) -> None:
    plan = wc.ExperimentPlan(history, arms={0: 0.5, 1: 0.5})
    spec = plan.add_metric("y", ["x"])
    assert_type(spec, wc.PlanSpec)
    power = spec.power(n=[1_000])
    assert_type(power, wc.PowerTable)
    assert_type(power.sample_size(mde=0.1).to_dicts(), list[dict[str, Any]])
