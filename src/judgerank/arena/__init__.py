"""The arena job: rank models or players from battles.

ratings.py rates players (leaderboard(), with a rater and an interval of raters.py); style.py computes
LMArena's style covariates; winrate.py gives raw and length-controlled win rates against a
baseline (AlpacaEval 2's GLM); files.py reads battles and judged instructions; report.py draws
a leaderboard as an HTML page.
"""

from judgerank.arena.raters import (
    Anchor,
    Bootstrap,
    BradleyTerry,
    Copeland,
    Elo,
    PageRank,
    RankCentrality,
    Sandwich,
    WinRate,
    rater,
)
from judgerank.arena.ratings import Leaderboard, arena, leaderboard

__all__ = ["Anchor", "Bootstrap", "BradleyTerry", "Copeland", "Elo", "Leaderboard", "PageRank", "RankCentrality",
           "Sandwich", "WinRate", "arena", "leaderboard", "rater"]
