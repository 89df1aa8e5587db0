"""Cascade: a cheap first stage orders everything, an expensive second stage reorders the top.

The first stage fuses two orders by weighted reciprocal rank: the candidates' input order (the
retriever's, weight `input_weight`) and the embedding's (weight 1). The second stage (an LLM
method) ranks the top `depth` of that order. With fuse=True the top is ordered by weighted
reciprocal-rank fusion of all three, the second stage counting `second_weight`, so a weak judge
refines the first stage instead of replacing it; the weight is calibrated per model (see
judgerank.methods). Below the top, the first stage's order stands.

Scores: the second stage's (a probability of relevance for `pointwise`) for the top; None below.
A second stage with no weight in the fusion is not asked at all: the cascade is then its first
stage, scored by the embedding's cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judgerank.strategies.base import Ordering, Scorer, Strategy
from judgerank.types import Item, Query

RRF_K = 60.0  # reciprocal-rank fusion's constant (Cormack et al.)


def _ranks(scores: Sequence[float]) -> list[int]:
    """0-based rank of each position by descending score; ties keep the input order."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    rank = [0] * len(scores)
    for r, i in enumerate(order):
        rank[i] = r
    return rank


@dataclass
class Cascade:
    first: Scorer
    second: Strategy
    depth: int = 20
    fuse: bool = True
    input_weight: float = 0.0
    second_weight: float = 1.0

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        cosine = self.first.scores(query, items)
        similarity = _ranks(cosine)
        fused = [self.input_weight / (RRF_K + n + 1) + 1.0 / (RRF_K + similarity[n] + 1) for n in range(len(items))]
        order = sorted(range(len(items)), key=lambda n: -fused[n])  # stable: the input order breaks ties
        if self.fuse and self.second_weight == 0:
            # the second stage would have no say: ask it nothing, score by the first stage's cosine
            return Ordering([items[n].id for n in order], [cosine[n] for n in order], True)
        head, tail = order[: self.depth], order[self.depth :]
        second = self.second.rank(query, [items[n] for n in head])
        index = {items[n].id: n for n in head}
        if self.fuse:
            place = {d: r for r, d in enumerate(second.ids)}
            final = {n: fused[n] + self.second_weight / (RRF_K + place[items[n].id] + 1) for n in head}
            head = sorted(head, key=lambda n: -final[n])
        else:
            head = [index[d] for d in second.ids]
        score = dict(zip(second.ids, second.scores))
        ids = [items[n].id for n in head] + [items[n].id for n in tail]
        scores = [score[items[n].id] for n in head] + [None] * len(tail)
        flags = self._inconsistent(head, second.ids, similarity, items)
        return Ordering(ids, scores, second.complete, flags, second.certificate)

    def _inconsistent(
        self, head: Sequence[int], second: Sequence[str], similarity: Sequence[int], items: Sequence[Item]
    ) -> dict[str, list[str]]:
        """Items the LLM put in its top 3 that both the input order and the embedding put in the
        bottom half of the candidates the LLM saw: a judgment the cheaper stages do not support.
        Ranks are counted among those candidates, whatever the depth of the whole list."""
        half = len(head) / 2
        placed = {d: r for r, d in enumerate(second)}
        by_input = {n: r for r, n in enumerate(sorted(head))}
        by_embedding = {n: r for r, n in enumerate(sorted(head, key=lambda n: similarity[n]))}
        return {
            items[n].id: ["inconsistent"]
            for n in head
            if placed[items[n].id] < 3 and by_input[n] >= half and by_embedding[n] >= half
        }
