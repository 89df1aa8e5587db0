"""The judgerank HTTP service: Cohere/Jina-style rerank, response judging, arena, health, metrics.

POST /v1/rerank (also /v2/rerank and /rerank): {query, documents: [str | {text}], top_n,
    return_documents, method?, model?, budget?} -> {id, results: [{index, relevance_score,
    document?}], meta, usage}. relevance_score is the method's probability of relevance in
    [0, 1] where it gives one (and `relevance: "rank"` was not asked), the embedding's cosine
    clipped to [0, 1] where that is the score, else 1 for the first result falling by 1/n a rank
    (meta.judgerank.relevance says which); it never rises down the results. meta.judgerank
    carries the scores, costs and completeness.
POST /v1/judge: {prompt, responses: [str | {id, text}], reference?, method?, model?, budget?}
    -> {best, ranking: [{id, index, score, rating}], diagnostics, costs, complete}.
POST /v1/assess: {query, documents: [str | {id, text}], model?, label?, guard?, budget?} -> {grades,
    labels: [{index, id, grade, expected, probabilities, flags}], costs, complete}: relevance
    grades 0-3 for pooled passages (judgerank assess).
POST /v1/arena: {battles: [{model_a, model_b, winner}], method?, bootstrap?} -> {leaderboard}.
GET /healthz, GET /metrics (Prometheus text).

The operations are server/service.py's (the MCP server calls the same); here they run in worker
threads of their own (as many as --max-in-flight), so /healthz, /metrics and requests served
from the judgment store never queue behind model work. A client that disconnects cancels its
request's remaining model calls (finished judgments stay stored). Bodies over max_body_bytes are
refused (413) before they are parsed. An in-process model takes one batch at a time, an
OpenAI-compatible endpoint many at once, different models side by side; all requests share one judgment store, so repeated
judgments are free. Errors are mapped by cause: the caller's fault 4xx, a model server's fault
502/503/504 naming the endpoint, our own fault 500 with no detail beyond that.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from judgerank import __version__
from judgerank.core.cancel import run_cancellable
from judgerank.core.costs import Costs
from judgerank.core.errors import JudgerankError, StoreError
from judgerank.server.model_threads import ModelThreads
from judgerank.server.models import ArenaIn, ArenaOut, AssessIn, AssessOut, JudgeIn, JudgeOut, RerankIn, RerankOut
from judgerank.server.service import ServerConfig, Service, authorized, refusal, status_of

__all__ = ["ServerConfig", "create_app"]

log = logging.getLogger("judgerank.server")
T = TypeVar("T")


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("judgerank_requests", "HTTP requests", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram(
            "judgerank_request_seconds", "Request latency", ["endpoint"], registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )
        self.calls = Counter("judgerank_llm_calls", "LLM calls made (cache misses)", registry=self.registry)
        self.tokens = Counter("judgerank_tokens", "Tokens sent to models", ["kind"], registry=self.registry)
        self.cache_hits = Counter("judgerank_cache_hits", "Judgments served from the cache", registry=self.registry)
        self.retries = Counter("judgerank_backend_retries", "Backend requests retried", registry=self.registry)

    def charge(self, costs: Costs) -> None:
        self.calls.inc(costs.calls)
        self.tokens.labels("prompt").inc(costs.prompt_tokens)
        self.tokens.labels("completion").inc(costs.completion_tokens)
        self.cache_hits.inc(costs.cache_hits)
        self.retries.inc(costs.retries)


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """The HTTP app over one Service (its models checked now, before a port is taken)."""
    config = config or ServerConfig()
    metrics = _Metrics()
    service = Service(config, on_costs=metrics.charge)
    model_threads = ModelThreads(config.max_in_flight)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        model_threads.close()
        service.close()

    # docs_url etc. are ours (_docs): served from local assets and behind the API key like the rest
    app = FastAPI(title="judgerank", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, description="Rerank, judge and rate with LLMs, with costs counted.")
    app.state.runtime = service.runtime

    def authorize(request: Request, _: Annotated[Any, Depends(BEARER)]) -> None:
        # the Bearer scheme is declared for the OpenAPI document (Swagger's Authorize button); the
        # check is ours, on the raw header (BodyLimit has refused a second Authorization header)
        if not authorized(request.headers.get("authorization", ""), config.api_keys):
            raise HTTPException(401, "missing or invalid API key (Authorization: Bearer ...)",
                                headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorize)]
    _count_and_limit(app, config, metrics)
    _docs(app, guarded)
    _operations(app, service, config, guarded, model_threads)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input as UTF-8 and fails (500) on a lone surrogate;
        # ASCII-escaped JSON carries any input back
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True, default=str)
        return Response(body, 422, media_type="application/json")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's words for a body that is not JSON in UTF-8: the input's fault, said as 422 like the rest
            return JSONResponse({"detail": "the request body is not valid JSON in UTF-8"}, 422)
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        # reachable only once the default method's models are loaded (create_app loads them)
        return {"status": "ok", "ready": True, "models": service.model_names(), "method": config.method,
                "loaded": service.runtime.loaded}

    @app.get("/metrics", dependencies=guarded)
    async def metrics_text() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return BodyLimit(app, config.max_body_bytes, config.api_keys, config.body_timeout, config.max_body_buffer)  # type: ignore[return-value]  # an ASGI app around FastAPI


BEARER = HTTPBearer(auto_error=False, description="An API key of the server's --api-keys file")


def _count_and_limit(app: FastAPI, config: ServerConfig, metrics: _Metrics) -> None:
    """Every request counted and timed; model work refused (429) past max_in_flight requests, and,
    with API keys, past a key's share of them (max_in_flight_per_key, half the slots unless set),
    so that one client cannot hold every slot."""
    in_flight = {"n": 0}
    by_key: dict[str, int] = {}
    share = config.max_in_flight_per_key or max(1, config.max_in_flight // 2)

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        endpoint = request.url.path
        start = time.perf_counter()
        key = request.headers.get("authorization", "") if config.api_keys else ""
        busy = None
        if endpoint in _WORK and in_flight["n"] >= config.max_in_flight:
            busy = f"server busy: {config.max_in_flight} requests in flight (limit)"
        elif endpoint in _WORK and config.api_keys and by_key.get(key, 0) >= share:
            busy = (f"this API key has {share} requests in flight, its share of the server's {config.max_in_flight} "
                    "(max_in_flight_per_key)")
        if busy is not None and endpoint not in _FROM_STORE:
            response: Response = JSONResponse({"detail": busy}, 429)
        else:
            # with the slots full, a request whose every judgment is stored is still served, in
            # a thread pool of its own, without a slot (it asks no model); else it gets the 429
            request.state.busy = busy
            counted = busy is None
            if counted:
                in_flight["n"] += 1
                by_key[key] = by_key.get(key, 0) + 1
            try:
                response = await call_next(request)
            except Exception:  # our own fault: logged here, never a stack trace or path in the body
                log.exception("internal error on %s", endpoint)
                response = JSONResponse({"detail": "internal server error"}, 500)
            finally:
                if counted:
                    in_flight["n"] -= 1
                    by_key[key] -= 1
                    if not by_key[key]:
                        del by_key[key]
        known = endpoint if endpoint in _ENDPOINTS else "other"
        metrics.requests.labels(known, str(response.status_code)).inc()
        metrics.latency.labels(known).observe(time.perf_counter() - start)
        return response


def _docs(app: FastAPI, guarded: list[Any]) -> None:
    """The OpenAPI document, Swagger UI and ReDoc, from local assets, behind the API key."""

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guarded)
    def swagger() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="judgerank API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")

    @app.get("/redoc", include_in_schema=False, dependencies=guarded)
    def redoc() -> Response:
        return get_redoc_html(openapi_url="/openapi.json", title="judgerank API",
                              redoc_js_url="/docs-assets/redoc.standalone.js",
                              redoc_favicon_url="/docs-assets/favicon.png", with_google_fonts=False)

    @app.get("/docs-assets/{name}", include_in_schema=False, dependencies=guarded)
    def docs_asset(name: str) -> Response:
        folder = _docs_assets()
        if name not in DOCS_ASSETS or folder is None:
            raise HTTPException(404, "no such asset (the API docs need the [server] extra: fastapi-offline)")
        return FileResponse(folder / name)


def _operations(app: FastAPI, service: Service, config: ServerConfig, guarded: list[Any],
                model_threads: ModelThreads) -> None:
    """rerank (three paths), judge and arena, each run in a worker thread: a request that holds
    a model slot in a low-priority model thread (server/model_threads.py), one the slots were
    full for (the store answers it whole, or it is refused) in one of the event loop's, so it
    neither queues nor waits for the CPU behind model work."""
    workers = Pool(anyio.CapacityLimiter(config.max_in_flight), model_threads)
    stored = Pool(anyio.CapacityLimiter(STORE_THREADS), None)  # requests served from the store while the slots are full

    def pool(request: Request) -> Pool:
        return workers if _busy(request) is None else stored

    async def rerank(body: RerankIn, request: Request) -> RerankOut:
        return await _in_worker(lambda: service.rerank(body, _busy(request)), request, pool(request))

    # clients disagree on the path: Cohere v1 and v2, Jina and most OSS rerank servers
    for path, summary in (("/v1/rerank", "Rerank documents (Cohere/Jina shape)"),
                          ("/v2/rerank", "Rerank documents (Cohere v2 path)"),
                          ("/rerank", "Rerank documents (the path without a version)")):
        app.post(path, response_model=RerankOut, response_model_exclude_none=True, dependencies=guarded,
                 summary=summary)(rerank)

    @app.post("/v1/judge", response_model=JudgeOut, dependencies=guarded,
              summary="Order one prompt's responses with an LLM judge")
    async def judge(body: JudgeIn, request: Request) -> JudgeOut:
        return await _in_worker(lambda: service.judge(body, _busy(request)), request, pool(request))

    @app.post("/v1/assess", response_model=AssessOut, dependencies=guarded,
              summary="Grade passages 0-3 for relevance with an LLM assessor (judgerank assess)")
    async def assess(body: AssessIn, request: Request) -> AssessOut:
        return await _in_worker(lambda: service.assess(body, _busy(request)), request, pool(request))

    @app.post("/v1/arena", response_model=ArenaOut, dependencies=guarded,
              summary="A leaderboard from battles (no model is asked)")
    async def leaderboard(body: ArenaIn, request: Request) -> ArenaOut:
        return await _in_worker(lambda: service.arena(body), request, workers)


_WORK = {"/v1/rerank", "/v2/rerank", "/rerank", "/v1/judge", "/v1/assess", "/v1/arena"}
_FROM_STORE = _WORK - {"/v1/arena"}  # work that the judgment store can answer whole
STORE_THREADS = 16


def _busy(request: Request) -> str | None:
    """Why the model slots were full when the request came (None: it holds a slot)."""
    return getattr(request.state, "busy", None)
_ENDPOINTS = _WORK | {"/healthz", "/metrics", "/docs", "/openapi.json"}
DOCS_ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"}


def _docs_assets() -> Path | None:
    """Swagger UI and ReDoc as shipped inside the fastapi-offline package: no CDN, so the docs
    render offline. Found without importing the package (only its files are used)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@dataclass(frozen=True)
