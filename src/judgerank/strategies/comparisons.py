"""Memoised pairwise comparisons inside one ranking job, asked in batches.

Sorting strategies call `prefetch` with every comparison they can make independently, so a
backend gets them as one batch; `beats` then answers from memory. A pair asked in either order
is judged once. When the Budget cuts a batch, the pairs that were judged are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from judgerank.errors import BudgetExhausted
from judgerank.strategies.base import Comparer
from judgerank.types import Item, Preference, Query


class Comparisons:
    def __init__(self, judge: Comparer, query: Query, items: Sequence[Item]) -> None:
        self.judge = judge
        self.query = query
        self.items = items
        self._prob: dict[tuple[int, int], float] = {}  # (i, j) with i < j: P(item i beats item j)

    def prefetch(self, pairs: Iterable[tuple[int, int]]) -> None:
        todo = list(dict.fromkeys((min(a, b), max(a, b)) for a, b in pairs if a != b))
        todo = [p for p in todo if p not in self._prob]
        if not todo:
            return
        try:
            prefs: list[Preference | None] = list(
                self.judge.compare(self.query, [(self.items[a], self.items[b]) for a, b in todo])
            )
        except BudgetExhausted as stop:
            self._prob.update((p, pref.prob) for p, pref in zip(todo, stop.partial) if pref is not None)
            raise
        self._prob.update((p, pref.prob) for p, pref in zip(todo, prefs) if pref is not None)

    def known(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self._prob

    def prob(self, a: int, b: int) -> float:
        self.prefetch([(a, b)])
        p = self._prob[(min(a, b), max(a, b))]
        return p if a < b else 1.0 - p

    def mean_win(self, a: int) -> float | None:
        """Item a's mean win probability over the comparisons judged for it (None: never compared)."""
        wins = [p if x == a else 1.0 - p for (x, y), p in self._prob.items() if a in (x, y)]
        return sum(wins) / len(wins) if wins else None

    def beats(self, a: int, b: int) -> bool:
        """True if a should rank above b; an exact tie keeps the input order."""
        p = self.prob(a, b)
        return p > 0.5 or (p == 0.5 and a < b)
