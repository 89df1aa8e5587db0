"""The judgerank HTTP service: Cohere/Jina-style rerank, response judging, health and metrics.

POST /v1/rerank (also /v2/rerank): {query, documents: [str | {text}], top_n, return_documents,
    method?, model?, budget?} -> {id, results: [{index, relevance_score, document?}], meta, usage}.
    relevance_score is 1 for the first result and falls by 1/n a rank (the methods' own scores
    are not probabilities); meta.judgerank carries the raw scores, costs and completeness.
POST /v1/judge: {prompt, responses: [str | {id, text}], reference?, method?, model?, budget?}
    -> {best, ranking: [{id, index, score, rating}], diagnostics, costs, complete}.
GET /healthz, GET /metrics (Prometheus text).

Every model call runs in a worker thread under one lock per model (llama.cpp contexts are not
thread-safe), and all requests share one judgment cache, so repeated judgments are free.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from judgerank.backends.base import ChoiceBackend, SimilarityBackend
from judgerank.cache import open_cache
from judgerank.engine import DEFAULT_METHOD, Reranker
from judgerank.errors import BackendError, JudgerankError
from judgerank.judging import ResponseJudge
from judgerank.strategies.registry import STRATEGIES
from judgerank.types import Budget, Costs, Item, Query, Request as RankRequest


@dataclass
class ServerConfig:
    """What the service allows. api_keys empty: no authentication."""

    model: str | None = None  # the default model (a named model or a GGUF path set by the operator)
    models: tuple[str, ...] = ()  # further model names a request may ask for
    method: str = DEFAULT_METHOD
    api_keys: frozenset[str] = frozenset()
    max_documents: int = 1000
    max_document_chars: int = 20_000
    max_query_chars: int = 4_000
    max_in_flight: int = 64
    max_calls: int | None = None  # ceiling on any request's budget
    cache: str | Path | None = "default"
    backend: ChoiceBackend | None = None  # replaces the llama.cpp model (tests, an HTTP backend)
    similarity_backend: SimilarityBackend | None = None


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
    method: str | None = None
    budget: BudgetIn | None = None
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
    method: Literal["allpairs", "swiss", "pairwise-heap", "pairwise-quick", "pointwise"] = "allpairs"
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
    costs: dict[str, float]


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
    """One backend per model name, loaded on first use, each with the lock its calls run under."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.allowed = {config.model, *config.models}
        self._backends: dict[str | None, tuple[ChoiceBackend, threading.Lock]] = {}
        self._guard = threading.Lock()
        self.cache = open_cache(config.cache)
        self._similarity: SimilarityBackend | None = config.similarity_backend

    def resolve(self, name: str | None) -> str | None:
        if name is None or name == (self.config.model or "default"):
            return self.config.model
        if name not in self.allowed:
            raise HTTPException(422, f"unknown model {name!r}: this server offers {', '.join(self.names())}")
        return name

    def names(self) -> list[str]:
        return [self.config.model or "default", *self.config.models]

    def get(self, name: str | None) -> tuple[ChoiceBackend, threading.Lock]:
        with self._guard:
            if name not in self._backends:
                if self.config.backend is not None and name == self.config.model:
                    backend = self.config.backend
                else:
                    from judgerank.backends.llamacpp import LlamaCppBackend

                    backend = LlamaCppBackend(name)
                self._backends[name] = (backend, threading.Lock())
            return self._backends[name]

    def similarity(self) -> SimilarityBackend:
        with self._guard:
            if self._similarity is None:
                from judgerank.backends.embedding import EmbeddingBackend

                self._similarity = EmbeddingBackend()
            return self._similarity


def create_app(config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    if config.method not in STRATEGIES:
        raise JudgerankError(f"unknown method {config.method!r}")
    app = FastAPI(title="judgerank", version="0.1.0", description="Rerank and judge with LLMs, with costs counted.")
    metrics = _Metrics()
    models = _Models(config)
    in_flight = {"n": 0}
    db_lock = threading.Lock()  # one SQLite connection, shared by every model's worker threads

    def authorize(request: Request) -> None:
        if not config.api_keys:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not any(secrets.compare_digest(token.strip(), k) for k in config.api_keys):
            raise HTTPException(401, "missing or invalid API key (Authorization: Bearer ...)",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.middleware("http")
    async def count(request: Request, call_next):
        endpoint = request.url.path
        start = time.perf_counter()
        if endpoint.startswith("/v") and in_flight["n"] >= config.max_in_flight:
            response = JSONResponse({"detail": f"server busy: {config.max_in_flight} requests in flight (limit)"}, 429)
        else:
            in_flight["n"] += 1
            try:
                response = await call_next(request)
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

    def run_locked(model: str | None, work):
        backend, lock = models.get(model)
        with lock, db_lock:
            return work(backend)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "models": models.names(), "method": config.method}

    @app.get("/metrics", dependencies=[Depends(authorize)])
    def metrics_text() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def rerank(body: RerankIn) -> RerankOut:
        if len(body.query) > config.max_query_chars:
            raise HTTPException(413, f"query has {len(body.query)} characters > max_query_chars {config.max_query_chars}")
        docs = [d if isinstance(d, TextIn) else TextIn(text=d) for d in body.documents]
        check_size([d.text for d in docs], "documents")
        method = body.method or config.method
        if method not in STRATEGIES:
            raise HTTPException(422, f"unknown method {method!r}: use one of {', '.join(STRATEGIES)}")
        model = models.resolve(body.model)
        items = tuple(Item(str(n), d.text) for n, d in enumerate(docs))
        request = RankRequest(Query("q", body.query), items)

        def work(backend):
            reranker = Reranker(method, model, budget=budget_of(body.budget), cache=models.cache, backend=backend,
                                similarity_backend=models.similarity() if _needs_embedding(method) else None)
            return reranker.rerank(request)

        ranking = await run_in_threadpool(_translate, run_locked, model, work)
        metrics.charge(ranking.costs)
        n = len(items)
        top = ranking.ids[: body.top_n] if body.top_n else ranking.ids
        results = [
            RerankResult(
                index=int(i),
                relevance_score=round(1.0 - r / n, 6),
                document=docs[int(i)].model_dump(exclude_none=True) if body.return_documents else None,
            )
            for r, i in enumerate(top)
        ]
        scores = dict(zip(ranking.ids, ranking.scores))
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

        def work(backend):
            judge_ = ResponseJudge(model, method=body.method, top_k=body.top_k, budget=budget_of(body.budget),
                                   cache=models.cache, backend=backend)
            return judge_.rank(query, items)

        result = await run_in_threadpool(_translate, run_locked, model, work)
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


_ENDPOINTS = {"/v1/rerank", "/v2/rerank", "/v1/judge", "/healthz", "/metrics"}


def _needs_embedding(method: str) -> bool:
    return method in ("embedding", "cascade")


def _translate(run_locked, model, work):
    """A model server's failure is a 502; any other library error is the request's fault (422)."""
    try:
        return run_locked(model, work)
    except BackendError as exc:
        raise HTTPException(502, str(exc)) from None
    except JudgerankError as exc:
        raise HTTPException(422, str(exc)) from None
