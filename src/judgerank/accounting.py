"""The cost account of one ranking job, and the Budget it must stay within.

Only backend work counts against a Budget: cache hits are free. The cached backend asks the
Ledger how much is left before each batch and cuts the batch to fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from judgerank.types import Budget, Costs


class Ledger:
    """Counts calls, tokens and cache hits, and says how much of the Budget is left."""

    def __init__(self, budget: Budget | None = None, observer: Callable[[Costs], None] | None = None) -> None:
        self.budget = budget or Budget()
        self.observer = observer  # told the costs after each judgment (a progress display)
        self.costs = Costs()
        self._started = time.perf_counter()
        self._clipped: set[int] = set()

    def calls_left(self) -> int | None:
        """New backend calls the Budget still allows (None: no limit)."""
        if self.budget.max_calls is None:
            return None
        return max(0, self.budget.max_calls - self.costs.calls)

    @property
    def tokens_spent(self) -> int:
        return self.costs.prompt_tokens + self.costs.completion_tokens

    def tokens_reached(self) -> bool:
        """True once the tokens spent reach the token Budget: no new judgment may start."""
        return self.budget.max_tokens is not None and self.tokens_spent >= self.budget.max_tokens

    def exhausted_message(self) -> str:
        b = self.budget
        if self.tokens_reached():
            return f"budget of {b.max_tokens} tokens reached ({self.tokens_spent} used)"
        return f"budget of {b.max_calls} calls reached"

    def charge(
        self,
        *,
        calls: int = 1,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        evaluated_tokens: int = 0,
        retries: int = 0,
        flops: float = 0.0,
    ) -> None:
        self.costs.calls += calls
        self.costs.flops += flops
        self.costs.retries += retries
        self.costs.prompt_tokens += prompt_tokens
        self.costs.completion_tokens += completion_tokens
        self.costs.evaluated_tokens += evaluated_tokens
        if self.observer is not None:
            self.observer(self.costs)

    def round(self) -> None:
        """A batch went to a model: one more round that waited for the ones before."""
        self.costs.rounds += 1

    def implied(self, n: int) -> None:
        """Comparisons answered by transitivity from earlier answers, without a call."""
        self.costs.implied += n

    def hit(self, n: int = 1) -> None:
        self.costs.cache_hits += n

    def clipped(self, text: str) -> None:
        """A text was cut to fit a prompt (counted once per job, however often it is shown)."""
        self._clipped.add(hash(text))
        self.costs.clipped_texts = len(self._clipped)

    def embedded(self, n: int) -> None:
        self.costs.embedded_texts += n
        if self.observer is not None:
            self.observer(self.costs)

    def close(self) -> Costs:
        """Stamp the elapsed seconds and return the final costs."""
        self.costs.seconds = time.perf_counter() - self._started
        return self.costs
