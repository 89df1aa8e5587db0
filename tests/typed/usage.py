"""The public API as a user writes it, checked by mypy (make test): every name typed, every call
below accepted. tests/test_api.py also runs mypy on misuse.py, whose every call must be rejected.
Nothing here runs."""

from __future__ import annotations

import judgerank
from judgerank import (
    Anchor,
    Bootstrap,
    BradleyTerry,
    Budget,
    Elo,
    Item,
    Judge,
    Jury,
    Leaderboard,
    PageRank,
    PairTask,
    Query,
    RankCentrality,
    Ranking,
    Reranker,
    Runtime,
    Sandwich,
    WinRate,
    leaderboard,
)


def rerank_passages() -> list[str]:
    with Reranker("pointwise", "qwen2.5-coder-0.5b", store=None, budget=Budget(max_calls=20), top_k=5,
                  guard="flag") as reranker:
        ranking: Ranking = reranker.rank("life cycle of a flea", ["fleas live 2-3 months", Item("p", "paris")])
        many = list(reranker.rank_many([("q1", ["a", "b"]), ("q2", [{"id": "x", "text": "c"}])]))
    return ranking.ids + [r.query_id for r in many]


def judge_responses(pairs: list[PairTask]) -> str:
    with Runtime(store=None) as runtime, Judge("allpairs", runtime=runtime, top_k=3, ratings=False) as judge:
        best = judge.rank(Query("p", "Name a prime."), ["4", "7"]).best
        decided = judge.compare(pairs, budget=Budget(max_tokens=1000))
        with Jury(["smollm2-135m", "qwen2.5-coder-0.5b@judge-pair-5"], runtime=runtime) as jury:
            pooled = jury.compare(pairs)
    return (best or "none dropped") + str(len(decided.judgments)) + str(pooled.fleiss_kappa) + judgerank.DEFAULT_JUDGE_METHOD


def rank_players() -> list[Leaderboard]:
    battles = [("a", "b", 1.0), ("b", "a", 0.5)]
    return [
        leaderboard(battles),
        leaderboard(battles, BradleyTerry(prior=1.0), Bootstrap(200), seed=3, anchor=Anchor("a", 1200.0)),
        leaderboard(battles, BradleyTerry(), Sandwich(0.9), scale="raw"),
        leaderboard(battles, Elo(k=8.0), anchor="a"),
        leaderboard(battles, RankCentrality(), Bootstrap(100)),
        leaderboard(battles, PageRank()),
        leaderboard(battles, WinRate(), ties="ignore"),
    ]
