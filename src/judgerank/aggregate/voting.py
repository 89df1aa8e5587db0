"""Counting rules: win rate, Copeland, Borda, and reciprocal-rank fusion of several rankings."""

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


def borda(rankings: Sequence[Sequence[int]], n: int) -> np.ndarray:
    """Points n-1-position per ranking; items missing from a ranking score nothing there."""
    points = np.zeros(n)
    for ranking in rankings:
        for position, item in enumerate(ranking):
            points[item] += n - 1 - position
    return points


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], n: int, k: float = 60.0) -> np.ndarray:
    """Sum over rankings of 1 / (k + rank), rank counted from 1 (Cormack et al.)."""
    score = np.zeros(n)
    for ranking in rankings:
        for position, item in enumerate(ranking):
            score[item] += 1.0 / (k + position + 1)
    return score
