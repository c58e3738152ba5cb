"""Capping (winsorization) with add_metric(cap=...): pooled percentiles, the same in every arm; the
capped fit equals a fit on data capped by hand; NULL and NaN are not capped into numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc


def _data(n: int = 5_000, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    revenue = rng.lognormal(2.0, 1.2, n) * (1 + 0.1 * arm)
    revenue[rng.integers(0, n, 5)] = 1e6  # outliers
    return pd.DataFrame({"arm": arm, "revenue": revenue, "x": rng.normal(size=n)})


@pytest.mark.parametrize("cap", [0.99, (0.05, 0.95)])
def test_capped_fit_equals_a_fit_on_data_capped_by_hand(cap) -> None:
    df = _data()
    lower, upper = (None, cap) if not isinstance(cap, tuple) else cap
    hand = df.copy()
    low = None if lower is None else np.quantile(df.revenue, lower)  # linear: QUANTILE_CONT
    high = np.quantile(df.revenue, upper)
    hand["revenue"] = df.revenue.clip(lower=low, upper=high)
    spec = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("revenue", ["x"],
                                                                              cap={"revenue": cap})
    capped = spec.fit(wc.LinearModel)
    expected = wc.ExperimentData(wc.table(hand), intent_to_treat="arm").add_metric(
        "revenue", ["x"]).fit(wc.LinearModel)
    np.testing.assert_allclose(capped.params, expected.params, rtol=1e-9)
    np.testing.assert_allclose(capped.std_errors, expected.std_errors, rtol=1e-9)
    (found,) = spec.caps
    assert found.upper == pytest.approx(high, rel=1e-12) and found.upper_q == upper
    assert (found.lower is None) == (lower is None)
    assert "revenue capped" in str(found) and "quantile" in str(found)
    from warehouse_causal.decide.decisions import caveats
    assert any("Winsorized: revenue capped" in note for note in caveats(capped.infer_effect()))


def test_capping_keeps_nulls_and_nans_visible_and_refuses_bad_caps() -> None:
    df = _data(n=500)
    df.loc[3, "revenue"] = None
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm")
    with pytest.raises(wc.DesignError, match="NULL"):
        exp.add_metric("revenue", cap={"revenue": 0.99}).fit(wc.LinearModel)  # not capped into a number
    df.loc[3, "revenue"] = np.nan
    exp = wc.ExperimentData(wc.table(df.astype({"revenue": "float64"})), intent_to_treat="arm")
    with pytest.raises(wc.DesignError):
        exp.add_metric("revenue", cap={"revenue": 0.99}).fit(wc.LinearModel)
    good = wc.ExperimentData(wc.table(_data(n=500)), intent_to_treat="arm")
    bad_caps = [({"revenue": 1.0}, "'cap' parameter"), ({"revenue": (0.9, 0.1)}, "below the upper"),
                ({"nope": 0.9}, "not a metric"), ([0.99], "must map"), ({"revenue": "0.9"}, "'cap'")]
    for bad, message in bad_caps:
        with pytest.raises(wc.InvalidParameterError, match=message):
            good.add_metric("revenue", cap=bad)
