"""Cascade: a cheap first stage orders everything, an expensive second stage reorders the top.

The first stage fuses two orders by weighted reciprocal rank: the candidates' input order (the
retriever's, weight `input_weight`) and the embedding's (weight 1). The second stage (an LLM
method) ranks the top `depth` of that order. With fuse=True the top is ordered by weighted
reciprocal-rank fusion of all three, the second stage counting `second_weight`, so a weak judge
refines the first stage instead of replacing it; the weight is calibrated per model (see
judgerank.strategies.registry). Below the top, the first stage's order stands.

Scores: the second stage's (a probability of relevance for `pointwise`) for the top; None below.
A second stage with no weight in the fusion is not asked at all: the cascade is then its first
stage, scored by the embedding's cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judgerank.aggregate.voting import reciprocal_rank_fusion
from judgerank.core.judging import Scorer
from judgerank.core.types import Item, Query
from judgerank.guard.support import echoing, embedding_places, unsupported
from judgerank.strategies.base import Ordering, Strategy


@dataclass
class Cascade:
    first: Scorer
    second: Strategy
    depth: int
    fuse: bool
    input_weight: float
    second_weight: float
    checks_support: bool  # guarded, an LLM second stage's promotions are checked; an encoder follows no instructions

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        cosine = self.first.scores(query, items).got()  # a similarity judge answers every item
        by_embedding = sorted(range(n), key=lambda i: -cosine[i])  # stable: the input order breaks ties
        weights = [self.input_weight, 1.0]
        fused = reciprocal_rank_fusion([range(n), by_embedding], n, weights=weights)
        order = sorted(range(n), key=lambda i: -fused[i])  # stable: the input order breaks ties
        if self.fuse and self.second_weight == 0:
            # the second stage would have no say: ask it nothing, score by the first stage's cosine
            return Ordering([items[i].id for i in order], [cosine[i] for i in order], True)
        head, tail = order[: self.depth], order[self.depth :]
        second = self.second.rank(query, [items[i] for i in head])
        index = {items[i].id: i for i in head}
        if self.fuse:
            final = reciprocal_rank_fusion([range(n), by_embedding, [index[d] for d in second.ids]], n,
                                           weights=[*weights, self.second_weight])
            head = sorted(head, key=lambda i: -final[i])
        else:
            head = [index[d] for d in second.ids]
        score = dict(zip(second.ids, second.scores))
        ids = [items[i].id for i in head] + [items[i].id for i in tail]
        scores = [score[items[i].id] for i in head] + [None] * len(tail)
        flags = self._unsupported(query, items, head, cosine, second.ids) if self.checks_support else {}
        return Ordering(ids, scores, second.complete, flags, second.certificate)

    def _unsupported(self, query: Query, items: Sequence[Item], head: list[int], cosine: list[float],
                     judged: list[str]) -> dict[str, list[str]]:
        """The LLM saw the head in the first stage's order; its promotions from the bottom of both
        the input order and the embedding's, among those candidates, are flagged. A text holding a
        copy of the query is placed by its cosine without it (as the reranker's check does:
        judgerank.guard.support)."""
        shown = sorted(head)  # the input order among them
        plain = echoing(query.text, [items[i] for i in shown])
        without: dict[int, float] = {}
        if plain:  # every candidate again, so that feedback reads them all as the first stage did
            read = list(items)
            for k, item in plain.items():
                read[shown[k]] = item
            scored = self.first.scores(query, read).got()
            without = {k: scored[shown[k]] for k in plain}
        places = embedding_places([items[i].id for i in shown], [cosine[i] for i in shown], without)
        return unsupported(judged, [items[i].id for i in shown], places)
