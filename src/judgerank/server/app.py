"""The judgerank HTTP service: Cohere/Jina-style rerank, response judging, health and metrics.

POST /v1/rerank (also /v2/rerank): {query, documents: [str | {text}], top_n, return_documents,
    method?, model?, budget?} -> {id, results: [{index, relevance_score, document?}], meta, usage}.
    relevance_score is the method's probability of relevance in [0, 1] where it gives one (and
    `relevance: "rank"` was not asked), else 1 for the first result falling by 1/n a rank;
    meta.judgerank carries the raw scores, costs and completeness.
POST /v1/judge: {prompt, responses: [str | {id, text}], reference?, method?, model?, budget?}
    -> {best, ranking: [{id, index, score, rating}], diagnostics, costs, complete}.
GET /healthz, GET /metrics (Prometheus text).

Requests run in worker threads on one Runtime: an in-process model takes one batch at a time,
an OpenAI-compatible endpoint many at once, different models side by side; all requests share
one judgment store, so repeated judgments are free. Errors are mapped by cause: the caller's
fault 4xx, a model server's fault 502/503/504 naming the endpoint, our own fault 500 with no
detail beyond that.
"""

from __future__ import annotations

import importlib.util
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from judgerank import __version__
from judgerank.engine import Reranker
from judgerank.errors import BackendError, JudgerankError, StoreError
from judgerank.methods import DEFAULT_JUDGE_METHOD, DEFAULT_RERANK_METHOD, method_for, names_for
from judgerank.responses import ResponseJudge
from judgerank.runtime import Runtime
from judgerank.types import Budget, Costs, Item, Query
from judgerank.types import Request as RankRequest

log = logging.getLogger("judgerank.server")
T = TypeVar("T")
# the registry's names, so the OpenAPI schema lists exactly the methods each endpoint accepts
RerankMethod: Any = Literal[tuple(names_for("rerank"))]
JudgeMethod: Any = Literal[tuple(names_for("judge"))]


@dataclass
class ServerConfig:
    """What the service allows. api_keys empty: no authentication."""

    model: str | None = None  # the default model (a named model or a GGUF path set by the operator)
    models: tuple[str, ...] = ()  # further model names a request may ask for
    base_url: str | None = None  # every model is one this OpenAI-compatible server serves
    concurrency: int = 8  # requests in flight to that server, over all clients
    method: str = DEFAULT_RERANK_METHOD
    api_keys: frozenset[str] = frozenset()
    max_documents: int = 1000
    max_document_chars: int = 20_000
    max_query_chars: int = 4_000
    max_in_flight: int = 64
    max_calls: int | None = None  # ceiling on any request's budget
    cache: str | Path | None = "default"
    backends: dict[str | None, Any] = field(default_factory=dict)  # ready backends by model name (tests)
    similarity_backend: Any = None


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_calls: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)


class TextIn(BaseModel):
    """A document or response given as an object: its text, an optional id, any other fields."""

    model_config = ConfigDict(extra="allow")
    text: str
    id: str | None = None


class RerankIn(BaseModel):
    query: str = Field(min_length=1)
    documents: list[str | TextIn] = Field(min_length=1)
    top_n: int | None = Field(default=None, ge=1)
    return_documents: bool = False
    model: str | None = None
    method: RerankMethod | None = None
    budget: BudgetIn | None = None
    relevance: Literal["probability", "rank"] = Field(
        default="probability",
        description="probability: relevance_score is the method's probability of relevance in [0, 1] (the same "
        "meaning across queries; 0 for documents it did not judge), where the method gives one; rank: 1 for "
        "the first result, falling by 1/n a rank",
    )
    rank_fields: list[str] | None = None  # accepted for Cohere compatibility; text is ranked
    max_chunks_per_doc: int | None = None  # accepted for Cohere compatibility


class RerankResult(BaseModel):
    index: int
    relevance_score: float
    document: dict[str, Any] | None = None


