"""What a job costs, the Budget it must stay within, and the Ledger that counts one job's costs.

Only backend work counts against a Budget: cache hits are free. The cached model asks the Ledger
how much is left before each batch and cuts the batch to fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Budget:
    """Upper bounds on new (uncached) backend work for one ranking job."""

    max_calls: int | None = None
    max_tokens: int | None = None


@dataclass
class Costs:
    """What a ranking cost. Cache hits cost no calls and no tokens.

    prompt_tokens counts every prompt token a backend was asked for; evaluated_tokens counts the
    ones it actually computed (the rest came from a reused KV-cache prefix). retries counts
    failed attempts that an HTTP backend repeated. repairs counts the verdicts in words that were
    asked again once because they could not be read, unparsed the ones still unreadable after
    that (left out of every aggregate). rounds counts the batches sent to a model:
    each waited for the answers of the one before, so with a backend that runs a batch at once
    they bound the latency. implied counts comparisons answered by transitivity without a call.
    flops estimates the model's compute (judgerank.core.flops; 0 where the model's shape is
    unknown, as for a served model).
    """

    calls: int = 0
    rounds: int = 0
    implied: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    evaluated_tokens: int = 0
    cache_hits: int = 0
    embedded_texts: int = 0
    clipped_texts: int = 0  # passages, responses or queries cut to fit a prompt (each counted once)
    retries: int = 0
    repairs: int = 0  # verdicts in words that needed the repair turn (judgerank.judges.words)
    unparsed: int = 0  # verdicts in words still unreadable after it: left out, never read as a default
    flops: float = 0.0
    seconds: float = 0.0

    def add(self, other: Costs) -> None:
        """Add another account's costs to this one (totals over many rankings)."""
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, float]:
        """Plain numbers: counts as ints, seconds as a float."""
        return asdict(self)


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

    def charge(
        self,
        *,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        evaluated_tokens: int = 0,
        retries: int = 0,
        flops: float = 0.0,
    ) -> None:
        """One backend call and what it used."""
        self.costs.calls += 1
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

    def repaired(self, n: int = 1) -> None:
        self.costs.repairs += n

    def unreadable(self, n: int = 1) -> None:
        self.costs.unparsed += n

    def embedded(self, n: int) -> None:
        self.costs.embedded_texts += n
        if self.observer is not None:
            self.observer(self.costs)

    def close(self) -> Costs:
        """Stamp the elapsed seconds and return the final costs."""
        self.costs.seconds = time.perf_counter() - self._started
        return self.costs
