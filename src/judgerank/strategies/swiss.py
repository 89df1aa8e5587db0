"""Swiss tournament: a few rounds of pairings between items with equal scores, then a
Bradley-Terry fit on the results. About n/2 comparisons a round, all of a round in one batch:
for larger sets under a budget, where all pairs cost too much.

Partial ranking (Budget reached): by each item's expected final Swiss score over simulated
continuations of the tournament (judgerank.strategies.tournament.swiss_outlook), Bradley-Terry
on the comparisons judged breaking ties; that expectation is the score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.aggregate.bradley_terry import bradley_terry
from judgerank.errors import BudgetExhausted
from judgerank.strategies.base import Comparer, Ordering
from judgerank.strategies.tournament import Result, Swiss, swiss_outlook
from judgerank.types import Item, Preference, Query

PRIOR = 1.0  # virtual games against an average item: finite ratings after few rounds
PARTIAL_SIMULATIONS = 200  # continuations simulated to rank a tournament a Budget cut short


@dataclass
class SwissRank:
    judge: Comparer
    rounds: int | None = None  # default: ceil(log2 n) + 2

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        by_id = {i.id: i for i in items}
        swiss = Swiss([i.id for i in items])
        rounds = self.rounds or math.ceil(math.log2(max(2, len(items)))) + 2
        results: list[Result] = []
        complete = True
        for _ in range(rounds):
            pairs = swiss.next_round(results)
            if not pairs:
                break
            try:
                prefs: list[Preference | None] = list(self.judge.compare(query, [(by_id[a], by_id[b]) for a, b in pairs]))
            except BudgetExhausted as stop:
                prefs, complete = stop.partial, False
            # the soft outcome keeps how sure the judge was; the scheduler only needs the standing
            results += [(p.a, p.b, p.prob) for p in prefs if p is not None]
            if not complete:
                break
        theta = _ratings([i.id for i in items], results)
        if complete:
            order = sorted(range(len(items)), key=lambda n: -theta[n])
            return Ordering([items[n].id for n in order], [float(theta[n]) for n in order], True)
        expected = swiss_outlook(swiss, results, rounds, simulations=PARTIAL_SIMULATIONS, prior=PRIOR).expected
        order = sorted(range(len(items)), key=lambda n: (-expected[items[n].id], -theta[n]))
        return Ordering([items[n].id for n in order], [expected[items[n].id] for n in order], False)


def _ratings(ids: list[str], results: list[Result]) -> np.ndarray:
    """Bradley-Terry log-strengths from soft outcomes (a wins with weight p, b with 1 - p)."""
    index = {p: n for n, p in enumerate(ids)}
    w = np.zeros((len(ids), len(ids)))
    for a, b, p in results:
        w[index[a], index[b]] += p
        w[index[b], index[a]] += 1.0 - p
    return bradley_terry(w, prior=PRIOR)
