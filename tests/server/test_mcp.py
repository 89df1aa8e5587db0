"""The MCP server through a real client session of the `mcp` package: over stdio, the way an
agent launches `judgerank mcp`, and over streamable HTTP behind an API key."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import anyio
import httpx
import pytest

from judgerank import Reranker
from judgerank.core.types import Item, Query, Request

DOCS = ["Paris is the capital of France.", "Fleas live two to three months.", "A flea's life cycle has four stages.",
        "Stocks rallied on Monday."]
GRADES = {DOCS[0]: 0, DOCS[1]: 2, DOCS[2]: 3, DOCS[3]: 0}


@pytest.fixture
def model(tmp_path) -> str:
    path = tmp_path / "grades.json"
    path.write_text(json.dumps(GRADES))
    return f"simulated:{path}"


def expected_order(model: str) -> list[int]:
    request = Request(Query("q", "flea life cycle"), tuple(Item(str(n), d) for n, d in enumerate(DOCS)))
    with Reranker("pointwise", model, store=None) as reranker:
        return [int(i) for i in reranker.rank(request.query, request.items).ids]


def server_args(model: str) -> list[str]:
    return ["-m", "judgerank", "mcp", "--model", model, "--no-store", "--max-calls", "50"]


async def session_calls(client) -> dict:
    from mcp.shared.exceptions import MCPError

    tools = await client.list_tools()
    found = {t.name: t for t in tools.tools}
    good = await client.call_tool("rerank", {"query": "flea life cycle", "documents": DOCS, "method": "pointwise",
                                             "top_n": 3})
    bad_type = await client.call_tool("rerank", {"query": "flea", "documents": "not a list"})
    bad_method = await client.call_tool("rerank", {"query": "flea", "documents": DOCS, "method": "nope"})
    arena = await client.call_tool("arena", {"battles": [{"model_a": "x", "model_b": "y", "winner": "model_a"},
                                                         {"model_a": "y", "model_b": "x", "winner": "tie"}]})
    judge = await client.call_tool("judge", {"prompt": "flea life cycle", "responses": DOCS[1:3], "method": "pointwise"})
    in_words = await client.call_tool("judge", {"prompt": "flea life cycle", "responses": DOCS[1:3], "method": "allpairs",
                                                "hearing": {"verdicts": "text", "reasoning": True, "explain": True}})
    with pytest.raises(MCPError, match="unknown tool 'delete'"):
        await client.call_tool("delete", {})
    budgeted = await client.call_tool("rerank", {"query": "flea eggs", "documents": DOCS, "method": "pointwise",
                                                 "budget": {"max_calls": 2}})
    alive = await client.call_tool("arena", {"battles": [{"model_a": "x", "model_b": "y", "winner": "b"}]})
    return dict(found=found, good=good, bad_type=bad_type, bad_method=bad_method, arena=arena, judge=judge, alive=alive,
                budgeted=budgeted, in_words=in_words)


def check(results: dict, model: str) -> None:
    found = results["found"]
    assert sorted(found) == ["arena", "judge", "rerank"]
    from judgerank.server.models import RerankIn

    assert found["rerank"].input_schema["properties"]["method"] == RerankIn.model_json_schema()["properties"]["method"]
    good = results["good"]
    assert not good.is_error
    out = good.structured_content
    assert [r["index"] for r in out["results"]] == expected_order(model)[:3]
    assert out["meta"]["judgerank"]["costs"]["calls"] == len(DOCS)
    assert json.loads(good.content[0].text) == out
    for name in ("bad_type", "bad_method"):
        assert results[name].is_error, name
    assert "invalid arguments: documents" in results["bad_type"].content[0].text
    assert "invalid arguments: method" in results["bad_method"].content[0].text
    assert [row["player"] for row in results["arena"].structured_content["leaderboard"]] == ["x", "y"]
    assert results["judge"].structured_content["best"] == "1"  # the response the grades rate higher
    in_words = results["in_words"].structured_content
    assert in_words["best"] == "1" and in_words["costs"]["completion_tokens"] > 0
    said = in_words["explanations"]  # both orders of the pair, and the two ratings
    assert len(said) == 4 and all(e["reasoning"] == "Weighing what each shows." for e in said)
    assert not results["alive"].is_error  # the server survived the malformed calls
    budgeted = results["budgeted"].structured_content["meta"]["judgerank"]
    assert budgeted["costs"]["calls"] == 2 and budgeted["complete"] is False


def test_mcp_over_stdio_lists_tools_and_reranks(model, tmp_path):
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=server_args(model),
                                   env={"JUDGERANK_HOME": str(tmp_path / "home")})

    async def run() -> dict:
        async with Client(params) as client:
            return await session_calls(client)

    check(anyio.run(run), model)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mcp_over_http_needs_the_api_key(model, tmp_path):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    port = free_port()
    env = {**os.environ, "JUDGERANK_API_KEYS": "s3cret", "JUDGERANK_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, *server_args(model), "--transport", "http", "--port", str(port)], env=env,
                            stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                refused = httpx.post(url, json={}, timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "the MCP server did not start"
                time.sleep(0.3)
        assert refused.status_code == 401

        async def run() -> dict:
            async with httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret"}, timeout=60) as http:
                async with Client(streamable_http_client(url, http_client=http)) as client:
                    return await session_calls(client)

        check(anyio.run(run), model)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