class Pool:
    """Where a request's work runs: at most `limiter`'s tokens at once, in the model threads
    (None: the event loop's worker threads)."""

    limiter: anyio.CapacityLimiter
    threads: ModelThreads | None


async def _in_worker(work: Callable[[], T], request: Request, pool: Pool) -> T:
    """Run model work in a worker thread, stopped before its next model call if the client
    disconnects (BodyLimit watches the connection), and map a failure to its HTTP status."""
    gone = request.scope.get(DISCONNECTED) or threading.Event()
    try:
        if pool.threads is None:
            return await anyio.to_thread.run_sync(run_cancellable, gone, work, limiter=pool.limiter)
        async with pool.limiter:
            return await pool.threads.run(run_cancellable, gone, work)
    except JudgerankError as exc:
        status, message = status_of(exc)
        if isinstance(exc, StoreError):  # our own store: logged with its path, never sent to the caller
            log.exception("judgment store failed")
        raise HTTPException(status, message) from None


DISCONNECTED = "judgerank.disconnected"  # scope key: a threading.Event set when the client goes away


OPEN_PATHS = frozenset({"/healthz"})  # answered without an API key (a load balancer's probe)


@dataclass
class Held:
    """The body bytes one request has reserved in BodyLimit's buffer."""

    size: int


