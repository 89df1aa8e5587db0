"""Test servers for judges that answer in words: a proxy in front of a real model server that
takes its log-probabilities away, and a stand-in reasoning model.

RewriteProxy forwards to a real OpenAI-compatible server and, by `mode`:
  "strip"      removes `logprobs` from every reply (a server that gives none)
  "refuse"     answers 400 "logprobs is not supported" to a request that asks for them
  "completion" answers 400 to a request with max_tokens, naming max_completion_tokens (OpenAI's
               reasoning models), and forwards max_completion_tokens as max_tokens
It counts what it saw in `requests` (the JSON bodies).

StandinReasoner answers chat completions as a reasoning model would: never with log-probabilities
(400 when asked), thinking first in a `reasoning_content` field ("channel") or a <think> block
("think"), then the verdict; "ignore" answers the first ask with prose and no verdict (the repair
turn gets one); "never" gives no verdict at all. Its verdicts are known: a pair's better response
is the one holding the word "correct", a passage is relevant when it holds "flea".
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from helpers.faultproxy import _read_request
from helpers.loopback import LoopbackServer


def _http(status: int, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    reason = {200: "OK", 400: "Bad Request"}[status]
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n"
            "connection: close\r\n\r\n").encode() + payload


def _split(request: bytes) -> tuple[bytes, dict[str, Any]]:
    head, _, body = request.partition(b"\r\n\r\n")
    return head, json.loads(body) if body else {}


class _OneReply(LoopbackServer):
    """Reads each request whole, keeps its JSON body in `requests`, sends `answer`, closes."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is None:
                return
            head, body = _split(request)
            self.requests.append(body)
            writer.write(await self.answer(head, body))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def answer(self, head: bytes, body: dict[str, Any]) -> bytes:
        raise NotImplementedError


class RewriteProxy(_OneReply):
    def __init__(self, upstream_port: int, mode: str) -> None:
        super().__init__()
        self.upstream_port = upstream_port
        self.mode = mode

    async def answer(self, head: bytes, body: dict[str, Any]) -> bytes:
        if self.mode == "refuse" and "logprobs" in body:
            return _http(400, {"error": {"message": "logprobs is not supported by this model"}})
        if self.mode == "completion" and "max_tokens" in body:
            return _http(400, {"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this "
                                                    "model. Use 'max_completion_tokens' instead."}})
        if "max_completion_tokens" in body:
            body["max_tokens"] = body.pop("max_completion_tokens")
        status, reply = await self._forward(head, body)
        if self.mode == "strip":
            for choice in reply.get("choices", []):
                choice.pop("logprobs", None)
        return _http(status, reply)

    async def _forward(self, head: bytes, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        payload = json.dumps(body).encode()
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length")]
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        up_writer.write(b"\r\n".join([*lines, b"Content-Length: " + str(len(payload)).encode()]) + b"\r\n\r\n" + payload)
        await up_writer.drain()
        reply = await up_reader.read()
        up_writer.close()
        status_line, _, rest = reply.partition(b"\r\n")
        _, _, body_bytes = rest.partition(b"\r\n\r\n")
        if b"chunked" in rest.split(b"\r\n\r\n")[0].lower():
            body_bytes = _unchunk(body_bytes)
        return int(status_line.split()[1]), json.loads(body_bytes)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


class StandinReasoner(_OneReply):
    def __init__(self, mode: str = "channel") -> None:
        super().__init__()
        self.mode = mode

    async def answer(self, head: bytes, body: dict[str, Any]) -> bytes:
        if "logprobs" in body:
            return _http(400, {"error": {"message": "This model does not support logprobs"}})
        return _http(200, self.reply(body["messages"]))

    def verdict(self, messages: list[dict[str, str]]) -> str:
        prompt = messages[1]["content"] if len(messages) > 1 and messages[0]["role"] == "system" else messages[0]["content"]
        first = re.search(r"Assistant A's Answer\]\n(.*?)\n\[The End", prompt, re.S)
        if first is not None:
            return "[[A]]" if "correct" in first.group(1) else "[[B]]"
        passage = re.search(r"Passage: (.*)", prompt)
        return "[[Yes]]" if passage is not None and "flea" in passage.group(1) else "[[No]]"

    def reply(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        repairing = messages[-1]["content"].startswith("Your reply did not end")
        verdict = self.verdict(messages[:2] if messages[0]["role"] == "system" else messages[:1])
        message: dict[str, Any] = {"role": "assistant"}
        thought = "Comparing both against the question, step by step."
        if self.mode == "never" or (self.mode == "ignore" and not repairing):
            message["content"] = "Both have their merits, and I would rather not pick."
        elif self.mode == "channel":
            message |= {"reasoning_content": thought, "content": verdict}
        else:
            message["content"] = f"<think>{thought}</think>\n\n**Final verdict:** {verdict}"
        words = sum(len(m["content"].split()) for m in messages)
        return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": words, "completion_tokens": 12, "total_tokens": words + 12}}
