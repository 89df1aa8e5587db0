"""Cascade: a cheap strategy orders everything, an expensive one reorders the top m."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judgerank.strategies.base import Ordering, Strategy
from judgerank.types import Item, Query


@dataclass
class Cascade:
    first: Strategy
    second: Strategy
    depth: int = 20

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        first = self.first.rank(query, items)
        by_id = {i.id: i for i in items}
        head = [by_id[d] for d in first.ids[: self.depth]]
        second = self.second.rank(query, head)
        # below the top m the first stage's order stands; its scores are on another scale
        tail = first.ids[self.depth :]
        return Ordering(
            second.ids + tail,
            second.scores + [None] * len(tail),
            first.complete and second.complete,
        )
