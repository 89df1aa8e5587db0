"""judgerank: turn LLM judgments into reliable rankings.

The small public API: rerank() for one query, Reranker for many, and the records they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from judgerank.engine import DEFAULT_METHOD, Reranker
from judgerank.errors import BudgetExhausted, JudgerankError
from judgerank.types import Budget, Costs, Item, Query, Ranking, Request

__all__ = [
    "Budget", "BudgetExhausted", "Costs", "Item", "JudgerankError", "Query", "Ranking", "Request", "Reranker",
    "rerank",
]


def rerank(
    query: str,
    docs: Sequence[str | Item | dict],
    method: str = DEFAULT_METHOD,
    model: str | None = None,
    *,
    top_k: int = 10,
    budget: Budget | None = None,
    cache: str | Path | None = "default",
    **options,
) -> Ranking:
    """Rank docs (strings, Items or {id, text} dicts) for a query; ids of strings are their positions."""
    items = []
    for n, d in enumerate(docs):
        if isinstance(d, Item):
            items.append(d)
        elif isinstance(d, str):
            items.append(Item(str(n), d))
        elif isinstance(d, dict) and isinstance(d.get("text"), str):
            items.append(Item(str(d.get("id", n)), d["text"]))
        else:
            raise JudgerankError(f"doc {n}: expected a string, an Item or a dict with 'text'")
    reranker = Reranker(method, model, top_k=top_k, budget=budget, cache=cache, **options)
    return reranker.rerank(Request(Query("q", query), tuple(items)))
