"""effects.heterogeneity(): the Wald test that segments' effects are equal equals statsmodels' test
that the arm × segment interactions are zero in the interacted regression (same HC1 covariance,
F with the residual degrees of freedom)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import warehouse_causal as wc


def _frame(n: int = 3_000, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"arm": rng.integers(0, 2, n), "region": rng.choice(["a", "b", "c"], n)})
    lift = df.region.map({"a": 0.0, "b": 0.6, "c": 0.3})
    df["y"] = lift * df.arm + (df.region == "b") * 0.5 + rng.normal(size=n) * (1 + 0.5 * df.arm)
    return df


@pytest.mark.parametrize("covariance", ["HC1", "iid"])
def test_equal_effects_test_equals_the_interacted_regression(covariance: str) -> None:
    df = _frame()
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y", ["region"]).fit(
        wc.LinearModel, covariance=covariance, strategy="moments")
    effects = model.infer_effect(condition_on=["region = 'a'", "region = 'b'", "region = 'c'"])
    (row,) = effects.heterogeneity().to_dicts()
    fit = smf.ols("y ~ arm * C(region)", df).fit(cov_type="HC1" if covariance == "HC1" else "nonrobust")
    test = fit.wald_test("arm:C(region)[T.b] = 0, arm:C(region)[T.c] = 0", use_f=True, scalar=True)
    assert row["statistic"] == pytest.approx(float(test.statistic), rel=1e-8)
    assert row["p_value"] == pytest.approx(float(test.pvalue), rel=1e-8)
    assert (row["df_num"], row["df_den"]) == (2, fit.df_resid)
    assert row["estimand"] == "ITT" and row["p_value"] < 0.05


def test_two_of_the_segments_and_clear_errors() -> None:
    df = _frame()
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y", ["region"]).fit(
        wc.LinearModel)
    effects = model.infer_effect(condition_on=["region = 'a'", "region = 'c'"])
    (row,) = effects.heterogeneity(["region = 'a'", "region = 'c'"]).to_dicts()
    assert row["df_num"] == 1 and 0 <= row["p_value"] <= 1
    with pytest.raises(wc.InvalidParameterError, match="not segments of these effects"):
        effects.heterogeneity(["region = 'z'", "region = 'a'"])
    with pytest.raises(wc.InvalidParameterError, match="two or more segments"):
        model.infer_effect().heterogeneity()
    for bad in (3, {"region = 'a'": 1}, [1, 2], ["region = 'a'", None]):
        with pytest.raises(wc.InvalidParameterError, match=r"'segments' parameter of Effects\.heterogeneity"):
            effects.heterogeneity(bad)
    with pytest.raises(wc.InvalidParameterError, match="two or more segments"):
        effects.heterogeneity(["region = 'a'", "region = 'a'"])  # one segment named twice


def test_under_equal_effects_the_test_rejects_at_its_level() -> None:
    """400 experiments whose three regions share one effect: rejections at 5% (measured 4.0%)."""
    import warnings

    rejected = 0
    for seed in range(400):
        rng = np.random.default_rng(1_000 + seed)
        n = 600
        df = pd.DataFrame({"arm": rng.integers(0, 2, n), "region": rng.choice(["a", "b", "c"], n)})
        df["y"] = 0.2 * df.arm + (df.region == "b") * 0.5 + rng.normal(size=n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
            model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y", ["region"]).fit(
                wc.LinearModel)
        effects = model.infer_effect(condition_on=["region = 'a'", "region = 'b'", "region = 'c'"])
        rejected += effects.heterogeneity().to_dicts()[0]["p_value"] < 0.05
    assert 0.025 <= rejected / 400 <= 0.08, rejected / 400