class RerankOut(BaseModel):
    id: str
    results: list[RerankResult]
    meta: dict[str, Any]
    usage: dict[str, int]


class JudgeIn(BaseModel):
    prompt: str = Field(min_length=1)
    responses: list[str | TextIn] = Field(min_length=1)
    reference: str | None = None
    method: JudgeMethod = DEFAULT_JUDGE_METHOD
    top_k: int = Field(default=10, ge=1)
    model: str | None = None
    budget: BudgetIn | None = None


class JudgedResponse(BaseModel):
    id: str
    index: int
    score: float | None
    rating: float | None


class JudgeOut(BaseModel):
    id: str
    best: str
    complete: bool
    ranking: list[JudgedResponse]
    diagnostics: dict[str, Any]
    costs: dict[str, int | float]


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


class _Models:
    """The model names this server offers, resolved against what the operator allowed."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.allowed = {config.model, *config.models}

    def resolve(self, name: str | None) -> str | None:
        if name is None or name == (self.config.model or "default"):
            return self.config.model
        if name not in self.allowed:
            raise HTTPException(422, f"unknown model {name!r}: this server offers {', '.join(self.names())}")
        return name

    def names(self) -> list[str]:
        return [self.config.model or "default", *self.config.models]


def create_app(config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    method_for("rerank", config.method)
    runtime = Runtime(
        store=config.cache, base_url=config.base_url, concurrency=config.concurrency, backends=config.backends,
        similarity_backend=config.similarity_backend,
    )
    for name in {config.model, *config.models}:
        runtime.check(name)  # a model that cannot be had fails at start, not at the first request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        runtime.close()

    # docs_url etc. are ours (below): served from local assets and behind the API key like the rest
    app = FastAPI(title="judgerank", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None, description="Rerank and judge with LLMs, with costs counted.")
    app.state.runtime = runtime
    metrics = _Metrics()
    models = _Models(config)
    in_flight = {"n": 0}

    def authorize(request: Request) -> None:
        if not config.api_keys:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not any(secrets.compare_digest(token.strip(), k) for k in config.api_keys):
            raise HTTPException(401, "missing or invalid API key (Authorization: Bearer ...)",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        endpoint = request.url.path
        start = time.perf_counter()
        if endpoint.startswith("/v") and in_flight["n"] >= config.max_in_flight:
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

    def budget_of(b: BudgetIn | None) -> Budget:
        calls = b.max_calls if b else None
        if config.max_calls is not None:
            calls = config.max_calls if calls is None else min(calls, config.max_calls)
        return Budget(calls, b.max_tokens if b else None)

    def check_size(texts: list[str], what: str) -> None:
        if len(texts) > config.max_documents:
            raise HTTPException(413, f"too many {what}: {len(texts)} > max_documents {config.max_documents}")
        for n, text in enumerate(texts):
            if len(text) > config.max_document_chars:
                raise HTTPException(
                    413, f"{what[:-1]} {n} has {len(text)} characters > max_document_chars {config.max_document_chars}"
                )

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "models": models.names(), "method": config.method}

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
        if len(body.query) > config.max_query_chars:
            raise HTTPException(413, f"query has {len(body.query)} characters > max_query_chars {config.max_query_chars}")
        docs = [d if isinstance(d, TextIn) else TextIn(text=d) for d in body.documents]
        check_size([d.text for d in docs], "documents")
        method = body.method or config.method
        model = models.resolve(body.model)
        items = tuple(Item(str(n), d.text) for n, d in enumerate(docs))
        request = RankRequest(Query("q", body.query), items)

        def work() -> tuple[Reranker, Any]:
            reranker = Reranker(method, model, budget=budget_of(body.budget), runtime=runtime)
            return reranker, reranker.rerank(request)

        reranker, ranking = await _in_worker(work)
        metrics.charge(ranking.costs)
        n = len(items)
        top = ranking.ids[: body.top_n] if body.top_n else ranking.ids
        scores = dict(zip(ranking.ids, ranking.scores))
        probability = body.relevance == "probability" and reranker.method.scores_probabilities(
            reranker.options, runtime.model_label(model)
        )

        def relevance(rank: int, doc: str) -> float:
            if probability:
                return round(scores[doc] or 0.0, 6)
            return round(1.0 - rank / n, 6)

        results = [
            RerankResult(
                index=int(i),
                relevance_score=relevance(r, i),
                document=docs[int(i)].model_dump(exclude_none=True) if body.return_documents else None,
            )
            for r, i in enumerate(top)
        ]
        tokens = ranking.costs.prompt_tokens + ranking.costs.completion_tokens
        return RerankOut(
            id=str(uuid.uuid4()),
            results=results,
            meta={
                "api_version": {"version": "1"},
                "billed_units": {"search_units": 1},
                "judgerank": {
                    "method": method,
                    "model": model or "default",
                    "complete": ranking.complete,
                    "scores": [scores[i] for i in top],
                    "relevance": "probability" if probability else "rank",
                    "costs": ranking.costs.as_dict(),
                },
            },
            usage={"total_tokens": tokens, "prompt_tokens": ranking.costs.prompt_tokens},
        )

    app.post("/v1/rerank", response_model=RerankOut, response_model_exclude_none=True,
             dependencies=[Depends(authorize)], summary="Rerank documents (Cohere/Jina shape)")(rerank)
    app.post("/v2/rerank", response_model=RerankOut, response_model_exclude_none=True,
             dependencies=[Depends(authorize)], summary="Rerank documents (Cohere v2 path)")(rerank)

    @app.post("/v1/judge", response_model=JudgeOut, dependencies=[Depends(authorize)])
    async def judge(body: JudgeIn) -> JudgeOut:
        if len(body.prompt) > config.max_query_chars:
            raise HTTPException(413, f"prompt has {len(body.prompt)} characters > max_query_chars {config.max_query_chars}")
        responses = [r if isinstance(r, TextIn) else TextIn(text=r) for r in body.responses]
        check_size([r.text for r in responses], "responses")
        if body.reference is not None:
            check_size([body.reference], "references")
        model = models.resolve(body.model)
        items = [Item(r.id if r.id is not None else str(n), r.text) for n, r in enumerate(responses)]
        index = {item.id: n for n, item in enumerate(items)}
        query = Query("p", body.prompt, body.reference)

        def work() -> Any:
            judge_ = ResponseJudge(model, method=body.method, top_k=body.top_k, budget=budget_of(body.budget),
                                   runtime=runtime)
            return judge_.rank(query, items)

        result = await _in_worker(work)
        metrics.charge(result.ranking.costs)
        return JudgeOut(
            id=str(uuid.uuid4()),
            best=result.best,
            complete=result.ranking.complete,
            ranking=[
                JudgedResponse(
                    id=rid, index=index[rid], score=score,
                    rating=float(result.ratings[rid] @ result.levels) if rid in result.ratings else None,
                )
                for rid, score in zip(result.ranking.ids, result.ranking.scores)
            ],
            diagnostics=result.diagnostics.as_dict(),
            costs=result.ranking.costs.as_dict(),
        )

    return app


_ENDPOINTS = {"/v1/rerank", "/v2/rerank", "/v1/judge", "/healthz", "/metrics", "/docs", "/openapi.json"}
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
    except BackendError as exc:  # a model server failed: 502/503/504, the message names its endpoint
        raise HTTPException(exc.status, str(exc)) from None
    except StoreError:  # our own store: logged with its path, never sent to the caller
        log.exception("judgment store failed")
        raise HTTPException(500, "internal server error: the judgment store failed") from None
    except JudgerankError as exc:  # the request cannot be served as asked (a prompt over the context, ...)
        raise HTTPException(422, str(exc)) from None
