"""judgerank: turn LLM judgments into reliable rankings.

The small public API: rerank() for one query, Reranker for many, ResponseJudge for responses,
judgerank.arena.arena() for battles, Runtime to share models and the judgment store between jobs,
and the records they return.
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
from judgerank.types import Budget, Costs, Item, Query, Ranking, Request, as_items, as_query

try:
    __version__ = _version("judgerank")
except _PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_METHOD", "BackendError", "Budget", "BudgetExhausted", "Costs", "Item", "JudgerankError", "Query",
    "Ranking", "Request", "Reranker", "ResponseJudge", "Runtime", "StoreError", "__version__", "rerank",
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

    >>> import judgerank                                              # doctest: +SKIP
    >>> ranking = judgerank.rerank("life cycle of a flea", ["fleas live 2-3 months", "paris"])
    >>> ranking.ids, ranking.scores, ranking.costs.calls
    """
    request = Request(as_query(query), as_items(docs))
    with Reranker(method, model, budget=budget, cache=cache, **options) as reranker:
        return reranker.rerank(request)


_LAZY = {
    "ResponseJudge": ("judgerank.responses", "ResponseJudge"),
    "arena": ("judgerank.arena", None), "responses": ("judgerank.responses", None),
    "aggregate": ("judgerank.aggregate", None), "methods": ("judgerank.methods", None),
    "evaluate": ("judgerank.evaluate", None), "io": ("judgerank.io", None),
}


def __getattr__(name: str) -> _Any:
    """Submodules and the response judge on first use, so `import judgerank` stays light."""
    if name not in _LAZY:
        raise AttributeError(f"module 'judgerank' has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module
