"""Every table-like result shares one base (warehouse_causal.core.tables.TableResult): to_dicts is the
one conversion, and to_pandas, strict JSON, markdown and notebook HTML derive from it."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.helpers import Sim, simulate
from warehouse_causal.core.tables import TableResult, format_value, strict_json


@pytest.fixture(scope="module")
def results() -> dict[str, TableResult]:
    df = simulate(Sim(n=3_000, seed=3))
    rng = np.random.default_rng(3)
    df["m"] = df.x1 + 0.5 * df.z + rng.normal(size=len(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(wc.table(df), intent_to_treat="z")
        model = exp.add_metric(["y", "y2"], ["x1"]).fit(wc.LinearModel)
        effects = model.infer_effect()
        bayes = exp.add_metric("y", ["x1"]).fit(wc.BayesianLinearRegression)
        mediation = effects.with_graph("z -> m -> y").mediate_effect(sims=1_000)
    return {"effects": effects, "decision": effects.decide("y"), "posterior": bayes.infer_effect(),
            "mediation": mediation}


@pytest.mark.parametrize("name", ["effects", "decision", "posterior", "mediation"])
def test_every_table_result_derives_its_views_from_to_dicts(results: dict[str, TableResult],
                                                            name: str) -> None:
    result = results[name]
    assert isinstance(result, TableResult)
    rows = result.to_dicts()
    frame = result.to_pandas()
    assert list(frame.columns) == list(rows[0]) and len(frame) == len(rows)
    assert json.loads(result.to_json()) == json.loads(json.dumps(strict_json(rows), default=str))
    html = result._repr_html_()
    assert html.startswith("<table><caption>") and result.caption().split(" ")[0] in html
    assert "<th>" in html and html.count("<tr>") == len(rows) + 1
    if "ci_lower" in rows[0]:  # the two bounds read as one interval; the numbers stay in to_pandas
        assert "<th>interval</th>" in html and "<th>ci_lower</th>" not in html
        assert f"[{format_value('ci_lower', rows[0]['ci_lower'])}, " in html
    assert result.caption() in result._repr_markdown_() and repr(result) == str(result)


def test_cells_read_as_people_read_them() -> None:
    assert format_value("p_value", 3.1e-90) == "< 0.001"
    assert format_value("p_adjusted", 0.04567) == "0.046"
    assert format_value("estimate", 0.123456789) == "0.1235"
    assert format_value("ci_lower", math.nan) == "–"
    assert format_value("n", 200000) == "200,000"
    assert strict_json({"a": [math.nan, math.inf, -math.inf, 1.0]}) == {"a": [None, "inf", "-inf", 1.0]}


def test_effects_json_is_strict_with_few_clusters() -> None:
    df = pd.DataFrame({"team": np.repeat([0, 1], 30), "z": np.repeat([0, 1], 30),
                       "y": np.random.default_rng(0).normal(size=60)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.DesignWarning)
        model = wc.ExperimentData(wc.table(df), intent_to_treat="z", cluster_by="team").add_metric("y").fit(
            wc.LinearModel)
    row = json.loads(model.infer_effect().to_json())[0]
    assert row["ci_lower"] == "-inf" and row["ci_upper"] == "inf" and row["av_p_value"] is None


def test_diagnostics_and_queries_display_as_tables_and_stay_tuples() -> None:
    df = simulate(Sim(n=2_000, encouragement=True, clusters=60, seed=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(wc.table(df), intent_to_treat="z", treated="d", cluster_by="team")
        model = exp.add_metric("y", ["x1"]).fit(wc.LinearModel)
    for table, first_column in ((model.first_stage, "term"), (model.balance, "covariate"),
                                (model.queries, "purpose")):
        assert isinstance(table, tuple) and isinstance(table, TableResult)
        assert table.to_dicts()[0][first_column] == (
            table[0].purpose if first_column == "purpose" else getattr(table[0], first_column))
        assert repr(table).startswith(table.caption()) and f"| {first_column} |" in repr(table)
    (first,) = model.first_stage[:1]
    assert first.term == "d[1]" and first.covariance == "CR1"
    assert [q["purpose"] for q in json.loads(model.queries.to_json())] == [q.purpose for q in model.queries]
