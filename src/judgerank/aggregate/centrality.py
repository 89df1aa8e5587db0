"""Spectral rankings: rank centrality (Negahban et al.) and PageRank over the win graph."""

from __future__ import annotations

import numpy as np


def _stationary(p: np.ndarray) -> np.ndarray:
    """The long-run share of time a walk on the row-stochastic `p` spends at each state, started
    at a state chosen uniformly (the Cesaro limit of the uniform start times P^t). Where the chain
    is irreducible this is its one stationary distribution. Where it is not (a bootstrap resample
    in which two players never lost, say) there are many, and this picks one by a rule: each closed
    class gets the mass that starts in it or drains into it, spread by its own stationary
    distribution; states the walk leaves for good get 0. The eigenvector for eigenvalue 1 that
    LAPACK happens to return first follows no rule, and two CPUs' OpenBLAS kernels gave two
    (a leaderboard's bootstrap interval moved by 0.01)."""
    from scipy.sparse.csgraph import connected_components

    n = len(p)
    count, label = connected_components(p > 0, directed=True, connection="strong")
    if count == 1:
        return _irreducible(p)
    closed = [c for c in range(count) if not (p[np.ix_(label == c, label != c)] > 0).any()]
    passing = np.flatnonzero(~np.isin(label, closed))
    start = np.full(n, 1.0 / n)
    # expected visits to each passing state, from the uniform start: start (I - Q)^-1
    visits = np.linalg.solve((np.eye(len(passing)) - p[np.ix_(passing, passing)]).T, start[passing])
    pi = np.zeros(n)
    for c in closed:
        members = np.flatnonzero(label == c)
        mass = start[members].sum() + visits @ p[np.ix_(passing, members)].sum(axis=1)
        pi[members] = mass * _irreducible(p[np.ix_(members, members)])
    return pi / pi.sum()


def _irreducible(p: np.ndarray) -> np.ndarray:
    """The stationary distribution of an irreducible row-stochastic `p`: pi (P - I) = 0 with
    sum(pi) = 1, solved by least squares (exact where the solution is unique)."""
    n = len(p)
    system = np.vstack([p.T - np.eye(n), np.ones((1, n))])
    target = np.zeros(n + 1)
    target[-1] = 1.0
    pi = np.maximum(np.linalg.lstsq(system, target, rcond=None)[0], 0.0)  # clip rounding below 0
    return pi / pi.sum()


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
