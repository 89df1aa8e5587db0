"""The MCP server: `judgerank mcp` offers the tools rerank, judge and arena to agents.

Over stdio (an agent launches `judgerank mcp` itself) or streamable HTTP (`--transport http`,
at /mcp, API keys as for `judgerank serve`). The tools' input schemas are the HTTP service's
request bodies (server/models.py) and they run through the same Service, so sizes, budgets
and the models on offer are the operator's, whichever way a request comes in.

A call whose arguments do not fit the schema, or that judgerank refuses (an unknown model, a
model server down), is a tool result with is_error set and one line saying why, which the
calling model can read and correct; an unknown tool name is an MCP protocol error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from judgerank.adapters.compat import require

require("mcp")

import anyio  # noqa: E402
import mcp_types as types  # noqa: E402
from mcp.server.lowlevel import Server  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from pydantic import BaseModel, ValidationError  # noqa: E402

from judgerank import __version__  # noqa: E402
from judgerank.core.errors import JudgerankError, StoreError  # noqa: E402
from judgerank.server.models import ArenaIn, JudgeIn, RerankIn  # noqa: E402
from judgerank.server.service import ServerConfig, Service, refusal, status_of  # noqa: E402

log = logging.getLogger("judgerank.mcp")

TOOLS: dict[str, tuple[type[BaseModel], str]] = {
    "rerank": (RerankIn, "Order documents by relevance to a query with an LLM (or embedding) judge. Returns "
               "results best first: the document's index in the input, relevance_score in [0, 1], and costs."),
    "judge": (JudgeIn, "Order one prompt's candidate responses from best to worst with an LLM judge. Returns the "
              "best response's id, the ranking with scores and expected ratings, and trust diagnostics."),
    "arena": (ArenaIn, "Rate players (models) from battle records {model_a, model_b, winner} with Bradley-Terry, "
              "Elo and others. Returns the leaderboard with ratings and optional bootstrap intervals."),
}


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "arguments"
    return f"invalid arguments: {where}: {first['msg']} ({exc.error_count()} problem{'s' * (exc.error_count() > 1)})"


def build_server(service: Service) -> Server[Any]:
    """An MCP server whose tools call `service`; model work runs in worker threads."""
    operations: dict[str, Callable[[Any], BaseModel]] = {
        "rerank": service.rerank, "judge": service.judge, "arena": service.arena,
    }
    tools = [
        types.Tool(name=name, description=description, input_schema=model.model_json_schema())
        for name, (model, description) in TOOLS.items()
    ]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in TOOLS:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name!r}: use {', '.join(TOOLS)}")
        try:
            body = TOOLS[params.name][0].model_validate(params.arguments or {})
        except ValidationError as exc:
            return _error(_explain(exc))
        try:
            out = await anyio.to_thread.run_sync(operations[params.name], body)
        except JudgerankError as exc:
            status, message = status_of(exc)
            if isinstance(exc, StoreError):
                log.exception("judgment store failed")
            return _error(f"{status}: {message}")
        data = out.model_dump(mode="json", exclude_none=True)
        return types.CallToolResult(content=[types.TextContent(text=json.dumps(data))], structured_content=data)

    return Server("judgerank", version=__version__, instructions="Rank documents, responses or models with LLM "
                  "judgments; every result carries its costs.", on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(config: ServerConfig) -> None:
    """Serve over this process's stdin and stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    service = Service(config)
    server = build_server(service)
    try:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    finally:
        service.close()


def http_app(config: ServerConfig, host: str = "127.0.0.1") -> tuple[Any, Service]:
    """A streamable-HTTP app at /mcp, behind the API keys when there are any, and its Service."""
    service = Service(config)
    inner = build_server(service).streamable_http_app(streamable_http_path="/mcp", host=host)

    async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        refused = refusal(scope.get("headers", []), config.api_keys) if scope["type"] == "http" else None
        if refused is not None:  # on the headers, before any body is read
            status, message = refused
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"), *([(b"www-authenticate", b"Bearer")] if status == 401 else [])]})
            await send({"type": "http.response.body", "body": json.dumps({"detail": message}).encode()})
            return
        await inner(scope, receive, send)

    return app, service
