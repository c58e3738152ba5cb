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


def test_a_ratio_next_to_its_parts_shares_them_by_name(warehouse) -> None:
    """``metrics: [revenue, orders, aov]`` failed with "Metric names must be unique": the ratio's
    parts were built again as second metrics of the same names."""
    from warehouse_causal.surfaces.analysis_spec import run_spec

    path, _, _ = warehouse
    con = wc.connect(path / "w.duckdb", read_only=True)
    catalog = wc.load_metrics(path / "metrics.yaml", con)
    assert catalog["aov"].numerator is catalog["revenue"]  # one definition, shared
    exp = wc.ExperimentData(con.table("users"), intent_to_treat="arm")
    together = exp.add_metric([catalog["revenue"], catalog["orders"], catalog["aov"]]).fit(wc.LinearModel)
    alone = exp.add_metric([catalog["aov"]]).fit(wc.LinearModel)
    assert list(together.metrics) == list(alone.metrics) == ["revenue", "orders"]
    np.testing.assert_allclose(together.infer_effect().estimate, alone.infer_effect().estimate, rtol=1e-12)
    spec = {"connection": "w.duckdb", "table": "users", "design": {"intent_to_treat": "arm"},
            "metrics_file": "metrics.yaml", "metrics": ["revenue", "orders", "aov"]}
    assert list(run_spec(spec, path)["effects"].metric) == ["revenue", "orders", "aov"]
    # two ratios sharing a part, and the same wc.Metric listed by hand next to its ratio
    events = con.table("orders")
    revenue = wc.Metric("revenue", events, "SUM(amount)", "user")
    twice = exp.add_metric([revenue, wc.Ratio("aov", wc.Metric("revenue", events, "SUM(amount)", "user"),
                                              wc.Metric("orders", events, "COUNT(*)", "user")),
                            wc.Ratio("per_latency", revenue, "latency")]).fit(wc.LinearModel)
    assert list(twice.metrics) == ["revenue", "orders", "latency"]


def test_one_name_with_two_definitions_is_an_error(warehouse) -> None:
    path, _, _ = warehouse
    con = wc.connect(path / "w.duckdb", read_only=True)
    events = con.table("orders")
    exp = wc.ExperimentData(con.table("users"), intent_to_treat="arm")
    other = wc.Ratio("aov", wc.Metric("revenue", events, "MAX(amount)", "user"),
                     wc.Metric("orders", events, "COUNT(*)", "user"))
    with pytest.raises(wc.InvalidParameterError, match=r"two different wc\.Metric definitions are named"):
        exp.add_metric([wc.Metric("revenue", events, "SUM(amount)", "user"), other])
    table = exp.table
    with pytest.raises(wc.InvalidParameterError, match="ratio's part is named 'x' like another metric"):
        exp.add_metric([(table.latency * 2).name("x"), wc.Ratio("r", table.latency.name("x"), "latency")])
    directed = wc.Ratio("aov", wc.Metric("revenue", events, "SUM(amount)", "user", direction="lower"),
                        wc.Metric("orders", events, "COUNT(*)", "user"))
    with pytest.raises(wc.InvalidParameterError, match="Two definitions of 'revenue' declare different"):
        exp.add_metric([wc.Metric("revenue", events, "SUM(amount)", "user", direction="higher"), directed])


def test_ratio_parts_with_different_windows_are_refused(warehouse) -> None:
    """The README's aov divided 14-day revenue by all-time orders (``orders`` had no window)."""
    path, _, _ = warehouse
    con = wc.connect(path / "w.duckdb", read_only=True)
    windowed = {"source": "orders", "unit": "user", "value": "SUM(amount)", "window": [0, 14],
                "time": "ordered_at", "exposure": "exposed_at"}
    document = {"metrics": {"revenue": windowed, "orders": {"source": "orders", "unit": "user",
                                                             "value": "COUNT(*)"},
                            "aov": {"ratio": ["revenue", "orders"]}}}
    message = (r"ratio 'aov' divides 'revenue' \(window \[0, 14\) of ordered_at after exposed_at\) by "
               r"'orders' \(no window \(all events\)\)")
    with pytest.raises(wc.InvalidParameterError, match=message):
        wc.load_metrics(document, con)
    document["metrics"]["orders"] = {**windowed, "value": "COUNT(*)", "window": [0, 7]}
    with pytest.raises(wc.InvalidParameterError, match=r"\(window \[0, 7\) of ordered_at after exposed_at\)"):
        wc.load_metrics(document, con)
    document["metrics"]["orders"] = {**windowed, "value": "COUNT(*)", "exposure": "signed_up_at"}
    with pytest.raises(wc.InvalidParameterError, match="after signed_up_at"):
        wc.load_metrics(document, con)
    events = con.table("orders")
    exp = wc.ExperimentData(con.table("users"), intent_to_treat="arm")
    ratio = wc.Ratio("aov", wc.Metric("revenue", events, "SUM(amount)", "user", (0, 14), "t", "e"),
                     wc.Metric("orders", events, "COUNT(*)", "user"))
    with pytest.raises(wc.InvalidParameterError, match=r"ExperimentData\.add_metric: ratio 'aov' divides"):
        exp.add_metric([ratio])


