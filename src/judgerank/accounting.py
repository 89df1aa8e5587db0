"""The cost account of one ranking job, and the Budget it must stay within.

Only backend work counts against a Budget: cache hits are free.
"""

from __future__ import annotations

import time

from judgerank.errors import BudgetExhausted
from judgerank.types import Budget, Costs


class Ledger:
    """Counts calls, tokens and cache hits; refuses work that would overrun the Budget."""

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()
        self.costs = Costs()
        self._started = time.perf_counter()

    def check(self, new_calls: int) -> None:
        """Raise BudgetExhausted if `new_calls` more backend calls would overrun the Budget."""
        b = self.budget
        if b.max_calls is not None and self.costs.calls + new_calls > b.max_calls:
            raise BudgetExhausted(
                f"budget of {b.max_calls} calls reached ({self.costs.calls} used, {new_calls} more asked)"
            )
        if new_calls:
            self.check_tokens()

    def check_tokens(self) -> None:
        """Raise BudgetExhausted once the tokens spent reach the Budget."""
        spent = self.costs.prompt_tokens + self.costs.completion_tokens
        if self.budget.max_tokens is not None and spent >= self.budget.max_tokens:
            raise BudgetExhausted(f"budget of {self.budget.max_tokens} tokens reached ({spent} used)")

    def charge(
        self,
        *,
        calls: int = 1,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        evaluated_tokens: int = 0,
        retries: int = 0,
    ) -> None:
        self.costs.calls += calls
        self.costs.retries += retries
        self.costs.prompt_tokens += prompt_tokens
        self.costs.completion_tokens += completion_tokens
        self.costs.evaluated_tokens += evaluated_tokens

    def hit(self, n: int = 1) -> None:
        self.costs.cache_hits += n

    def embedded(self, n: int) -> None:
        self.costs.embedded_texts += n

    def close(self) -> Costs:
        """Stamp the elapsed seconds and return the final costs."""
        self.costs.seconds = time.perf_counter() - self._started
        return self.costs
