"""The rerank pipeline: a strategy asks judges, judges ask a backend through the cache.

A Reranker loads its models once and ranks any number of requests; each request gets its own
cost account and Budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from judgerank.accounting import Ledger
from judgerank.backends.base import ChoiceBackend, SimilarityBackend
from judgerank.backends.models import resolve_gguf
from judgerank.cache import CachedChoices, CachedGenerations, CachedSimilarities, JudgmentCache, open_cache
from judgerank.errors import JudgerankError
from judgerank.judges.listwise import LabelJudge, PermutationJudge
from judgerank.judges.pairwise import PairwiseJudge
from judgerank.judges.pointwise import PointwiseJudge, SimilarityJudge
from judgerank.strategies.registry import Options, build_strategy
from judgerank.types import Budget, Ranking, Request

# best measured on DL19 within 30 s/query on 2 cores (bench/run_all.sh; see the README)
DEFAULT_METHOD = "cascade"


class Reranker:
    """Reranks requests with one method and model.

    cache: a SQLite path, "default" for the user cache, or None for no persistent cache. backend / similarity_backend replace
    the llama.cpp and embedding models (a SimulatedBackend in tests, an HTTP backend).
    """

    def __init__(
        self,
        method: str = DEFAULT_METHOD,
        model: str | None = None,
        *,
        top_k: int = 10,
        depth: int | None = None,
        then: str = "pointwise",
        cascade_depth: int = 20,
        fuse: bool = True,
        window: int = 20,
        stride: int = 10,
        passes: int = 1,
        shuffles: int = 3,
        set_size: int = 4,
        replicas: int = 3,
        aggregator: str = "bradley-terry",
        budget: Budget | None = None,
        cache: str | Path | JudgmentCache | None = "default",
        backend: ChoiceBackend | None = None,
        similarity_backend: SimilarityBackend | None = None,
    ) -> None:
        if top_k < 1 or cascade_depth < 1 or (depth is not None and depth < 1):
            raise JudgerankError("top_k, depth and cascade_depth must be positive")
        self.method = method
        self.model = model
        self.depth = depth
        self.options = Options(
            top_k=top_k, then=then, cascade_depth=cascade_depth, fuse=fuse, window=window, stride=stride,
            passes=passes, shuffles=shuffles, set_size=set_size, replicas=replicas, aggregator=aggregator,
        )
        self.budget = budget or Budget()
        self.cache = open_cache(cache)
        self._backend = backend
        self._similarity = similarity_backend
        # fail on an unknown method or a bad model file now, before any model loads
        build_strategy(method, _Unloaded(), self.options)
        if backend is None and model is not None:
            resolve_gguf(model)

    @property
    def backend(self) -> ChoiceBackend:
        if self._backend is None:
            from judgerank.backends.llamacpp import LlamaCppBackend

            self._backend = LlamaCppBackend(self.model)
        return self._backend

    @property
    def similarity_backend(self) -> SimilarityBackend:
        if self._similarity is None:
            from judgerank.backends.embedding import EmbeddingBackend

            self._similarity = EmbeddingBackend()
        return self._similarity

    def rerank(self, request: Request) -> Ranking:
        check_request(request)
        ledger = Ledger(self.budget)
        judges = _JobJudges(self, ledger)
        strategy = build_strategy(self.method, judges, self.options)
        items = request.items[: self.depth] if self.depth else request.items
        ordering = strategy.rank(request.query, items)
        tail = [i.id for i in request.items[len(items) :]]
        return Ranking(
            query_id=request.query.id,
            ids=ordering.ids + tail,
            scores=ordering.scores + [None] * len(tail),
            method=self.method,
            costs=ledger.close(),
            complete=ordering.complete,
            parse=judges.parse_report(),
        )

    def rerank_all(self, requests: Iterable[Request]) -> Iterator[Ranking]:
        for request in requests:
            yield self.rerank(request)


def check_request(request: Request) -> None:
    qid = request.query.id
    if not request.items:
        raise JudgerankError(f"query {qid!r}: empty candidate list")
    seen: set[str] = set()
    for item in request.items:
        if item.id in seen:
            raise JudgerankError(f"query {qid!r}: duplicate candidate id {item.id!r}")
        seen.add(item.id)


class _JobJudges:
    """Judges for one job: all share the reranker's models and cache and the job's Ledger."""

    def __init__(self, reranker: Reranker, ledger: Ledger) -> None:
        self.reranker = reranker
        self.ledger = ledger
        self._permutations: list[PermutationJudge] = []

    def _choices(self) -> CachedChoices:
        return CachedChoices(self.reranker.backend, self.reranker.cache, self.ledger)

    def pointwise(self, template: str) -> PointwiseJudge:
        return PointwiseJudge(self._choices(), template)

    def pairwise(self) -> PairwiseJudge:
        return PairwiseJudge(self._choices())

    def similarity(self) -> SimilarityJudge:
        return SimilarityJudge(CachedSimilarities(self.reranker.similarity_backend, self.reranker.cache, self.ledger))

    def permutation(self) -> PermutationJudge:
        backend = self.reranker.backend
        if not hasattr(backend, "iter_generate"):
            raise JudgerankError(f"backend {backend.identity} cannot generate text for listwise permutations")
        judge = PermutationJudge(CachedGenerations(backend, self.reranker.cache, self.ledger))
        self._permutations.append(judge)
        return judge

    def labels(self, template: str) -> LabelJudge:
        return LabelJudge(self._choices(), template)

    def parse_report(self) -> dict | None:
        """What parsing generated permutations repaired in this job (None: nothing generated)."""
        if not self._permutations:
            return None
        total = self._permutations[0].report
        for judge in self._permutations[1:]:
            total.add(judge.report)
        return vars(total)


class _Unloaded:
    """Judges that are never called: lets a method be validated without loading a model."""

    def pointwise(self, template: str) -> None:
        return None

    def pairwise(self) -> None:
        return None

    def similarity(self) -> None:
        return None

    def permutation(self) -> None:
        return None

    def labels(self, template: str) -> None:
        return None
