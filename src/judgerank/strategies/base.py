"""What a strategy returns, and the pieces every strategy shares.

A strategy orders items by asking judges; it never builds prompts. On BudgetExhausted it stops
and returns the best ordering its judgments so far support, marked incomplete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from judgerank.errors import BudgetExhausted
from judgerank.types import Item, Preference, Query


@dataclass
class Ordering:
    """Item ids best first; score None where the method placed an item without scoring it."""

    ids: list[str]
    scores: list[float | None]
    complete: bool = True
    flags: dict[str, list[str]] = field(default_factory=dict)  # what the strategy found suspect, by id
    certificate: float | None = None  # active: posterior probability that its top k is right


class Strategy(Protocol):
    def rank(self, query: Query, items: Sequence[Item]) -> Ordering: ...


class Scorer(Protocol):
    def scores(self, query: Query, items: Sequence[Item]) -> list[float]: ...


class Comparer(Protocol):
    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> list[Preference]: ...


def ask_pairs(
    judge: Comparer, query: Query, items: Sequence[Item], pairs: Sequence[tuple[int, int]]
) -> tuple[list[Preference], bool]:
    """The answers that came back for pairs of item positions, and whether all came back (False:
    the Budget cut the batch; the answers judged before the cut are kept)."""
    try:
        prefs: list[Preference | None] = list(judge.compare(query, [(items[a], items[b]) for a, b in pairs]))
        complete = True
    except BudgetExhausted as stop:
        prefs, complete = stop.partial, False
    return [p for p in prefs if p is not None], complete


def by_strength(items: Sequence[Item], strength: np.ndarray, complete: bool, certificate: float | None = None) -> Ordering:
    """Items best first by a strength per position, each scored by it."""
    order = [int(i) for i in np.argsort(-strength, kind="stable")]
    return Ordering([items[i].id for i in order], [float(strength[i]) for i in order], complete, certificate=certificate)


def content_seed(*parts: object) -> int:
    """A seed from content (item ids), so a re-run asks the same questions and hits the cache."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


def chunks(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
