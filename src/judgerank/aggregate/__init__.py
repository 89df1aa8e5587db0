"""Ranking math as plain numpy functions: win matrices in, strengths or orders out. No model calls.

w[i, j] is how often i beat j (ties counted as the caller chooses). Each function lives in the
module named for its family; the names below are the public surface.
"""

from judgerank.aggregate.bootstrap import bootstrap_bradley_terry, percentile_interval
from judgerank.aggregate.bradley_terry import bradley_terry, mle_exists, to_scale, win_probability
from judgerank.aggregate.centrality import pagerank, rank_centrality
from judgerank.aggregate.elo import elo
from judgerank.aggregate.kemeny import kemeny
from judgerank.aggregate.voting import borda, copeland, reciprocal_rank_fusion, win_rate

__all__ = [
    "bootstrap_bradley_terry", "borda", "bradley_terry", "copeland", "elo", "kemeny", "mle_exists", "pagerank",
    "percentile_interval", "rank_centrality", "reciprocal_rank_fusion", "to_scale", "win_probability", "win_rate",
]
