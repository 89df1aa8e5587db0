"""Bootstrap intervals for Bradley-Terry ratings, built to scale to millions of battles.

Resampling is the Poisson bootstrap (Hanley & MacGibbon 2006; Chamandy et al. 2012, "Estimating
uncertainty for massive data streams"): every (pair, outcome) cell's count is redrawn
from a Poisson distribution with the observed count as its mean. It agrees with resampling the
battles (the multinomial bootstrap) to first order, the resample size varying by about sqrt(N),
and unlike it the cells are independent: resamples are drawn and fitted in chunks on every core,
each chunk from its own seed (spawned from `seed`), so results do not depend on the core count.

Each resample is fitted by Newton steps with one fixed Hessian, the full data's at the full fit:
a resample's Hessian differs from it by the sampling noise, so the steps converge linearly and
fast from the full fit (a handful of steps to 1e-6). Battles are folded to one row per unordered
pair and outcome, so memory grows with the number of pairs met, not with the battles. A resample
that has not converged after MAX_STEPS (one where a player lost every game, say) is refitted by
Newman's iteration on its dense win matrix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
from scipy.special import expit

from judgerank.aggregate.battles import Battles, Ties
from judgerank.aggregate.bradley_terry import bradley_terry_batch

T = TypeVar("T")
BOOTSTRAP_PRIOR = 0.01  # virtual games that keep resamples without a finite MLE finite
CHUNK = 50  # resamples fitted together: memory per worker ~ 10 x CHUNK x pairs x 8 bytes
MAX_STEPS = 60
TOL = 1e-6  # in log-strength: 2e-4 Elo points


def resampled_win_matrices(battles: Battles, n_samples: int, seed: int = 0, ties: Ties = "half") -> np.ndarray:
    """n_samples Poisson-bootstrap win matrices (n_samples x n x n), for the aggregators other
    than Bradley-Terry (a dense matrix each: meant for leaderboards of up to a few hundred players)."""
    cells = _Cells(battles, ties)
    return cells.win_matrices(*cells.draw(np.random.default_rng(seed), n_samples))


def bootstrap_bradley_terry(
    battles: Battles,
    theta: np.ndarray,
    n_samples: int = 1000,
    seed: int = 0,
    ties: Ties = "half",
    prior: float = 0.0,
    workers: int | None = None,
) -> np.ndarray:
    """Log-strength samples, n_samples x n_players, each centred; theta: the full-data fit."""
    cells = _Cells(battles, ties)
    prior = max(prior, BOOTSTRAP_PRIOR)
    fixed = cells.fit(theta, prior)  # the full data's penalised optimum, where the Hessian is taken
    from scipy.linalg import cho_factor  # here: the arena's intervals need it, a rerank does not

    hessian = cho_factor(cells.hessian(fixed, prior))
    def chunk(rng: np.random.Generator, size: int) -> np.ndarray:
        games, scored = cells.draw(rng, size)
        return cells.fit_many(games, scored, fixed, hessian, prior)

    parts = in_seeded_chunks(n_samples, CHUNK, seed, chunk, workers)
    samples = np.vstack(parts) if parts else np.zeros((0, battles.n_players))
    return samples - samples.mean(axis=1, keepdims=True)


def in_seeded_chunks(n_samples: int, chunk: int, seed: int, work: Callable[[np.random.Generator, int], T],
                     workers: int | None = None) -> list[T]:
    """work(rng, size) for chunks of up to `chunk` resamples, each with its own generator spawned
    from `seed` (so results do not depend on the number of workers), on `workers` threads (default:
    every core; numpy releases the GIL in the RNG and array work)."""
    sizes = [min(chunk, n_samples - start) for start in range(0, n_samples, chunk)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    jobs = [(np.random.default_rng(s), size) for s, size in zip(seeds, sizes)]
    workers = workers or min(len(sizes), os.cpu_count() or 1)
    if workers <= 1:
        return [work(rng, size) for rng, size in jobs]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: work(*job), jobs))


class _Cells:
    """Battles folded to one row per unordered pair i < j met: i's wins, the ties, i's losses."""

    def __init__(self, battles: Battles, ties: Ties) -> None:
        keep = battles.a != battles.b
        if ties == "ignore":
            keep &= battles.outcome != 0.5
        a, b, o, c = battles.a[keep], battles.b[keep], battles.outcome[keep], battles.count[keep]
        flip = a > b
        i, j = np.where(flip, b, a), np.where(flip, a, b)
        kind = np.rint(np.where(flip, 1.0 - o, o) * 2).astype(np.int64)  # 2: i won, 1: tie, 0: i lost
        n = battles.n_players
        pairs, pair_of = np.unique(i * n + j, return_inverse=True)
        self.n = n
        self.i, self.j = pairs // n, pairs % n
        k = len(pairs)
        self.count = np.zeros((3, k))  # rows: i's wins, ties, i's losses: the Poisson means
        np.add.at(self.count, (2 - kind, pair_of), c)
        # incidence: the gradient of the log-likelihood is residual_per_pair @ incidence
        from scipy import sparse

        self.incidence = sparse.csr_matrix(
            (np.r_[np.ones(k), -np.ones(k)], (np.r_[np.arange(k), np.arange(k)], np.r_[self.i, self.j])), shape=(k, n)
        )

    def draw(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Games and i's score per pair for `size` Poisson resamples (size x pairs each)."""
        wins, ties, losses = (rng.poisson(mean, size=(size, len(mean))).astype(np.float64) for mean in self.count)
        losses += wins
        losses += ties
        ties *= 0.5
        ties += wins
        return losses, ties  # games, i's score

    def gradient(self, theta: np.ndarray, games: np.ndarray, scored: np.ndarray, prior: float) -> np.ndarray:
        """Of the penalised log-likelihood, B x n (prior: virtual games half won, half lost, against strength 0)."""
        residual = theta[:, self.i]
        residual -= theta[:, self.j]
        expit(residual, out=residual)
        residual *= games
        np.subtract(scored, residual, out=residual)  # i's score minus its expected score, per pair
        return residual @ self.incidence + prior * (0.5 - expit(theta))

    def hessian(self, theta: np.ndarray, prior: float) -> np.ndarray:
        """Negative Hessian of the penalised log-likelihood on the full data, n x n."""
        p = expit(theta[self.i] - theta[self.j])
        v = self.count.sum(axis=0) * p * (1.0 - p)
        h = np.zeros((self.n, self.n))
        np.add.at(h, (self.i, self.j), -v)
        h += h.T
        h[np.diag_indices(self.n)] = -h.sum(axis=1)
        s = expit(theta)
        h[np.diag_indices(self.n)] += prior * s * (1.0 - s)
        return h

    def fit(self, theta: np.ndarray, prior: float) -> np.ndarray:
        """The full data's penalised optimum, by Newton from theta."""
        games, scored = self.count.sum(axis=0)[None], (self.count[0] + 0.5 * self.count[1])[None]
        t = theta[None].copy()
        for _ in range(MAX_STEPS):
            step = np.linalg.solve(self.hessian(t[0], prior), self.gradient(t, games, scored, prior)[0])
            t[0] += step
            if np.max(np.abs(step)) < TOL:
                break
        return t[0]

    def fit_many(self, games: np.ndarray, scored: np.ndarray, start: np.ndarray, hessian, prior: float) -> np.ndarray:
        from scipy.linalg import cho_solve

        theta = np.tile(start, (len(games), 1))
        active = np.arange(len(games))
        for _ in range(MAX_STEPS):
            step = cho_solve(hessian, self.gradient(theta[active], games[active], scored[active], prior).T).T
            theta[active] += step
            active = active[np.max(np.abs(step), axis=1) >= TOL]
            if not len(active):
                break
        if len(active):  # far from the full data (a player with no wins, say): Newman's iteration
            theta[active] = bradley_terry_batch(self.win_matrices(games[active], scored[active]), prior=prior)
        return theta

    def win_matrices(self, games: np.ndarray, scored: np.ndarray) -> np.ndarray:
        w = np.zeros((len(games), self.n, self.n))
        w[:, self.i, self.j] = scored
        w[:, self.j, self.i] = games - scored
        return w


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    tail = (1.0 - level) / 2.0
    return np.quantile(samples, tail, axis=0), np.quantile(samples, 1.0 - tail, axis=0)
