"""The rerank job's facade: order candidate passages for a query with one method and model.

A strategy asks judges, judges ask a model through the judgment store. Each `rank` call gets its
own cost account and Budget; models and the store come from a Runtime, shared when one is given,
and a model is loaded only when a judgment is first asked of it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal, Unpack

from judgerank.backends.base import Backend
from judgerank.core.costs import Budget, Costs
from judgerank.core.types import Doc, Query, Ranking, Request, as_items, as_query, check_request
from judgerank.guard import guarded
from judgerank.guard.support import echoing, embedding_places, unsupported
from judgerank.judges.job import JobJudges
from judgerank.judges.listwise import require_scores
from judgerank.runtime import Runtime, RuntimeUser
from judgerank.runtime.runtime import UNSET
from judgerank.store import StoreSpec
from judgerank.strategies.registry import DEFAULT_RERANK_METHOD, MethodOptions, Options, method_for

Task = Request | tuple[str | Query, Sequence[Doc]]


class Reranker(RuntimeUser):
    """Reranks passages with one method and model.

    method: a rerank method (`judgerank methods`). model: a named model or GGUF path (None: the
    embedded default), or with `base_url` the name an OpenAI-compatible server serves. store: a
    SQLite path, a postgresql:// URL, "default" (the user's store) or None. runtime: share models
    and store with other jobs (then `store`, `base_url` and the backends are the runtime's).
    budget: the Budget of each `rank` call. backend / similarity_backend: ready backend objects
    instead of loading models (the simulated judge in tests). Method options (top_k, window, ...)
    are keyword arguments, checked by type checkers and when the Reranker is made.

    >>> with Reranker("pointwise") as reranker:                      # doctest: +SKIP
    ...     ranking = reranker.rank("life cycle of a flea", ["fleas live 2-3 months", "paris"])
    """

    def __init__(
        self,
        method: str = DEFAULT_RERANK_METHOD,
        model: str | None = None,
        *,
        store: StoreSpec = "default",
        runtime: Runtime | None = None,
        budget: Budget | None = None,
        base_url: str | None = None,
        backend: Backend | None = None,
        similarity_backend: Backend | None = None,
        cache: StoreSpec = UNSET,
        **options: Unpack[MethodOptions],
    ) -> None:
        self.method = method_for("rerank", method)
        self.options = Options.of(options)
        self.model = model
        self.budget = budget or Budget()
        self.costs = Costs()  # every rank call's, added up
        self._lock = threading.Lock()
        runtime = self._use_runtime(runtime, store, base_url, {model: backend} if backend is not None else None,
                                    similarity_backend, cache)
        # a model that cannot be had fails now, before any work; nothing is loaded here
        runtime.check(model, self.method.requirements(self.options, runtime.model_label(model)))
        self._templates = self.options.templates()
        job = self._job(self.budget)
        self.method.build(job, self.options)  # builds judges only: no model is loaded, nothing is asked
        job.check_templates()

    def _job(self, budget: Budget) -> JobJudges:
        o = self.options
        prompt, rubric = self._templates
        return self.runtime.job("rerank", self.model, budget, neutralise=o.guard != "off", spotlight=o.spotlight,
                                asking=o.asking, prompt=prompt, rubric=rubric, explain=o.explain)

    def rank(self, query: str | Query, docs: Sequence[Doc], *, budget: Budget | None = None) -> Ranking:
        """Rank the docs (strings, Items or {id?, text} dicts; a string's id is its position) for
        the query; the Ranking carries its costs and whether the Budget let it finish."""
        request = Request(as_query(query), as_items(docs))
        check_request(request)
        o = self.options
        items = request.items[: o.depth] if o.depth else request.items
        label = self.runtime.model_label(self.model)
        if o.insert_scores and self.method.reads("insert_scores", o, label):
            # before any window is judged: a sliding window meets the unscored one only late
            require_scores(items, f"query {request.query.id!r}: ")
        job = self._job(budget or self.budget)
        ordering = self.method.build(job, o).rank(request.query, items)
        found = dict(ordering.flags)
        if self.method.checks_support(o):
            # the embedding's order (no LLM call), against which the LLM's promotions are checked,
            # of the texts less any copy of the query (no evidence of an answer); its cosines are
            # stored like the cascade's, so a request the store holds whole needs no model at all
            similarity = job.similarity()
            cosine = similarity.scores(request.query, items).got()
            plain = echoing(request.query.text, items)
            without = similarity.scores(request.query, list(plain.values())).got() if plain else []
            places = embedding_places([i.id for i in items], cosine, dict(zip(plain, without)))
            for item_id, codes in unsupported(ordering.ids, [i.id for i in items], places).items():
                found[item_id] = found.get(item_id, []) + codes
        tail = [i.id for i in request.items[len(items) :]]
        ranking = Ranking(request.query.id, ordering.ids + tail, ordering.scores + [None] * len(tail),
                          self.method.name, job.close(), ordering.complete, job.parse_report(),
                          certificate=ordering.certificate,
                          explanations=[s.as_dict() for s in job.explanations] if o.explain else None)
        with self._lock:
            self.costs.add(ranking.costs)
        return guarded(ranking, request.query, request.items, o.guard, found=found)

    def rank_many(self, tasks: Iterable[Task]) -> Iterator[Ranking]:
        """Rank each request (a Request, or a (query, docs) pair) in turn, yielding each ranking
        as it finishes."""
        for task in tasks:
            yield self.rank(task.query, task.items) if isinstance(task, Request) else self.rank(*task)

    def warm_up(self) -> None:
        """Load now the models a first query would load (a pipeline's or a server's warm-up)."""
        needs = self.method.requirements(self.options, self.runtime.model_label(self.model))
        if needs & {"choices", "generate"}:
            self.runtime.model(self.model).backend.load()
        if "embedding" in needs:
            self.runtime.embedding().backend.load()
        if "attention" in needs:
            self.runtime.attention(self.model).backend.load()
        if "cross" in needs:
            self.runtime.cross_encoder(self.model).backend.load()
        if "bi" in needs:
            self.runtime.bi_encoder(self.model).backend.load()

    def rerank(self, request: Request) -> Ranking:
        """Deprecated: rank(request.query, request.items)."""
        warnings.warn("Reranker.rerank(request) is now Reranker.rank(query, docs)", DeprecationWarning, stacklevel=2)
        return self.rank(request.query, request.items)

    def relevance_scale(self, rule: Literal["probability", "rank"] = "probability") -> Literal[
            "probability", "similarity", "rank"]:
        """What relevance() reads: the method's probabilities, the embedding's cosines, or ranks."""
        return "rank" if rule == "rank" else self.method.relevance_scale(self.options, self.runtime.model_label(self.model))

    def relevance(self, ranking: Ranking, rule: Literal["probability", "rank"] = "probability") -> list[float]:
        """A relevance in [0, 1] for each of ranking.ids that never rises down the order (the
        scores follow it): the method's probability of relevance where it gives one, else the
        embedding's cosine clipped to [0, 1] where that is the score (the default on the embedded
        model), else, or with rule "rank", 1 for the first falling by 1/n a rank. A candidate
        left unscored gets the lowest relevance above it, 0 at most. What the HTTP service and
        the adapters report."""
        n = len(ranking.ids)
        if self.relevance_scale(rule) == "rank":
            return [round(1.0 - rank / n, 6) for rank in range(n)]
        out: list[float] = []
        for score in ranking.scores:
            value = 0.0 if score is None else min(1.0, max(0.0, score))
            out.append(round(min(value, out[-1]) if out else value, 6))
        return out
