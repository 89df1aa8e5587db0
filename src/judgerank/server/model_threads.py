"""The threads that run model work in the service, at a lower CPU priority than the rest.

An in-process model (llama.cpp) computes on every core it is given. On a small machine a flood
of model work then takes the CPU from everything else the service does: requests the judgment
store answers whole, /healthz and /metrics wait for a time slice behind the model's threads
(p99 of a stored request 118 ms under one key's flood, 2 cores). Model work therefore runs in
threads of its own whose scheduling priority is lowered (`nice` + MODEL_NICENESS) when they
start; the threads the model's runtime starts from them (llama.cpp's OpenMP team) inherit it.
The model still gets every idle cycle; it gives way only while the event loop or a stored
request wants the CPU.

Lowering a thread's priority is Linux's per-thread `setpriority`; elsewhere, or where it is
refused, the threads run at the usual priority. A lowered thread cannot be raised again without
privileges, which is why these threads are kept apart from the event loop's shared pool.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio

log = logging.getLogger("judgerank.server")
T = TypeVar("T")

MODEL_NICENESS = 10  # CFS gives a nice-0 thread ~10x the CPU share of a nice-10 one when both want it


def lower_priority(by: int = MODEL_NICENESS) -> bool:
    """Lower this thread's CPU priority by `by` nice steps; whether it could."""
    if sys.platform != "linux":
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
    except OSError as exc:  # a sandbox that forbids it: run at the usual priority
        log.debug("model threads keep their priority: %s", exc)
        return False
    return True


def run_lowered(work: Callable[[], T]) -> T:
    """work() in a thread of lowered priority, waited for. Loading models there (the service's
    warm-up) matters: ONNX Runtime starts its pool of threads when a model is loaded, and they
    keep the priority of the thread that loaded it, so an embedding run for a flood's request
    would otherwise take the CPU from requests the store answers whole."""
    with ThreadPoolExecutor(1, thread_name_prefix="judgerank-load", initializer=lower_priority) as pool:
        return pool.submit(work).result()


class ModelThreads:
    """A pool of `size` low-priority threads; `run` awaits a function in one of them."""

    def __init__(self, size: int) -> None:
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="judgerank-model", initializer=lower_priority)

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """work(*args) in a model thread. A cancelled caller still waits for it to return (as
        anyio's threads do), so a slot is never freed while its work goes on; the work itself
        stops early through its cancellation event (judgerank.core.cancel)."""
        future = asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
        with anyio.CancelScope(shield=True):
            result = await future
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
