"""The paper's motivating example end to end (examples/closing_the_loop): the script answers the six
objectives with every truth inside its interval, and a scripted agent reaches the same numbers
through the MCP tools (the SDK's stdio client against `warehouse-causal mcp`)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import warehouse_causal as wc

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "closing_the_loop"


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(EXAMPLE))
    try:
        spec = importlib.util.spec_from_file_location(f"closing_the_loop_{name}", EXAMPLE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLE))


@pytest.fixture(scope="module")
def checks() -> dict[str, tuple[float, float, float]]:
    return {name: (truth, lower, upper) for name, truth, lower, upper in _load("analysis").run(show=False)}


def test_every_truth_lies_inside_its_interval(checks: dict[str, tuple[float, float, float]]) -> None:
    assert len(checks) == 17
    missed = {name: c for name, c in checks.items() if not c[1] <= c[0] <= c[2]}
    assert not missed, missed
    assert checks["1. ITT of the offer on sales"][2] < 0  # sales fall on average
    assert checks["3. effect on desktop shoppers"][1] > 0  # a slower site does not hurt desktop


def test_a_scripted_agent_gets_the_same_numbers_through_mcp(
        tmp_path: Path, checks: dict[str, tuple[float, float, float]]) -> None:
    pytest.importorskip("mcp")
    anyio = pytest.importorskip("anyio")
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    store = _load("store")
    main, variant, _ = store.simulate_store(4000, seed=2026)
    path = tmp_path / "store.duckdb"
    con = wc.connect(path)
    con.create_table("sessions", main)
    con.create_table("encouragement", variant)
    con.disconnect()
    covariates = ["desktop", "holiday", "strong", "pre_sales"]
    offer = {"intent_to_treat": "offered", "cluster_by": "shopper"}
    taken = {**offer, "treated": "diverse", "noncompliance": "one-sided"}
    randomized = {"intent_to_treat": "diverse", "cluster_by": "shopper"}
    logged = {**randomized, "propensity": "p_assigned"}

    async def agent(session: Any) -> dict[str, Any]:
        async def call(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = await session.call_tool(tool, arguments)
            answer = json.loads(result.content[0].text)
            assert not result.is_error, answer
            return answer

        out = {"describe": await call("describe", {})}
        for table, design in (("encouragement", offer), ("encouragement", taken), ("sessions", randomized),
                              ("sessions", logged)):
            await call("check_design", {"table": table, "design": design})
        out["itt"] = await call("analyze", {"table": "encouragement", "design": offer, "metrics": ["sales"],
                                            "covariates": covariates})
        out["late"] = await call("analyze", {"table": "encouragement", "design": taken, "metrics": ["sales"],
                                             "covariates": covariates})
        out["main"] = await call("analyze", {
            "table": "sessions", "design": randomized, "metrics": ["sales", "searches", "views"],
            "covariates": covariates, "segments": ["desktop = 1", "holiday = 1"],
            "over_time": {"time": "day", "looks": 7}, "graph": "T -> searches -> views -> sales; T -> views",
            "projection": {"mix": {"strong = 1": 0.2, "strong = 0": 0.8}, "name": "weak economy"}})
        out["policy"] = await call("policy", {
            "table": "sessions", "design": logged, "metric": "sales", "covariates": covariates,
            "contexts": [{"desktop": 1, "holiday": 0, "strong": 1, "pre_sales": 2.0},
                         {"desktop": 0, "holiday": 0, "strong": 1, "pre_sales": 2.0}],
            "evaluate": store.POLICY})
        return out

    async def session_with_server() -> dict[str, Any]:
        server = StdioServerParameters(command=sys.executable,
                                       args=["-m", "warehouse_causal", "mcp", "--connection", str(path)])
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await agent(session)

    out = anyio.run(session_with_server)

    def same(name: str, row: dict[str, Any], lower: str = "ci_lower", upper: str = "ci_upper") -> None:
        _, low, high = checks[name]
        assert (row[lower], row[upper]) == pytest.approx((low, high), rel=1e-9), name

    roles = {t["table"]: t["candidate_columns"] for t in out["describe"]["tables"]}
    assert "shopper" in roles["sessions"]["cluster"] and "diverse" in roles["sessions"]["assignment"]
    assert out["itt"]["estimand"]["short"] == "ATE" and out["late"]["estimand"]["short"] == "LATE"
    same("1. ITT of the offer on sales", out["itt"]["effects"][0])
    same("1. LATE of the diverse ranking on sales", out["late"]["effects"][0])
    main = out["main"]
    for look in (r for r in main["over_time"] if r["metric"] == "sales"):
        same(f"2. effect through day {look['through']} (anytime)", look, "av_ci_lower", "av_ci_upper")
    effects = {(r["metric"], r["segment"]): r for r in main["effects"]}
    same("3. effect on desktop shoppers", effects[("sales", "desktop = 1")])
    same("3. effect on holiday shoppers", effects[("sales", "holiday = 1")])
    paths = {r["path"]: r for r in main["mediation"]}
    same("5. T -> searches -> views -> sales", paths["T -> searches -> views -> sales"])
    same("5. T -> views -> sales", paths["T -> views -> sales"])
    projected = next(r for r in main["projection"] if r["metric"] == "sales")
    same("6. effect in a weaker economy", projected)
    assert main["next_steps"] and any("Randomization" in a for a in main["assumptions"])
    policy = out["policy"]
    shown = [round(c["probabilities"]["1"]) for c in policy["contexts"]]
    assert shown == [checks[f"4. Thompson shows it, desktop={d}"][1] for d in (1, 0)]
    doubly_robust = next(r for r in policy["evaluation"] if r["estimator"] == "dr")
    same("4. value of 'desktop only' (doubly robust)", doubly_robust)
