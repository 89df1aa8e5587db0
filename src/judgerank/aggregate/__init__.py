"""Ranking math as plain numpy functions: win matrices in, strengths or orders out. No model calls.

w[i, j] is how often i beat j (ties counted as the caller chooses). Each function lives in the
module named for its family; `rate` picks the rating of a win matrix by name, for every caller
that lets a user choose one (the arena's raters, JointRank's aggregator).
"""

from __future__ import annotations

import numpy as np

from judgerank.aggregate.bradley_terry import bradley_terry
from judgerank.aggregate.centrality import pagerank, rank_centrality
from judgerank.aggregate.voting import copeland, win_rate
from judgerank.core.errors import JudgerankError

RATINGS = ("bradley-terry", "rank-centrality", "pagerank", "win-rate", "copeland")


def rate(name: str, w: np.ndarray, prior: float = 0.0) -> np.ndarray:
    """A rating per player from the win matrix by the named method: Bradley-Terry log-strengths
    (with `prior` virtual games), rank centrality's log stationary probabilities, PageRank,
    the win rate (0 for a player with no games) or Copeland's majorities won minus lost."""
    if name == "bradley-terry":
        return bradley_terry(w, prior=prior)
    if name == "rank-centrality":
        return rank_centrality(w)
    if name == "pagerank":
        return pagerank(w)
    if name == "win-rate":
        return np.nan_to_num(win_rate(w), nan=0.0)
    if name == "copeland":
        return copeland(w).astype(float)
    raise JudgerankError(f"unknown rating method {name!r}: use one of {', '.join(RATINGS)}")
