"""A counting pass-through in front of an OpenAI-compatible server: every implementation in a comparison
talks to the model through it, so LLM calls and tokens are counted the same way for all of them (from the
`usage` of each reply), whatever each one counts itself."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class UsageProxy:
    """Forwards every request to upstream (a URL without /v1) and sums calls, prompt and completion tokens
    of the completion endpoints. Use as a context manager; `url` is the proxy's base, `reset()` returns
    the counts so far and starts again from zero."""

    def __init__(self, upstream: str, port: int, timeout: float = 1800.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.url = f"http://127.0.0.1:{port}"
        self._lock = threading.Lock()
        self._counts = self._zero()
        self._client = client = httpx.Client(timeout=timeout)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
                try:
                    reply = client.request(method, proxy.upstream + self.path, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    self.send_error(502, f"upstream: {exc!r}")
                    return
                if method == "POST" and self.path.endswith("completions") and reply.status_code == 200:
                    proxy._count(reply.content)
                self.send_response(reply.status_code)
                self.send_header("Content-Type", reply.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                self._forward("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._forward("POST")

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def _zero() -> dict[str, int]:
        return {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}

    def _count(self, content: bytes) -> None:
        usage = json.loads(content).get("usage") or {}
        with self._lock:
            self._counts["calls"] += 1
            self._counts["prompt_tokens"] += int(usage.get("prompt_tokens", 0))
            self._counts["completion_tokens"] += int(usage.get("completion_tokens", 0))

    def reset(self) -> dict[str, int]:
        with self._lock:
            counts, self._counts = self._counts, self._zero()
        return counts

    def __enter__(self) -> UsageProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
