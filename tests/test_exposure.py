"""Effects by days since exposure (wc.exposure_age + infer_effect(since_exposure=...)) and the GLS
trend test (Effects.trend): a decaying novelty effect is tracked and its decay detected; with a
constant effect the trend test rejects 5% of the time (simulated on the algebra)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.algebra.trend import gls_slope


def _panel(effect, units: int = 3_000, days: int = 14, seed: int = 3) -> pd.DataFrame:
    """Unit × calendar-day rows; units are exposed on a staggered day, randomized by unit; the
    effect at exposure age a is ``effect(a)``."""
    rng = np.random.default_rng(seed)
    exposed = rng.integers(0, 7, units)
    arm = rng.integers(0, 2, units)
    rows = [(u, d, exposed[u], arm[u]) for u in range(units)
            for d in range(exposed[u], exposed[u] + days)]
    df = pd.DataFrame(rows, columns=["user", "day", "exposed_day", "arm"])
    age = df.day - df.exposed_day
    df["y"] = (1.0 + 0.05 * df.day + rng.normal(size=units)[df.user] + effect(age) * df.arm
               + rng.normal(size=len(df)))
    start = pd.Timestamp("2026-01-01")
    df["date"] = start + pd.to_timedelta(df.day, unit="D")
    df["exposed_at"] = start + pd.to_timedelta(df.exposed_day, unit="D")
    return df


def _fit(df: pd.DataFrame, max_age: int = 10) -> wc.LinearModel:
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm", cluster_by="user")
    age = wc.exposure_age(time="date", exposure="exposed_at", max_age=max_age)
    return exp.add_metric("y", [age]).fit(wc.LinearModel)


def test_a_decaying_novelty_effect_is_tracked_and_its_decay_detected() -> None:
    truth = lambda age: 2.0 * np.exp(-np.asarray(age) / 3.0)  # noqa: E731
    model = _fit(_panel(truth))
    effects = model.infer_effect(since_exposure="exposed_at")
    rows = [r for r in effects.to_dicts() if r["segment"] != "all"]
    assert [r["segment"] for r in rows][:3] == [
        "days_since_exposed_at=000", "days_since_exposed_at=001", "days_since_exposed_at=002"]
    for r in rows:
        level = r["segment"].split("=")[1]
        if level.endswith("+"):
            continue
        assert abs(r["estimate"] - truth(int(level))) < 4 * r["std_error"], r
    assert {"av_ci_lower", "av_p_value"} <= set(effects.to_pandas().columns)
    (trend,) = effects.trend()
    assert trend.slope < 0 and trend.p_value < 1e-6 and trend.levels == 11


def test_the_trend_test_rejects_five_percent_of_the_time_under_a_constant_effect() -> None:
    """The GLS slope test, on effect vectors drawn around a constant with the covariance of a real
    fit (2,000 draws): 5% ± 1.5 points; and on that fit itself it does not reject."""
    model = _fit(_panel(lambda age: 0.5 + 0 * np.asarray(age), units=1_500))
    effects = model.infer_effect(since_exposure="exposed_at")
    keep = [i for i, s in enumerate(effects.segment)
            if s != "all" and s.split("=")[1].rstrip("+").isdigit()]
    ages = np.array([float(effects.segment[i].split("=")[1].rstrip("+")) for i in keep])
    cov = effects.cov[np.ix_(keep, keep)]
    draws = np.random.default_rng(5).multivariate_normal(np.full(len(keep), 0.5), cov, size=2_000)
    rejected = 0
    for draw in draws:
        slope, se = gls_slope(ages, draw, cov)
        rejected += abs(slope / se) > 1.959964
    assert 0.035 <= rejected / len(draws) <= 0.065, rejected / len(draws)
    (trend,) = effects.trend()
    assert trend.p_value > 0.001


def test_exposure_age_errors() -> None:
    df = _panel(lambda age: 0 * np.asarray(age), units=200, days=4)
    with pytest.raises(wc.InvalidParameterError, match="'by' parameter of exposure_age"):
        wc.exposure_age("date", "exposed_at", by="month")
    with pytest.raises(wc.InvalidParameterError, match="'max_age' parameter"):
        wc.exposure_age("date", "exposed_at", max_age=80)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm", cluster_by="user")
    model = exp.add_metric("y").fit(wc.LinearModel)
    with pytest.raises(wc.DesignError, match=r"wc\.exposure_age"):
        model.infer_effect(since_exposure="exposed_at")
    with pytest.raises(wc.InvalidParameterError, match=r"Effects\.trend needs"):
        model.infer_effect().trend()


def test_exposure_age_and_caps_in_an_analysis_file(tmp_path) -> None:
    from warehouse_causal.surfaces.analysis_spec import run_spec

    df = _panel(lambda age: 2.0 * np.exp(-np.asarray(age) / 3.0), units=800, days=8)
    con = wc.connect(tmp_path / "w.duckdb")
    con.create_table("panel", df)
    con.disconnect()
    spec = {"connection": "w.duckdb", "table": "panel",
            "design": {"intent_to_treat": "arm", "cluster_by": "user"}, "metrics": ["y"],
            "covariates": [{"exposure_age": {"time": "date", "exposure": "exposed_at", "max_age": 6}}],
            "cap": {"y": [0.01, 0.99]}, "effects": {"since_exposure": "exposed_at"}}
    result = run_spec(spec, tmp_path)
    assert result["model"].spec.caps[0].lower_q == 0.01
    segments = result["effects"].to_pandas().segment
    assert "days_since_exposed_at=000" in set(segments) and "days_since_exposed_at=006+" in set(segments)
    with pytest.raises(wc.InvalidParameterError, match="exposure_age"):
        run_spec({**spec, "covariates": [{"age": {}}]}, tmp_path)