def _readme_catalog() -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index("**Metric definitions in one place.**"):]
    return section[section.index("```yaml\n") + 8:section.index("```", section.index("```yaml\n") + 8)]


def test_the_readme_catalog_is_right(tmp_path) -> None:
    """The README's catalog, loaded as written: aov is 14-day revenue over 14-day orders (checked
    against pandas), ``[revenue, orders, aov]`` fit together, and the directions are read."""
    pytest.importorskip("yaml")
    rng = np.random.default_rng(5)
    n = 800
    start = pd.Timestamp("2024-01-01")
    users = pd.DataFrame({"user_id": np.arange(n), "arm": rng.integers(0, 2, n),
                          "exposed_at": start + pd.to_timedelta(rng.integers(0, 10, n), unit="D"),
                          "latency_ms": rng.lognormal(3, 0.4, n)})
    orders = pd.DataFrame({"user_id": rng.integers(0, n, 9_000), "amount": rng.lognormal(3, 1, 9_000)})
    orders["ordered_at"] = start + pd.to_timedelta(rng.integers(0, 40 * 24, len(orders)), unit="h")
    con = wc.connect()
    con.create_table("orders", orders)
    (tmp_path / "metrics.yaml").write_text(_readme_catalog())
    catalog = wc.load_metrics(tmp_path / "metrics.yaml", con)
    aov = catalog["aov"]
    assert aov.numerator is catalog["revenue"] and aov.denominator is catalog["orders"]
    assert aov.numerator.window == aov.denominator.window == (0.0, 14.0)
    assert {k: str(v) for k, v in catalog.directions.items()} == {"latency_p90": "lower"}
    exp = wc.ExperimentData(wc.table(users), intent_to_treat="arm")
    effects = exp.add_metric([catalog["revenue"], catalog["orders"], aov]).fit(wc.LinearModel).infer_effect()
    joined = orders.merge(users, on="user_id")
    days = (joined.ordered_at - joined.exposed_at) / pd.Timedelta(days=1)
    window = joined[(days >= 0) & (days < 14)]
    per_user = users[["user_id", "arm"]].merge(
        window.groupby("user_id").agg(revenue=("amount", "sum"), orders=("amount", "size")).reset_index(),
        on="user_id", how="left").fillna(0.0)
    means = per_user.groupby("arm")[["revenue", "orders"]].mean()
    truth = means.revenue[1] / means.orders[1] - means.revenue[0] / means.orders[0]
    assert effects.estimate[list(effects.metric).index("aov")] == pytest.approx(truth, rel=1e-9)


def test_catalog_directions(warehouse) -> None:
    path, _, _ = warehouse
    con = wc.connect(path / "w.duckdb", read_only=True)
    document = {"metrics": {
        "revenue": {"source": "orders", "unit": "user", "value": "SUM(amount)"},
        "refunds": {"source": "orders", "unit": "user", "value": "SUM(amount)", "direction": "lower"},
        "aov": {"ratio": ["revenue", "refunds"], "direction": "neutral"},
        "latency_p90": {"quantile": {"column": "latency", "q": 0.9}, "direction": "Lower"}}}
    catalog = wc.load_metrics(document, con)
    lower, neutral = catalog["refunds"].direction, catalog["aov"].direction
    assert dict(catalog.directions) == {"refunds": lower, "aov": neutral, "latency_p90": lower}
    assert (str(lower), str(neutral), catalog["revenue"].direction) == ("lower", "neutral", None)
    exp = wc.ExperimentData(con.table("users"), intent_to_treat="arm")
    spec = exp.add_metric([catalog["refunds"], catalog["aov"]])
    assert {k: str(v) for k, v in spec.directions} == {"refunds": "lower", "aov": "neutral"}
    with pytest.raises(wc.InvalidParameterError, match="says 'higher' for 'refunds'"):
        exp.add_metric([catalog["refunds"]], direction={"refunds": "higher"})
    for bad in ["worse", 1, None]:
        broken = {"metrics": {"m": {"source": "orders", "unit": "user", "value": "COUNT(*)",
                                    "direction": bad}}}
        with pytest.raises(wc.InvalidParameterError, match="'direction' parameter of the catalog's metric"):
            wc.load_metrics(broken, con)
    spec = {"connection": "w.duckdb", "table": "users", "design": {"intent_to_treat": "arm"},
            "metrics_file": "directions.json", "metrics": ["refunds"]}
    (path / "directions.json").write_text(json.dumps(document))
    from warehouse_causal.surfaces.analysis_spec import run_spec

    assert str(run_spec(spec, path)["effects"].directions["refunds"]) == "lower"
