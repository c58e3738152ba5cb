"""Judge scores calibrated to a human audit (PPI / PPI++) against shared/reference/
mediation_policy_ope.md §4: the seed-2023 numbers through SQL, and coverage over 500 replications."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.algebra.ppi import ArmSums, judge_mean, ppi_lambda, ppi_mean

TRUE_EFFECT = 0.3
REPLICATIONS = 2_000  # coverage SE 0.5 points


def simulate_judged(seed: int, big_n: int = 5_000, audited: int = 300) -> pd.DataFrame:
    """Human Y; judge S biased and arm-dependent; a random audit of 300 rows per arm (reference sim_ppi)."""
    rng = np.random.default_rng(seed)
    frames = []
    for t in (0, 1):
        y = 5 + 0.3 * t + rng.normal(scale=1.5, size=big_n)
        s = 1.5 + 0.8 * y + 0.2 * t + rng.normal(scale=0.8, size=big_n)
        audit = np.zeros(big_n, bool)
        audit[rng.choice(big_n, audited, replace=False)] = True
        frames.append(pd.DataFrame({"arm": t, "judge": s, "human": np.where(audit, y, np.nan)}))
    return pd.concat(frames, ignore_index=True)


def _calibrated(df: pd.DataFrame) -> pd.DataFrame:
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm")
    model = exp.add_metric("judge", calibrate_with="human").fit(wc.LinearModel)
    return model.calibrated_effect().to_pandas().set_index("estimator")


def test_reference_numbers_through_sql() -> None:
    frame = _calibrated(simulate_judged(2023))
    expected = {"ppi": (0.34697, 0.07308), "ppi++": (0.34419, 0.06945), "judge": (0.44358, 0.02889),
                "audit": (0.29164, 0.12234)}
    for name, (estimate, se) in expected.items():
        assert frame.loc[name, "estimate"] == pytest.approx(estimate, abs=5e-6)
        assert frame.loc[name, "std_error"] == pytest.approx(se, abs=5e-6)
    assert frame.loc["ppi++", "lambda_control"] == pytest.approx(0.804115, abs=5e-7)
    assert frame.loc["ppi", "lambda_arm"] == 1.0


def _sums(df: pd.DataFrame, arm: int) -> ArmSums:
    part = df[df.arm == arm]
    audited, unaudited = part[part.human.notna()], part[part.human.isna()]
    y, s, su = audited.human.to_numpy(), audited.judge.to_numpy(), unaudited.judge.to_numpy()
    return ArmSums(len(y), y.sum(), s.sum(), y @ y, s @ s, y @ s, len(su), su.sum(), su @ su)


@pytest.mark.slow
def test_ppi_covers_where_the_raw_judge_does_not() -> None:
    hits = {"judge": 0, "ppi": 0, "ppi++": 0}
    for seed in range(REPLICATIONS):
        df = simulate_judged(seed)
        control, treated = _sums(df, 0), _sums(df, 1)
        estimates = {
            "judge": (judge_mean(control), judge_mean(treated)),
            "ppi": (ppi_mean(control, 1.0), ppi_mean(treated, 1.0)),
            "ppi++": (ppi_mean(control, ppi_lambda(control)), ppi_mean(treated, ppi_lambda(treated))),
        }
        for name, ((m0, s0), (m1, s1)) in estimates.items():
            hits[name] += abs(m1 - m0 - TRUE_EFFECT) <= 1.959964 * np.hypot(s0, s1)
    coverage = {name: count / REPLICATIONS for name, count in hits.items()}
    print(f"95% interval coverage of the human-scale effect over {REPLICATIONS} replications: {coverage}")
    assert 0.93 <= coverage["ppi"] <= 0.97 and 0.93 <= coverage["ppi++"] <= 0.97
    assert coverage["judge"] < 0.05


def test_calibration_errors() -> None:
    df = simulate_judged(1, big_n=400, audited=50)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm")
    with pytest.raises(wc.InvalidParameterError, match="calibrate_with applies to one judge metric"):
        exp.add_metric(["judge", "judge * 2"], calibrate_with="human")
    with pytest.raises(wc.SchemaError, match="Did you mean 'human'"):
        exp.add_metric("judge", calibrate_with="humann")
    with pytest.raises(wc.DesignError, match="No metric was added with calibrate_with"):
        exp.add_metric("judge").fit(wc.LinearModel).calibrated_effect()
    clustered = wc.ExperimentData(wc.table(df.assign(g=np.arange(len(df)) % 40)), intent_to_treat="arm",
                                  cluster_by="g")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        model = clustered.add_metric("judge", calibrate_with="human").fit(wc.LinearModel)
    with pytest.raises(wc.DesignError, match="support unweighted, unclustered designs"):
        model.calibrated_effect()
