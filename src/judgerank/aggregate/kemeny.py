"""Kemeny consensus: the order that disagrees least with the pairwise majorities.

Exact by dynamic programming over subsets for up to EXACT_MAX items, otherwise a local search of
single-item moves started from the Borda-like order of net wins.
"""

from __future__ import annotations

import numpy as np

EXACT_MAX = 12


def kemeny(prefer: np.ndarray) -> list[int]:
    """prefer[i, j]: weight of evidence that i ranks above j. Returns item indices, best first."""
    n = len(prefer)
    if n <= EXACT_MAX:
        return _exact(prefer)
    return _local_search(prefer)


def disagreement(order: list[int], prefer: np.ndarray) -> float:
    pos = np.empty(len(order), dtype=int)
    pos[order] = np.arange(len(order))
    below = pos[None, :] < pos[:, None]  # below[i, j]: i placed below j
    return float((prefer * below).sum())


def _exact(prefer: np.ndarray) -> list[int]:
    n = len(prefer)
    full = (1 << n) - 1
    # cost[S] = least disagreement of ordering the set S first; placing i right after S costs the
    # evidence that i should precede each item already placed.
    cost = np.full(1 << n, np.inf)
    choice = np.zeros(1 << n, dtype=np.int64)
    cost[0] = 0.0
    for s in range(1 << n):
        if cost[s] == np.inf:
            continue
        members = [j for j in range(n) if s >> j & 1]
        for i in range(n):
            if s >> i & 1:
                continue
            t = s | 1 << i
            c = cost[s] + prefer[i, members].sum()
            if c < cost[t]:
                cost[t], choice[t] = c, i
    order, s = [], full
    while s:
        i = int(choice[s])
        order.append(i)
        s &= ~(1 << i)
    return order[::-1]


def _local_search(prefer: np.ndarray) -> list[int]:
    order = list(np.argsort(-(prefer.sum(axis=1) - prefer.sum(axis=0)), kind="stable"))
    best = disagreement(order, prefer)
    improved = True
    while improved:
        improved = False
        for i in range(len(order)):
            item = order[i]
            rest = order[:i] + order[i + 1 :]
            for j in range(len(order)):
                if j == i:
                    continue
                candidate = rest[:j] + [item] + rest[j:]
                c = disagreement(candidate, prefer)
                if c < best - 1e-12:
                    order, best, improved = candidate, c, True
                    break
            if improved:
                break
    return [int(x) for x in order]
