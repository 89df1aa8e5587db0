"""Bradley-Terry maximum likelihood by Newman's iteration, for one win matrix or a batch.

Newman (2023), "Efficient computation of rankings from pairwise comparisons": the update
    p_i <- sum_j W_ij p_j / (p_i + p_j)  /  sum_j W_ji / (p_i + p_j)
has the same fixed point as Zermelo's (MM) but needs far fewer steps. It is applied in place,
player by player (updating all players at once can fall into a 2-cycle), and vectorised over a
batch of win matrices, so 1000 bootstrap fits cost about as much as one. Strengths come back as
log-strengths with mean zero, the normalisation arena-rank and choix report.

A prior adds `prior` virtual games, half won and half lost, against a player of strength 1, so
that every player gets a finite rating even when the data alone define none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from scipy.special import expit

from judgerank.core.errors import JudgerankError


def mle_exists(w: np.ndarray) -> bool:
    """The MLE is finite iff the graph 'i beat j' is strongly connected."""
    from scipy.sparse.csgraph import connected_components  # here: a third of a second to import

    n_comp, _ = connected_components(w > 0, directed=True, connection="strong")
    return n_comp == 1


def bradley_terry(w: np.ndarray, prior: float = 0.0, tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
    """Centred log-strengths from the win matrix w (w[i, j] = wins of i over j)."""
    if prior == 0.0 and not mle_exists(w):
        raise JudgerankError(
            "the Bradley-Terry MLE does not exist: some players never won, never lost, or form a separate "
            "group; give a prior"
        )
    return bradley_terry_batch(w[None], prior=prior, tol=tol, max_iter=max_iter)[0]


def bradley_terry_batch(
    w: np.ndarray,
    prior: float = 0.0,
    init: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> np.ndarray:
    """Fit B win matrices (B x n x n) at once; init: log-strengths (n or B x n) to start from."""
    b, n, _ = w.shape
    p = np.ones((b, n)) if init is None else np.exp(np.broadcast_to(init, (b, n))).copy()
    wins = np.ascontiguousarray(w)
    losses = np.ascontiguousarray(np.swapaxes(w, 1, 2))
    half = prior / 2.0
    for _ in range(max_iter):
        before = p.copy()
        for i in range(n):
            inv = 1.0 / (p[:, i : i + 1] + p)
            virtual = half / (p[:, i] + 1.0)
            num = np.einsum("bj,bj,bj->b", wins[:, i], p, inv) + virtual
            den = np.einsum("bj,bj->b", losses[:, i], inv) + virtual
            p[:, i] = num / den
        p /= np.exp(np.log(p).mean(axis=1, keepdims=True))
        if np.max(np.abs(p - before) / before) < tol:
            break
    theta = np.log(p)
    return theta - theta.mean(axis=1, keepdims=True)


def to_scale(theta: np.ndarray, scale: float = 400.0, base: float = 10.0, init: float = 1000.0) -> np.ndarray:
    """Log-strengths on the familiar Elo-like scale: init + scale * log_base(strength)."""
    return init + theta * scale / math.log(base)


def soft_wins(players: Sequence[str], results: Iterable[tuple[str, str, float]]) -> np.ndarray:
    """The win matrix of soft outcomes (a, b, p): a wins with weight p, b with 1 - p (a judge's
    probability, or 1, 0 and 0.5 for a win, a loss and a tie)."""
    index = {p: n for n, p in enumerate(players)}
    w = np.zeros((len(players), len(players)))
    for a, b, p in results:
        w[index[a], index[b]] += p
        w[index[b], index[a]] += 1.0 - p
    return w


def win_probability(theta: np.ndarray) -> np.ndarray:
    """P[i, j] = P(i beats j) under the fitted model."""
    return expit(theta[:, None] - theta[None, :])
