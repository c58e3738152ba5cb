"""ExperimentData validation: every bad design input fails early with a specific message."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.helpers import Sim, simulate


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return simulate(Sim(n=600, encouragement=True, clusters=30, propensity=True))


def _exp(frame: pd.DataFrame, **roles: object) -> wc.ExperimentData:
    return wc.ExperimentData(wc.table(frame), **{"intent_to_treat": "z", **roles})


def test_valid_design_summary(df: pd.DataFrame) -> None:
    exp = _exp(df, treated="d", propensity="p", cluster_by="team")
    design = exp.design
    assert design.nobs == 600
    assert design.arms == (0, 1) and design.control == 0 and design.control_reason == "0/False level"
    assert design.treated_levels == (0, 1)
    assert exp.is_iv
    compliance = design.compliance()
    assert compliance.n.sum() == 600 and set(compliance.columns) == {"intent_to_treat", "treated",
                                                                     "instrument", "n"}
    assert len(exp.runner.records) == 1 and exp.runner.records[0].rows <= 8


def test_string_arms_default_control_is_first_sorted() -> None:
    frame = simulate(Sim(n=300, arms=3))
    exp = _exp(frame)
    assert exp.design.arms == ("control", "v1", "v2")
    assert exp.design.control_reason == "first level in sorted order"
    assert _exp(frame, control="v2").design.arms == ("v2", "control", "v1")


def test_not_a_table() -> None:
    with pytest.raises(wc.InvalidParameterError, match="must be an ibis table, or a pandas or polars"):
        wc.ExperimentData({"z": [0, 1]}, intent_to_treat="z")


def test_unknown_column_suggests_closest(df: pd.DataFrame) -> None:
    with pytest.raises(wc.SchemaError, match=r"Column 'teem' given as 'cluster_by' is not in the table. "
                                            r"Did you mean 'team'\?") as info:
        _exp(df, cluster_by="teem")
    assert info.value.suggestion == "team"


def test_float_assignment_is_refused(df: pd.DataFrame) -> None:
    with pytest.raises(wc.SchemaError, match="arms must be boolean, integer or string labels"):
        _exp(df, intent_to_treat="x1")


def test_nulls_in_assignment(df: pd.DataFrame) -> None:
    frame = df.assign(z=df.z.astype("Int64"))
    frame.loc[:2, "z"] = pd.NA
    with pytest.raises(wc.DesignError, match=r"Column 'z' has 3 NULL value\(s\) in a design role"):
        _exp(frame)


def test_single_arm(df: pd.DataFrame) -> None:
    with pytest.raises(wc.DesignError, match=r"has a single arm \(1\): there is nothing to compare"):
        _exp(df.assign(z=1))


def test_constant_treated(df: pd.DataFrame) -> None:
    with pytest.raises(wc.DesignError, match="is constant"):
        _exp(df.assign(d=0), treated="d")


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.2])
def test_propensity_outside_unit_interval(df: pd.DataFrame, bad: float) -> None:
    frame = df.copy()
    frame.loc[:4, "p"] = bad
    with pytest.raises(wc.DesignError, match=r"Found 5 propensities outside \(0, 1\] in 'p'"):
        _exp(frame, propensity="p")


def test_propensity_nulls(df: pd.DataFrame) -> None:
    frame = df.copy()
    frame.loc[:1, "p"] = np.nan
    with pytest.raises(wc.DesignError, match="Found 2 NULL or NaN propensities in 'p'"):
        _exp(frame, propensity="p")


def test_cluster_nulls(df: pd.DataFrame) -> None:
    frame = df.assign(team=df.team.astype("Int64"))
    frame.loc[:3, "team"] = pd.NA
    with pytest.raises(wc.DesignError, match=r"Found 4 NULL value\(s\) in cluster column 'team'"):
        _exp(frame, cluster_by="team")


def test_clustered_validation_matches_pandas(df: pd.DataFrame) -> None:
    """With cluster_by the checks run on (cell, cluster) groups rolled up to the cell: the counts,
    the distinct clusters per cell and the propensity checks must equal a direct count."""
    exp = _exp(df, treated="d", propensity="p", weights="w", cluster_by="team")
    by_cell = df.groupby(["z", "d"])
    assert {(c[0], c[1]): c[3] for c in exp.design.cells} == by_cell.size().to_dict()
    assert exp.design.cluster_count_bound == int(by_cell.team.nunique().sum())
    frame = df.copy()
    frame.loc[:4, "p"] = 1.5
    frame.loc[5:6, "w"] = -1.0
    with pytest.raises(wc.DesignError, match=r"Found 5 propensities outside \(0, 1\] in 'p'"):
        _exp(frame, propensity="p", cluster_by="team")
    with pytest.raises(wc.DesignError, match="Found 2 negative weights in 'w'"):
        _exp(frame, weights="w", cluster_by="team")


def test_negative_weights(df: pd.DataFrame) -> None:
    frame = df.copy()
    frame.loc[0, "w"] = -1.0
    with pytest.raises(wc.DesignError, match="Found 1 negative weights in 'w'"):
        _exp(frame, weights="w")


def test_control_not_an_arm(df: pd.DataFrame) -> None:
    with pytest.raises(wc.DesignError, match=r"control=7 is not an arm of 'z'; the arms are \[0, 1\]"):
        _exp(df, control=7)


def test_one_sided_noncompliance_violation(df: pd.DataFrame) -> None:
    violators = int(((df.z == 0) & (df.d == 1)).sum())
    assert violators > 0
    with pytest.raises(wc.DesignError, match=rf"noncompliance='one-sided' but {violators} row\(s\)"):
        _exp(df, treated="d", noncompliance="one-sided")
    one_sided = df.assign(d=np.where(df.z == 0, 0, df.d))
    assert _exp(one_sided, treated="d", noncompliance="one-sided").is_iv


def test_bad_noncompliance_option(df: pd.DataFrame) -> None:
    message = r"The 'noncompliance' parameter of ExperimentData must be one of 'two-sided', 'one-sided'\. Got"
    with pytest.raises(wc.InvalidParameterError, match=message):
        _exp(df, noncompliance="none")


def test_many_levels_is_not_an_arm_column() -> None:
    frame = pd.DataFrame({"z": np.arange(1_500), "y": np.ones(1_500)})
    with pytest.raises(wc.DesignError, match="take more than 1000 combinations"):
        _exp(frame)


def test_sample_ratio_mismatch_warns() -> None:
    frame = pd.DataFrame({"z": [0] * 600 + [1] * 400, "y": np.ones(1_000)})
    with pytest.warns(wc.SampleRatioMismatchWarning, match=r"Sample ratio mismatch: observed rows per arm "
                                                           r"\{0: 600, 1: 400\}"):
        exp = _exp(frame, expected_split={0: 0.5, 1: 0.5})
    assert exp.design.srm_p_value < 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("error", wc.WarehouseCausalWarning)
        ok = _exp(frame, expected_split={0: 0.6, 1: 0.4})
    assert ok.design.srm_p_value == pytest.approx(1.0)


def test_sample_ratio_counts_clusters_when_clustered(df: pd.DataFrame) -> None:
    frame = simulate(Sim(n=2_000, clusters=40, seed=3))
    exp = _exp(frame, cluster_by="team", expected_split={0: 0.5, 1: 0.5})
    per_arm = frame.groupby("z").team.nunique()
    assert exp.design.srm_statistic == pytest.approx(
        (per_arm - 20).pow(2).div(20).sum(), rel=1e-12)


def test_expected_split_must_name_every_arm(df: pd.DataFrame) -> None:
    with pytest.raises(wc.InvalidParameterError, match="expected_split must give a positive share"):
        _exp(df, expected_split={0: 1.0})


def test_pandas_polars_and_pyarrow_frames_are_accepted_directly() -> None:
    import pyarrow as pa

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"arm": rng.integers(0, 2, 500), "y": rng.normal(size=500)})
    expected = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y").fit(wc.LinearModel)
    frames = [df, pa.Table.from_pandas(df)]
    try:
        import polars as pl
        frames.append(pl.from_pandas(df))
    except ImportError:
        pass
    for frame in frames:
        model = wc.ExperimentData(frame, intent_to_treat="arm").add_metric("y").fit(wc.LinearModel)
        np.testing.assert_allclose(model.params, expected.params, rtol=1e-12)
    plan = wc.ExperimentPlan(df).add_metric("y").power(n=[100])
    assert plan.to_dicts()[0]["mde"] > 0
    with pytest.raises(wc.InvalidParameterError, match="'table' parameter of ExperimentData"):
        wc.ExperimentData([1, 2], intent_to_treat="arm")
