"""Calls a type checker must reject (tests/test_api.py runs mypy here and expects an error on
every line marked `# error`). Nothing here runs."""

from __future__ import annotations

from judgerank import Bootstrap, Elo, Judge, Jury, PageRank, Reranker, Sandwich, leaderboard

battles = [("a", "b", 1.0)]
Reranker("pointwise", topk=5)  # error: a misspelt option
Reranker("pointwise", top_k="5")  # error: an option of the wrong type
Reranker("pointwise", store=None).rank(7, ["a"])  # error: a query that is not text
Judge("allpairs", methd="swiss")  # error: a misspelt argument
Judge("allpairs", window=5)  # error: a rerank option on the judge
Reranker("cascade", depth="all")  # error: an option of the wrong type
Jury(["smollm2-135m"], ratings="yes")  # error: an option of the wrong type
leaderboard(battles, Elo(), Bootstrap(100))  # error: Elo has no bootstrap interval
leaderboard(battles, PageRank(), Sandwich())  # error: a sandwich needs Bradley-Terry
leaderboard(battles, PageRank(), anchor="a")  # error: an anchor needs an additive scale
leaderboard(battles, scale="ELO")  # error: not a scale
leaderboard(battles, ties="halve")  # error: not a way to count ties
