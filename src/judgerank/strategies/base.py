"""What a strategy returns, and the pieces every strategy shares.

A strategy orders items by asking judges; it never builds prompts. On BudgetExhausted it stops
and returns the best ordering its judgments so far support, marked incomplete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

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


def content_seed(*parts: object) -> int:
    """A seed from content (item ids), so a re-run asks the same questions and hits the cache."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


def chunks(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
