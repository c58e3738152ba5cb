"""Row-level data never comes into Python: every query returns the same (small) number of rows
whatever the table size, for every design of the suite."""

from __future__ import annotations

import warnings

import pytest

import warehouse_causal as wc
from tests.helpers import Sim, simulate

#: No query may return more rows than this (design cells, category levels, compressed cells).
MAX_RETURNED_ROWS = 1_000

DESIGNS = {
    "ab": (Sim(), {}, ["x1", "device"], "HC1"),
    "ab_hc3": (Sim(), {}, ["x1"], "HC3"),
    "multi_arm": (Sim(arms=3), {}, ["x1", "device"], "HC1"),
    "encouragement_cluster": (Sim(encouragement=True, clusters=40), {"treated": "d", "cluster_by": "team"},
                              ["x1"], "CR1"),
    "propensity": (Sim(propensity=True), {"propensity": "p"}, ["x2"], "HC1"),
    "compressed": (Sim(arms=3), {}, ["device"], "HC1"),
    "compressed_cluster": (Sim(clusters=20), {"cluster_by": "team"}, ["device"], "CR1"),
}


def _queries(sim: Sim, roles: dict, covariates: list[str], covariance: str, n: int) -> list:
    df = simulate(Sim(**{**sim.__dict__, "n": n}))
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", **roles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        model = exp.add_metric(["y", "y2"], covariates).fit(wc.LinearModel, covariance=covariance)
    return list(model.queries)


@pytest.mark.parametrize("name", list(DESIGNS))
def test_returned_rows_do_not_grow_with_the_table(name: str) -> None:
    small = _queries(*DESIGNS[name], n=3_000)
    large = _queries(*DESIGNS[name], n=30_000)
    assert [q.purpose for q in small] == [q.purpose for q in large]
    for a, b in zip(small, large, strict=True):
        assert b.rows <= MAX_RETURNED_ROWS, (b.purpose, b.rows)
        assert b.rows == a.rows, (b.purpose, a.rows, b.rows)
