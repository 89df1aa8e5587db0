"""The error types users see.

Every user-facing failure is a JudgerankError whose message names the input and what was wrong;
the CLI prints it as one line and exits non-zero, the server maps it to a status by its cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def shown(value: object, limit: int = 60) -> str:
    """A piece of input quoted in an error message, cut so that garbage cannot flood a terminal."""
    text = value.strip() if isinstance(value, str) else repr(value)
    cut = text if len(text) <= limit else text[:limit] + "..."
    return repr(cut) if isinstance(value, str) else cut


class JudgerankError(Exception):
    """A problem with the user's input, model or configuration."""


class BudgetExhausted(JudgerankError):
    """The Budget of calls or tokens is spent.

    `partial` holds what the interrupted request did finish, aligned with what was asked (None
    where nothing came back): the cached backend fills it with results, a judge turns it into
    signals, and the strategy folds those into its partial ranking before it stops.
    """

    def __init__(self, message: str, partial: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.partial: list[Any] = list(partial)

    def carrying(self, partial: Sequence[Any]) -> BudgetExhausted:
        """The same stop, carrying `partial` instead (a judge's signals for its caller)."""
        return BudgetExhausted(str(self), partial)


class BackendError(JudgerankError):
    """A model server failed (refused, timed out, errors) after every retry: not the input's fault.

    `status` is the HTTP status a gateway answers with: 504 for a timeout, 503 for a server that
    cannot be reached, 502 for a bad or failed reply.
    """

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


class StoreError(JudgerankError):
    """The judgment store cannot be opened, read or written; the message names the file."""
