"""What every framework adapter shares: a Reranker built from the adapter's settings, and each
document's place in a query's ranking with judgerank's score, rank, relevance and the query's costs.

The Reranker is made with the component and loads no model until the first query (frameworks
construct components eagerly, often at import or pipeline build time); its `costs` add up every
query's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from judgerank.core.costs import Budget
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Item, Query, Ranking
from judgerank.rerank import Reranker
from judgerank.runtime import Runtime
from judgerank.store import StoreSpec


@dataclass(frozen=True)
class Placed:
    """One document's place in a query's ranking."""

    index: int  # its position in the list the framework gave
    rank: int  # 1 for the best
    relevance: float  # in [0, 1], never rising down the order: Reranker.relevance (probability, cosine or rank)
    score: float | None  # the method's own score (None below --depth)

    def info(self, ranking: Ranking) -> dict[str, Any]:
        """What adapters put in a document's metadata."""
        return {"rank": self.rank, "score": self.score, "relevance": self.relevance, "method": ranking.method,
                "complete": ranking.complete, "costs": ranking.costs.as_dict(),
                "flags": ranking.flags.get(str(self.index), [])}  # the guard's (judgerank.guard.FLAG_HELP)


def make_reranker(method: str, model: str | None, *, base_url: str | None, store: StoreSpec,
                  max_calls: int | None, max_tokens: int | None, runtime: Runtime | None,
                  options: dict[str, Any] | None) -> Reranker:
    """The adapter's Reranker (each query's budget: max_calls, max_tokens); a bad method, option
    or model fails here, where the component is built."""
    return Reranker(method, model, store=store, runtime=runtime, base_url=base_url,
                    budget=Budget(max_calls, max_tokens), **(options or {}))


def place(reranker: Reranker, query: str, texts: Sequence[str], query_id: str = "q") -> tuple[list[Placed], Ranking]:
    """The texts' places, best first, and the Ranking behind them (ids are input positions)."""
    if not query.strip():
        raise JudgerankError("the query is empty: give the text the documents should be ranked for")
    if not texts:
        return [], Ranking(query_id, [], [], reranker.method.name)
    ranking = reranker.rank(Query(query_id, query), [Item(str(n), text) for n, text in enumerate(texts)])
    relevance = reranker.relevance(ranking)
    placed = [Placed(int(doc), rank, rel, score)
              for rank, (doc, rel, score) in enumerate(zip(ranking.ids, relevance, ranking.scores), 1)]
    return placed, ranking
