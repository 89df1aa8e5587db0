"""judgerank: turn LLM judgments into reliable rankings.

The small public API: rerank() for one query, Reranker for many, ResponseJudge for responses,
Runtime to share models and the judgment store between jobs, and the records they return.
"""

from __future__ import annotations

from collections.abc import Sequence as _Sequence
from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version
from pathlib import Path as _Path
from typing import Any as _Any

from judgerank.engine import DEFAULT_METHOD, Reranker
from judgerank.errors import BackendError, BudgetExhausted, JudgerankError, StoreError
from judgerank.runtime import Runtime
from judgerank.types import Budget, Costs, Item, Query, Ranking, Request

try:
    __version__ = _version("judgerank")
except _PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_METHOD", "BackendError", "Budget", "BudgetExhausted", "Costs", "Item", "JudgerankError", "Query",
    "Ranking", "Request", "Reranker", "Runtime", "StoreError", "__version__", "rerank",
]


def rerank(
    query: str,
    docs: _Sequence[str | Item | dict[str, _Any]],
    method: str = DEFAULT_METHOD,
    model: str | None = None,
    *,
    budget: Budget | None = None,
    cache: str | _Path | None = "default",
    **options: _Any,
) -> Ranking:
    """Rank docs (strings, Items or {id, text} dicts) for a query; ids of strings are their positions.

    >>> judgerank.rerank("life cycle of a flea", ["fleas live 2-3 months", "paris"], method="pointwise")  # doctest: +SKIP
    """
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
    with Reranker(method, model, budget=budget, cache=cache, **options) as reranker:
        return reranker.rerank(Request(Query("q", query), tuple(items)))
