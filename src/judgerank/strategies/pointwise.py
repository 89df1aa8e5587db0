"""Pointwise sort: score every item independently, order by score.

Partial ranking (Budget reached): the items judged, by score, then the rest in input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judgerank.errors import BudgetExhausted
from judgerank.strategies.base import Ordering, Scorer, chunks
from judgerank.types import Item, Query


@dataclass
class PointwiseSort:
    judge: Scorer
    batch_size: int = 16  # scored and cached in batches, so a Budget stop keeps finished work

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        scores: dict[str, float] = {}
        complete = True
        for batch in chunks(items, self.batch_size):
            try:
                values: list[float | None] = list(self.judge.scores(query, batch))
            except BudgetExhausted as stop:
                values, complete = stop.partial, False
            scores.update((i.id, v) for i, v in zip(batch, values) if v is not None)
            if not complete:
                break
        # stable sort: equal scores keep the input order; unscored items follow in input order
        scored = sorted((i.id for i in items if i.id in scores), key=lambda d: -scores[d])
        rest = [i.id for i in items if i.id not in scores]
        return Ordering(scored + rest, [scores[d] for d in scored] + [None] * len(rest), complete)
