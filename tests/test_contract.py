"""The contract between the warehouse and numpy (warehouse_causal.warehouse.contract): declared blocks,
generated names, typed read-back; and user columns named like any internal name are just data."""

from __future__ import annotations

import ast
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import KEY, Columns, unused_name

PACKAGE = Path(wc.__file__).parent


def test_names_are_generated_from_blocks_and_never_collide() -> None:
    t = ibis.memtable({"g": ["b", "a", "b", None], "x": [1.0, 2.0, None, 4.0]})
    aggs = Columns()
    aggs.add("rows", None, t.count())
    aggs.update("sum", {("x", 1): t.x.sum(), "x": (t.x * 2).sum()})
    named = aggs.aggregate(t, by={"g": t.g})
    assert list(named.table.columns) == ["key_0", "rows", "sum_0", "sum_1"]
    found = named.run(QueryRunner(), "test")
    assert found.n_cells == 3
    assert list(found.key("g")) == list(found.values(KEY, "g")) == ["a", "b", None]  # sorted cells
    np.testing.assert_array_equal(found.column("rows"), [1.0, 2.0, 1.0])
    # NULL (an empty sum) reads as 0 in a float column; values() keeps None
    np.testing.assert_array_equal(found.column("sum", ("x", 1)), [2.0, 1.0, 4.0])
    assert found.total("sum", "x") == 14.0
    with pytest.raises(ValueError, match="one-row"):
        found.value("rows")


def test_declaration_errors_are_programming_errors() -> None:
    t = ibis.memtable({"x": [1.0]})
    aggs = Columns()
    aggs.add("sum", 0, t.x.sum())
    with pytest.raises(ValueError, match="declared twice"):
        aggs.add("sum", 0, t.x.sum())
    for bad in ["key", "Sum", "s_1", ""]:
        with pytest.raises(ValueError, match="block names"):
            aggs.add(bad, 1, t.x.sum())


def test_unused_name_avoids_every_taken_name_without_case() -> None:
    assert unused_name("_unit", ["a"]) == "_unit"
    assert unused_name("_unit", ["_UNIT", "_unit_2"]) == "_unit_3"


HOSTILE = {"arm": "n", "y": "rows", "x": "key_0", "c": "product_0", "cluster": "cluster", "w": "weight"}


def _data(seed: int = 3, n: int = 4_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, 200, n)
    arm = (cluster % 2).astype(int)
    x = rng.normal(size=n)
    c = rng.choice(["u", "v", "w"], n)
    y = 1.0 + 0.5 * arm + 0.3 * x + (c == "v") + rng.normal(size=n) + rng.normal(size=200)[cluster]
    return pd.DataFrame({"arm": arm, "y": y, "x": x, "c": c, "cluster": cluster,
                         "w": rng.uniform(0.5, 2.0, n)})


@pytest.mark.parametrize("strategy", ["moments", "compressed"])
@pytest.mark.parametrize("clustered", [False, True])
def test_columns_named_like_internal_names_fit_like_plain_ones(strategy: str, clustered: bool) -> None:
    """Every name the contract generates (key_0, rows, product_0, weight, cluster, ...) as a user
    column: the fit equals the fit of the same data under plain names, to 1e-12."""
    df = _data()
    if strategy == "compressed":
        df["x"] = np.round(df["x"]).clip(-2, 2)

    def fit(names: dict[str, str]) -> wc.LinearModel:
        t = wc.table(df.rename(columns=names))
        exp = wc.ExperimentData(t, intent_to_treat=names.get("arm", "arm"),
                                cluster_by=names.get("cluster", "cluster") if clustered else None)
        spec = exp.add_metric(y=[names.get("y", "y")],
                              exogeneous_covariates=[names.get("x", "x"), names.get("c", "c")])
        return spec.fit(wc.LinearModel, strategy=strategy, inference="classical")

    plain, hostile = fit({}), fit(HOSTILE)
    assert plain.strategy == hostile.strategy == strategy
    np.testing.assert_allclose(hostile.params, plain.params, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hostile.cov, plain.cov, rtol=1e-10, atol=1e-14)
    effects = [m.infer_effect(condition_on=[f"{names.get('c', 'c')} = 'v'"]) for m, names in
               [(plain, {}), (hostile, HOSTILE)]]
    np.testing.assert_allclose(effects[1].estimate, effects[0].estimate, rtol=1e-12)
    np.testing.assert_allclose(effects[1].std_error, effects[0].std_error, rtol=1e-10)


def _calls_outside_contract() -> list[str]:
    """Query building calls (aggregate, group_by) outside the contract module: each must be one of
    the allowed few (a metric's per-unit aggregate, whose output names are the user's metric names;
    the CLI demo's naive comparison)."""
    allowed = {("metrics.py", "_aggregate"), ("cli.py", "_demo")}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "contract.py":
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in {"aggregate", "group_by"}
                        and isinstance(node.func.value, ast.Name | ast.Attribute | ast.Call)
                        and (path.name, function.name) not in allowed
                        and not _is_contract_call(node)):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {function.name}")
    return found


def _is_contract_call(node: ast.Call) -> bool:
    """``columns.aggregate(table, by=...)`` on a Columns object: a positional table argument and no
    keyword other than ``by`` (ibis's aggregate takes named expressions)."""
    return node.func.attr == "aggregate" and bool(node.args) and all(k.arg == "by" for k in node.keywords)  # type: ignore[attr-defined]


def test_only_the_contract_names_query_columns() -> None:
    assert _calls_outside_contract() == []
