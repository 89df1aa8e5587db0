"""Haystack: a ranker component that reorders a retriever's documents with judgerank.

    from haystack import Pipeline
    from judgerank.adapters.haystack import JudgerankRanker

    pipe = Pipeline()
    pipe.add_component("retriever", InMemoryBM25Retriever(document_store=store))
    pipe.add_component("ranker", JudgerankRanker(top_k=5, method="pointwise"))
    pipe.connect("retriever.documents", "ranker.documents")
    pipe.run({"retriever": {"query": q}, "ranker": {"query": q}})

Each returned Document is a copy with score = the relevance in [0, 1] (the method's probability
where it gives one, else by rank) and meta["judgerank"] (rank, the method's score, method,
completeness, the query's costs). Needs `pip install "judgerank[haystack]"`.
"""

# No `from __future__ import annotations` here: Haystack 2.x reads run()'s annotations as types to
# check pipeline connections, and postponed (string) annotations fail that check.
import asyncio
import dataclasses
from typing import Any

from judgerank.adapters.compat import require

require("haystack")

from haystack import Document, component, default_from_dict, default_to_dict  # noqa: E402

from judgerank.adapters.core import make_reranker, place  # noqa: E402
from judgerank.core.costs import Costs  # noqa: E402
from judgerank.strategies.registry import DEFAULT_RERANK_METHOD  # noqa: E402


@component
class JudgerankRanker:
    """Ranks documents for a query and keeps the top_k (all when None).

    method, model, base_url, store, max_calls, max_tokens (each query's budget) and options as
    for judgerank.Reranker; runtime shares a judgerank.Runtime (not serialised by to_dict). The
    model loads in warm_up, or at the first query.
    """

    def __init__(
        self,
        top_k: int | None = 10,
        method: str = DEFAULT_RERANK_METHOD,
        model: str | None = None,
        base_url: str | None = None,
        store: str | None = "default",
        max_calls: int | None = None,
        max_tokens: int | None = None,
        options: dict[str, Any] | None = None,
        runtime: Any = None,
    ) -> None:
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be at least 1, not {top_k}")
        self.top_k = top_k
        self._init = dict(method=method, model=model, base_url=base_url, store=store, max_calls=max_calls,
                          max_tokens=max_tokens, options=options)
        self._reranker = make_reranker(method, model, base_url=base_url, store=store, max_calls=max_calls,
                                       max_tokens=max_tokens, runtime=runtime, options=options)

    @property
    def costs(self) -> Costs:
        """What every query so far cost, added up."""
        return self._reranker.costs

    def warm_up(self) -> None:
        """Load the model now rather than at the first query (Pipeline.warm_up calls this)."""
        self._reranker.warm_up()

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, top_k=self.top_k, **self._init)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JudgerankRanker":
        return default_from_dict(cls, data)

    @component.output_types(documents=list[Document])
    def run(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, list[Document]]:
        placed, ranking = place(self._reranker, query, [d.content or "" for d in documents])
        keep = top_k if top_k is not None else self.top_k
        out = [
            dataclasses.replace(documents[p.index], score=p.relevance,
                                meta={**documents[p.index].meta, "judgerank": p.info(ranking)})
            for p in placed[:keep]
        ]
        return {"documents": out}

    @component.output_types(documents=list[Document])
    async def run_async(self, query: str, documents: list[Document], top_k: int | None = None) -> dict[str, list[Document]]:
        """The same in a worker thread, for AsyncPipeline."""
        return await asyncio.to_thread(self.run, query, documents, top_k)

    def close(self) -> None:
        """Release the model and the judgment store."""
        self._reranker.close()
