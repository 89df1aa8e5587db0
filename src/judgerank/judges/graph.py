"""The comparison graph of one job: every preference judged, by item id, and the orders it implies.

Every pairwise-style strategy of a job asks through it, so a pair judged once is never asked
again in that job (whichever strategy or stage asks). With `imply` below 1, a pair whose order
follows by transitivity from confident answers is answered without a call: a beats b when a
chain a > x > ... > b exists in which every link was judged with probability at least `imply`,
and no such chain leads back from b to a (a and b in different strongly connected components of
the confident graph, as BlitzRank condenses cycles: a cycle implies nothing). The implied
probability is the chain's weakest link. Implied answers are counted in the job's costs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from judgerank.core.costs import Ledger
from judgerank.core.judging import Comparer
from judgerank.core.types import Answers, Item, Preference, Query


class ComparisonGraph:
    def __init__(self, judge: Comparer, ledger: Ledger | None = None) -> None:
        self.judge = judge
        self.ledger = ledger
        self._judged: dict[tuple[str, str], Preference] = {}  # both key orders point to one answer
        self._wins: dict[str, dict[str, float]] = {}  # winner -> {loser: P(winner beats loser)}
        self._implied: set[tuple[str, str]] = set()

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]], imply: float = 1.0) -> Answers[Preference]:
        answers: list[Preference | None] = [self._known(a.id, b.id, imply) for a, b in pairs]
        todo = list(dict.fromkeys((a, b) for (a, b), got in zip(pairs, answers) if got is None))
        if not todo:
            return Answers(answers)
        fresh = self.judge.compare(query, todo)
        for pref in fresh.got():
            self._record(pref)
        answers = [got if got is not None else self._known(a.id, b.id, 1.0) for (a, b), got in zip(pairs, answers)]
        return Answers(answers, fresh.complete)

    def _record(self, pref: Preference) -> None:
        self._judged[(pref.a, pref.b)] = pref
        self._judged[(pref.b, pref.a)] = pref
        p = pref.prob
        if p != 0.5:
            winner, loser = (pref.a, pref.b) if p > 0.5 else (pref.b, pref.a)
            self._wins.setdefault(winner, {})[loser] = max(p, 1.0 - p)

    def _known(self, a: str, b: str, imply: float) -> Preference | None:
        """The answer judged for (a, b) in a's frame, else an implied one (imply < 1), else None."""
        pref = self._judged.get((a, b))
        if pref is not None:
            return pref if pref.a == a else pref.flipped()
        if imply >= 1.0:
            return None
        forward, backward = self._chain(a, b, imply), self._chain(b, a, imply)
        if (forward is None) == (backward is None):  # no chain, or a cycle: nothing follows
            return None
        p = forward if forward is not None else 1.0 - backward  # type: ignore[operator]
        if (min(a, b), max(a, b)) not in self._implied:
            self._implied.add((min(a, b), max(a, b)))
            if self.ledger is not None:
                self.ledger.implied(1)
        return Preference(a, b, p, p)

    def _chain(self, a: str, b: str, imply: float) -> float | None:
        """The weakest link of the strongest chain of confident wins from a to b (None: none)."""
        best = {a: 1.0}
        queue = deque([a])
        while queue:
            x = queue.popleft()
            for v, p in self._wins.get(x, {}).items():
                if p < imply:
                    continue
                link = min(best[x], p)
                if link > best.get(v, 0.0):
                    best[v] = link
                    queue.append(v)
        return best.get(b) if b != a else None


@dataclass
class GraphComparer:
    """A strategy's view of the job's graph, with its own threshold for implied orders."""

    graph: ComparisonGraph
    imply: float = 1.0

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> Answers[Preference]:
        return self.graph.compare(query, pairs, self.imply)
