"""REALM-style recursive relevance: every candidate's relevance a distribution, sharpened by each
judgment, with the judging recursing into the parts of the list where the top k is uncertain.

After REALM (recursive relevance modelling for LLM re-ranking): relevance is a Gaussian per
candidate (judgerank.aggregate.posterior). A pointwise pass reads each candidate's log-odds of
relevance (a reading of its strength, spread POINTWISE_SD). Then the recursion, quicksort-like:
the uncertain region is the candidates whose membership of the top k, or whose place in it, the
posterior is not sure of (probability between MARGIN and 1 - MARGIN). Each part of it (at first
the whole region) gets a pivot, its middle candidate by posterior mean; every other candidate
of the part is compared with the pivot (the answers are soft readings that update every
candidate's distribution, not hard splits); the part then splits at the pivot into those now
above it and those below, and each half recurses on its candidates that are still uncertain.
All parts of one level are asked as one batch (one round), so the levels are the rounds; a
candidate meets at most one pivot a level and the parts shrink every level, so the judging
ends after at most about log2 of the region's size levels. It also ends at the Budget.

Scores: the posterior mean (log-odds scale). Partial ranking: the posterior order so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.aggregate.posterior import Posterior, answers_posterior, log_odds, samples_of
from judgerank.core.judging import Comparer, Scorer
from judgerank.core.types import Item, Preference, Query
from judgerank.strategies.active import PRIOR_SD, SAMPLES, first_stage_prior
from judgerank.strategies.base import Ordering, by_strength, content_seed

POINTWISE_SD = 1.5  # a pointwise log-odds as a reading of strength: coarser than a comparison
MARGIN = 0.05  # a candidate whose top-k membership or place is surer than 1 - MARGIN is settled


@dataclass
class RealmTopK:
    judge: Comparer
    scorer: Scorer
    k: int

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        k = min(self.k, n)
        index = {item.id: i for i, item in enumerate(items)}
        rng = np.random.default_rng(content_seed("realm", [i.id for i in items]))
        mean0 = first_stage_prior(n)
        answers: list[Preference] = []
        asked: set[tuple[int, int]] = set()
        pointwise = self.scorer.scores(query, items)
        complete = pointwise.complete
        points = {i: log_odds(s) for i, s in enumerate(pointwise.values) if s is not None}
        post = _posterior(mean0, answers, points, index)
        parts = [_uncertain(post, k, rng)] if complete else []
        parts = [p for p in parts if len(p) > 1]  # one candidate, or none unsure: nothing to compare
        while parts:
            pivots = [part[len(part) // 2] for part in parts]
            pairs = [(pivot, i) for part, pivot in zip(parts, pivots) for i in part
                     if i != pivot and (min(i, pivot), max(i, pivot)) not in asked]
            asked.update((min(a, b), max(a, b)) for a, b in pairs)
            got = self.judge.compare(query, [(items[a], items[b]) for a, b in pairs])
            answers += got.got()
            complete = got.complete
            post = _posterior(mean0, answers, points, index)
            if not complete:
                break
            unsure = set(_uncertain(post, k, rng))
            parts = [half for part, pivot in zip(parts, pivots) for half in _split(part, pivot, post, unsure)
                     if len(half) > 1]
        return by_strength(items, post.mean, complete)


def _posterior(mean0: np.ndarray, answers: list[Preference], points: dict[int, float], index: dict[str, int]) -> Posterior:
    pointwise = (np.array(list(points), dtype=int), np.array(list(points.values()), dtype=float), POINTWISE_SD)
    return answers_posterior(mean0, PRIOR_SD, answers, index, pointwise)


def _uncertain(post: Posterior, k: int, rng: np.random.Generator) -> list[int]:
    """Candidates whose top-k membership, or place in the top k, the posterior is unsure of,
    by posterior mean, best first."""
    n = len(post.mean)
    z = samples_of(post, SAMPLES, rng)
    ranks = np.argsort(np.argsort(-z, axis=1, kind="stable"), axis=1, kind="stable")
    best = np.argsort(-post.mean, kind="stable")
    map_rank = np.empty(n, dtype=int)
    map_rank[best] = np.arange(n)
    in_top = (ranks < k).mean(axis=0)
    same_place = (ranks == map_rank).mean(axis=0)
    unsure = ((in_top > MARGIN) & (in_top < 1 - MARGIN)) | ((map_rank < k) & (same_place < 1 - MARGIN))
    return [int(i) for i in best if unsure[i]]


def _split(part: list[int], pivot: int, post: Posterior, unsure: set[int]) -> list[list[int]]:
    """The part's candidates above and below its pivot by posterior mean, each kept to the ones
    still uncertain, best first; halves of fewer than two are done."""
    above = [i for i in part if i != pivot and post.mean[i] > post.mean[pivot] and i in unsure]
    below = [i for i in part if i != pivot and post.mean[i] <= post.mean[pivot] and i in unsure]
    return [sorted(h, key=lambda i: -post.mean[i]) for h in (above, below) if len(h) >= 2]
