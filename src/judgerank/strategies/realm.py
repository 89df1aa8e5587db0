"""REALM-style recursive relevance: every candidate's relevance a distribution, sharpened by each
judgment, with the judging recursing into the region where the top k is still uncertain.

After REALM (recursive relevance modelling for LLM re-ranking): relevance is a Gaussian per
candidate (judgerank.aggregate.posterior). A pointwise pass reads each candidate's log-odds of
relevance (a reading of its strength, spread POINTWISE_SD); then, recursively, the uncertain
region is found, the candidates whose membership of the top k, or whose place in it, the
posterior is not sure of (probability between MARGIN and 1 - MARGIN); its middle candidate by
posterior mean is the pivot, every other candidate of the region is compared with it in one
batch (a quicksort partition, with the answers as soft readings, not hard splits), and the
posterior is updated. The recursion ends when no region is left, every pair it would ask was
asked, or the Budget ends. Pairwise readings and their noise are those of `active`.

Scores: the posterior mean (log-odds scale). Partial ranking: the posterior order so far.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.aggregate.posterior import Posterior, order_noise, reading, strength_posterior
from judgerank.errors import BudgetExhausted
from judgerank.strategies.active import PRIOR_SD, SAMPLES, first_stage_prior
from judgerank.strategies.base import Comparer, Ordering, Scorer
from judgerank.types import Item, Preference, Query

POINTWISE_SD = 1.5  # a pointwise log-odds as a reading of strength: coarser than a comparison
MARGIN = 0.05  # a candidate whose top-k membership or place is surer than 1 - MARGIN is settled


@dataclass
class RealmTopK:
    judge: Comparer
    scorer: Scorer
    k: int = 10
    batch: int = 8

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        k = min(self.k, n)
        index = {item.id: i for i, item in enumerate(items)}
        seed = int.from_bytes(hashlib.sha256(repr(["realm", *(i.id for i in items)]).encode()).digest()[:8], "little")
        rng = np.random.default_rng(seed)
        mean0 = first_stage_prior(n)
        answers: list[Preference] = []
        asked: set[tuple[int, int]] = set()
        points: dict[int, float] = {}
        complete = True
        try:
            scores: list[float | None] = list(self.scorer.scores(query, items))
        except BudgetExhausted as stop:
            scores, complete = stop.partial, False
        points = {i: _logit(s) for i, s in enumerate(scores) if s is not None}
        post = _posterior(mean0, answers, points, index)
        while complete:
            region = _uncertain(post, k, rng)
            pivot = _pivot(region, post, asked)
            if pivot is None:
                break
            others = [i for i in region if i != pivot and (min(i, pivot), max(i, pivot)) not in asked]
            for start in range(0, len(others), self.batch):
                pairs = [(pivot, i) for i in others[start : start + self.batch]]
                asked.update((min(a, b), max(a, b)) for a, b in pairs)
                try:
                    prefs: list[Preference | None] = list(
                        self.judge.compare(query, [(items[a], items[b]) for a, b in pairs]))
                except BudgetExhausted as stop:
                    prefs, complete = stop.partial, False
                answers += [p for p in prefs if p is not None]
                if not complete:
                    break
            post = _posterior(mean0, answers, points, index)
        order = [int(i) for i in np.argsort(-post.mean, kind="stable")]
        return Ordering([items[i].id for i in order], [float(post.mean[i]) for i in order], complete)


def _logit(p: float) -> float:
    """P(relevant) as log-odds."""
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1.0 - p))


def _posterior(mean0: np.ndarray, answers: list[Preference], points: dict[int, float], index: dict[str, int]) -> Posterior:
    a = np.array([index[p.a] for p in answers], dtype=int)
    b = np.array([index[p.b] for p in answers], dtype=int)
    x = np.array([reading(p) for p in answers], dtype=float)
    point_items = np.array(list(points), dtype=int)
    point_values = np.array(list(points.values()), dtype=float)
    return strength_posterior(mean0, PRIOR_SD, a, b, x, order_noise(answers), (point_items, point_values, POINTWISE_SD))


def _uncertain(post: Posterior, k: int, rng: np.random.Generator) -> list[int]:
    """Candidates whose top-k membership, or place in the top k, the posterior is unsure of,
    by posterior mean, best first."""
    n = len(post.mean)
    chol = np.linalg.cholesky(post.cov + 1e-12 * np.eye(n))
    z = post.mean + rng.standard_normal((SAMPLES, n)) @ chol.T
    ranks = np.argsort(np.argsort(-z, axis=1, kind="stable"), axis=1, kind="stable")
    best = np.argsort(-post.mean, kind="stable")
    map_rank = np.empty(n, dtype=int)
    map_rank[best] = np.arange(n)
    in_top = (ranks < k).mean(axis=0)
    same_place = (ranks == map_rank).mean(axis=0)
    unsure = ((in_top > MARGIN) & (in_top < 1 - MARGIN)) | ((map_rank < k) & (same_place < 1 - MARGIN))
    return [int(i) for i in best if unsure[i]]


def _pivot(region: list[int], post: Posterior, asked: set[tuple[int, int]]) -> int | None:
    """The region's middle candidate, or the nearest to the middle that still has pairs to ask."""
    if len(region) < 2:
        return None
    middle = len(region) // 2
    for i in sorted(region, key=lambda r: abs(region.index(r) - middle)):
        if any((min(i, j), max(i, j)) not in asked for j in region if j != i):
            return i
    return None
