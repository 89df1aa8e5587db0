"""Spectral rankings: rank centrality (Negahban et al.) and PageRank over the win graph."""

from __future__ import annotations

import numpy as np


def _stationary(p: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eig(p.T)
    v = np.abs(np.real(vectors[:, np.argmin(np.abs(values - 1.0))]))
    return v / v.sum()


def rank_centrality(w: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """Centred log stationary probabilities of the random walk that moves from i to j with the
    share of i-j games j won (choix's rank_centrality); alpha adds that many virtual wins each way."""
    n = len(w)
    games = w + w.T + 2 * alpha
    share = np.divide(w.T + alpha, games, out=np.zeros_like(w, dtype=float), where=games > 0)
    np.fill_diagonal(share, 0.0)
    d_max = max(1, int((games > 0).sum(axis=1).max()))
    p = share / d_max
    p[np.arange(n), np.arange(n)] = 1.0 - p.sum(axis=1)
    pi = _stationary(p)
    log = np.log(np.maximum(pi, 1e-300))
    return log - log.mean()


def pagerank(w: np.ndarray, damping: float = 0.85) -> np.ndarray:
    """PageRank where each loss is a link from the loser to the winner."""
    n = len(w)
    out = w.T.sum(axis=1)  # losses of each player = links it sends
    link = np.divide(w.T, out[:, None], out=np.full((n, n), 1.0 / n), where=out[:, None] > 0)
    p = damping * link + (1.0 - damping) / n
    return _stationary(p)
