"""Counting rules: win rate, Copeland, and reciprocal-rank fusion of several rankings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def win_rate(w: np.ndarray) -> np.ndarray:
    """Share of its games each player won (ties counted as w counts them); NaN with no games."""
    games = w.sum(axis=1) + w.sum(axis=0)
    return np.divide(w.sum(axis=1), games, out=np.full(len(w), np.nan), where=games > 0)


def copeland(w: np.ndarray) -> np.ndarray:
    """Head-to-head majorities won minus lost."""
    return np.sign(w - w.T).sum(axis=1)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], n: int, k: float = 60.0, weights: Sequence[float] | None = None
) -> np.ndarray:
    """Sum over rankings of weight / (k + rank), rank counted from 1 (Cormack et al.); a ranking
    may hold only some of the n items (the others get nothing from it)."""
    score = np.zeros(n)
    for ranking, weight in zip(rankings, weights if weights is not None else [1.0] * len(rankings)):
        for position, item in enumerate(ranking):
            score[item] += weight / (k + position + 1)
    return score
