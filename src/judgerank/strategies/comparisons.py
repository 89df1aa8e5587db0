"""Memoised pairwise comparisons inside one ranking job, asked in batches.

Sorting strategies call `ask` with every comparison they can make independently, so a backend
gets them as one batch, then `beats` answers from memory. A pair asked in either order is judged
once. `ask` says whether everything asked came back: when the Budget cut the batch, the pairs
that were judged are kept, and the strategy stops. A pair whose verdict could not be read
(judgerank.judges.words: unparsed) is not asked again and counts as even: the sort keeps the two
in input order, and no win is counted for either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from judgerank.core.judging import Comparer
from judgerank.core.types import Item, Query


class Comparisons:
    def __init__(self, judge: Comparer, query: Query, items: Sequence[Item]) -> None:
        self.judge = judge
        self.query = query
        self.items = items
        self._prob: dict[tuple[int, int], float] = {}  # (i, j) with i < j: P(item i beats item j)
        self._unread: set[tuple[int, int]] = set()  # asked, and no verdict could be read

    def ask(self, pairs: Iterable[tuple[int, int]]) -> bool:
        """Judge the pairs not yet known, in one batch; False when the Budget cut it."""
        todo = list(dict.fromkeys((min(a, b), max(a, b)) for a, b in pairs if a != b))
        todo = [p for p in todo if p not in self._prob and p not in self._unread]
        if not todo:
            return True
        answers = self.judge.compare(self.query, [(self.items[a], self.items[b]) for a, b in todo])
        self._prob.update((p, pref.prob) for p, pref in zip(todo, answers.values) if pref is not None)
        if answers.complete:
            self._unread.update(p for p, pref in zip(todo, answers.values) if pref is None)
        return answers.complete

    def known(self, a: int, b: int) -> bool:
        pair = (min(a, b), max(a, b))
        return pair in self._prob or pair in self._unread

    def prob(self, a: int, b: int) -> float:
        """P(a beats b), for a pair already asked (an unread verdict: 1/2)."""
        p = self._prob.get((min(a, b), max(a, b)), 0.5)
        return p if a < b else 1.0 - p

    def mean_win(self, a: int) -> float | None:
        """Item a's mean win probability over the comparisons judged for it (None: never compared)."""
        wins = [p if x == a else 1.0 - p for (x, y), p in self._prob.items() if a in (x, y)]
        return sum(wins) / len(wins) if wins else None

    def beats(self, a: int, b: int) -> bool:
        """True if a should rank above b (a pair already asked); an exact tie keeps the input order."""
        p = self.prob(a, b)
        return p > 0.5 or (p == 0.5 and a < b)
