"""Ratio metrics (wc.Ratio): the effect on μ_num/μ_den by the delta method, against a hand numpy
computation, against the event-level regression clustered by unit it equals, with covariates,
segments, lifts, combine and decide; and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc


def _units(n: int = 4_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    orders = rng.poisson(np.exp(1.0 + 0.3 * x + 0.1 * arm)).astype(float) + 1.0
    revenue = orders * (10 + rng.normal(0, 2, n)) + 2.0 * x + 1.5 * arm
    return pd.DataFrame({"arm": arm, "orders": orders, "revenue": revenue, "x": x,
                         "device": rng.choice(["ios", "web"], n)})


def _delta_by_hand(df: pd.DataFrame) -> tuple[float, float]:
    """Σ revenue / Σ orders per arm; the variance of each arm's ratio by the delta method over the
    population covariance of the unit means (HC0 of a regression on the arm dummy)."""
    out = []
    for a in (0, 1):
        s = df[df.arm == a]
        mean_n, mean_d = s.revenue.mean(), s.orders.mean()
        cov = np.cov(s.revenue, s.orders, ddof=0) / len(s)
        gradient = np.array([1 / mean_d, -mean_n / mean_d**2])
        out.append((mean_n / mean_d, gradient @ cov @ gradient))
    return out[1][0] - out[0][0], float(np.sqrt(out[0][1] + out[1][1]))


def test_ratio_effect_equals_the_hand_delta_method() -> None:
    df = _units()
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric(
        [wc.Ratio("revenue_per_order", "revenue", "orders")]).fit(wc.LinearModel, covariance="HC0")
    row = model.infer_effect().to_pandas().set_index("metric").loc["revenue_per_order"]
    estimate, se = _delta_by_hand(df)
    assert row.estimate == pytest.approx(estimate, rel=1e-10)
    assert row.std_error == pytest.approx(se, rel=1e-10)
    assert set(model.metrics) == {"revenue", "orders"}  # fitted as two metrics


def test_ratio_equals_the_event_level_regression_clustered_by_unit() -> None:
    """Rows as events (one per order, value = its revenue): the mean per event in each arm is the
    ratio of the units' sums, and the event-level CR0 standard error is the unit-level delta
    method with HC0, exactly."""
    df = _units(n=1_500, seed=3)
    rng = np.random.default_rng(4)
    events = []
    for unit, row in df.iterrows():
        k = int(row.orders)
        shares = rng.dirichlet(np.ones(k)) * row.revenue
        events += [(unit, row.arm, v) for v in shares]
    ev = pd.DataFrame(events, columns=["unit", "arm", "value"])
    by_event = wc.ExperimentData(wc.table(ev), intent_to_treat="arm", cluster_by="unit").add_metric(
        "value").fit(wc.LinearModel, covariance="CR0").infer_effect().to_dicts()[0]
    units = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric(
        [wc.Ratio("value", "revenue", "orders")]).fit(wc.LinearModel, covariance="HC0")
    ratio = units.infer_effect().to_pandas().set_index("metric").loc["value"]
    assert ratio.estimate == pytest.approx(by_event["estimate"], rel=1e-9)
    assert ratio.std_error == pytest.approx(by_event["std_error"], rel=1e-9)


def test_regression_adjusted_ratio_with_segments_lifts_and_decisions() -> None:
    df = _units(n=6_000, seed=5)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm")
    model = exp.add_metric(["revenue", wc.Ratio("rpo", "revenue", "orders")], ["x", "device"]).fit(
        wc.LinearModel, covariance="HC0")
    effects = model.infer_effect(["device = 'ios'"])
    table = effects.to_pandas()
    assert list(table.metric) == ["revenue", "revenue", "orders", "orders", "rpo", "rpo"]
    # by hand: the interacted fits' arm means at the covariate means, and their joint HC0 covariance
    x = df.x.to_numpy() - df.x.mean()
    web = (df.device == "web").to_numpy() - (df.device == "web").mean()
    design = np.column_stack([np.ones(len(df)), df.arm, x, web, df.arm * x, df.arm * web])
    bread = np.linalg.inv(design.T @ design)
    betas, scores = [], []
    for column in ("revenue", "orders"):
        beta = bread @ design.T @ df[column].to_numpy()
        betas.append(beta)
        scores.append(design * (df[column].to_numpy() - design @ beta)[:, None])
    stacked = np.hstack(scores)
    cov = np.kron(np.eye(2), bread) @ (stacked.T @ stacked) @ np.kron(np.eye(2), bread)
    theta = np.concatenate(betas)
    c, t = np.array([1.0, 0, 0, 0, 0, 0]), np.array([1.0, 1, 0, 0, 0, 0])
    means = {a: (v @ theta[:6], v @ theta[6:]) for a, v in (("c", c), ("t", t))}
    ratio = {a: n / d for a, (n, d) in means.items()}
    grad = {a: np.concatenate([v / means[a][1], -ratio[a] * v / means[a][1]])
            for a, v in (("c", c), ("t", t))}
    g = grad["t"] - grad["c"]
    row = table[(table.metric == "rpo") & (table.segment == "all")].iloc[0]
    assert row.estimate == pytest.approx(ratio["t"] - ratio["c"], rel=1e-9)
    assert row.std_error == pytest.approx(float(np.sqrt(g @ cov @ g)), rel=1e-9)
    lift = model.infer_effect(relative=True).to_pandas().set_index("metric").loc["rpo"]
    assert lift.estimate == pytest.approx(ratio["t"] / ratio["c"] - 1, rel=1e-9)
    assert {"av_p_value", "av_ci_lower"} <= set(table.columns) and table.av_p_value.notna().all()
    decision = effects.decide("rpo", guardrails={"revenue": 5.0})
    assert decision.arms[0].verdict in ("ship", "don't ship", "inconclusive")
    combined = effects.combine({"rpo": 1.0, "revenue": 0.01}, name="value")
    assert np.isfinite(combined.std_error).all()


def test_ratio_errors_and_the_mean_of_ratios_warning() -> None:
    df = _units(n=500)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm")
    with pytest.raises(wc.InvalidParameterError, match="'name' parameter of Ratio"):
        wc.Ratio("", "revenue", "orders")
    with pytest.raises(wc.InvalidParameterError, match="'denominator' parameter of Ratio"):
        wc.Ratio("r", "revenue", 3)
    with pytest.raises(wc.InvalidParameterError, match="taken"):
        exp.add_metric(["revenue", wc.Ratio("revenue", "revenue", "orders")])
    with pytest.raises(wc.InvalidParameterError, match="by itself"):
        exp.add_metric([wc.Ratio("r", "orders", "orders")])
    with pytest.raises(wc.InvalidParameterError, match="cannot be a covariate"):
        exp.add_metric("revenue", [wc.Ratio("r", "revenue", "orders")])
    df["signed"] = df.orders * np.where(df.arm == 1, -1, 1)
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric(
        [wc.Ratio("r", "revenue", "signed")]).fit(wc.LinearModel)
    with pytest.raises(wc.DesignError, match="positive mean in every arm"):
        model.infer_effect()
    df["d"] = df.arm
    iv = wc.ExperimentData(wc.table(df), intent_to_treat="arm", treated="d", instrument="arm")
    with pytest.raises(wc.DesignError, match="without an instrument"):
        iv.add_metric([wc.Ratio("r", "revenue", "orders")])
    orders = pd.DataFrame({"unit": np.repeat(np.arange(500), 2), "amount": np.arange(1000.0)})
    df["unit"] = np.arange(500)
    per_unit = wc.Metric(name="avg_amount", source=wc.table(orders), unit="unit",
                         value="SUM(amount) / COUNT(*)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric([per_unit])
    assert any("wc.Ratio" in str(w.message) for w in caught)


def test_ratio_in_an_analysis_file(tmp_path) -> None:
    import json

    from warehouse_causal.surfaces.analysis_spec import run_spec

    df = _units(n=800)
    con = wc.connect(tmp_path / "w.duckdb")
    con.create_table("units", df)
    con.disconnect()
    spec = {"connection": "w.duckdb", "table": "units", "design": {"intent_to_treat": "arm"},
            "metrics": [{"ratio": "rpo", "numerator": "revenue", "denominator": "orders"}],
            "fit": {"covariance": "HC0"}}
    (tmp_path / "a.json").write_text(json.dumps(spec))
    effects = run_spec(spec, tmp_path)["effects"].to_pandas().set_index("metric")
    estimate, se = _delta_by_hand(df)
    assert effects.loc["rpo"].estimate == pytest.approx(estimate, rel=1e-10)
    assert effects.loc["rpo"].std_error == pytest.approx(se, rel=1e-10)
    with pytest.raises(wc.InvalidParameterError, match="must be a ratio"):
        run_spec({**spec, "metrics": [{"ratio": "rpo", "numerator": "revenue"}]}, tmp_path)


def test_ratio_agrees_with_gbstats_published_ratio_statistic() -> None:
    """gbstats' ``RatioStatistic`` (0.8.0, models/statistics.py; its pins numpy<2 and pandas<2 keep it
    out of the dev dependencies, so its formula is transcribed): per arm,
    Var = s²_m/μ_d² − 2·cov·μ_m/μ_d³ + μ_m²·s²_d/μ_d⁴ with sample (n − 1) moments, over n. It
    matches the HC0 fit up to those degrees of freedom (n/(n − 1) per arm: 2.5e-4 here)."""
    df = _units(n=8_000, seed=9)
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric(
        [wc.Ratio("rpo", "revenue", "orders")]).fit(wc.LinearModel, covariance="HC0")
    row = model.infer_effect().to_pandas().set_index("metric").loc["rpo"]
    variance, ratio = 0.0, {}
    for a in (0, 1):
        s = df[df.arm == a]
        n, m, d = len(s), s.revenue.to_numpy(), s.orders.to_numpy()
        covariance = ((m * d).sum() - m.sum() * d.sum() / n) / (n - 1)
        arm_variance = (m.var(ddof=1) / d.mean() ** 2 - 2 * covariance * m.mean() / d.mean() ** 3
                        + m.mean() ** 2 * d.var(ddof=1) / d.mean() ** 4)
        variance += arm_variance / n
        ratio[a] = m.sum() / d.sum()
    assert row.estimate == pytest.approx(ratio[1] - ratio[0], rel=1e-10)
    assert row.std_error == pytest.approx(np.sqrt(variance), rel=1e-3)


def _dead_segment(seed: int, n: int = 2_000) -> pd.DataFrame:
    """Units whose denominator (and numerator) is 0 in every control row on iOS: the segment's
    control ratio is 0/0, and its fitted control mean is 0 up to rounding noise of either sign."""
    df = _units(n=n, seed=seed)
    dead = (df.device == "ios") & (df.arm == 0)
    df.loc[dead, ["orders", "revenue"]] = 0.0
    return df


@pytest.mark.parametrize("covariates", [["device"], ["x", "device"]])
@pytest.mark.parametrize("seed", range(6))
def test_a_zero_over_zero_segment_is_an_error_whatever_the_rounding(covariates: list[str], seed: int) -> None:
    """Issue 24 item 4: the sign of the noise in the fitted control mean decided between the error
    and an estimate such as −6.6 with se 0 and p 0; exact row counts decide now."""
    df = _dead_segment(seed)
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric(
        [wc.Ratio("rpo", "revenue", "orders")], covariates).fit(wc.LinearModel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.DesignWarning)
        with pytest.raises(wc.DesignError, match="zero in every row of arm 0 in segment \"device = 'ios'\""):
            model.infer_effect(["device = 'ios'"])
        with pytest.raises(wc.DesignError, match="zero in every row of arm 0 in segment 'device=ios'"):
            model.infer_effect(over="device")
        healthy = model.infer_effect(["device = 'web'"]).to_pandas().set_index(["metric", "segment"])
    assert np.isfinite(healthy.loc[("rpo", "device = 'web'")].std_error)


def test_the_denominator_counts_are_weighted_rows_and_per_arm() -> None:
    """Rows with a zero weight carry no denominator; a denominator that is never positive in an arm
    (here: negative in every treated row of a segment) is refused from the counts too."""
    df = _dead_segment(1)
    df["w"] = 1.0
    weightless = (df.device == "ios") & (df.arm == 0) & (df.x > 0)
    df.loc[weightless, ["orders", "w"]] = (5.0, 0.0)  # non-zero, but weighed by 0
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm", weights="w").add_metric(
        [wc.Ratio("rpo", "revenue", "orders")], ["device"]).fit(wc.LinearModel)
    with pytest.raises(wc.DesignError, match="zero in every row of arm 0"):
        model.infer_effect(["device = 'ios'"])
    df = _units(n=2_000, seed=2)
    df.loc[(df.device == "web") & (df.arm == 1), "orders"] *= -1.0
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric(
        [wc.Ratio("rpo", "revenue", "orders")], ["device"]).fit(wc.LinearModel)
    with pytest.raises(wc.DesignError, match="negative or zero in every row of arm 1"):
        model.infer_effect(["device = 'web'"])
