"""The Model Context Protocol server: the agent tools of :mod:`warehouse_causal.surfaces.agent` over stdio
(``warehouse-causal mcp --connection warehouse.duckdb``) or streamable HTTP (``--http PORT``).

Needs the official MCP SDK: ``pip install 'warehouse_causal[mcp]'``. The tools run in a worker
thread (the warehouse queries block); each answer is the tool's JSON as text and as structured
content, and a failure is the same structured error with ``isError`` set.
"""

from __future__ import annotations

import json
from typing import Any

from warehouse_causal.core.version import __version__
from warehouse_causal.surfaces.agent import TOOLS, Toolbox

__all__ = ["build_server", "serve"]

INSTRUCTIONS = (
    "warehouse_causal analyses online experiments inside this warehouse. Call describe, then "
    "check_design with the randomization, then analyze (effects, segments, over_time, mediation, "
    "decision and memo), plan (power) or policy (ranking, Thompson sampling, off-policy value). "
    "Every answer states its estimand and assumptions; read them before concluding."
)


def _sdk() -> tuple[Any, Any, Any]:
    try:
        import anyio
        import mcp_types as types
        from mcp.server import Server
    except ImportError as err:  # optional extra
        raise ImportError("The MCP server needs the MCP SDK: pip install 'warehouse_causal[mcp]'") from err
    return anyio, types, Server


def build_server(toolbox: Toolbox) -> Any:
    """An MCP ``Server`` whose tools are :data:`warehouse_causal.surfaces.agent.TOOLS` over ``toolbox``."""
    anyio, types, server_class = _sdk()
    tools = [types.Tool(name=t.name, description=t.description, inputSchema=t.input_schema) for t in TOOLS]

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: Any) -> Any:
        answer, failed = await anyio.to_thread.run_sync(toolbox.call, params.name, params.arguments)
        text = json.dumps(answer, default=str, allow_nan=False)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structuredContent=answer, isError=failed)

    return server_class("warehouse-causal", version=__version__, instructions=INSTRUCTIONS,
                        on_list_tools=list_tools, on_call_tool=call_tool)


def serve(toolbox: Toolbox, http_port: int | None = None, host: str = "127.0.0.1") -> None:
    """Serve until the client disconnects (stdio) or the process stops (HTTP)."""
    anyio, _, _ = _sdk()
    server = build_server(toolbox)
    if http_port is not None:
        import uvicorn

        uvicorn.run(server.streamable_http_app(), host=host, port=http_port)
        return
    from mcp.server.stdio import stdio_server

    async def run() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(run)
