"""Leaderboards from battle records: a rating per player with an interval, and the evidence.

arena() is the one entry point; it never calls a model. Methods: bradley-terry, elo,
rank-centrality, pagerank, win-rate, copeland. Bootstrap intervals resample the battles.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from judgerank.aggregate.battles import Battles, Ties
from judgerank.aggregate.bootstrap import bootstrap_bradley_terry, percentile_interval, resampled_win_matrices
from judgerank.aggregate.bradley_terry import bradley_terry, mle_exists, to_scale, win_probability
from judgerank.aggregate.centrality import pagerank, rank_centrality
from judgerank.aggregate.elo import elo
from judgerank.aggregate.voting import copeland, win_rate
from judgerank.errors import JudgerankError
from judgerank.io.battles import as_battles

METHODS = ("bradley-terry", "elo", "rank-centrality", "pagerank", "win-rate", "copeland")
FALLBACK_PRIOR = 0.01


@dataclass
class PlayerRow:
    rank: int
    player: str
    rating: float
    lower: float | None
    upper: float | None
    battles: int
    wins: float
    losses: float
    ties: float
    win_rate: float | None


@dataclass
class Leaderboard:
    method: str
    rows: list[PlayerRow]
    settings: dict
    notes: list[str] = field(default_factory=list)
    win_prob: np.ndarray | None = None  # P(row player beats column player), in rows' order
    battle_counts: np.ndarray | None = None  # games between players, in rows' order
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "settings": self.settings,
            "notes": self.notes,
            "seconds": self.seconds,
            "leaderboard": [asdict(r) for r in self.rows],
        }


def arena(
    battles: Battles | str | Path | Sequence[Any],
    method: str = "bradley-terry",
    *,
    ties: Ties = "half",
    bootstrap: int = 0,
    seed: int = 0,
    prior: float = 0.0,
    scale: Literal["elo", "raw"] = "elo",
    k: float = 4.0,
    shuffles: int = 100,
    level: float = 0.95,
) -> Leaderboard:
    """Rate every player of `battles` with `method`; bootstrap > 0 adds percentile intervals.

    battles: Battles, a battles file (CSV or JSONL), or a list of {model_a, model_b, winner}
    records or (a, b, outcome) tuples.

    >>> from judgerank.arena import arena
    >>> board = arena([("gpt", "llama", 1), ("llama", "gpt", 0.5), ("gpt", "llama", 1)], method="win-rate")
    >>> [row.player for row in board.rows]
    ['gpt', 'llama']
    """
    battles = as_battles(battles)
    if method not in METHODS:
        raise JudgerankError(f"unknown arena method {method!r}: use one of {', '.join(METHODS)}")
    if bootstrap and method == "elo":
        raise JudgerankError("bootstrap intervals are not offered for elo (it averages shuffled orders instead)")
    if bootstrap < 0:
        raise JudgerankError("bootstrap must be a positive number of resamples")
    started = time.perf_counter()
    battles = battles.without_self_battles().unique()
    notes: list[str] = []
    w = battles.win_matrix(ties)
    if method == "bradley-terry" and prior == 0.0 and not mle_exists(w):
        prior = FALLBACK_PRIOR
        notes.append(
            f"the Bradley-Terry MLE does not exist for these battles (a player never won, never lost, or sits "
            f"in a separate group), so a prior of {prior} virtual games was used"
        )
    rating, theta = _rate(method, battles, w, ties, prior, scale, k, shuffles, seed)
    lower = upper = None
    if bootstrap:
        samples = _bootstrap(method, battles, theta, bootstrap, seed, ties, prior, scale)
        lower, upper = percentile_interval(samples, level)
    order = sorted(range(battles.n_players), key=lambda i: (-rating[i], battles.players[i]))
    rows = _rows(battles, order, rating, lower, upper)
    silent = [r.player for r in rows if r.wins + r.losses == 0]
    if silent:
        notes.append(f"players with no decisive result: {', '.join(silent)}")
    halves = w if ties == "half" else battles.win_matrix("half")
    games = (halves + halves.T)[np.ix_(order, order)]
    return Leaderboard(
        method=method,
        rows=rows,
        settings={"ties": ties, "bootstrap": bootstrap, "seed": seed, "prior": prior, "scale": scale, "level": level,
                  **({"k": k, "shuffles": shuffles} if method == "elo" else {})},
        notes=notes,
        win_prob=win_probability(theta[order]) if theta is not None else None,
        battle_counts=games,
        seconds=time.perf_counter() - started,
    )


def _rate(method, battles, w, ties, prior, scale, k, shuffles, seed):
    """Ratings on the reported scale, plus BT log-strengths when the method has them."""
    if method == "bradley-terry":
        theta = bradley_terry(w, prior=prior)
        return (to_scale(theta) if scale == "elo" else theta), theta
    if method == "elo":
        return elo(battles, k=k, shuffles=shuffles, seed=seed, ties=ties), None
    return _plain(method, w), None


def _plain(method: str, w: np.ndarray) -> np.ndarray:
    if method == "rank-centrality":
        return rank_centrality(w)
    if method == "pagerank":
        return pagerank(w)
    if method == "win-rate":
        return np.nan_to_num(win_rate(w), nan=0.0)
    return copeland(w).astype(float)


def _bootstrap(method, battles, theta, n, seed, ties, prior, scale) -> np.ndarray:
    if method == "bradley-terry":
        samples = bootstrap_bradley_terry(battles, theta, n, seed, ties, prior)
        return to_scale(samples) if scale == "elo" else samples
    return np.stack([_plain(method, wm) for wm in resampled_win_matrices(battles, n, seed, ties)])


def _rows(battles: Battles, order: list[int], rating, lower, upper) -> list[PlayerRow]:
    """Leaderboard rows in `order`, with each player's record counted from the battles."""
    n = battles.n_players

    def tally(mask_a: np.ndarray, mask_b: np.ndarray) -> np.ndarray:
        return np.bincount(battles.a[mask_a], battles.count[mask_a], n) + np.bincount(
            battles.b[mask_b], battles.count[mask_b], n
        )

    tie = battles.outcome == 0.5
    wins = tally(battles.outcome == 1.0, battles.outcome == 0.0)
    losses = tally(battles.outcome == 0.0, battles.outcome == 1.0)
    tie_games = tally(tie, tie)
    games = wins + losses + tie_games
    rows = []
    for rank, i in enumerate(order, 1):
        decided = wins[i] + losses[i]
        rows.append(
            PlayerRow(
                rank=rank,
                player=battles.players[i],
                rating=float(rating[i]),
                lower=None if lower is None else float(lower[i]),
                upper=None if upper is None else float(upper[i]),
                battles=int(games[i]),
                wins=float(wins[i]),
                losses=float(losses[i]),
                ties=float(tie_games[i]),
                win_rate=float(wins[i] / decided) if decided else None,
            )
        )
    return rows
