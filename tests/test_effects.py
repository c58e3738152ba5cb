"""Effects: delta-vector segment effects against a hand computation from statsmodels' interacted
regression (β and its covariance), projections and combinations as linear contrasts, safety."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import warehouse_causal as wc
from tests.helpers import ORACLE_RTOL, Sim, design_matrices, rel_diff, simulate

COVARIATES = ["x1", "x2", "device"]
CONDITIONS = ["device = 'mobile'", "x2 > 0.5", "x1 < 0 AND device <> 'tablet'"]
MASKS = {
    "device = 'mobile'": lambda d: d.device == "mobile",
    "x2 > 0.5": lambda d: d.x2 > 0.5,
    "x1 < 0 AND device <> 'tablet'": lambda d: (d.x1 < 0) & (d.device != "tablet"),
}


def _model(df: pd.DataFrame, weights: bool = False, **kw: object) -> wc.LinearModel:
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", weights="w" if weights else None)
    return exp.add_metric(["y", "y2"], COVARIATES).fit(wc.LinearModel, **kw)


def _oracle(df: pd.DataFrame, metric: str, weights: np.ndarray | None, control: object):
    x, _ = design_matrices(df, "z", "z", control, COVARIATES, ["device"], True, weights)
    model = sm.WLS(df[metric], x, weights=weights) if weights is not None else sm.OLS(df[metric], x)
    return x, model.fit(cov_type="HC1")


def _hand_rows(df: pd.DataFrame, x: pd.DataFrame, res, arm: str, weights: np.ndarray | None,
               relative: bool) -> list[tuple[float, float]]:
    """(estimate, se) per segment from row-level counterfactual design rows."""
    w = np.ones(len(df)) if weights is None else weights
    arm_cols = [c for c in x.columns if c.startswith("z[") and ":" not in c]
    out = []
    for mask in [np.ones(len(df), bool)] + [MASKS[c](df).to_numpy() for c in CONDITIONS]:
        treated_rows = x[mask].copy()
        control_rows = x[mask].copy()
        for col in x.columns:
            if col in arm_cols or ":" in col:
                a = col.split(":")[0]
                covariate = x[mask][col.split(":")[1]] if ":" in col else 1.0
                treated_rows[col] = (1.0 if a == arm else 0.0) * covariate
                control_rows[col] = 0.0
        d = np.average(treated_rows.to_numpy() - control_rows.to_numpy(), axis=0, weights=w[mask])
        b = np.average(control_rows.to_numpy(), axis=0, weights=w[mask])
        beta, cov = res.params.to_numpy(), res.cov_params().to_numpy()
        est, g = d @ beta, d
        if relative:
            base = b @ beta
            est, g = est / base, d / base - est / base**2 * b
        out.append((est, float(np.sqrt(g @ cov @ g))))
    return out


@pytest.mark.parametrize(("arms", "weights", "relative"), [(2, False, False), (3, False, False),
                                                          (2, True, False), (3, True, True)])
def test_segment_effects_equal_hand_computation(arms: int, weights: bool, relative: bool) -> None:
    df = simulate(Sim(n=3_000, arms=arms, seed=arms + 10 * weights))
    effects = _model(df, weights).infer_effect(condition_on=CONDITIONS, relative=relative)
    frame = effects.to_pandas()
    w = df["w"].to_numpy() if weights else None
    control = 0 if arms == 2 else "control"
    for metric in ("y", "y2"):
        x, res = _oracle(df, metric, w, control)
        for arm in sorted(set(df.z) - {control}, key=str):
            rows = frame[(frame.metric == metric) & (frame.arm == str(arm))]
            assert list(rows.segment) == ["all", *CONDITIONS]
            hand = _hand_rows(df, x, res, f"z[{arm}]", w, relative)
            assert rel_diff(rows.estimate, [h[0] for h in hand]) < ORACLE_RTOL
            assert rel_diff(rows.std_error, [h[1] for h in hand]) < ORACLE_RTOL
            assert (rows.n.to_numpy() == [len(df)] + [int(MASKS[c](df).sum()) for c in CONDITIONS]).all()


def test_columns_and_immutability() -> None:
    effects = _model(simulate(Sim(n=800))).infer_effect()
    assert tuple(effects.to_pandas().columns) == wc.effects.table.COLUMNS
    assert not effects.estimate.flags.writeable and not effects.cov.flags.writeable
    row = effects.to_pandas().iloc[0]
    assert row.ci_lower < row.estimate < row.ci_upper
    assert row.av_ci_lower < row.ci_lower and row.av_ci_upper > row.ci_upper  # sequential is wider
    assert row.av_p_value >= row.p_value
    assert "| y | 1 | all |" in effects.to_markdown()


def test_projection_and_combination_are_linear_contrasts() -> None:
    df = simulate(Sim(n=3_000, seed=4))
    effects = _model(df).infer_effect(condition_on=CONDITIONS[:2])
    projected = effects.project({CONDITIONS[0]: 0.3, CONDITIONS[1]: 0.7})
    est, cov = effects.estimate, effects.cov
    for m in range(2):  # rows per metric: all, cond0, cond1
        lvec = np.zeros(len(est))
        lvec[3 * m + 1], lvec[3 * m + 2] = 0.3, 0.7
        assert projected.estimate[m] == pytest.approx(lvec @ est, rel=1e-12)
        assert projected.std_error[m] == pytest.approx(np.sqrt(lvec @ cov @ lvec), rel=1e-12)
    assert projected.segment == ("projection", "projection")
    # new conditions are computed on the fly, with the same joint covariance machinery
    fresh = effects.project({"device = 'desktop'": 0.5, "all": 0.5})
    direct = _model(df).infer_effect(condition_on=["device = 'desktop'"])
    assert fresh.estimate[0] == pytest.approx(0.5 * direct.estimate[0] + 0.5 * direct.estimate[1], rel=1e-12)
    # combine(metrics) equals the effect on the combined metric, fitted directly by statsmodels
    combined = effects.combine({"y": 2.0, "y2": -0.5}, name="value")
    x, res = _oracle(df.assign(value=2.0 * df.y - 0.5 * df.y2), "value", None, 0)
    hand = _hand_rows(df, x, res, "z[1]", None, False)[:3]
    assert rel_diff(combined.estimate, [h[0] for h in hand]) < ORACLE_RTOL
    assert rel_diff(combined.std_error, [h[1] for h in hand]) < ORACLE_RTOL


@pytest.mark.parametrize("covariance", ["HC1", "HC3"])
def test_cross_metric_covariance_is_computed_on_first_use(covariance: str) -> None:
    """The HC fit sums only the same-metric pairs (linear in M); the blocks between metrics come
    from one more HC pass the first time ``cov`` is read or effects are combined across metrics,
    and equal what the statsmodels oracle of the combined metric says (test above). With
    cross_metric_covariance=False they stay NaN until asked for."""
    df = simulate(Sim(n=3_000, seed=4))
    full = _model(df, covariance=covariance)
    lean = _model(df, covariance=covariance, cross_metric_covariance=False)
    assert lean.strategy == full.strategy == "moments"
    assert full.cross_metric_covariance and not lean.cross_metric_covariance
    k = len(full.terms)
    # the contract names entry n of the pass-2 block "meat" meat_n (warehouse_causal.warehouse.contract)
    sums = {name: sum(c.startswith("meat_") for c in model.query_exprs["pass2"].columns)
            for name, model in [("full", full), ("lean", lean)]}
    assert sums["lean"] == sums["full"]  # metric pairs (0, 0) and (1, 1): the fit is linear in M
    assert np.isnan(full.cov_estimated[:k, k:]).all()
    fitted = len(full.queries)
    assert not np.isnan(full.cov).any()  # the first read runs the pass for the pair (0, 1) ...
    assert [q.purpose for q in full.queries[fitted:]] == ["pass 2: HC scores between metrics"]
    between = full.queries[-1].expr.columns
    assert sum(c.startswith("meat_") for c in between) * 2 == sums["full"]
    assert not np.isnan(full.cov).any() and len(full.queries) == fitted + 1  # ... once
    for m in range(2):
        block = slice(m * k, (m + 1) * k)
        np.testing.assert_allclose(lean.cov[block, block], full.cov[block, block], rtol=1e-10)
    assert np.isnan(lean.cov[:k, k:]).all() and np.isnan(lean.cov[k:, :k]).all()
    if covariance == "HC1":
        _, res = _oracle(df, "y2", None, 0)
        assert rel_diff(lean.std_errors[:, 1], res.bse.to_numpy()) < ORACLE_RTOL
    full_effects, lean_effects = (model.infer_effect(condition_on=CONDITIONS[:2]) for model in (full, lean))
    assert not np.isnan(full_effects.cov).any() and np.isnan(lean_effects.cov[0, 3])
    np.testing.assert_allclose(lean_effects.estimate, full_effects.estimate, rtol=1e-12)
    np.testing.assert_allclose(lean_effects.std_error, full_effects.std_error, rtol=1e-10)
    mix = {CONDITIONS[0]: 0.3, CONDITIONS[1]: 0.7}
    np.testing.assert_allclose(lean_effects.project(mix).std_error,
                               full_effects.project(mix).std_error, rtol=1e-10)
    one = lean_effects.combine({"y2": 2.0}, name="double")
    np.testing.assert_allclose(one.std_error, 2.0 * full_effects.std_error[3:], rtol=1e-10)
    value = {"y": 2.0, "y2": -0.5}
    combined, expected = (e.combine(value, name="value") for e in (lean_effects, full_effects))
    np.testing.assert_allclose(combined.estimate, expected.estimate, rtol=1e-12)
    np.testing.assert_allclose(combined.std_error, expected.std_error, rtol=1e-9)
    extra = combined.queries[len(lean_effects.queries):]
    assert [q.purpose for q in extra] == ["pass 2: HC scores between metrics"]
    # relative lifts of projected effects: the gradient follows every linear map
    lifts = lean.infer_effect(condition_on=CONDITIONS[:2], relative=True).project(mix)
    expected = full.infer_effect(condition_on=CONDITIONS[:2], relative=True).project(mix)
    np.testing.assert_allclose(lifts.combine(value, "value").std_error,
                               expected.combine(value, "value").std_error, rtol=1e-9)
    completed = lean.with_cross_metric_covariance()
    assert completed.cross_metric_covariance and completed.with_cross_metric_covariance() is completed
    np.testing.assert_allclose(completed.cov, full.cov, rtol=1e-9, atol=1e-15)
    with pytest.raises(wc.InvalidParameterError, match=r"Unknown metrics \['revenue'\]"):
        lean.with_cross_metric_covariance(["revenue"])


def test_cross_metric_covariance_is_kept_where_it_is_free() -> None:
    df = simulate(Sim(n=2_000, clusters=40, seed=5))
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", cluster_by="team")
    for covariance in ["CR1", "iid"]:
        model = exp.add_metric(["y", "y2"], ["x1", "x2"]).fit(
            wc.LinearModel, covariance=covariance, cross_metric_covariance=False)
        assert model.cross_metric_covariance and not np.isnan(model.cov).any()
    with pytest.raises(wc.InvalidParameterError, match="'cross_metric_covariance' parameter"):
        exp.add_metric("y").fit(wc.LinearModel, cross_metric_covariance="no")


def test_projection_and_combine_errors() -> None:
    effects = _model(simulate(Sim(n=800))).infer_effect(condition_on=["x2 > 0"])
    with pytest.raises(wc.InvalidParameterError, match="must sum to 1"):
        effects.project({"x2 > 0": 0.5})
    with pytest.raises(wc.InvalidParameterError, match=r"combine got metrics \['revenue'\]"):
        effects.combine({"revenue": 1.0}, name="v")


@pytest.mark.parametrize(("condition", "message"), [
    ("z = 1", "reads 'z', the 'intent_to_treat' column of the design"),
    ("y > 3", "reads 'y', an outcome of the model"),
    ("w > 1", "reads 'w', which is not a covariate of the model. Add it with add_metric"),
    ("x1 + 1", "is not a boolean expression"),
    ("device", "is a column, not a condition"),
    ("x1 IN (SELECT 1)", "IN with a subquery is not allowed"),
])
def test_unsafe_conditions_are_refused(condition: str, message: str) -> None:
    model = _model(simulate(Sim(n=500)))
    with pytest.raises(wc.WarehouseCausalError, match=message):
        model.infer_effect(condition_on=[condition])


@pytest.mark.parametrize(("over", "message"), [
    ("z", "reads 'z', the 'intent_to_treat' column"),
    ("w", "reads 'w', which is not a covariate of the model"),
])
def test_per_period_column_must_be_a_covariate(over: str, message: str) -> None:
    model = _model(simulate(Sim(n=500)))
    with pytest.raises(wc.DesignError, match=message):
        model.infer_effect(over=over)


def test_empty_and_small_segments() -> None:
    model = _model(simulate(Sim(n=800)))
    with pytest.raises(wc.DesignError, match="The segment 'x1 > 100' has no rows"):
        model.infer_effect(condition_on=["x1 > 100"])
    with pytest.warns(wc.DesignWarning, match=r"Small segments: 'x1 > 2\.5' \("):
        model.infer_effect(condition_on=["x1 > 2.5"])


def test_bad_effect_options() -> None:
    model = _model(simulate(Sim(n=500)))
    with pytest.raises(wc.InvalidParameterError, match="The 'adjust' parameter"):
        model.infer_effect(adjust="bonferroni")
    with pytest.raises(wc.InvalidParameterError, match="The 'planned_n' parameter"):
        model.infer_effect(planned_n=3)


def test_adjusted_p_values_use_holm_across_rows() -> None:
    from statsmodels.stats.multitest import multipletests

    effects = _model(simulate(Sim(n=1_000, arms=3))).infer_effect(condition_on=CONDITIONS)
    frame = effects.to_pandas()
    np.testing.assert_allclose(frame.p_adjusted, multipletests(frame.p_value, method="holm")[1], rtol=1e-12)
    bh = _model(simulate(Sim(n=1_000, arms=3))).infer_effect(condition_on=CONDITIONS, adjust="bh").to_pandas()
    np.testing.assert_allclose(bh.p_adjusted, multipletests(bh.p_value, method="fdr_bh")[1], rtol=1e-12)


def test_one_segment_query_for_all_conditions() -> None:
    effects = _model(simulate(Sim(n=800))).infer_effect(condition_on=CONDITIONS)
    assert [q.purpose for q in effects.queries] == ["segments: sizes and covariate means"]
    assert effects.queries[0].rows == 2 * 3  # one row per design cell (2 arms × 3 devices)
    assert "GROUP BY" in effects.queries[0].sql


def test_time_dynamic_effects_recover_a_decaying_effect() -> None:
    rng = np.random.default_rng(11)
    units, days = 3_000, 7
    truth = {d: 2.0 * np.exp(-d / 2.0) for d in range(days)}
    unit = np.repeat(np.arange(units), days)
    day = np.tile(np.arange(days), units)
    z = rng.integers(0, 2, units)[unit]
    effect = np.array([truth[d] for d in day]) * z
    y = 1.0 + 0.1 * day + rng.normal(scale=1.0, size=units)[unit] + effect + rng.normal(size=unit.size)
    df = pd.DataFrame({"unit": unit, "day": day.astype(str), "z": z, "y": y})
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", cluster_by="unit")
    model = exp.add_metric("y", ["day"]).fit(wc.LinearModel)
    with warnings.catch_warnings():
        warnings.simplefilter("error", wc.WarehouseCausalWarning)
        frame = model.infer_effect(over="day", alpha=0.01).to_pandas()
    per_day = frame[frame.segment != "all"]
    assert list(per_day.segment) == [f"day={d}" for d in range(days)]
    for d, row in zip(range(days), per_day.itertuples(), strict=True):
        assert row.ci_lower <= truth[d] <= row.ci_upper
        assert row.n == units
    assert per_day.estimate.is_monotonic_decreasing


def test_forest_plot_draws_every_row(tmp_path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    effects = _model(simulate(Sim(n=800))).infer_effect(condition_on=["x2 > 0"])
    figure = effects.plot()
    panels = figure.axes  # one per metric, each with its own scale
    assert [ax.get_title(loc="left") for ax in panels] == ["y", "y2"]
    for ax in panels:
        assert [t.get_text() for t in ax.get_yticklabels()] == ["1 · all", "1 · x2 > 0"]
        assert len(ax.lines) == 3 * 2 + 1  # av interval, interval, point per row + the zero line
    lifts = _model(simulate(Sim(n=800))).infer_effect(relative=True).plot()
    assert lifts.axes[0].get_xlabel() == "lift over control"
    figure.savefig(tmp_path / "forest.png")
    assert (tmp_path / "forest.png").stat().st_size > 1_000
    assert str(effects).startswith("Effects (effect, 4 rows)") and repr(effects) == str(effects)


def test_pooled_arms_against_statsmodels() -> None:
    """effects.pool: Σ_a w_a β_a with w the arms' rows, and its SE from statsmodels' HC1 covariance of
    the arm coefficients (a hand contrast); relative lifts pool the same way."""
    rng = np.random.default_rng(12)
    n = 6_000
    arm = rng.choice([0, 1, 2], n, p=[0.4, 0.35, 0.25])
    y = 1.0 + 0.2 * (arm == 1) + 0.5 * (arm == 2) + rng.normal(size=n)
    df = pd.DataFrame({"arm": arm, "y": y})
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y").fit(wc.LinearModel)
    pooled = model.infer_effect().pool([1, 2], name="any").to_dicts()
    assert [(r["metric"], r["arm"], r["segment"]) for r in pooled] == [("y", "any", "all")]
    x = sm.add_constant(pd.get_dummies(df.arm, prefix="arm", drop_first=True).astype(float))
    res = sm.OLS(df.y, x).fit(cov_type="HC1")
    counts = df.arm.value_counts()
    w = np.array([0.0, counts[1], counts[2]]) / (counts[1] + counts[2])
    assert rel_diff([pooled[0]["estimate"]], [w @ res.params.to_numpy()]) < ORACLE_RTOL
    se = float(np.sqrt(w @ res.cov_params().to_numpy() @ w))
    assert rel_diff([pooled[0]["std_error"]], [se]) < ORACLE_RTOL
    lift = model.infer_effect(relative=True).pool([1, 2]).to_dicts()[0]
    assert lift["estimate"] == pytest.approx(pooled[0]["estimate"] / res.params["const"], rel=1e-9)
    given = model.infer_effect().pool([1, 2], weights={1: 1.0, 2: 1.0}).to_dicts()[0]
    assert given["estimate"] == pytest.approx(0.5 * (res.params["arm_1"] + res.params["arm_2"]), rel=1e-9)
    with pytest.raises(wc.InvalidParameterError, match=r"'arms' parameter of Effects\.pool"):
        model.infer_effect().pool([1])
    with pytest.raises(wc.InvalidParameterError, match=r"'weights' parameter of Effects\.pool"):
        model.infer_effect().pool([1, 2], weights={1: 1.0})
