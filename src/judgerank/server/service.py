"""What the service does, apart from how it is reached: rerank, judge and arena on one Runtime.

The HTTP API (server/app.py) and the MCP server (server/mcp.py) both call a Service, so the
limits an operator sets (sizes, budgets, the models on offer) hold for every way in. Each
operation is synchronous and runs model work in the caller's thread; a caller's mistake is a
ServiceError with an HTTP-style status, anything else is a judgerank error for the caller to map.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from judgerank.arena.raters import Anchor, Bootstrap, Sandwich, rater
from judgerank.arena.ratings import rate_players
from judgerank.assess import Assessor
from judgerank.backends.base import Backend
from judgerank.core.costs import Budget, Costs
from judgerank.core.errors import BackendError, Cancelled, JudgerankError, StoreError
from judgerank.core.types import Item, Query
from judgerank.judge import Judge
from judgerank.judges.templates import read_prompt_file
from judgerank.rerank import Reranker
from judgerank.rerank.plan import closed_form
from judgerank.runtime import Runtime
from judgerank.server.model_threads import run_lowered
from judgerank.server.models import (
    ArenaIn,
    ArenaOut,
    AssessedDocument,
    AssessIn,
    AssessOut,
    BudgetIn,
    HearingIn,
    JudgedResponse,
    JudgeIn,
    JudgeOut,
    RerankIn,
    RerankOut,
    RerankResult,
    TextIn,
)
from judgerank.strategies.registry import DEFAULT_RERANK_METHOD, Options, method_for

DEFAULT_MAX_CALLS = 2000  # new model calls one request may cause: pointwise over 2,000 documents
DEFAULT_MAX_BODY_BYTES = 4_000_000  # bytes of one request body: 1,000 documents of ~4,000 characters

F = TypeVar("F", Reranker, Judge, Assessor)


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
    max_battles: int = 1_000_000
    max_in_flight: int = 64
    max_in_flight_per_key: int | None = None  # with API keys, one key's share of them (None: half)
    max_calls: int | None = DEFAULT_MAX_CALLS  # ceiling on any request's budget (None: no ceiling)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # a larger request body is refused (413) before it is parsed
    body_timeout: float = 30.0  # seconds a request's body may take to arrive (then 408)
    max_body_buffer: int | None = None  # bytes of bodies held at once (then 503); None: 16 x max_body_bytes
    header_timeout: float = 10.0  # seconds a request's head may take (then the connection is closed)
    max_connections: int = 1000  # connections held at once (uvicorn answers 503 past them)
    store: str | Path | None = "default"  # the judgment store every request shares
    warm_up: bool = True  # load the default method's models before serving (the first request does not wait)
    prompt: str | None = None  # the operator's own prompt template for every request (judgerank.judges.templates)
    rubric: str | None = None  # the operator's own rubric for judge requests
    backends: dict[str | None, Backend] = field(default_factory=dict)  # ready backends by model name (tests)
    similarity_backend: Backend | None = None


class ServiceError(JudgerankError):
    """A request the service refuses as asked; status is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def status_of(exc: JudgerankError) -> tuple[int, str]:
    """The HTTP status and the message a caller sees for a failure, by cause: the caller's
    fault 4xx, a model server's 502/503/504 naming its endpoint, our store's 500 with no detail."""
    if isinstance(exc, ServiceError):
        return exc.status, str(exc)
    if isinstance(exc, BackendError):
        return exc.status, str(exc)
    if isinstance(exc, Cancelled):
        return 499, str(exc)  # nginx's "client closed request": nobody reads it
    if isinstance(exc, StoreError):
        return 500, "internal server error: the judgment store failed"
    return 422, str(exc)  # the request cannot be served as asked (a prompt over the context, ...)


def refusal(headers: list[tuple[bytes, bytes]], api_keys: frozenset[str]) -> tuple[int, str] | None:
    """Why a request's raw headers are refused (status, message), checked before any body is
    read; None when it may go on. Two Authorization headers are refused: none may win silently."""
    if not api_keys:
        return None
    keys = [value for name, value in headers if name.lower() == b"authorization"]
    if len(keys) > 1:
        return 400, "send one Authorization header, not several"
    if not authorized(keys[0].decode("latin-1") if keys else "", api_keys):
        return 401, "missing or invalid API key (Authorization: Bearer ...)"
    return None


