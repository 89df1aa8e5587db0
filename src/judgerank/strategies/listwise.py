"""Listwise strategies: sliding windows, permutation self-consistency, setwise heap top-k and
overlapping blocks (JointRank).

A WindowRanker orders windows of items (PermutationJudge generates a permutation, LabelJudge
reads the first-token letter probabilities); these strategies decide which windows to ask.

Partial rankings (Budget reached): sliding windows keep every window ranked so far (a window
cut short stays in its order before); setwise keeps the top found so far, then the rest in
input order; JointRank aggregates the blocks ranked so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.aggregate import rate
from judgerank.aggregate.kemeny import kemeny
from judgerank.core.judging import SetJudge, WindowRanker
from judgerank.core.types import Answers, Item, Query
from judgerank.strategies.base import Ordering, content_seed


@dataclass
class SlidingWindow:
    """RankGPT's sliding window: from the bottom of the list to the top, rank `window` items,
    move up by `stride`; `passes` repeats. A list that fits one window is one prompt; window None
    is the whole list in one prompt however long ("Sliding Windows Are Not the End")."""

    ranker: WindowRanker
    window: int | None
    stride: int
    passes: int

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        order = list(range(n))
        window = self.window or n
        starts = [0] if n <= window else [*range(n - window, 0, -self.stride), 0]
        complete = True
        for start in [s for _ in range(self.passes) for s in starts]:
            part = order[start : start + window]
            answers = self.ranker.rank_windows(query, [[items[i] for i in part]])
            perm = answers.first()
            if perm is not None:  # a window cut short stays in its order before
                order[start : start + window] = [part[p] for p in perm]
            if not answers.complete:
                complete = False
                break
        return Ordering([items[i].id for i in order], [None] * n, complete)


@dataclass
class ShuffledWindows:
    """Permutation self-consistency: each window is ranked as shown and in `shuffles - 1` other
    orders (all in one batch), and the rankings are merged by Kemeny consensus, which cancels
    the ranker's position bias."""

    ranker: WindowRanker
    shuffles: int

    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> Answers[list[int]]:
        asks, perms = [], []
        for items in windows:
            rng = np.random.default_rng(content_seed(query.text, [i.id for i in items]))
            for s in range(self.shuffles):
                perm = list(range(len(items))) if s == 0 else [int(p) for p in rng.permutation(len(items))]
                asks.append([items[p] for p in perm])
                perms.append(perm)
        answers = self.ranker.rank_windows(query, asks)
        merged: list[list[int] | None] = []
        for w, items in enumerate(windows):
            prefer = np.zeros((len(items), len(items)))
            got = 0
            shown = perms[w * self.shuffles : (w + 1) * self.shuffles]
            for perm, answer in zip(shown, answers.values[w * self.shuffles :]):
                if answer is None:
                    continue
                got += 1
                ranked = [perm[p] for p in answer]
                for x in range(len(ranked)):
                    prefer[ranked[x], ranked[x + 1 :]] += 1.0
            merged.append(kemeny(prefer) if got else None)  # a cut window: the orders that came back
        return Answers(merged, answers.complete)


@dataclass
class SetwiseTopK:
    """Heap sort of the top k over sets: a node and its set_size - 1 children are shown
    together and the judge picks the best, which moves up. Sets of one heap level are batched."""

    judge: SetJudge
    k: int
    set_size: int

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        heap = list(range(n))
        memo: dict[tuple[int, ...], int] = {}
        sift = _SetSifter(self, query, items, heap, memo)
        depth = {0: 0}
        for v in range(1, n):
            depth[v] = depth[(v - 1) // sift.d] + 1
        internal = [v for v in range(n) if sift.d * v + 1 < n]
        finished = all(sift.down([v for v in internal if depth[v] == level])
                       for level in sorted({depth[v] for v in internal}, reverse=True))
        top: list[int] = []
        while finished and heap and len(top) < self.k:
            top.append(heap[0])
            last = heap.pop()
            if heap:
                heap[0] = last
                finished = sift.down([0])
        found = set(top)
        order = top + [i for i in range(n) if i not in found]
        return Ordering([items[i].id for i in order], [None] * n, finished)


@dataclass
class _SetSifter:
    """The sift-down of SetwiseTopK's heap, each step one batch of sets; a set judged once is
    remembered in `memo` (by its members). `down` says False when the Budget stopped it."""

    owner: SetwiseTopK
    query: Query
    items: Sequence[Item]
    heap: list[int]
    memo: dict[tuple[int, ...], int]

    @property
    def d(self) -> int:
        return self.owner.set_size - 1

    def best(self, groups: list[list[int]]) -> bool:
        todo = list({tuple(sorted(g)): g for g in groups if tuple(sorted(g)) not in self.memo}.values())
        if not todo:
            return True
        answers = self.owner.judge.best_of(self.query, [[self.items[i] for i in g] for g in todo])
        for g, pick in zip(todo, answers.values):
            if pick is not None:  # the sets judged before a stop stay known
                self.memo[tuple(sorted(g))] = g[pick]
            elif answers.complete:  # no verdict could be read: the input order decides, as a tie does in a sort
                self.memo[tuple(sorted(g))] = min(g)
        return answers.complete

    def down(self, nodes: list[int]) -> bool:
        heap, d = self.heap, self.d
        active = [v for v in nodes if d * v + 1 < len(heap)]
        while active:
            groups = [[heap[v]] + [heap[c] for c in range(d * v + 1, min(d * v + d + 1, len(heap)))] for v in active]
            if not self.best(groups):
                return False
            moved = []
            for v, group in zip(active, groups):
                winner = self.memo[tuple(sorted(group))]
                if winner != heap[v]:
                    c = heap.index(winner, d * v + 1)
                    heap[v], heap[c] = heap[c], heap[v]
                    if d * c + 1 < len(heap):
                        moved.append(c)
            active = moved
        return True


AGGREGATORS = ("bradley-terry", "pagerank", "win-rate")  # JointRank's; judgerank.aggregate.rate computes each


@dataclass
class JointRank:
    """Overlapping blocks: `replicas` rounds, each splitting the items into blocks of at most
    `window` (round one in input order, the others shuffled), so every item appears in
    `replicas` blocks. All blocks are ranked independently, in one batch; each block ranking
    implies a win for every item over each item below it, and an aggregator turns the wins
    into one ranking."""

    ranker: WindowRanker
    window: int
    replicas: int
    aggregator: str

    def blocks(self, items: Sequence[Item]) -> list[list[int]]:
        n = len(items)
        count = -(-n // self.window)
        rng = np.random.default_rng(content_seed([i.id for i in items], self.window, self.replicas))
        design = []
        for r in range(self.replicas):
            order = np.arange(n) if r == 0 else rng.permutation(n)
            design += [[int(i) for i in part] for part in np.array_split(order, count)]
        return design

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        if n <= self.window:
            return SlidingWindow(self.ranker, self.window, self.window, 1).rank(query, items)
        design = self.blocks(items)
        wins = np.zeros((n, n))
        answers = self.ranker.rank_windows(query, [[items[i] for i in b] for b in design])  # one round
        for block, perm in zip(design, answers.values):
            if perm is None:
                continue
            ranked = [block[p] for p in perm]
            for x in range(len(ranked)):
                wins[ranked[x], ranked[x + 1 :]] += 1.0
        scores = rate(self.aggregator, wins, prior=1.0)
        order = sorted(range(n), key=lambda i: (-scores[i], i))
        return Ordering([items[i].id for i in order], [float(scores[i]) for i in order], answers.complete)
