"""The MCP server end to end with the SDK's own stdio client: `warehouse-causal mcp` started as a
subprocess, its tools listed with their schemas, `analyze` equal to the Python API to 1e-12, bad
input and a write attempt answered with structured tool errors."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import warehouse_causal as wc

pytest.importorskip("mcp")
anyio = pytest.importorskip("anyio")

DESIGN = {"intent_to_treat": "assigned", "treated": "used", "cluster_by": "team_id"}
SPEC = {"table": "tickets", "design": DESIGN, "metrics": ["resolved", "minutes"],
        "covariates": ["pre_resolution", "region"], "segments": ["region = 'apac'"]}


async def _session(path: Path, script: Any) -> Any:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    server = StdioServerParameters(command=sys.executable,
                                   args=["-m", "warehouse_causal", "mcp", "--connection", str(path)])
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return await script(session)


def _answer(result: Any) -> dict[str, Any]:
    document = json.loads(result.content[0].text)
    assert result.structured_content == document
    return document


def test_stdio_client_lists_tools_and_analyze_matches_the_python_api(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = wc.connect(path)
    con.create_table("tickets", wc.datasets.tickets(rows=6000, teams=80).to_pyarrow())
    con.disconnect()

    async def script(session: Any) -> dict[str, Any]:
        listed = await session.list_tools()
        out: dict[str, Any] = {"tools": {t.name: t.input_schema for t in listed.tools}}
        out["early"] = await session.call_tool("analyze", SPEC)
        out["check"] = await session.call_tool("check_design", {"table": "tickets", "design": DESIGN})
        out["analyze"] = await session.call_tool("analyze", SPEC)
        out["bad"] = await session.call_tool("analyze", {**SPEC, "metrics": [{"ratio": "r"}]})
        out["write"] = await session.call_tool(
            "analyze", {**SPEC, "metrics": ["resolved; DROP TABLE tickets"]})
        out["after"] = await session.call_tool("describe", {"tables": ["tickets"]})
        return out

    out = anyio.run(_session, path, script)
    assert set(out["tools"]) == {"describe", "check_design", "analyze", "plan", "policy", "monitor"}
    assert out["tools"]["analyze"]["properties"]["metrics"]["minItems"] == 1
    early = _answer(out["early"])
    assert out["early"].is_error and early["error"]["class"] == "DesignNotCheckedError"
    assert not out["check"].is_error and _answer(out["check"])["estimand"]["short"] == "LATE"

    answer = _answer(out["analyze"])
    assert not out["analyze"].is_error
    python_con = wc.connect(path, read_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        model = wc.ExperimentData(python_con.table("tickets"), **DESIGN).add_metric(
            SPEC["metrics"], SPEC["covariates"]).fit(wc.LinearModel)
    python = model.infer_effect(condition_on=SPEC["segments"]).to_dicts()
    for ours, theirs in zip(answer["effects"], python, strict=True):
        for column in ("estimate", "std_error", "ci_lower", "ci_upper", "av_ci_upper", "p_value"):
            np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-12)
    assert answer["estimand"]["statement"] and answer["assumptions"] and answer["queries"]

    bad = _answer(out["bad"])["error"]
    assert out["bad"].is_error and bad["class"] == "SpecError" and bad["path"] == "/metrics/0"
    write = _answer(out["write"])["error"]
    assert out["write"].is_error and write["class"] == "ExpressionError"
    assert "Traceback" not in write["message"]
    assert _answer(out["after"])["tables"][0]["rows"] == 6000  # the table is intact
