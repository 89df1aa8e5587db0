"""Pointwise sort: score every item independently, order by score.

Partial ranking (Budget reached): the items judged, by score, then the rest in input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judgerank.core.judging import Scorer
from judgerank.core.types import Item, Query
from judgerank.strategies.base import Ordering


@dataclass
class PointwiseSort:
    """Every item in one batch (one round): the judgments are independent, and the store keeps
    each as it arrives, so a Budget stop or a failure loses none of them."""

    judge: Scorer

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        answers = self.judge.scores(query, items)
        scores = {i.id: v for i, v in zip(items, answers.values) if v is not None}
        # stable sort: equal scores keep the input order; unscored items follow in input order
        scored = sorted((i.id for i in items if i.id in scores), key=lambda d: -scores[d])
        rest = [i.id for i in items if i.id not in scores]
        return Ordering(scored + rest, [scores[d] for d in scored] + [None] * len(rest), answers.complete)
