"""The rerank job: a strategy asks judges, judges ask a model through the judgment store.

A Reranker ranks any number of requests with one method and model; each request gets its own
cost account and Budget. Models and the store come from a Runtime, shared when one is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from judgerank.errors import JudgerankError
from judgerank.guard import apply_policy, detect_items
from judgerank.judges.listwise import require_scores
from judgerank.methods import DEFAULT_RERANK_METHOD, Options, method_for
from judgerank.runtime import EMBEDDING, Runtime, RuntimeUser
from judgerank.store import JudgmentStore
from judgerank.types import Budget, Ranking, Request

DEFAULT_METHOD = DEFAULT_RERANK_METHOD


class Reranker(RuntimeUser):
    """Reranks requests with one method and model.

    model: a named model or GGUF path (None: the embedded default), or with `base_url` the name
    an OpenAI-compatible server serves. cache: a SQLite path, "default" for the user cache, an
    open store, or None. runtime: share models and store with other jobs (then `cache`,
    `base_url` and the backends are the runtime's). backend / similarity_backend: ready backend
    objects instead of loading models (a SimulatedBackend in tests). Options (top_k, window,
    ...) are keyword arguments; see `judgerank.methods.Options`.

    >>> with Reranker("pointwise") as reranker:                      # doctest: +SKIP
    ...     ranking = reranker.rerank(request)
    """

    def __init__(
        self,
        method: str = DEFAULT_METHOD,
        model: str | None = None,
        *,
        budget: Budget | None = None,
        cache: str | Path | JudgmentStore | None = "default",
        runtime: Runtime | None = None,
        base_url: str | None = None,
        backend: Any = None,
        similarity_backend: Any = None,
        **options: Any,
    ) -> None:
        self.method = method_for("rerank", method)
        self.options = Options.of(options)
        self.model = model
        self.budget = budget or Budget()
        self._owns_runtime = runtime is None
        self.runtime = runtime or Runtime(
            store=cache, base_url=base_url, backends={model: backend} if backend is not None else None,
            similarity_backend=similarity_backend,
        )
        # fail on a model that cannot be had now, before any model loads
        needs = self.method.requirements(self.options, self.runtime.model_label(model))
        if needs & {"choices", "generate"}:
            self.runtime.check(model)
        if "embedding" in needs:
            self.runtime.check(EMBEDDING)
        if "attention" in needs:
            self.runtime.check_attention(model)

    def rerank(self, request: Request) -> Ranking:
        """Rank one request's candidates; the Ranking carries its costs and whether it is complete."""
        check_request(request)
        depth = self.options.depth
        items = request.items[:depth] if depth else request.items
        if self.options.insert_scores and self.method.reads("insert_scores", self.options,
                                                             self.runtime.model_label(self.model)):
            # before any window is judged: a sliding window meets the unscored one only late
            require_scores(items, f"query {request.query.id!r}: ")
        job = self.runtime.job("rerank", self.model, self.budget)
        job.neutralise = self.options.guard != "off"
        job.spotlight = self.options.spotlight
        strategy = self.method.build(job, self.options)
        ordering = strategy.rank(request.query, items)
        tail = [i.id for i in request.items[len(items) :]]
        ranking = Ranking(
            query_id=request.query.id,
            ids=ordering.ids + tail,
            scores=ordering.scores + [None] * len(tail),
            method=self.method.name,
            costs=job.close(),
            complete=ordering.complete,
            parse=job.parse_report(),
            certificate=ordering.certificate,
        )
        return self.guarded(request, ranking, ordering.flags)

    def guarded(self, request: Request, ranking: Ranking, found: dict[str, list[str]]) -> Ranking:
        """The ranking with the guard's flags (and the strategy's own) acted on by --guard."""
        if self.options.guard == "off":
            return ranking
        flags = detect_items(request.query, request.items)
        for i, codes in found.items():
            flags[i] = flags.get(i, []) + codes
        return apply_policy(ranking, flags, self.options.guard)

    @property
    def gives_probabilities(self) -> bool:
        """Whether this method's scores, with this model, are probabilities of relevance."""
        return self.method.scores_probabilities(self.options, self.runtime.model_label(self.model))

    def relevance(self, ranking: Ranking, rule: str = "probability") -> list[float]:
        """A relevance in [0, 1] for each of ranking.ids: the method's probability of relevance
        where it gives one and rule is "probability" (0 for candidates it did not score), else
        1 for the first falling by 1/n a rank. What the HTTP service and the adapters report."""
        n = len(ranking.ids)
        if rule == "probability" and self.gives_probabilities:
            return [round(score or 0.0, 6) for score in ranking.scores]
        return [round(1.0 - rank / n, 6) for rank in range(n)]

    def rerank_all(self, requests: Iterable[Request]) -> Iterator[Ranking]:
        """Rank each request in turn, yielding each ranking as it finishes."""
        for request in requests:
            yield self.rerank(request)



def check_request(request: Request) -> None:
    qid = request.query.id
    if not request.items:
        raise JudgerankError(f"query {qid!r}: empty candidate list")
    _check_unicode(request.query.text, f"query {qid!r}")
    seen: set[str] = set()
    for item in request.items:
        if item.id in seen:
            raise JudgerankError(f"query {qid!r}: duplicate candidate id {item.id!r}")
        seen.add(item.id)
        _check_unicode(item.text, f"query {qid!r}: candidate {item.id!r}")


def _check_unicode(text: str, where: str) -> None:
    """Text a model can read: a lone surrogate (from a JSON escape or undecodable command-line
    bytes) would fail in the tokenizer or the store, so it is refused here, in one line."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JudgerankError(f"{where}: text holds {exc.object[exc.start:exc.end]!a} at character {exc.start}, "
                             "not valid Unicode (a lone surrogate); fix the input's encoding") from None
