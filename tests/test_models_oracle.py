"""LinearModel against statsmodels (OLS/WLS) and linearmodels (IV2SLS) on the same data.

Every design × covariance type: estimates and standard errors to ORACLE_RTOL, and the
cross-metric covariance through the sum-of-metrics identity Var(b1 + b2) = V11 + V22 + 2 V12.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.iv import IV2SLS

import warehouse_causal as wc
from tests.helpers import ORACLE_RTOL, Sim, design_matrices, rel_diff, simulate

STATSMODELS_COV = {"iid": ("nonrobust", {}), "HC0": ("HC0", {}), "HC1": ("HC1", {}),
                   "HC2": ("HC2", {}), "HC3": ("HC3", {})}
LINEARMODELS_COV = {"iid": ("unadjusted", True), "HC0": ("robust", False), "HC1": ("robust", True),
                    "CR0": ("clustered", False), "CR1": ("clustered", True)}


@dataclass(frozen=True)
class Case:
    name: str
    sim: Sim
    covariates: list[str] = field(default_factory=list)
    interacted: bool = True
    propensity: bool = False
    weights: bool = False

    @property
    def treated(self) -> str:
        return "d" if self.sim.encouragement else "z"


CASES = [
    Case("ab", Sim()),
    Case("ab_covariates", Sim(seed=1), ["x1", "x2", "device"]),
    Case("ab_additive", Sim(seed=2), ["x1", "x2", "device"], interacted=False),
    Case("multi_arm", Sim(arms=3, seed=3), ["x1", "device"]),
    Case("propensity", Sim(propensity=True, seed=4), ["x1", "x2"], propensity=True),
    Case("user_weights", Sim(seed=5), ["x1"], weights=True),
    Case("large_offset", Sim(offset=1e6, seed=6), ["x1", "x2"]),
    Case("cluster", Sim(clusters=40, seed=7), ["x1", "x2"]),
    Case("encouragement", Sim(encouragement=True, seed=8), ["x1", "x2"]),
    Case("encouragement_no_cov", Sim(encouragement=True, seed=9)),
    Case("all_combined", Sim(arms=3, encouragement=True, clusters=60, propensity=False, seed=10),
         ["x1", "device"], weights=True),
    Case("iv_propensity_cluster", Sim(encouragement=True, clusters=50, propensity=True, seed=11),
         ["x1", "x2"], propensity=True),
]


def _fit(case: Case, df: pd.DataFrame, covariance: str, strategy: str = "moments") -> wc.LinearModel:
    exp = wc.ExperimentData(
        wc.table(df), intent_to_treat="z", treated=case.treated if case.sim.encouragement else None,
        propensity="p" if case.propensity else None, weights="w" if case.weights else None,
        cluster_by="team" if case.sim.clusters else None,
    )
    spec = exp.add_metric(["y", "y2"], exogeneous_covariates=case.covariates or None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return spec.fit(wc.LinearModel, covariance=covariance, interacted=case.interacted, strategy=strategy)


def _weights(case: Case, df: pd.DataFrame) -> np.ndarray | None:
    w = np.ones(len(df))
    if case.propensity:
        w = w / df["p"].to_numpy()
    if case.weights:
        w = w * df["w"].to_numpy()
    return w if (case.propensity or case.weights) else None


def _oracle(case: Case, df: pd.DataFrame, y: pd.Series, covariance: str):
    w = _weights(case, df)
    x, z = design_matrices(df, case.treated, "z", 0 if case.sim.arms == 2 else "control",
                           case.covariates, ["device"], case.interacted, w)
    if case.sim.encouragement:
        exog = [c for c in x.columns if c in z.columns]
        endog = [c for c in x.columns if c not in z.columns]
        instruments = [c for c in z.columns if c not in x.columns]
        cov_type, debiased = LINEARMODELS_COV[covariance]
        kwargs = {"clusters": df["team"]} if cov_type == "clustered" else {}
        res = IV2SLS(y, x[exog], x[endog], z[instruments], weights=w).fit(
            cov_type=cov_type, debiased=debiased, **kwargs)
        return res.params[x.columns].to_numpy(), res.std_errors[x.columns].to_numpy()
    model = sm.WLS(y, x, weights=w) if w is not None else sm.OLS(y, x)
    if covariance in ("CR0", "CR1"):
        res = model.fit(cov_type="cluster",
                        cov_kwds={"groups": df["team"].to_numpy(), "use_correction": covariance == "CR1"})
    else:
        cov_type, _ = STATSMODELS_COV[covariance]
        res = model.fit(cov_type=cov_type)
    return res.params[x.columns].to_numpy(), res.bse[x.columns].to_numpy()


def _covariances(case: Case) -> list[str]:
    if case.sim.clusters:
        return ["CR0", "CR1"]
    if case.sim.encouragement:
        return ["iid", "HC0", "HC1"]
    return ["iid", "HC0", "HC1", "HC2", "HC3"]


PARAMS = [pytest.param(c, cov, id=f"{c.name}-{cov}") for c in CASES for cov in _covariances(c)]


@pytest.mark.parametrize(("case", "covariance"), PARAMS)
def test_matches_oracle(case: Case, covariance: str) -> None:
    df = simulate(case.sim)
    model = _fit(case, df, covariance)
    k = len(model.terms)
    for m, metric in enumerate(model.metrics):
        params, se = _oracle(case, df, df[metric], covariance)
        assert rel_diff(model.params[:, m], params) < ORACLE_RTOL
        assert rel_diff(model.std_errors[:, m], se) < ORACLE_RTOL
    # Cross-metric covariance: the sum of the metrics is fitted by the sum of the coefficients.
    _, se_sum = _oracle(case, df, df["y"] + df["y2"], covariance)
    cov = model.cov
    var_sum = np.array([cov[j, j] + cov[k + j, k + j] + 2 * cov[j, k + j] for j in range(k)])
    assert rel_diff(np.sqrt(var_sum), se_sum) < ORACLE_RTOL


FRAME_CASES = [c for c in CASES if c.name in ("ab_covariates", "cluster", "encouragement")]


@pytest.mark.parametrize("case", FRAME_CASES, ids=lambda c: c.name)
def test_model_labels_and_frames(case: Case) -> None:
    df = simulate(case.sim)
    model = _fit(case, df, "CR1" if case.sim.clusters else "HC1")
    coefs = model.coefficients()
    assert list(coefs.columns) == ["metric", "term", "estimate", "std_error", "statistic", "p_value",
                                   "ci_lower", "ci_upper"]
    assert len(coefs) == len(model.terms) * 2
    summary = model.summary()
    assert list(summary.metric) == ["y", "y2"]
    assert summary.estimate.tolist() == [model.params[1, 0], model.params[1, 1]]
    assert (summary.ci_lower < summary.estimate).all() and (summary.estimate < summary.ci_upper).all()
    assert not model.params.flags.writeable and not model.cov.flags.writeable


@pytest.mark.parametrize("covariance", ["HC2", "HC3"])
def test_iv_leverage_covariances_equal_row_level_numpy(covariance: str) -> None:
    """No package offers HC2/HC3 for 2SLS; check the SQL pass against the definition on rows."""
    case = Case("iv_leverage", Sim(encouragement=True, seed=12), ["x1"], propensity=False, weights=True)
    df = simulate(case.sim)
    model = _fit(case, df, covariance)
    w = df["w"].to_numpy()
    x, z = design_matrices(df, "d", "z", 0, ["x1"], [], True, w)
    x, z, y = x.to_numpy(), z.to_numpy(), df[["y", "y2"]].to_numpy()
    wz = z * w[:, None]
    ztz_inv = np.linalg.inv(wz.T @ z)
    pi = ztz_inv @ wz.T @ x
    a_inv = np.linalg.inv(x.T @ wz @ pi)
    beta = a_inv @ pi.T @ wz.T @ y
    e = y - x @ beta
    h = w * np.einsum("ia,ab,ib->i", z, ztz_inv, z)
    power = {"HC2": 1, "HC3": 2}[covariance]
    scores = np.hstack([wz * e[:, [j]] for j in range(2)])
    meat = (scores / ((1 - h) ** power)[:, None]).T @ scores
    lift = np.kron(np.eye(2), pi @ a_inv)
    assert rel_diff(model.params, beta) < ORACLE_RTOL
    assert rel_diff(model.cov, lift.T @ meat @ lift) < ORACLE_RTOL
