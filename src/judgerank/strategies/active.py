"""Active top-k: ask the comparisons that most threaten the current top k, until it is certified.

A Bayesian posterior over Bradley-Terry strengths (judgerank.aggregate.posterior: each answer's
log-odds a noisy reading of a strength difference, the noise measured from the two orders'
disagreement) holds every candidate's strength. The prior comes from the first stage: the
candidates' input order, or a pointwise pass (`prior`). The first round compares every
candidate once, the prior's i-th best against its i-th worst (`first_round`): without it the
threat rule below never asks about a candidate the first stage put deep in the list, and the
strong ones there stay unfound (most of what the top k missed under a budget on DL19, measured in
bench/active_simulation.py; the round reaches pairwise-heap's nDCG@10 there with far fewer
calls). One answer is enough to lift such a candidate into contention, and a pair that agrees
with the prior confirms both ends of it. Then each round:
  1. the posterior is refitted on every answer so far;
  2. its certificate, the posterior probability that its top k (members and order) is the true
     one up to `tolerance` (strengths closer than that are ties it may hold in either order),
     is estimated from samples; at `confidence` the method stops;
  3. otherwise it asks, as one batch, the `batch` pairs that threaten the certificate most: the
     pairs (one placed in the top k, the other below it) reversed by more than the tolerance in
     the largest share of the posterior samples. These are the comparisons whose answers can
     remove the most failing posterior mass. Each item appears in at most one pair
     a round, so a round spreads over the contested region instead of hammering one item.
Pairs far from the top k or already settled threaten (nearly) nothing and are never asked; when
no pair threatens at least MIN_THREAT of the samples, the certificate has stalled (items too
close for this judge to order) and the method stops below the confidence asked, its level
saying so. It is anytime: a Budget cut returns the posterior's order and the certificate's level
at that point. The posterior already reasons transitively, so this method asks the job's
comparison graph without its implied orders (they would be counted twice).

Scores: the posterior mean strength (the judge's log-odds scale). Partial ranking: the same, on
the answers that came back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from judgerank.aggregate.posterior import answers_posterior, top_k_certificate
from judgerank.core.judging import Comparer, Scorer
from judgerank.core.types import Item, Preference, Query
from judgerank.strategies.base import Ordering, by_strength, content_seed

# The prior: a candidate's strength on the judge's log-odds scale is N(0, STRENGTH_SD^2) across
# candidates, and the first stage correlates FIRST_STAGE_RHO with it. Given the first stage's
# normal score z, the strength is then N(rho * sd * z, sd^2 (1 - rho^2)): a proper Gaussian
# conditional, moderately informative on purpose. A prior that claims more than the first stage
# knows makes the certificate overconfident (measured in bench/active_simulation.py).
STRENGTH_SD = 2.0
FIRST_STAGE_RHO = 0.5
PRIOR_SD = STRENGTH_SD * math.sqrt(1.0 - FIRST_STAGE_RHO**2)
SAMPLES = 2000  # posterior samples per certificate: its level is known to about +-0.01
# A pair reversed in fewer than this share of the posterior samples is not worth a call: with
# only such threats left, the certificate has stalled below the confidence asked (candidates too
# close for this judge to order), and the method stops.
MIN_THREAT = 0.001


def first_stage_prior(n: int, scores: Sequence[float] | None = None) -> np.ndarray:
    """Prior means from the first stage: the normal scores of its ranks (the input order, or the
    order of `scores`, best first), times rho * sd."""
    rank = np.arange(n) if scores is None else np.argsort(np.argsort(-np.asarray(scores, dtype=float), kind="stable"))
    z = ndtri((n - rank - 0.5) / n)
    return FIRST_STAGE_RHO * STRENGTH_SD * z


def first_round(prior_mean: np.ndarray) -> list[tuple[int, int]]:
    """Every candidate once, in pairs folded along the prior's order: its best against its
    worst, its second best against its second worst, and so on (an odd one out waits for the
    threat rule)."""
    order = [int(i) for i in np.argsort(-prior_mean, kind="stable")]
    return [(order[i], order[-1 - i]) for i in range(len(order) // 2)]


@dataclass
class ActiveTopK:
    judge: Comparer
    k: int
    confidence: float
    batch: int  # judgerank.strategies.registry.Options.batch says why its default is 4
    prior: Scorer | None  # None: the input order
    tolerance: float  # strengths closer than this are ties the top k may hold in either order

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        k = min(self.k, n)
        index = {item.id: i for i, item in enumerate(items)}
        rng = np.random.default_rng(content_seed([i.id for i in items]))
        answers: list[Preference] = []
        asked: set[tuple[int, int]] = set()
        complete = True
        if self.prior is None:
            mean0 = first_stage_prior(n)
        else:
            prior = self.prior.scores(query, items)
            complete = prior.complete  # a pointwise prior cut short: the input order stands in for it
            mean0 = first_stage_prior(n, prior.got() if complete else None)
        post = answers_posterior(mean0, PRIOR_SD, answers, index)
        cert = top_k_certificate(post, k, SAMPLES, rng, self.tolerance)
        pairs = first_round(mean0) if complete else []
        while pairs:  # empty: nothing left that could settle the top k
            asked.update(pairs)
            got = self.judge.compare(query, [(items[a], items[b]) for a, b in pairs])
            answers += got.got()
            complete = got.complete
            post = answers_posterior(mean0, PRIOR_SD, answers, index)
            cert = top_k_certificate(post, k, SAMPLES, rng, self.tolerance)
            if not complete:
                break
            if cert.level >= self.confidence:
                # confirmed on a fresh sample four times larger: a level that crossed the bar by
                # sampling luck (stopping at the first crossing favours those) does not stop it
                cert = top_k_certificate(post, k, 4 * SAMPLES, rng, self.tolerance)
                if cert.level >= self.confidence:
                    break
            pairs = self._choose(cert.threat, asked)
        return by_strength(items, post.mean, complete, cert.level)

    def _choose(self, threat: np.ndarray, asked: set[tuple[int, int]]) -> list[tuple[int, int]]:
        upper = np.triu(threat + threat.T, 1)  # a pair's threat, whichever way round it is placed
        rows, cols = np.nonzero(upper >= MIN_THREAT)
        ranked = sorted(zip(rows.tolist(), cols.tolist()), key=lambda ij: (-upper[ij], ij))
        chosen: list[tuple[int, int]] = []
        busy: set[int] = set()
        for i, j in ranked:
            if (i, j) in asked or i in busy or j in busy:
                continue
            chosen.append((i, j))
            busy.update((i, j))
            if len(chosen) == self.batch:
                break
        return chosen
