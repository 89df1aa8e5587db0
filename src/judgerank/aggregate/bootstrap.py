"""Bootstrap intervals for Bradley-Terry ratings, vectorised over resamples.

Each resample draws new counts for the unique (a, b, outcome) rows from a multinomial over the
observed counts (the same as resampling the battles themselves), builds all win matrices with
one sparse product, and fits them in one batch warm-started from the full-data fit.
"""

from __future__ import annotations

import numpy as np

from judgerank.aggregate.battles import Battles, Ties
from judgerank.aggregate.bradley_terry import bradley_terry_batch

BOOTSTRAP_PRIOR = 0.01  # virtual games that keep resamples without a finite MLE finite


def resampled_win_matrices(battles: Battles, n_samples: int, seed: int = 0, ties: Ties = "half") -> np.ndarray:
    rng = np.random.default_rng(seed)
    total = int(round(battles.total))
    counts = rng.multinomial(total, battles.count / battles.total, size=n_samples).astype(np.float64)
    n = battles.n_players
    w = np.asarray(battles.cells(ties) @ counts.T).T.reshape(n_samples, n, n)
    w[:, np.arange(n), np.arange(n)] = 0.0
    return w


def bootstrap_bradley_terry(
    battles: Battles,
    theta: np.ndarray,
    n_samples: int = 1000,
    seed: int = 0,
    ties: Ties = "half",
    prior: float = 0.0,
) -> np.ndarray:
    """Log-strength samples, n_samples x n_players."""
    w = resampled_win_matrices(battles, n_samples, seed, ties)
    return bradley_terry_batch(w, prior=max(prior, BOOTSTRAP_PRIOR), init=theta)


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    tail = (1.0 - level) / 2.0
    return np.quantile(samples, tail, axis=0), np.quantile(samples, 1.0 - tail, axis=0)
