"""Metric definitions in one file (wc.load_metrics): fact-table metrics, ratios, percentiles and
caps defined once in YAML or JSON, used from Python and from analysis files alike."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc

CATALOG = """
metrics:
  revenue: {source: orders, unit: user, value: SUM(amount)}
  orders:  {source: orders, unit: user, value: COUNT(*)}
  aov:     {ratio: [revenue, orders]}
  latency_p90: {quantile: {column: latency, q: 0.9}}
caps:
  revenue: 0.99
"""


@pytest.fixture()
def warehouse(tmp_path):
    rng = np.random.default_rng(8)
    users = pd.DataFrame({"user": np.arange(600), "arm": rng.integers(0, 2, 600),
                          "latency": rng.lognormal(3, 0.5, 600)})
    orders = pd.DataFrame({"user": rng.integers(0, 600, 4_000), "amount": rng.lognormal(3, 1, 4_000)})
    con = wc.connect(tmp_path / "w.duckdb")
    con.create_table("users", users)
    con.create_table("orders", orders)
    con.disconnect()
    (tmp_path / "metrics.yaml").write_text(CATALOG)
    return tmp_path, users, orders


def test_a_yaml_catalog_defines_the_same_metrics_as_python(warehouse) -> None:
    path, _, _ = warehouse
    con = wc.connect(path / "w.duckdb", read_only=True)
    catalog = wc.load_metrics(path / "metrics.yaml", con)
    assert isinstance(catalog["aov"], wc.Ratio) and isinstance(catalog["latency_p90"], wc.Quantile)
    exp = wc.ExperimentData(con.table("users"), intent_to_treat="arm")
    from_catalog = exp.add_metric([catalog["aov"]], cap=catalog.caps).fit(wc.LinearModel)
    events = con.table("orders")
    by_hand = exp.add_metric([wc.Ratio("aov", wc.Metric("revenue", events, "SUM(amount)", "user"),
                                       wc.Metric("orders", events, "COUNT(*)", "user"))],
                             cap={"revenue": 0.99}).fit(wc.LinearModel)
    np.testing.assert_allclose(from_catalog.params, by_hand.params, rtol=1e-12)
    np.testing.assert_allclose(from_catalog.infer_effect().estimate, by_hand.infer_effect().estimate,
                               rtol=1e-12)
    assert [q.name for q in catalog.quantiles()] == ["latency_p90"]
    assert wc.load_metrics(json.loads(json.dumps({"metrics": {"aov": {"ratio": ["revenue", "orders"]},
                                                              "revenue": {"source": "orders", "unit": "user",
                                                                          "value": "SUM(amount)"},
                                                              "orders": {"source": "orders", "unit": "user",
                                                                         "value": "COUNT(*)"}}})),
                           con)["aov"].name == "aov"


def test_an_analysis_file_names_catalog_metrics(warehouse) -> None:
    from warehouse_causal.surfaces.analysis_spec import run_spec

    path, _, _ = warehouse
    spec = {"connection": "w.duckdb", "table": "users", "design": {"intent_to_treat": "arm"},
            "metrics_file": "metrics.yaml", "metrics": ["aov"], "quantiles": ["latency_p90"]}
    result = run_spec(spec, path)
    assert set(result["effects"].metric) == {"revenue", "orders", "aov"}
    assert result["model"].spec.caps[0].metric == "revenue"  # the catalog's cap applies
    assert result["quantiles"].to_dicts()[0]["metric"] == "latency_p90"


def test_bad_catalogs_are_clear_errors(warehouse) -> None:
    path, _, _ = warehouse
    con = wc.connect(path / "w.duckdb", read_only=True)
    bad = [({"metric": {}}, "a 'metrics' mapping"),
           ({"metrics": {"r": {"ratio": ["a"]}}}, r"ratio: \[numerator, denominator\]"),
           ({"metrics": {"q": {"quantile": {"column": "latency"}}}}, "quantile: {column, q}"),
           ({"metrics": {"m": {"source": "orders", "value": "SUM(amount)"}}}, "needs source, unit and value"),
           ({"metrics": {"m": {"source": "orders", "unit": "user", "value": "COUNT(*)"}},
             "caps": {"x": 0.9}}, "not metrics of it")]
    for document, message in bad:
        with pytest.raises(wc.InvalidParameterError, match=message):
            wc.load_metrics(document, con)
    with pytest.raises(wc.InvalidParameterError, match="pass the connection"):
        wc.load_metrics({"metrics": {"m": {"source": "orders", "unit": "user", "value": "COUNT(*)"}}})
    catalog = wc.load_metrics(path / "metrics.yaml", con)
    with pytest.raises(wc.InvalidParameterError, match="No metric 'nope'"):
        catalog["nope"]
