"""What every judge shares: asking the cached model, and carrying partial answers on a stop.

A judge turns backend results into signals with one function that also accepts a partial list
(None where the Budget stopped a request), so a cut batch still yields every finished signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from judgerank.errors import BudgetExhausted

In = TypeVar("In")


def ask(
    call: Callable[[Sequence[In]], Sequence[Any]],
    requests: Sequence[In],
    to_signals: Callable[[Sequence[Any]], list[Any]],
) -> list[Any]:
    """to_signals(call(requests)); on a Budget stop, re-raise it carrying the partial signals."""
    try:
        results = call(requests)
    except BudgetExhausted as stop:
        raise stop.carrying(to_signals(stop.partial)) from None
    return to_signals(results)


def in_groups(results: Sequence[Any], size: int) -> list[tuple[Any, ...] | None]:
    """Consecutive groups of `size` results (both orders of a pair, say); None if any is missing."""
    groups = [tuple(results[i : i + size]) for i in range(0, len(results), size)]
    return [None if any(r is None for r in g) else g for g in groups]
