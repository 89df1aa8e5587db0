"""The judgerank HTTP service: Cohere/Jina-style rerank, response judging, arena, health, metrics.

POST /v1/rerank (also /v2/rerank and /rerank): {query, documents: [str | {text}], top_n,
    return_documents, method?, model?, budget?} -> {id, results: [{index, relevance_score,
    document?}], meta, usage}. relevance_score is the method's probability of relevance in
    [0, 1] where it gives one (and `relevance: "rank"` was not asked), else 1 for the first
    result falling by 1/n a rank; meta.judgerank carries the raw scores, costs and completeness.
POST /v1/judge: {prompt, responses: [str | {id, text}], reference?, method?, model?, budget?}
    -> {best, ranking: [{id, index, score, rating}], diagnostics, costs, complete}.
POST /v1/arena: {battles: [{model_a, model_b, winner}], method?, bootstrap?} -> {leaderboard}.
GET /healthz, GET /metrics (Prometheus text).

The operations are server/service.py's (the MCP server calls the same); here they run in worker
threads. An in-process model takes one batch at a time, an OpenAI-compatible endpoint many at
once, different models side by side; all requests share one judgment store, so repeated
judgments are free. Errors are mapped by cause: the caller's fault 4xx, a model server's fault
502/503/504 naming the endpoint, our own fault 500 with no detail beyond that.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from judgerank import __version__
from judgerank.errors import JudgerankError, StoreError
from judgerank.server.models import ArenaIn, ArenaOut, JudgeIn, JudgeOut, RerankIn, RerankOut
from judgerank.server.service import ServerConfig, Service, authorized, status_of
from judgerank.types import Costs

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
    config = config or ServerConfig()
    metrics = _Metrics()
    service = Service(config, on_costs=metrics.charge)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    # docs_url etc. are ours (below): served from local assets and behind the API key like the rest
    app = FastAPI(title="judgerank", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, description="Rerank, judge and rate with LLMs, with costs counted.")
    app.state.runtime = service.runtime
    in_flight = {"n": 0}

    def authorize(request: Request) -> None:
        if not authorized(request.headers.get("authorization", ""), config.api_keys):
            raise HTTPException(401, "missing or invalid API key (Authorization: Bearer ...)",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        endpoint = request.url.path
        start = time.perf_counter()
        if endpoint in _WORK and in_flight["n"] >= config.max_in_flight:
            response: Response = JSONResponse(
                {"detail": f"server busy: {config.max_in_flight} requests in flight (limit)"}, 429
            )
        else:
            in_flight["n"] += 1
            try:
                response = await call_next(request)
            except Exception:  # our own fault: logged here, never a stack trace or path in the body
                log.exception("internal error on %s", endpoint)
                response = JSONResponse({"detail": "internal server error"}, 500)
            finally:
                in_flight["n"] -= 1
        known = endpoint if endpoint in _ENDPOINTS else "other"
        metrics.requests.labels(known, str(response.status_code)).inc()
        metrics.latency.labels(known).observe(time.perf_counter() - start)
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "models": service.model_names(), "method": config.method}

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(authorize)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(authorize)])
    def swagger() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="judgerank API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")

    @app.get("/redoc", include_in_schema=False, dependencies=[Depends(authorize)])
    def redoc() -> Response:
        return get_redoc_html(openapi_url="/openapi.json", title="judgerank API",
                              redoc_js_url="/docs-assets/redoc.standalone.js",
                              redoc_favicon_url="/docs-assets/favicon.png", with_google_fonts=False)

    @app.get("/docs-assets/{name}", include_in_schema=False, dependencies=[Depends(authorize)])
    def docs_asset(name: str) -> Response:
        folder = _docs_assets()
        if name not in DOCS_ASSETS or folder is None:
            raise HTTPException(404, "no such asset (the API docs need the [server] extra: fastapi-offline)")
        return FileResponse(folder / name)

    @app.get("/metrics", dependencies=[Depends(authorize)])
    def metrics_text() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def rerank(body: RerankIn) -> RerankOut:
        return await _in_worker(lambda: service.rerank(body))

    # clients disagree on the path: Cohere v1 and v2, Jina and most OSS rerank servers
    for path, summary in (("/v1/rerank", "Rerank documents (Cohere/Jina shape)"),
                          ("/v2/rerank", "Rerank documents (Cohere v2 path)"),
                          ("/rerank", "Rerank documents (the path without a version)")):
        app.post(path, response_model=RerankOut, response_model_exclude_none=True,
                 dependencies=[Depends(authorize)], summary=summary)(rerank)

    @app.post("/v1/judge", response_model=JudgeOut, dependencies=[Depends(authorize)],
              summary="Order one prompt's responses with an LLM judge")
    async def judge(body: JudgeIn) -> JudgeOut:
        return await _in_worker(lambda: service.judge(body))

    @app.post("/v1/arena", response_model=ArenaOut, dependencies=[Depends(authorize)],
              summary="A leaderboard from battles (no model is asked)")
    async def leaderboard(body: ArenaIn) -> ArenaOut:
        return await _in_worker(lambda: service.arena(body))

    return app


_WORK = {"/v1/rerank", "/v2/rerank", "/rerank", "/v1/judge", "/v1/arena"}
_ENDPOINTS = _WORK | {"/healthz", "/metrics", "/docs", "/openapi.json"}
DOCS_ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"}


def _docs_assets() -> Path | None:
    """Swagger UI and ReDoc as shipped inside the fastapi-offline package: no CDN, so the docs
    render offline. Found without importing the package (only its files are used)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


async def _in_worker(work: Callable[[], T]) -> T:
    """Run model work in a worker thread and map a failure to its HTTP status by cause."""
    try:
        return await run_in_threadpool(work)
    except JudgerankError as exc:
        status, message = status_of(exc)
        if isinstance(exc, StoreError):  # our own store: logged with its path, never sent to the caller
            log.exception("judgment store failed")
        raise HTTPException(status, message) from None
