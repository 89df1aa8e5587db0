"""Top-k sorts over pairwise comparisons: heap, quickselect and bubble (PRP-sliding-k).

Each finds the best k items in order; the rest keep their input order after them. Comparisons
that do not depend on each other go to the judge as one batch.

Partial rankings (Budget reached): heap, the items popped so far, then the rest in input order;
quickselect and bubble, the order their finished comparisons have produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judgerank.core.judging import Comparer
from judgerank.core.types import Item, Query
from judgerank.strategies.base import Ordering
from judgerank.strategies.comparisons import Comparisons


def _ordering(items: Sequence[Item], order: list[int], complete: bool, comps: Comparisons) -> Ordering:
    """The order, each item scored by its mean win probability over the comparisons it was in."""
    return Ordering([items[i].id for i in order], [comps.mean_win(i) for i in order], complete)


@dataclass
class HeapTopK:
    """Build a max-heap level by level, then pop k times."""

    judge: Comparer
    k: int

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        comps = Comparisons(self.judge, query, items)
        heap = list(range(len(items)))
        top: list[int] = []
        finished = self._heapify(heap, comps)
        while finished and heap and len(top) < self.k:
            top.append(heap[0])
            last = heap.pop()
            if heap:
                heap[0] = last
                finished = self._sift_down(heap, [0], comps)
        if not finished:  # the items popped so far, then the rest in input order
            found = set(top)
            return _ordering(items, top + [i for i in range(len(items)) if i not in found], False, comps)
        return _ordering(items, top + sorted(heap), True, comps)  # input order below the top k

    def _heapify(self, heap: list[int], comps: Comparisons) -> bool:
        n = len(heap)
        last_parent = n // 2 - 1
        level_start = (1 << ((last_parent + 1).bit_length() - 1)) - 1 if last_parent >= 0 else 0
        end = last_parent
        while end >= 0:
            # nodes of one level own disjoint subtrees, so their sift-downs run in lock-step
            if not self._sift_down(heap, list(range(level_start, end + 1)), comps):
                return False
            end = level_start - 1
            level_start = (level_start - 1) // 2 if level_start > 0 else 0
        return True

    @staticmethod
    def _sift_down(heap: list[int], nodes: list[int], comps: Comparisons) -> bool:
        """Sift the nodes down together; False when the Budget stopped it."""
        n = len(heap)
        active = [v for v in nodes if 2 * v + 1 < n]
        while active:
            if not comps.ask((heap[2 * v + 1], heap[2 * v + 2]) for v in active if 2 * v + 2 < n):
                return False
            child = {}
            for v in active:
                left, right = 2 * v + 1, 2 * v + 2
                child[v] = right if right < n and comps.beats(heap[right], heap[left]) else left
            if not comps.ask((heap[v], heap[child[v]]) for v in active):
                return False
            moved = []
            for v in active:
                c = child[v]
                if comps.beats(heap[c], heap[v]):
                    heap[v], heap[c] = heap[c], heap[v]
                    if 2 * c + 1 < n:
                        moved.append(c)
            active = moved
        return True


@dataclass
class QuickTopK:
    """Partial quicksort: partition around a pivot (all comparisons with it in one batch), and
    recurse only into parts that overlap the top k; parts of one round are batched together."""

    judge: Comparer
    k: int

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        comps = Comparisons(self.judge, query, items)
        order = list(range(len(items)))
        segments = [(0, len(order))]
        while segments:
            if not comps.ask((order[x], order[lo]) for lo, hi in segments for x in range(lo + 1, hi)):
                return _ordering(items, order, False, comps)
            next_segments = []
            for lo, hi in segments:
                pivot = order[lo]  # the first-stage favourite of the part
                better = [x for x in order[lo + 1 : hi] if comps.beats(x, pivot)]
                worse = [x for x in order[lo + 1 : hi] if not comps.beats(x, pivot)]
                order[lo:hi] = better + [pivot] + worse
                mid = lo + len(better)
                for a, b in ((lo, mid), (mid + 1, hi)):
                    if b - a > 1 and a < self.k:
                        next_segments.append((a, b))
            segments = next_segments
        return _ordering(items, order[: self.k] + sorted(order[self.k :]), True, comps)


@dataclass
class BubbleTopK:
    """k bottom-up passes of adjacent comparisons (PRP-sliding-k); each depends on the last, so
    this one cannot batch, but a pass with no swap ends the sort early."""

    judge: Comparer
    k: int

    def rank(self, query: Query, items: Sequence[Item]) -> Ordering:
        comps = Comparisons(self.judge, query, items)
        order = list(range(len(items)))
        for start in range(min(self.k, len(order))):
            swapped = False
            for i in range(len(order) - 2, start - 1, -1):
                if not comps.ask([(order[i + 1], order[i])]):
                    return _ordering(items, order, False, comps)
                if comps.beats(order[i + 1], order[i]):
                    order[i], order[i + 1] = order[i + 1], order[i]
                    swapped = True
            if not swapped:
                break
        return _ordering(items, order, True, comps)
