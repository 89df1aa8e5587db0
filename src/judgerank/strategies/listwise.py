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
from typing import Protocol

import numpy as np

from judgerank.aggregate.bradley_terry import bradley_terry
from judgerank.aggregate.centrality import pagerank
from judgerank.aggregate.kemeny import kemeny
from judgerank.aggregate.voting import win_rate
from judgerank.errors import BudgetExhausted
from judgerank.strategies.base import Ordering, content_seed
from judgerank.types import Item, Query


class WindowRanker(Protocol):
    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> list[list[int]]: ...


class SetJudge(Protocol):
    def best_of(self, query: Query, sets: Sequence[Sequence[Item]]) -> list[int]: ...


@dataclass
class SlidingWindow:
    """RankGPT's sliding window: from the bottom of the list to the top, rank `window` items,
    move up by `stride`; `passes` repeats. A list that fits one window is one prompt; window None
    is the whole list in one prompt however long ("Sliding Windows Are Not the End")."""

    ranker: WindowRanker
    window: int | None = 20
    stride: int = 10
    passes: int = 1

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        order = list(range(n))
        window = self.window or n
        starts = [0] if n <= window else [*range(n - window, 0, -self.stride), 0]
        complete = True
        try:
            for _ in range(self.passes):
                for start in starts:
                    part = order[start : start + window]
                    try:
                        (perm,) = self.ranker.rank_windows(query, [[items[i] for i in part]])
                    except BudgetExhausted as stop:
                        if not stop.partial or stop.partial[0] is None:
                            raise
                        perm, complete = stop.partial[0], False
                    order[start : start + window] = [part[p] for p in perm]
                    if not complete:
                        break
                if not complete:
                    break
        except BudgetExhausted:
            complete = False
        return Ordering([items[i].id for i in order], [None] * n, complete)


@dataclass
class ShuffledWindows:
    """Permutation self-consistency: each window is ranked as shown and in `shuffles - 1` other
    orders (all in one batch), and the rankings are merged by Kemeny consensus, which cancels
    the ranker's position bias."""

    ranker: WindowRanker
    shuffles: int = 3

    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> list[list[int]]:
        asks, perms = [], []
        for items in windows:
            rng = np.random.default_rng(content_seed(query.text, [i.id for i in items]))
            for s in range(self.shuffles):
                perm = list(range(len(items))) if s == 0 else [int(p) for p in rng.permutation(len(items))]
                asks.append([items[p] for p in perm])
                perms.append(perm)
        try:
            answers: list[list[int] | None] = list(self.ranker.rank_windows(query, asks))
            stopped = None
        except BudgetExhausted as stop:
            answers, stopped = stop.partial, stop
        merged: list[list[int] | None] = []
        for w, items in enumerate(windows):
            prefer = np.zeros((len(items), len(items)))
            got = 0
            for perm, answer in zip(perms[w * self.shuffles : (w + 1) * self.shuffles], answers[w * self.shuffles :]):
                if answer is None:
                    continue
                got += 1
                ranked = [perm[p] for p in answer]
                for x in range(len(ranked)):
                    prefer[ranked[x], ranked[x + 1 :]] += 1.0
            merged.append(kemeny(prefer) if got else None)  # a cut window: the orders that came back
        if stopped is not None:
            raise stopped.carrying(merged)
        return merged  # type: ignore[return-value]


@dataclass
class SetwiseTopK:
    """Heap sort of the top k over sets: a node and its set_size - 1 children are shown
    together and the judge picks the best, which moves up. Sets of one heap level are batched."""

    judge: SetJudge
    k: int = 10
    set_size: int = 4

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        n = len(items)
        d = self.set_size - 1
        heap = list(range(n))
        memo: dict[tuple[int, ...], int] = {}

        def best(groups: list[list[int]]) -> list[int]:
            todo = list({tuple(sorted(g)): g for g in groups if tuple(sorted(g)) not in memo}.values())
            if todo:
                picks: list[int | None] = []
                try:
                    picks = list(self.judge.best_of(query, [[items[i] for i in g] for g in todo]))
                except BudgetExhausted as stop:
                    picks = stop.partial  # the sets judged before the stop stay known
                    raise
                finally:
                    for g, pick in zip(todo, picks):
                        if pick is not None:
                            memo[tuple(sorted(g))] = g[pick]
            return [memo[tuple(sorted(g))] for g in groups]

        def sift_down(nodes: list[int]) -> None:
            active = [v for v in nodes if d * v + 1 < len(heap)]
            while active:
                groups = [[heap[v]] + [heap[c] for c in range(d * v + 1, min(d * v + d + 1, len(heap)))] for v in active]
                moved = []
                for v, winner in zip(active, best(groups)):
                    if winner != heap[v]:
                        c = heap.index(winner, d * v + 1)
                        heap[v], heap[c] = heap[c], heap[v]
                        if d * c + 1 < len(heap):
                            moved.append(c)
                active = moved

        top: list[int] = []
        complete = True
        try:
            depth = {0: 0}
            for v in range(1, n):
                depth[v] = depth[(v - 1) // d] + 1
            internal = [v for v in range(n) if d * v + 1 < n]
            for level in sorted({depth[v] for v in internal}, reverse=True):
                sift_down([v for v in internal if depth[v] == level])
            while heap and len(top) < self.k:
                top.append(heap[0])
                last = heap.pop()
                if heap:
                    heap[0] = last
                    sift_down([0])
        except BudgetExhausted:
            complete = False
        found = set(top)
        order = top + [i for i in range(n) if i not in found]
        return Ordering([items[i].id for i in order], [None] * n, complete)


AGGREGATORS = ("bradley-terry", "pagerank", "win-rate")


@dataclass
class JointRank:
    """Overlapping blocks: `replicas` rounds, each splitting the items into blocks of at most
    `window` (round one in input order, the others shuffled), so every item appears in
    `replicas` blocks. All blocks are ranked independently, in one batch; each block ranking
    implies a win for every item over each item below it, and an aggregator turns the wins
    into one ranking."""

    ranker: WindowRanker
    window: int = 20
    replicas: int = 3
    aggregator: str = "bradley-terry"

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
            return SlidingWindow(self.ranker, self.window).rank(query, items)
        design = self.blocks(items)
        wins = np.zeros((n, n))
        complete = True
        try:  # one round: no block waits for another
            perms: list[list[int] | None] = list(self.ranker.rank_windows(query, [[items[i] for i in b] for b in design]))
        except BudgetExhausted as stop:
            perms, complete = stop.partial, False
        for block, perm in zip(design, perms):
            if perm is None:
                continue
            ranked = [block[p] for p in perm]
            for x in range(len(ranked)):
                wins[ranked[x], ranked[x + 1 :]] += 1.0
        scores = self._aggregate(wins)
        order = sorted(range(n), key=lambda i: (-scores[i], i))
        return Ordering([items[i].id for i in order], [float(scores[i]) for i in order], complete)

    def _aggregate(self, wins: np.ndarray) -> np.ndarray:
        if self.aggregator == "bradley-terry":
            return bradley_terry(wins, prior=1.0)
        if self.aggregator == "pagerank":
            return pagerank(wins)
        return np.nan_to_num(win_rate(wins), nan=0.0)
