"""What a judge offers a strategy: the interfaces between the two halves of the engine.

A strategy decides which judgments to ask and knows nothing of prompts; a judge turns a request
into a prompt and its answer into a signal and knows nothing of algorithms. Each signal comes back
as Answers: None where the Budget stopped a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from judgerank.core.types import Answers, Item, Preference, Query


class Scorer(Protocol):
    """One score per item (a probability of relevance, an expected rating, a cosine)."""

    def scores(self, query: Query, items: Sequence[Item]) -> Answers[float]: ...


class Comparer(Protocol):
    """A preference per pair of items, both orders asked."""

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> Answers[Preference]: ...


class WindowRanker(Protocol):
    """An order per window of items: positions in the window, best first."""

    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> Answers[list[int]]: ...


class SetJudge(Protocol):
    """The best of each set: its position in the set."""

    def best_of(self, query: Query, sets: Sequence[Sequence[Item]]) -> Answers[int]: ...


class LabelRanker(WindowRanker, SetJudge, Protocol):
    """Ranks windows and picks the best of sets (FIRST-style labels)."""
