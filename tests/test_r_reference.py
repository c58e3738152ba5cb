"""LinearModel against reference values computed by R (lm, AER::ivreg, sandwich, lmtest).

The dataset (``tests/reference/data/iv_clustered.csv``, made by ``tests/reference/make_data.py``)
and R's results on it (``tests/reference/r_reference.csv``, made by
``Rscript tests/reference/make_r_reference.R``) are committed, so this test needs no R. R's header
in the results records the R and package versions and the md5 of the data it read.

Designs: OLS (the A/B regression y ~ z + x1 + x2) and 2SLS (y ~ d + x1 + x2 | z + x1 + x2), each
unweighted and weighted, additive (``interacted=False``) and Lin's interacted; outcomes y and y2
fitted together; covariances iid, HC0–HC3, and CR0/CR1 by cluster ``g``. Which R call reproduces
which convention is written at the top of ``make_r_reference.R``; in short HC1 = vcovHC "HC1",
CR1 = vcovCL(type = "HC1", cadjust = TRUE), CR0 = vcovCL(type = "HC0", cadjust = FALSE), and 2SLS
HC2/HC3 = vcovHC with an ``omega`` dividing by the first-stage (instrument-projection) hat values,
since AER's ``hatvalues.ivreg`` is another convention (compared below only to show it differs).

What is comparable: the package centres covariates at their weighted mean. R's additive fits use
the raw covariates, so every slope and its SE is the same and only the intercept differs ("(Intercept)"
in the reference, not compared). R's interacted fits centre the covariates itself, so every
coefficient, the intercept included, is comparable. Compared at ORACLE_RTOL (1e-8) relative:
estimate, std_error, statistic, p_value (t with n − k df, or G − 1 clustered), ci_lower, ci_upper,
and the arm effect of ``infer_effect()`` (estimate, std_error).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.helpers import ORACLE_RTOL, rel_diff

REFERENCE_DIR = Path(__file__).parent / "reference"
DATA = REFERENCE_DIR / "data" / "iv_clustered.csv"
REFERENCE = REFERENCE_DIR / "r_reference.csv"
COLUMNS = ["estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper"]
UNCENTRED_INTERCEPT = "(Intercept)"  # R's intercept with raw covariates: no package counterpart

MODELS = [f"{est}{w}{i}" for est in ("ols", "iv") for w in ("", "_weighted") for i in ("", "_interacted")]
ALL_COVARIANCES = ["iid", "HC0", "HC1", "HC2", "HC3", "CR0", "CR1"]
# Every covariance for the additive models; a subset for the interacted ones (each fit is a few
# warehouse queries; this keeps the file well under 15 s). R's file holds the full grid.
INTERACTED_COVARIANCES = ["HC1", "HC3", "CR1"]
CASES = [(m, c) for m in MODELS
         for c in (INTERACTED_COVARIANCES if m.endswith("_interacted") else ALL_COVARIANCES)]


@cache
def _reference() -> pd.DataFrame:
    return pd.read_csv(REFERENCE, comment="#")


@cache
def _data() -> pd.DataFrame:
    return pd.read_csv(DATA)


@cache
def _experiment(estimator: str, weighted: bool, clustered: bool) -> wc.ExperimentData:
    return wc.ExperimentData(
        wc.table(_data()), intent_to_treat="z", treated="d" if estimator == "iv" else None,
        weights="w" if weighted else None, cluster_by="g" if clustered else None,
    )


@cache
def _fit(model: str, covariance: str) -> wc.LinearModel:
    estimator = model.split("_")[0]
    exp = _experiment(estimator, "_weighted" in model, covariance.startswith("CR"))
    spec = exp.add_metric(y=["y", "y2"], exogeneous_covariates=["x1", "x2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return spec.fit(wc.LinearModel, covariance=covariance, interacted=model.endswith("_interacted"))


def _rows(model: str, covariance: str) -> pd.DataFrame:
    ref = _reference()
    rows = ref[(ref.model == model) & (ref.covariance == covariance)]
    assert len(rows), f"no R reference rows for {model} / {covariance}"
    return rows


def test_reference_was_computed_on_the_committed_data() -> None:
    header = [line for line in REFERENCE.read_text().splitlines() if line.startswith("#")]
    md5 = re.search(r"iv_clustered\.csv md5 ([0-9a-f]{32})", "\n".join(header))
    assert md5 is not None and md5.group(1) == hashlib.md5(DATA.read_bytes()).hexdigest()
    assert any(line.startswith("# R version") and "AER" in line and "sandwich" in line for line in header)
    assert set(_reference().model) == set(MODELS)
    df = _data()
    assert len(df) == 2_000 and df.g.nunique() == 80 and (df.groupby("g").z.nunique() == 1).all()


@pytest.mark.parametrize(("model", "covariance"), [pytest.param(m, c, id=f"{m}-{c}") for m, c in CASES])
def test_matches_r(model: str, covariance: str) -> None:
    fit = _fit(model, covariance)
    rows = _rows(model, covariance)
    assert (rows.n == fit.nobs).all() and (rows.k == len(fit.terms)).all()
    if covariance.startswith("CR"):
        assert (rows.clusters == fit.n_clusters).all()
    coefficients = fit.coefficients().set_index(["metric", "term"])
    effects = fit.infer_effect().to_pandas().set_index("metric")
    arm = fit.treatment_terms[0]
    for outcome in ("y", "y2"):
        r = rows[(rows.outcome == outcome) & (rows.term != UNCENTRED_INTERCEPT)].set_index("term")
        expected = set(fit.terms) - ({"Intercept"} if not fit.interacted else set())
        assert set(r.index) == expected, f"R terms {sorted(r.index)} vs package {sorted(fit.terms)}"
        ours = coefficients.loc[outcome].loc[r.index, COLUMNS]
        for column in COLUMNS:
            diff = rel_diff(ours[column].to_numpy(), r[column].to_numpy())
            assert diff < ORACLE_RTOL, f"{outcome} {column}: relative difference {diff:.3g} to R"
        effect = effects.loc[outcome]
        assert str(effect.arm) == "1" and effect.segment == "all"
        for column in ("estimate", "std_error"):
            diff = rel_diff(effect[column], r.loc[arm, column])
            assert diff < ORACLE_RTOL, f"{outcome} infer_effect {column}: relative difference {diff:.3g} to R"


@pytest.mark.parametrize("covariance", ["HC2", "HC3"])
def test_2sls_leverage_is_the_instrument_projection_not_aers(covariance: str) -> None:
    """AER's hatvalues.ivreg (diag of X(X̂'X̂)⁻¹X̂', unweighted) is a different convention from the
    package's wᵢzᵢ'(Z'WZ)⁻¹zᵢ; the package matches R given the first-stage hat values (above) and
    differs from R's default ivreg HC2/HC3 by far more than rounding."""
    fit = _fit("iv", covariance)
    ref = _reference()
    aer = ref[(ref.model == "iv") & (ref.covariance == f"{covariance}-AER") & (ref.outcome == "y")]
    aer_se = aer.set_index("term").loc["d[1]", "std_error"]
    ours = fit.std_errors[fit.terms.index("d[1]"), 0]
    assert np.abs(ours / aer_se - 1) > 1e-6
