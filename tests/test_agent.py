"""The agent tools (warehouse_causal.surfaces.agent) in process: answers equal the Python API, state their
estimand and assumptions, and every kind of bad input returns a structured error (never a
traceback). The MCP transport itself is tested with the SDK's stdio client in test_mcp_server."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import warehouse_causal as wc
from warehouse_causal.core.errors import QueryBudgetError
from warehouse_causal.surfaces.agent import TOOLS, Toolbox
from warehouse_causal.warehouse.budget import query_budget

DESIGN = {"intent_to_treat": "assigned", "treated": "used", "cluster_by": "team_id"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agent") / "warehouse.duckdb"
    con = wc.connect(path)
    con.create_table("tickets", wc.datasets.tickets(rows=8000, teams=120).to_pyarrow())
    con.create_table("routing", wc.datasets.routing(rows=6000).to_pyarrow())
    con.disconnect()
    return path


@pytest.fixture(scope="module")
def server_connection(warehouse: Path) -> Any:
    """Opened once: a read-only DuckDB file with its configuration locked stays so in the process."""
    return Toolbox.open(str(warehouse)).con


@pytest.fixture()
def tools(server_connection: Any) -> Toolbox:
    return Toolbox(server_connection)  # a fresh session: no design checked yet


def _ok(tools: Toolbox, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    answer, failed = tools.call(name, arguments)
    assert not failed, answer
    json.dumps(answer, allow_nan=False)  # strict JSON
    return answer


def _error(tools: Toolbox, name: str, arguments: Any) -> dict[str, Any]:
    answer, failed = tools.call(name, arguments)
    assert failed and set(answer) == {"error"}, answer
    error = answer["error"]
    assert set(error) == {"class", "parameter", "path", "message", "hint"}
    assert "Traceback" not in error["message"] and error["hint"]
    return error


def test_every_tool_publishes_a_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    assert {t.name for t in TOOLS} == {"describe", "check_design", "analyze", "plan", "policy", "monitor"}
    for tool in TOOLS:
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object" and len(tool.description) > 40


def test_describe_lists_tables_columns_and_candidate_roles(tools: Toolbox) -> None:
    answer = _ok(tools, "describe", {})
    tables = {t["table"]: t for t in answer["tables"]}
    assert set(tables) == {"tickets", "routing"}
    tickets = tables["tickets"]
    assert tickets["rows"] == 8000
    columns = {c["name"]: c for c in tickets["columns"]}
    assert columns["team_id"]["distinct"] == 120 and columns["assigned"]["distinct"] == 2
    roles = tickets["candidate_columns"]
    assert "assigned" in roles["assignment"] and "team_id" in roles["cluster"]
    assert "created_at" in roles["time"] and "resolved" in roles["metric"]


def test_analyze_equals_the_python_api_and_describes_itself(tools: Toolbox) -> None:
    spec = {"table": "tickets", "design": DESIGN, "metrics": ["resolved", "minutes"],
            "covariates": ["pre_resolution", "region"], "segments": ["region = 'apac'"],
            "decision": {"primary": "resolved", "guardrails": {"minutes": 1.0}}}
    assert _error(tools, "analyze", spec)["class"] == "DesignNotCheckedError"
    check = _ok(tools, "check_design", {"table": "tickets", "design": DESIGN})
    assert check["estimand"]["short"] == "LATE" and check["clusters"] == 120
    # no expected_split: the sample ratio is not tested, so it is not "ok" either
    assert check["sample_ratio_ok"] is None and check["sample_ratio"]["status"] == "not checked"
    assert any("Exclusion restriction" in a for a in check["assumptions"])
    answer = _ok(tools, "analyze", spec)

    con = tools.con  # one DuckDB instance per file and process: the same (locked) database
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        model = wc.ExperimentData(con.table("tickets"), **DESIGN).add_metric(
            ["resolved", "minutes"], ["pre_resolution", "region"]).fit(wc.LinearModel)
    python = model.infer_effect(condition_on=["region = 'apac'"]).to_dicts()
    for ours, theirs in zip(answer["effects"], python, strict=True):
        for column in ("estimate", "std_error", "ci_lower", "ci_upper", "av_ci_lower", "p_value"):
            np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-12)
    assert answer["estimand"]["short"] == "LATE" and "arm 1 vs control 0" in answer["estimand"]["contrasts"]
    assert answer["design"]["cluster_by"] == "team_id" and answer["design"]["n_clusters"] == 120
    assert any("pre-treatment" in a for a in answer["assumptions"])
    assert answer["queries"] and all(q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
                                     for q in answer["queries"])
    assert answer["decision"][0]["verdict"] in ("ship", "don't ship", "inconclusive")
    assert answer["memo"].startswith("# Experiment decision memo") and answer["next_steps"]
    assert answer["budget"]["rows_scanned"] >= 8000


def test_plan_and_policy_tools(tools: Toolbox) -> None:
    plan = _ok(tools, "plan", {"table": "tickets", "plan": {"cluster_by": "team_id"},
                               "metrics": ["resolved"], "power": {"n": [100, 400]}})
    assert [r["n"] for r in plan["power"]] == [100, 400] and plan["power"][0]["mde"] > plan["power"][1]["mde"]
    logged = {"intent_to_treat": "route", "propensity": "p_route"}
    _ok(tools, "check_design", {"table": "routing", "design": logged})
    answer = _ok(tools, "policy", {
        "table": "routing", "design": logged, "metric": "reward", "covariates": ["x", "segment"],
        "segments": ["segment = 1"], "contexts": [{"x": 0.9, "segment": 1}],
        "evaluate": "CASE WHEN x > 0.5 THEN 2 WHEN segment = 1 THEN 1 ELSE 0 END"})
    assert {r["segment"] for r in answer["rank"]} == {"all", "segment = 1"}
    probabilities = answer["contexts"][0]["probabilities"]
    assert set(probabilities) == {"0", "1", "2"} and sum(probabilities.values()) == pytest.approx(1.0)
    exp = wc.ExperimentData(tools.con.table("routing"), **logged)
    model = exp.add_metric("reward", ["x", "segment"]).fit(wc.LinearModel)
    python = model.evaluate_policy("CASE WHEN x > 0.5 THEN 2 WHEN segment = 1 THEN 1 ELSE 0 END").to_dicts()
    for ours, theirs in zip(answer["evaluation"], python, strict=True):
        assert ours["estimate"] == pytest.approx(theirs["estimate"], rel=1e-12)


@pytest.mark.parametrize(("tool", "arguments", "kind", "where"), [
    ("analyze", {"table": "tickets", "design": DESIGN, "metrics": ["resolved"], "colour": 1},
     "SpecError", "/colour"),
    ("analyze", {"table": "tickets", "design": DESIGN, "metrics": "resolved"}, "SpecError", "/metrics"),
    ("analyze", {"table": "tickets", "design": DESIGN, "metrics": ["resolved"], "connection": "x.duckdb"},
     "SpecError", "/connection"),
    ("analyze", {"table": {"parquet": "/etc/*.parquet"}, "design": DESIGN, "metrics": ["resolved"]},
     "SpecError", "/table"),
    ("analyze", {"table": "tickets", "design": DESIGN, "metrics": ["resolved"], "metrics_file": "/etc/x"},
     "SpecError", "/metrics_file"),
    ("check_design", {"table": "tickest", "design": DESIGN}, "SchemaError", None),
    ("check_design", {"table": "tickets", "design": {"intent_to_treat": "asigned"}}, "SchemaError", None),
    ("check_design", {"table": "tickets"}, "SpecError", "/"),
    ("describe", {"tables": ["nope"]}, "SchemaError", None),
    ("plan", {"table": "tickets", "metrics": ["resolved"], "power": {"alpha": 2}},
     "SpecError", "/power/alpha"),
    ("policy", {"table": "routing", "design": {"intent_to_treat": "route"}, "metric": "reward"},
     "DesignNotCheckedError", None),
    ("nope", {}, "InvalidParameterError", None),
])
def test_bad_input_returns_a_structured_error(tools: Toolbox, tool: str, arguments: Any, kind: str,
                                              where: str | None) -> None:
    error = _error(tools, tool, arguments)
    assert error["class"] == kind, error
    if where is not None:
        assert error["path"] == where
    if kind == "SchemaError" and "tickest" in json.dumps(arguments):
        assert "did you mean 'tickets'" in error["message"]


def test_conditions_on_outcomes_and_writes_are_refused(tools: Toolbox) -> None:
    _ok(tools, "check_design", {"table": "tickets", "design": DESIGN})
    base = {"table": "tickets", "design": DESIGN, "metrics": ["resolved"], "covariates": ["region"]}
    error = _error(tools, "analyze", {**base, "segments": ["minutes > 10"]})
    assert error["class"] == "DesignError" and "minutes" in error["message"]
    for attack in ["1; DROP TABLE tickets", "resolved); DELETE FROM tickets; --",
                   "(SELECT COUNT(*) FROM tickets)", "read_csv('/etc/passwd')"]:
        error = _error(tools, "analyze", {**base, "metrics": [attack]})
        assert error["class"] in ("ExpressionError", "SchemaError"), error
    assert tools.con.table("tickets").count().execute() == 8000  # still there


def test_the_connection_itself_refuses_writes_and_file_reads(tools: Toolbox) -> None:
    raw = tools.con.con
    with pytest.raises(Exception, match=r"read-only|Cannot execute"):
        raw.execute("CREATE TABLE stolen AS SELECT 1")
    with pytest.raises(Exception, match=r"disabled|Permission"):
        raw.execute("SELECT * FROM read_csv('/etc/passwd')")


def test_budget_refuses_a_call_that_would_scan_too_much(server_connection: Any) -> None:
    tools = Toolbox(server_connection, max_rows_scanned=20_000)
    _ok(tools, "check_design", {"table": "tickets", "design": DESIGN})  # 2 x 8,000 rows: within budget
    error = _error(tools, "analyze", {"table": "tickets", "design": DESIGN, "metrics": ["resolved"],
                                      "covariates": ["pre_resolution"]})
    assert error["class"] == "QueryBudgetError" and "20,000" in error["message"]


def test_budget_interrupts_a_query_past_its_seconds() -> None:
    con = wc.connect()
    con.con.execute("CREATE TABLE big AS SELECT i, random() AS y FROM range(30000000) t(i)")
    big = con.table("big")
    heavy = big.group_by("i").aggregate(s=big.y.sum()).aggregate(t=lambda t: t.s.sum())
    with pytest.raises(QueryBudgetError, match=r"stopped at the call's 0\.05 s"), \
            query_budget(max_seconds=0.05):
        wc.warehouse.backends.QueryRunner().run(heavy, "heavy")


def test_arguments_that_are_not_an_object_get_a_path(tools: Toolbox) -> None:
    for arguments in ([1, 2], "analyze everything", 7):
        error = _error(tools, "analyze", arguments)
        assert error["class"] == "SpecError" and error["path"] == "/"
