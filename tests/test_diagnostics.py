"""Diagnostics follow the covariance the user chose (issue 13): the first-stage F is the robust Wald
F under HC/CR (homoskedastic beside it), and covariate balance is tested with clusters as the units.

Oracles: statsmodels OLS of the first stage and of the balance regression, on rows, with the same
covariance (HC1; cluster-robust with its G/(G−1)·(n−1)/(n−k) correction, as CR1)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import statsmodels.api as sm
from linearmodels.datasets import card

import warehouse_causal as wc

#: Same sums two ways (moments in the warehouse vs statsmodels on rows).
RTOL = 1e-8
COVARIATES = ["exper", "black", "south", "smsa"]


@pytest.fixture(scope="module")
def card_frame() -> pd.DataFrame:
    """Card (1995): college proximity (nearc4) encourages some college (educ >= 13); 9 regions."""
    data = card.load()
    regions = data[[f"reg66{i}" for i in range(1, 10)]].to_numpy().argmax(axis=1)
    return pd.DataFrame({
        "near": data.nearc4.astype(int), "college": (data.educ >= 13).astype(int), "region": regions,
        "lwage": data.lwage, **{c: data[c].astype(float) for c in COVARIATES},
    })


def _first_stage_oracle(df: pd.DataFrame, interacted: bool, cov_type: str) -> tuple[float, float]:
    """(robust Wald F, homoskedastic F) of the excluded instruments in D ~ Z on rows."""
    covariates = df[COVARIATES] - df[COVARIATES].mean()
    z = df.near.to_numpy(dtype=float)
    columns = {"const": np.ones(len(df)), "near": z, **{c: covariates[c] for c in COVARIATES}}
    if interacted:
        columns.update({f"near:{c}": z * covariates[c] for c in COVARIATES})
    exog = pd.DataFrame(columns)
    excluded = [c for c in exog.columns if c.startswith("near")]
    restriction = np.zeros((len(excluded), exog.shape[1]))
    for i, name in enumerate(excluded):
        restriction[i, list(exog.columns).index(name)] = 1.0
    kwargs = {"groups": df.region} if cov_type == "cluster" else {}
    robust = sm.OLS(df.college.astype(float), exog).fit(cov_type=cov_type, cov_kwds=kwargs or None)
    plain = sm.OLS(df.college.astype(float), exog).fit()
    wald = robust.wald_test(restriction, use_f=True, scalar=True)
    return float(wald.statistic), float(plain.f_test(restriction).fvalue)


@pytest.mark.parametrize("interacted", [True, False])
@pytest.mark.parametrize("cluster", [None, "region"])
def test_first_stage_f_uses_the_fits_covariance(card_frame: pd.DataFrame, interacted: bool,
                                                cluster: str | None) -> None:
    exp = wc.ExperimentData(wc.table(card_frame), intent_to_treat="near", treated="college",
                            cluster_by=cluster)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        model = exp.add_metric("lwage", COVARIATES).fit(wc.LinearModel, interacted=interacted,
                                                         inference="classical")
    # with interactions every treated x covariate term is endogenous too: one row each
    assert len(model.first_stage) == (1 + len(COVARIATES) if interacted else 1)
    assert all(r.covariance == "iid" for r in model.first_stage[1:])
    row = model.first_stage[0]
    assert row.term == "college[1]" and isinstance(model.first_stage, tuple)
    robust, homoskedastic = _first_stage_oracle(card_frame, interacted, "cluster" if cluster else "HC1")
    assert row.covariance == ("CR1" if cluster else "HC1")
    assert row.f_statistic == pytest.approx(robust, rel=RTOL)
    assert row.f_homoskedastic == pytest.approx(homoskedastic, rel=RTOL)


def test_weak_instrument_warning_reads_the_robust_f(card_frame: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    frame = card_frame.assign(college=np.where(rng.random(len(card_frame)) < 0.97, card_frame.college,
                                               1 - card_frame.college))
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="near", treated="college", cluster_by="region")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = exp.add_metric("lwage", COVARIATES).fit(wc.LinearModel, interacted=False,
                                                         inference="classical")
    (row,) = model.first_stage
    weak = [w for w in caught if issubclass(w.category, wc.WeakInstrumentWarning)]
    assert (row.f_statistic < 10) == bool(weak)
    if weak:
        assert f"F={row.f_statistic:.1f}" in str(weak[0].message)


def _team_frame(seed: int, n_teams: int = 200, per_team: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(n_teams), per_team)
    arm = rng.permutation(np.repeat([0, 1], n_teams // 2))[team]
    size = rng.normal(size=n_teams)[team]  # a team-level covariate: identical within a team
    return pd.DataFrame({"team": team, "arm": arm, "team_size": size, "x": rng.normal(size=len(team)),
                         "y": 0.2 * arm + size + rng.normal(size=len(team))})


def test_balance_treats_clusters_as_the_units() -> None:
    df = _team_frame(3)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm", cluster_by="team")
    with warnings.catch_warnings():
        warnings.simplefilter("error", wc.CovariateImbalanceWarning)  # no false alarm
        model = exp.add_metric("y", ["team_size", "x"]).fit(wc.LinearModel)
    rows = {r.covariate: r for r in model.balance}
    for covariate in ("team_size", "x"):
        fit = sm.OLS(df[covariate], sm.add_constant(df.arm.astype(float))).fit(
            cov_type="cluster", cov_kwds={"groups": df.team})
        t = abs(fit.params["arm"] / fit.bse["arm"])
        assert rows[covariate].p_value == pytest.approx(2 * scipy.stats.t.sf(t, 199), rel=1e-7)
        assert rows[covariate].covariance == "CR1"
    naive = sm.OLS(df.team_size, sm.add_constant(df.arm.astype(float))).fit().pvalues["arm"]
    assert naive < rows["team_size"].p_value  # the row-level test is far too confident here


def test_balance_still_flags_a_covariate_that_moves_with_assignment() -> None:
    df = _team_frame(4)
    df["after"] = df.x + 1.0 * df.arm  # measured after treatment
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm", cluster_by="team")
    with pytest.warns(wc.CovariateImbalanceWarning, match="'after' in 'arm\\[1\\]'"):
        model = exp.add_metric("y", ["after"]).fit(wc.LinearModel)
    assert model.balance[0].p_value < 1e-6


def test_balance_is_not_tested_with_too_few_clusters() -> None:
    df = _team_frame(5, n_teams=12)
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm", cluster_by="team")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.DesignWarning)
        warnings.simplefilter("error", wc.CovariateImbalanceWarning)
        model = exp.add_metric("y", ["team_size"]).fit(wc.LinearModel)
    row = model.balance[0]
    assert np.isnan(row.p_value) and "too few clusters" in row.covariance


@pytest.mark.parametrize("design", [
    {"propensity": "p"},                       # a propensity (weighted) design
    {"cluster_by": "team"},                    # clustered: the robust F comes from the cluster meats
    {},
])
def test_a_treatment_that_follows_assignment_exactly_has_no_first_stage(design: dict[str, str]) -> None:
    """Treatment equal to assignment: the first stage fits without residual, so its F (inf, 4e35 or
    negative from rounding) is no statistic; no row, and no weak-instrument warning (issue 24)."""
    df = _team_frame(6).assign(p=0.5)
    df["served"] = df["arm"]
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm", treated="served", **design)
    with warnings.catch_warnings():
        warnings.simplefilter("error", wc.WeakInstrumentWarning)
        for interacted in (True, False):
            model = exp.add_metric("y", ["x"]).fit(wc.LinearModel, interacted=interacted)
            assert len(model.first_stage) == 0
    assert wc.fit.diagnostics.exact_first_stage(model.design, model.moments) == ("served[1]",)


def test_a_first_stage_f_that_is_not_finite_is_not_called_weak(card_frame: pd.DataFrame,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import warehouse_causal.fit.diagnostics as diagnostics

    monkeypatch.setattr(diagnostics, "robust_wald_f", lambda coefs, cov: -7.7e69)  # rounding's verdict
    exp = wc.ExperimentData(wc.table(card_frame), intent_to_treat="near", treated="college")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = exp.add_metric("lwage").fit(wc.LinearModel)
    assert np.isnan(model.first_stage[0].f_statistic)
    messages = [str(w.message) for w in caught if issubclass(w.category, wc.WeakInstrumentWarning)]
    assert not [m for m in messages if "Weak instrument" in m]
    assert any("could not be computed" in m for m in messages)
