"""judgerank: turn LLM judgments into reliable rankings.

The typed public API, one facade per job, each the same shape (method, model, *, store, runtime,
budget, **options) with the same verbs:

- Reranker(...).rank(query, docs): order passages for a query;
- Judge(...).rank(prompt, responses) and .compare(pairs): order responses, decide labelled pairs;
  Jury(jurors).compare(pairs) pools several judges;
- leaderboard(battles, rater, interval): rate players from battles (no model is asked);
- Assessor(...).assess(query, passages): grade pooled passages 0-3 (LLM qrels);
- Runtime: share models and the judgment store between jobs;
and the records they take and return.
"""

from __future__ import annotations

from importlib import import_module as _import_module
from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:  # the names type checkers see; at run time each is imported on first use (below)
    from judgerank.arena import (
        Anchor,
        Bootstrap,
        BradleyTerry,
        Copeland,
        Elo,
        Leaderboard,
        PageRank,
        RankCentrality,
        Sandwich,
        WinRate,
        leaderboard,
    )
    from judgerank.assess import Assessment, Assessor
    from judgerank.core.costs import Budget, Costs
    from judgerank.core.errors import BackendError, JudgerankError, StoreError
    from judgerank.core.types import Item, Preference, Query, Ranking, Request, as_items, as_query
    from judgerank.judge import Judge, Juror, Jury, JuryResult, PairJudgment, PairsJudged, PairTask, RankedResponses
    from judgerank.judge.judge import ResponseJudge
    from judgerank.rerank import Reranker
    from judgerank.runtime import Runtime
    from judgerank.strategies.registry import DEFAULT_JUDGE_METHOD, DEFAULT_RERANK_METHOD

# Where each public name lives: `import judgerank` imports none of it, so a command that needs
# only the arena, or only `--version`, pays for nothing else.
_HOME = {
    **dict.fromkeys(("Anchor", "Bootstrap", "BradleyTerry", "Copeland", "Elo", "Leaderboard", "PageRank",
                     "RankCentrality", "Sandwich", "WinRate", "leaderboard"), "judgerank.arena"),
    **dict.fromkeys(("Assessment", "Assessor"), "judgerank.assess"),
    **dict.fromkeys(("Budget", "Costs"), "judgerank.core.costs"),
    **dict.fromkeys(("BackendError", "JudgerankError", "StoreError"), "judgerank.core.errors"),
    **dict.fromkeys(("Item", "Preference", "Query", "Ranking", "Request", "as_items", "as_query"),
                    "judgerank.core.types"),
    **dict.fromkeys(("Judge", "Juror", "Jury", "JuryResult", "PairJudgment", "PairsJudged", "PairTask",
                     "RankedResponses"), "judgerank.judge"),
    "ResponseJudge": "judgerank.judge.judge",
    "Reranker": "judgerank.rerank",
    "Runtime": "judgerank.runtime",
    **dict.fromkeys(("DEFAULT_JUDGE_METHOD", "DEFAULT_RERANK_METHOD"), "judgerank.strategies.registry"),
    "DEFAULT_METHOD": "judgerank.strategies.registry",  # deprecated name of DEFAULT_RERANK_METHOD
}


def __getattr__(name: str) -> _Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'judgerank' has no attribute {name!r}")
    value = getattr(_import_module(home), "DEFAULT_RERANK_METHOD" if name == "DEFAULT_METHOD" else name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


try:
    __version__ = _version("judgerank")
except _PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

if _TYPE_CHECKING:
    DEFAULT_METHOD = DEFAULT_RERANK_METHOD  # deprecated name of DEFAULT_RERANK_METHOD

__all__ = [
    "DEFAULT_JUDGE_METHOD", "DEFAULT_METHOD", "DEFAULT_RERANK_METHOD", "Anchor", "Assessment", "Assessor",
    "BackendError", "Bootstrap", "BradleyTerry", "Budget", "Copeland", "Costs", "Elo", "Item", "Judge",
    "JudgerankError", "Juror", "Jury", "JuryResult", "Leaderboard", "PageRank", "PairJudgment", "PairTask",
    "PairsJudged", "Preference", "Query", "RankCentrality", "RankedResponses", "Ranking", "Request", "Reranker",
    "ResponseJudge", "Runtime", "Sandwich", "StoreError", "WinRate", "__version__", "as_items", "as_query",
    "leaderboard",
]
