"""Work that nobody waits for any more: a caller (the HTTP service, when its client disconnects)
sets an Event, and the judgment loop stops before its next model call.

The Event travels in a context variable, so the judges in between need not carry it; work run
without one (the CLI, the library) is never cancelled this way. Judgments that finished before
the stop are already stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from judgerank.core.errors import Cancelled

T = TypeVar("T")
_EVENT: ContextVar[threading.Event | None] = ContextVar("judgerank_cancel", default=None)


def run_cancellable(event: threading.Event, work: Callable[[], T]) -> T:
    """work(), in this thread; setting `event` meanwhile stops its judgment loop."""
    token = _EVENT.set(event)
    try:
        return work()
    finally:
        _EVENT.reset(token)


def check_cancelled() -> None:
    """Raise Cancelled if this work's caller has stopped waiting."""
    event = _EVENT.get()
    if event is not None and event.is_set():
        raise Cancelled("cancelled: the caller stopped waiting")


@contextmanager
def held(lock: threading.Lock) -> Iterator[None]:
    """Hold `lock`, waiting for it in short steps so that work whose caller has stopped waiting
    leaves the queue at once (Cancelled) instead of when the lock comes free."""
    while not lock.acquire(timeout=0.05):
        check_cancelled()
    try:
        yield
    finally:
        lock.release()