class BodyLimit:
    """ASGI middleware around the app: the API key is checked on the headers, before any of the
    body is read (a client without one is answered 401 at once, whatever it sends after; two
    Authorization headers are 400); a request body over `limit` bytes is refused with 413 as
    soon as it is seen (its Content-Length, or the bytes received so far), never parsed or held
    whole; one that has not arrived whole within `body_timeout` seconds is 408, the connection
    closed. The bodies of all requests together hold at most `buffer` bytes while they are read
    and served (each reserves its Content-Length, or what has arrived, until it is answered), and
    with API keys one key at most half of that: past it a request is 503 with Retry-After, so
    clients that send most of a body and stall cannot pile up memory (50 of them held 195 MB).
    Once the body is read it listens to the connection and sets scope[DISCONNECTED] when the
    client goes away, so model work can stop."""

    def __init__(self, app: Any, limit: int, api_keys: frozenset[str] = frozenset(), body_timeout: float = 30.0,
                 buffer: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.body_timeout = body_timeout
        self.api_keys = api_keys
        self.buffer = buffer if buffer is not None else 16 * limit
        self.held = {"": 0}  # bytes reserved: "" all requests, else by API key (one event loop: no lock)
        self.state = app.state  # what tests and the server read through the app

    def _reserve(self, key: str, size: int) -> str | None:
        """Reserve size more body bytes for a request of key; why not, when the buffer is full."""
        share = self.buffer // 2 if self.api_keys else self.buffer
        if self.held[""] + size > self.buffer:
            return f"the server is holding {self.buffer:,} bytes of request bodies (max_body_buffer); retry shortly"
        if key and self.held.get(key, 0) + size > share:
            return f"this API key holds its share of the request-body buffer ({share:,} bytes); retry shortly"
        self.held[""] += size
        if key:
            self.held[key] = self.held.get(key, 0) + size
        return None

    def _release(self, key: str, size: int) -> None:
        self.held[""] -= size
        if key:
            left = self.held.pop(key, 0) - size
            if left > 0:
                self.held[key] = left

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refused = refusal(scope.get("headers") or [], self.api_keys) if scope.get("path") not in OPEN_PATHS else None
        if refused is not None:
            return await self._answer(send, *refused, [(b"www-authenticate", b"Bearer")] if refused[0] == 401 else [])
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            return await self._answer(send, 413, f"request body over max_body_bytes {self.limit}")
        key = headers.get(b"authorization", b"").decode("latin-1") if self.api_keys else ""
        held = Held(int(length))  # reserved before a byte is read, when the client says how many
        if held.size and (full := self._reserve(key, held.size)):
            return await self._answer(send, 503, full, [(b"retry-after", b"1")])
        try:
            return await self._read_and_serve(scope, receive, send, key, held)
        finally:
            self._release(key, held.size)

    async def _read_and_serve(self, scope: dict, receive: Callable, send: Callable, key: str, held: Held) -> None:
        """Read the body within the buffer (growing what the request holds), then serve it."""
        chunks, size, more = [], 0, True
        with anyio.move_on_after(self.body_timeout) as waited:
            while more:  # bodies are small by now: read it, counting, then hand it on
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.limit:
                    return await self._answer(send, 413, f"request body over max_body_bytes {self.limit}")
                if size > held.size:  # no Content-Length (chunked), or more than it said
                    if full := self._reserve(key, size - held.size):
                        return await self._answer(send, 503, full, [(b"retry-after", b"1")])
                    held.size = size
                chunks.append(chunk)
                more = message.get("more_body", False)
        if waited.cancelled_caught:  # a client that stalls mid-body holds nothing past body_timeout
            chunks.clear()
            return await self._answer(send, 408, f"request body not received within body_timeout "
                                                 f"{self.body_timeout:g} s")
        body, sent = b"".join(chunks), False
        chunks.clear()
        gone, ended = threading.Event(), anyio.Event()
        scope[DISCONNECTED] = gone

        async def listen() -> None:  # the server's next message is the disconnect (or the response's end)
            await receive()
            gone.set()
            ended.set()

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await ended.wait()
            return {"type": "http.disconnect"}

        async with anyio.create_task_group() as group:
            group.start_soon(listen)
            try:
                await self.app(scope, replay, send)
            finally:
                group.cancel_scope.cancel()
        return None

    @staticmethod
    async def _answer(send: Callable, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        detail = json.dumps({"detail": message}).encode()
        # a refused request's connection is closed: what its client still sends is never read
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(detail)).encode()),
                                (b"connection", b"close"), *(headers or [])]})
        await send({"type": "http.response.body", "body": detail})