def authorized(header: str, api_keys: frozenset[str]) -> bool:
    """Whether an Authorization header carries one of the keys (any key when none are set)."""
    if not api_keys:
        return True
    scheme, _, token = header.partition(" ")
    # only ASCII spaces and tabs are trimmed: a key followed by a no-break space is another key
    given = token.strip(" \t").encode("utf-8", "surrogatepass")
    return scheme.lower() == "bearer" and any(secrets.compare_digest(given, k.encode()) for k in api_keys)


JUDGE_KINDS = ("verdict", "verdict5", "rating")  # the kinds of template a judge request reads


class Service:
    """The operations of the service on one Runtime (models loaded once, one judgment store).

    on_costs: told the costs of every finished operation (the HTTP API's metrics).
    """

    def __init__(self, config: ServerConfig, on_costs: Callable[[Costs], None] | None = None) -> None:
        self.config = config
        self.on_costs = on_costs
        method_for("rerank", config.method)
        self.runtime = Runtime(
            store=config.store, base_url=config.base_url, concurrency=config.concurrency, backends=config.backends,
            similarity_backend=config.similarity_backend,
        )
        self.allowed = {config.model, *config.models}
        for name in self.allowed:
            self.runtime.check(name)  # a model that cannot be had fails at start, not at the first request
        self._prompt = read_prompt_file(config.prompt) if config.prompt else None
        self._facades: dict[Hashable, Reranker | Judge | Assessor] = {}
        self._lock = threading.Lock()
        if config.warm_up:
            run_lowered(self.reranker(config.method, config.model, "demote").warm_up)

    def close(self) -> None:
        self.runtime.close()

    def reranker(self, method: str, model: str | None, guard: str, hearing: HearingIn | None = None) -> Reranker:
        """The Reranker for these settings, made once and kept (the runtime holds its models)."""
        heard = self._hearing(hearing, "rerank")
        key = ("rerank", method, model, guard, tuple(sorted(heard.items())))
        return self._facade(key, Reranker, lambda: Reranker(method, model, runtime=self.runtime, guard=guard, **heard))

    def assessor(self, model: str | None, label: str, guard: str, hearing: HearingIn | None = None) -> Assessor:
        """The Assessor for these settings, made once and kept."""
        heard = hearing.options() if hearing is not None else {}
        key = ("assess", model, label, guard, tuple(sorted(heard.items())))
        return self._facade(key, Assessor, lambda: Assessor(model, runtime=self.runtime, label=label, guard=guard,
                                                            **heard))

    def judge_of(self, method: str, model: str | None, top_k: int, guard: str,
                 hearing: HearingIn | None = None) -> Judge:
        """The Judge for these settings, made once and kept."""
        heard = self._hearing(hearing, "judge")
        key = ("judge", method, model, top_k, guard, tuple(sorted(heard.items())))
        return self._facade(key, Judge, lambda: Judge(method, model, runtime=self.runtime, top_k=top_k, guard=guard,
                                                      **heard))

    def _facade(self, key: Hashable, kind: type[F], make: Callable[[], F]) -> F:
        """The facade kept under `key`, made by `make` the first time (under the lock: once)."""
        with self._lock:
            facade = self._facades.get(key)
            if facade is None:
                facade = self._facades[key] = make()
        assert isinstance(facade, kind)
        return facade

    def _hearing(self, hearing: HearingIn | None, job: str) -> dict[str, Any]:
        """A request's hearing as method options, with the operator's prompt template (for the
        job whose kinds of template it is) and rubric (judge requests)."""
        heard = hearing.options() if hearing is not None else {}
        if self._prompt is not None and (self._prompt.kind in JUDGE_KINDS) == (job == "judge"):
            heard["prompt"] = self.config.prompt
        if self.config.rubric and job == "judge":
            heard["rubric"] = self.config.rubric
        return heard

    def model_names(self) -> list[str]:
        return [self.config.model or "default", *self.config.models]

    def resolve(self, name: str | None) -> str | None:
        """The model a request names, if this service offers it."""
        if name is None or name == (self.config.model or "default"):
            return self.config.model
        if name not in self.allowed:
            raise ServiceError(422, f"unknown model {name!r}: this server offers {', '.join(self.model_names())}")
        return name

    def check_planned_calls(self, method: str, n: int, options: Options, model: str | None, what: str) -> None:
        """Refuse (422), before anything is built or asked, a request whose method's calls are
        fixed in advance (judgerank.rerank.plan) and over the operator's ceiling: allpairs over
        1,000 documents plans 999,000 calls, and building their prompts alone took gigabytes
        before the budget could stop them. Methods whose calls depend on the answers stay under
        the budget as they run."""
        if self.config.max_calls is None:
            return
        planned = closed_form(method, n, options, self.runtime.model_label(model))
        if planned is not None and planned[0] > self.config.max_calls:
            raise ServiceError(422, f"{method} over {n} {what} plans {planned[0]:,} LLM calls ({planned[2]}), over this "
                                    f"server's limit of {self.config.max_calls:,} calls a request (max_calls): send "
                                    f"fewer {what}, or use a method that asks fewer (pointwise asks one a {what[:-1]})")

    def budget(self, b: BudgetIn | None) -> Budget:
        """The request's budget under the operator's ceiling."""
        calls = b.max_calls if b else None
        if self.config.max_calls is not None:
            calls = self.config.max_calls if calls is None else min(calls, self.config.max_calls)
        return Budget(calls, b.max_tokens if b else None)

    def check_text(self, text: str, what: str) -> None:
        if len(text) > self.config.max_query_chars:
            raise ServiceError(413, f"{what} has {len(text)} characters > max_query_chars {self.config.max_query_chars}")

    def check_sizes(self, texts: list[str], what: str) -> None:
        if len(texts) > self.config.max_documents:
            raise ServiceError(413, f"too many {what}: {len(texts)} > max_documents {self.config.max_documents}")
        for n, text in enumerate(texts):
            if len(text) > self.config.max_document_chars:
                raise ServiceError(
                    413, f"{what[:-1]} {n} has {len(text)} characters > max_document_chars {self.config.max_document_chars}"
                )

    def _charge(self, costs: Costs) -> None:
        if self.on_costs is not None:
            self.on_costs(costs)

    def served_from_store(self, busy: str | None, complete: bool) -> None:
        """With the model slots full (busy: why), a request is served only if the store held
        every judgment it needed; else it is refused (429) as it would have been."""
        if busy is not None and not complete:
            raise ServiceError(429, busy)

    def _budget_or_store(self, b: BudgetIn | None, busy: str | None) -> Budget:
        """The request's budget; none at all (answers from the store only) when the slots are full."""
        return Budget(0, 0) if busy is not None else self.budget(b)

    def rerank(self, body: RerankIn, busy: str | None = None) -> RerankOut:
        self.check_text(body.query, "query")
        docs = [d if isinstance(d, TextIn) else TextIn(text=d) for d in body.documents]
        self.check_sizes([d.text for d in docs], "documents")
        method = body.method or self.config.method
        model = self.resolve(body.model)
        items = [Item(str(n), d.text) for n, d in enumerate(docs)]
        reranker = self.reranker(method, model, body.guard, body.hearing)
        self.check_planned_calls(reranker.method.name, len(items), reranker.options, model, "documents")
        ranking = reranker.rank(Query("q", body.query), items, budget=self._budget_or_store(body.budget, busy))
        self.served_from_store(busy, ranking.complete)
        self._charge(ranking.costs)
        relevance = reranker.relevance(ranking, body.relevance)
        keep = body.top_n or len(ranking.ids)
        results = [
            RerankResult(
                index=int(doc), relevance_score=score,
                document=docs[int(doc)].model_dump(exclude_none=True) if body.return_documents else None,
            )
            for doc, score in list(zip(ranking.ids, relevance))[:keep]
        ]
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
                    "scores": ranking.scores[:keep],
                    "relevance": reranker.relevance_scale(body.relevance),
                    "costs": ranking.costs.as_dict(),
                    # the guard's flags by document index (judgerank.guard.FLAG_HELP explains each)
                    "flags": {doc: codes for doc, codes in ranking.flags.items()},
                    "guard": body.guard,
                    **({"explanations": ranking.explanations} if ranking.explanations is not None else {}),
                },
            },
            usage={"total_tokens": ranking.costs.prompt_tokens + ranking.costs.completion_tokens,
                   "prompt_tokens": ranking.costs.prompt_tokens},
        )

    def judge(self, body: JudgeIn, busy: str | None = None) -> JudgeOut:
        self.check_text(body.prompt, "prompt")
        responses = [r if isinstance(r, TextIn) else TextIn(text=r) for r in body.responses]
        self.check_sizes([r.text for r in responses], "responses")
        if body.reference is not None:
            self.check_sizes([body.reference], "references")
        model = self.resolve(body.model)
        items = [Item(r.id if r.id is not None else str(n), r.text) for n, r in enumerate(responses)]
        index = {item.id: n for n, item in enumerate(items)}
        judge = self.judge_of(body.method, model, body.top_k, body.guard, body.hearing)
        self.check_planned_calls(judge.method.name, len(items), judge.options, model, "responses")
        result = judge.rank(Query("p", body.prompt, body.reference), items,
                            budget=self._budget_or_store(body.budget, busy))
        self.served_from_store(busy, result.ranking.complete)
        self._charge(result.ranking.costs)
        return JudgeOut(
            id=str(uuid.uuid4()),
            best=result.best,
            complete=result.ranking.complete,
            ranking=[
                JudgedResponse(
                    id=rid, index=index[rid], score=score,
                    rating=result.rating(rid),
                    flags=result.ranking.flags.get(rid),
                )
                for rid, score in zip(result.ranking.ids, result.ranking.scores)
            ],
            diagnostics=result.diagnostics.as_dict(),
            costs=result.ranking.costs.as_dict(),
            explanations=result.ranking.explanations,
        )

    def assess(self, body: AssessIn, busy: str | None = None) -> AssessOut:
        """Grades 0-3 for each document (judgerank assess's labels for one topic)."""
        self.check_text(body.query, "query")
        documents = [d if isinstance(d, TextIn) else TextIn(text=d) for d in body.documents]
        self.check_sizes([d.text for d in documents], "documents")
        model = self.resolve(body.model)
        items = [Item(d.id if d.id is not None else str(n), d.text) for n, d in enumerate(documents)]
        assessment = self.assessor(model, body.label, body.guard, body.hearing).assess(
            Query("q", body.query), items, budget=self._budget_or_store(body.budget, busy))
        self.served_from_store(busy, assessment.complete)
        self._charge(assessment.costs)
        return AssessOut(
            id=str(uuid.uuid4()), grades=list(assessment.grades), complete=assessment.complete,
            labels=[AssessedDocument(index=n, id=x.docid, grade=x.grade, expected=x.expected,
                                     probabilities=list(x.probabilities) if x.probabilities else None,
                                     flags=list(x.flags) or None) for n, x in enumerate(assessment.labels)],
            costs=assessment.costs.as_dict())

    def arena(self, body: ArenaIn) -> ArenaOut:
        """A leaderboard from battles; no model is asked."""
        if len(body.battles) > self.config.max_battles:
            raise ServiceError(413, f"too many battles: {len(body.battles)} > max_battles {self.config.max_battles}")
        interval = (Sandwich(body.level) if body.sandwich else Bootstrap(body.bootstrap, body.level) if body.bootstrap
                    else None)
        board = rate_players([b.model_dump() for b in body.battles], rater(body.method), interval, ties=body.ties,
                             seed=body.seed, scale=body.scale, anchor=Anchor(body.anchor) if body.anchor else None)
        return ArenaOut(method=board.method, leaderboard=board.rows, notes=board.notes, settings=board.settings,
                        seconds=board.seconds)
