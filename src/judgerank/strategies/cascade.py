"""Cascade: a cheap strategy orders everything, an expensive one reorders the top m.

With fuse=True the top m are ordered by reciprocal-rank fusion of both stages' orders instead of
the second stage's alone, so a weak judge refines the first stage rather than replacing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judgerank.aggregate.voting import reciprocal_rank_fusion
from judgerank.strategies.base import Ordering, Strategy
from judgerank.types import Item, Query


@dataclass
class Cascade:
    first: Strategy
    second: Strategy
    depth: int = 20
    fuse: bool = True

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        first = self.first.rank(query, items)
        by_id = {i.id: i for i in items}
        head_ids = first.ids[: self.depth]
        second = self.second.rank(query, [by_id[d] for d in head_ids])
        ids, scores = second.ids, second.scores
        if self.fuse:
            pos = {d: n for n, d in enumerate(head_ids)}
            fused = reciprocal_rank_fusion([range(len(head_ids)), [pos[d] for d in second.ids]], len(head_ids))
            order = sorted(range(len(head_ids)), key=lambda n: -fused[n])  # stable: first stage breaks ties
            ids, scores = [head_ids[n] for n in order], [float(fused[n]) for n in order]
        # below the top m the first stage's order stands; its scores are on another scale
        tail = first.ids[self.depth :]
        return Ordering(ids + tail, scores + [None] * len(tail), first.complete and second.complete)
