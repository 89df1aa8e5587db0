"""What a strategy returns, and the pieces every strategy shares.

A strategy orders items by asking judges (judgerank.core.judging); it never builds prompts. When
the Budget cuts a batch, the Answers it gets back say so: it stops and returns the best ordering
its judgments so far support, marked incomplete.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from judgerank.core.types import Item, Query


@dataclass
class Ordering:
    """Item ids best first; score None where the method placed an item without scoring it.

    The scores always follow the order (see follow_order): a method whose order comes from more
    than its scores (a cascade's fusion, a sort's comparisons) shows its scores made to agree."""

    ids: list[str]
    scores: list[float | None]
    complete: bool = True
    flags: dict[str, list[str]] = field(default_factory=dict)  # what the strategy found suspect, by id
    certificate: float | None = None  # active: posterior probability that its top k is right

    def __post_init__(self) -> None:
        self.scores = follow_order(self.scores)


def follow_order(scores: Sequence[float | None]) -> list[float | None]:
    """The scores made non-increasing down the order, None left where it is: the nearest such
    values in least squares (isotonic regression), so scores that already follow the order are
    unchanged and two that contradict it become their mean. A user who reads or thresholds the
    score column then never sees rank 6 score above rank 5."""
    at = [n for n, s in enumerate(scores) if s is not None and math.isfinite(s)]  # NaN, inf: left as they are
    values = np.array([scores[n] for n in at], dtype=float)
    if len(values) < 2 or bool(np.all(np.diff(values) <= 0)):
        return list(scores)
    from scipy.optimize import isotonic_regression  # only when a score contradicts the order

    fitted = isotonic_regression(values, increasing=False).x
    out = list(scores)
    for n, value in zip(at, fitted):
        out[n] = float(value)
    return out


class Strategy(Protocol):
    def rank(self, query: Query, items: Sequence[Item]) -> Ordering: ...


def by_strength(items: Sequence[Item], strength: np.ndarray, complete: bool, certificate: float | None = None) -> Ordering:
    """Items best first by a strength per position, each scored by it."""
    order = [int(i) for i in np.argsort(-strength, kind="stable")]
    return Ordering([items[i].id for i in order], [float(strength[i]) for i in order], complete, certificate=certificate)


def content_seed(*parts: object) -> int:
    """A seed from content (item ids), so a re-run asks the same questions and hits the cache."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")
