"""What a strategy returns, and the pieces every strategy shares.

A strategy orders items by asking judges (judgerank.core.judging); it never builds prompts. When
the Budget cuts a batch, the Answers it gets back say so: it stops and returns the best ordering
its judgments so far support, marked incomplete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from judgerank.core.types import Item, Query


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


def by_strength(items: Sequence[Item], strength: np.ndarray, complete: bool, certificate: float | None = None) -> Ordering:
    """Items best first by a strength per position, each scored by it."""
    order = [int(i) for i in np.argsort(-strength, kind="stable")]
    return Ordering([items[i].id for i in order], [float(strength[i]) for i in order], complete, certificate=certificate)


def content_seed(*parts: object) -> int:
    """A seed from content (item ids), so a re-run asks the same questions and hits the cache."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")
