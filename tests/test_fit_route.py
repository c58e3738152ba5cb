"""One planner chooses the route of a fit (``warehouse_causal.fit.route``); the model says which ran
(``model.route``) and carries the plan and its typed covariance."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.fit import grouped
from warehouse_causal.fit.route import Route
from warehouse_causal.meaning import Covariance


def _frame(n: int = 3_000, clusters: int = 60, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    team = rng.integers(0, clusters, n)
    z = (team % 2).astype(int)
    df = pd.DataFrame({"team": team, "z": z, "x": rng.normal(size=n),
                       "day": rng.integers(0, 8, n).astype(str), "device": rng.choice(["ios", "web"], n)})
    df["y"] = 0.2 * z + df.x + rng.normal(size=n)
    return df


def _fit(spec: wc.ModelSpec, **options: object) -> wc.LinearModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return spec.fit(wc.LinearModel, **options)


def test_discrete_covariates_take_the_compressed_route() -> None:
    model = _fit(wc.ExperimentData(wc.table(_frame()), intent_to_treat="z").add_metric("y", ["device"]))
    assert model.route == Route.COMPRESSED and model.strategy == "compressed"
    assert model.covariance_estimator == Covariance("HC1")


def test_a_continuous_covariate_takes_the_grouped_route_with_hc_or_iid() -> None:
    spec = wc.ExperimentData(wc.table(_frame()), intent_to_treat="z").add_metric("y", ["x"])
    for kind in ("HC1", "HC3", "iid"):
        model = _fit(spec, covariance=kind)
        assert model.route == Route.GROUPED and model.covariance_estimator.kind == kind
        assert model.fit_plan is not None and model.fit_plan.first_route is Route.GROUPED


def test_clustered_routes_follow_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    exp = wc.ExperimentData(wc.table(_frame()), intent_to_treat="z", cluster_by="team")
    many_dummies = exp.add_metric("y", ["x", "day", "device"])
    one = _fit(many_dummies)
    assert one.route == Route.ONE_PASS_CR and one.covariance_estimator == Covariance("CR1", "team")
    plain = exp.add_metric("y", ["x"])  # not interacted: the residuals' work is the smaller one
    by_cells = _fit(plain, interacted=False)
    assert by_cells.route == Route.CR_BY_CELLS
    monkeypatch.setattr(grouped, "MAX_CLUSTER_CELLS", 0)
    nested = _fit(plain, interacted=False)
    assert nested.route == Route.NESTED_CR
    np.testing.assert_allclose(by_cells.cov, nested.cov, rtol=1e-9)  # the same meat, summed elsewhere


def test_hc_on_a_clustered_design_drops_the_cluster() -> None:
    exp = wc.ExperimentData(wc.table(_frame()), intent_to_treat="z", cluster_by="team")
    model = _fit(exp.add_metric("y", ["x"]), covariance="HC1")
    assert model.covariance_estimator == Covariance("HC1") and model.covariance_estimator.cluster is None
    assert model.route == Route.GROUPED


@pytest.mark.parametrize("kind, n, k, clusters, expected", [
    ("HC1", 100, 4, None, 100 / 96),
    ("CR1", 100, 4, 10, 10 / 9 * 99 / 96),
    ("HC0", 100, 4, None, 1.0),
    ("CR0", 100, 4, 10, 1.0),
])
def test_the_covariance_owns_its_small_sample_factor(kind: str, n: int, k: int, clusters: int | None,
                                                     expected: float) -> None:
    cov = Covariance(kind, "team" if kind.startswith("CR") else None)
    assert cov.factor(n, k, clusters) == pytest.approx(expected, rel=1e-15)
    assert cov.df(n, k, clusters) == (clusters - 1 if clusters else n - k)
