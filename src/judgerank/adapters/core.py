"""What every framework adapter shares: one Reranker made on first use, a request per query,
and per-document results carrying judgerank's score, rank, relevance and the query's costs.

Frameworks construct their components eagerly (often at import or pipeline build time) and some
copy them, so the model is loaded at the first query, not at construction; costs add up over the
adapter's life in `costs`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judgerank.engine import DEFAULT_METHOD, Reranker
from judgerank.errors import JudgerankError
from judgerank.methods import Options, method_for
from judgerank.runtime import Runtime
from judgerank.store import JudgmentStore
from judgerank.types import Budget, Costs, Item, Query, Ranking, Request


@dataclass(frozen=True)
class Placed:
    """One document's place in a query's ranking."""

    index: int  # its position in the list the framework gave
    rank: int  # 1 for the best
    relevance: float  # in [0, 1]: the method's probability of relevance where it gives one, else by rank
    score: float | None  # the method's own score (None below --depth)

    def info(self, ranking: Ranking) -> dict[str, Any]:
        """What adapters put in a document's metadata."""
        return {"rank": self.rank, "score": self.score, "relevance": self.relevance, "method": ranking.method,
                "complete": ranking.complete, "costs": ranking.costs.as_dict(),
                "flags": ranking.flags.get(str(self.index), [])}  # the guard's (judgerank.guard.FLAG_HELP)


class Ranker:
    """Ranks one query's texts at a time with one method and model (see judgerank.Reranker).

    method, model, base_url, cache: as for Reranker. max_calls / max_tokens: the budget of each
    query. runtime: share models and the store with other jobs. options: method options
    (depth, window, ...; `judgerank methods`).
    """

    def __init__(
        self,
        method: str = DEFAULT_METHOD,
        model: str | None = None,
        *,
        base_url: str | None = None,
        max_calls: int | None = None,
        max_tokens: int | None = None,
        cache: str | Path | JudgmentStore | None = "default",
        runtime: Runtime | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        method_for("rerank", method)  # a bad method or option fails where the component is built
        Options.of(options or {})
        self._args = dict(method=method, model=model, base_url=base_url, cache=cache, runtime=runtime,
                          budget=Budget(max_calls, max_tokens), **(options or {}))
        self._reranker: Reranker | None = None
        self._lock = threading.Lock()
        self.costs = Costs()  # over every query this ranker answered

    @property
    def reranker(self) -> Reranker:
        """The Reranker, made (and its model checked) on first use."""
        with self._lock:
            if self._reranker is None:
                self._reranker = Reranker(**self._args)
            return self._reranker

    def rank(self, query: str, texts: Sequence[str], query_id: str = "q") -> tuple[list[Placed], Ranking]:
        """The texts' places, best first, and the Ranking behind them (ids are input positions)."""
        if not query.strip():
            raise JudgerankError("the query is empty: give the text the documents should be ranked for")
        if not texts:
            return [], Ranking(query_id, [], [], self._args["method"])
        reranker = self.reranker
        request = Request(Query(query_id, query), tuple(Item(str(n), text) for n, text in enumerate(texts)))
        ranking = reranker.rerank(request)
        with self._lock:
            self.costs.add(ranking.costs)
        relevance = reranker.relevance(ranking)
        placed = [Placed(int(doc), rank, rel, score)
                  for rank, (doc, rel, score) in enumerate(zip(ranking.ids, relevance, ranking.scores), 1)]
        return placed, ranking

    def close(self) -> None:
        """Release the model and the store (a shared runtime stays open)."""
        with self._lock:
            if self._reranker is not None:
                self._reranker.close()
                self._reranker = None
