"""Cumulative effects over time (``LinearModel.cumulative``): each look equals an independent fit on
the rows up to that look (statsmodels for HC1; a fresh wc fit on a filtered table for clustered IV),
the last look equals the model, and the confidence sequence keeps one mixture over all looks.

The type-I error of the anytime-valid intervals under peeking is simulated in test_sequential."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import warehouse_causal as wc
from warehouse_causal.core.errors import DesignError, InvalidParameterError


def _daily(days: int = 10, per_day: int = 300, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * per_day
    frame = pd.DataFrame({"day": np.repeat(np.arange(days), per_day), "arm": rng.integers(0, 2, n),
                          "x": rng.normal(size=n)})
    frame["y"] = 1.0 + 0.3 * frame["arm"] + 0.8 * frame["x"] + rng.normal(size=n) * (1 + frame["arm"])
    return frame


def test_each_look_matches_statsmodels_on_the_rows_up_to_it() -> None:
    frame = _daily()
    model = wc.ExperimentData(frame, intent_to_treat="arm").add_metric(
        y="y", exogeneous_covariates="x").fit(wc.LinearModel)
    cumulative = model.cumulative("day", looks=4)
    rows = cumulative.to_pandas()
    assert rows["through"].tolist() == [0, 3, 6, 9]  # evenly spread over the 10 days, the last kept
    for _, row in rows.iterrows():
        part = frame[frame["day"] <= row["through"]]
        centred = part["x"] - part["x"].mean()
        design = sm.add_constant(pd.DataFrame({"arm": part["arm"], "x": centred,
                                               "arm_x": part["arm"] * centred}))
        oracle = sm.OLS(part["y"], design).fit(cov_type="HC1", use_t=True)
        assert row["n"] == len(part)
        assert row["estimate"] == pytest.approx(oracle.params["arm"], rel=1e-9)
        low, high = oracle.conf_int().loc["arm"]
        assert (row["ci_lower"], row["ci_upper"]) == pytest.approx((low, high), rel=1e-6)
        assert row["av_ci_lower"] < row["ci_lower"] and row["av_ci_upper"] > row["ci_upper"]


def test_last_look_is_the_model_and_looks_share_one_mixture() -> None:
    table = wc.datasets.tickets(rows=6000, teams=120)
    exp = wc.ExperimentData(table, intent_to_treat="assigned", treated="used", cluster_by="team_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.errors.WarehouseCausalWarning)
        model = exp.add_metric(y=["resolved", "minutes"], exogeneous_covariates="pre_resolution").fit(
            wc.LinearModel)
    before = len(exp.runner.records)
    cumulative = model.cumulative("day", looks=3)
    assert len(exp.runner.records) == before  # the user's experiment log is not touched
    rows = cumulative.to_pandas()
    last = rows[rows["through"] == rows["through"].max()].reset_index(drop=True)
    full = model.infer_effect().to_pandas()
    for column in ("estimate", "ci_lower", "ci_upper", "av_ci_lower", "av_ci_upper", "av_p_value"):
        np.testing.assert_allclose(last[column], full[column], rtol=1e-12)
    # an early look: a fresh fit on a filtered table, with the mixture fixed at the final size
    middle = rows["through"].iloc[2]
    early = wc.ExperimentData(table.filter(table.day <= int(middle)), intent_to_treat="assigned",
                              treated="used", cluster_by="team_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.errors.WarehouseCausalWarning)
        fresh = early.add_metric(y=["resolved", "minutes"], exogeneous_covariates="pre_resolution").fit(
            wc.LinearModel).infer_effect(planned_n=model.n_clusters).to_pandas()
    look = rows[rows["through"] == middle].reset_index(drop=True)
    for column in ("estimate", "ci_lower", "ci_upper", "av_ci_lower", "av_ci_upper"):
        np.testing.assert_allclose(look[column], fresh[column], rtol=1e-10)
    assert "confidence sequence" in cumulative.caption() and len(cumulative.queries) >= 4


def test_early_looks_that_cannot_be_fitted_are_skipped_and_said() -> None:
    frame = _daily(days=5)
    frame.loc[frame["day"] == 0, "arm"] = 0  # day 0 has no treated rows
    model = wc.ExperimentData(frame, intent_to_treat="arm").add_metric(y="y").fit(wc.LinearModel)
    cumulative = model.cumulative("day", looks=5)
    assert sorted({r.through for r in cumulative}) == [1, 2, 3, 4]
    assert "1 early look(s) could not be fitted" in cumulative.caption()


@pytest.mark.parametrize(("time", "looks", "error", "match"), [
    ("nope", 5, InvalidParameterError, "'time' parameter of LinearModel.cumulative"),
    (None, 5, InvalidParameterError, "'time' parameter"),
    ("label", 5, InvalidParameterError, "date, timestamp or numeric"),
    ("flag", 5, InvalidParameterError, "date, timestamp or numeric"),
    ("day", 1, InvalidParameterError, "'looks'"),
    ("day", 101, InvalidParameterError, "'looks'"),
    ("day", True, InvalidParameterError, "'looks'"),
    ("day", 2.5, InvalidParameterError, "'looks'"),
    ("constant", 5, DesignError, "at least 2 distinct values"),
])
def test_bad_input_is_refused(time: object, looks: object, error: type, match: str) -> None:
    frame = _daily(days=3, per_day=50)
    frame["label"], frame["flag"], frame["constant"] = "a", True, 1
    model = wc.ExperimentData(frame, intent_to_treat="arm").add_metric(y="y").fit(wc.LinearModel)
    with pytest.raises(error, match=match):
        model.cumulative(time, looks=looks)  # type: ignore[arg-type]


def test_a_time_column_with_nan_is_refused() -> None:
    table = wc.table(_daily(days=3, per_day=50))
    table = table.mutate(day=(table.day == 0).ifelse(float("nan"), table.day.cast("float64")))  # not NULL
    model = wc.ExperimentData(table, intent_to_treat="arm").add_metric(y="y").fit(wc.LinearModel)
    with pytest.raises(InvalidParameterError, match="NaN or infinite"):
        model.cumulative("day")
