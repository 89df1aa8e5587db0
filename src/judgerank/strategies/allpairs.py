"""All pairs: judge every pair, score each item by its mean win probability against all others
(PRP-allpair's summed wins, divided by n - 1 so that it reads as a probability).

Partial ranking: the same mean, an unjudged pair counting as a tie.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.core.judging import Comparer
from judgerank.core.types import Item, Query
from judgerank.strategies.base import Ordering
from judgerank.strategies.comparisons import Comparisons

CHUNK = 1024  # pairs asked at once (2,048 prompts): batches stay full, a spent budget stops the building


@dataclass
class AllPairs:
    judge: Comparer

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        comps = Comparisons(self.judge, query, items)
        # No pair waits for another, but the pairs are asked CHUNK at a time: a budget that runs
        # out stops the asking before the rest of n(n-1)/2 prompts are built (1,000 items: a
        # million prompts and gigabytes, for a budget that pays for a few thousand).
        pairs = itertools.combinations(range(len(items)), 2)
        complete = True
        while complete and (chunk := list(itertools.islice(pairs, CHUNK))):
            complete = comps.ask(chunk)
        wins = np.zeros(len(items))
        for a, b in itertools.combinations(range(len(items)), 2):
            p = comps.prob(a, b) if comps.known(a, b) else 0.5  # unjudged pairs count as ties
            wins[a] += p
            wins[b] += 1.0 - p
        order = sorted(range(len(items)), key=lambda i: -wins[i])
        others = max(1, len(items) - 1)
        return Ordering([items[i].id for i in order], [float(wins[i]) / others for i in order], complete)
