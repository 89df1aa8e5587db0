"""What tests share: requests with known grades, the simulated judge over them, and one stub
backend that answers as a test tells it to (the real servers the tests start live beside this:
loopback.py, standin_openai.py, faultproxy.py, postgres.py; fuzzing.py generates hostile input)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from judgerank.backends.base import Backend, ChoiceRequest, ChoiceResult
from judgerank.backends.simulated import SimulatedBackend
from judgerank.core.types import Item, Query, Request

DATA = Path(os.environ.get("JUDGERANK_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data")).resolve()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def graded_request(grades: list[float], qid: str = "q1") -> Request:
    """Items whose simulated relevance is grades[i]; item ids are d0, d1, ... in input order."""
    items = tuple(Item(f"d{i}", f"passage number {i} on topic {qid} with filler text {i * 7919}") for i in range(len(grades)))
    return Request(Query(qid, f"query {qid}"), items)


def simulated(request: Request, grades: list[float], **kwargs: object) -> SimulatedBackend:
    """The simulated judge over a graded request's texts (kwargs: noise, position_bias, seed, ...)."""
    return SimulatedBackend({i.text: g for i, g in zip(request.items, grades)}, **kwargs)  # type: ignore[arg-type]


class Stub(Backend):
    """A backend that answers as the test says: `similarity(query, text)` a score for the
    embedding stage, `choices(request)` the log-probabilities of a choice request (default: the
    first choice sure). Every choice request is kept in `requests`."""

    def __init__(self, identity: str = "stub", *, similarity: Callable[[str, str], float] | None = None,
                 choices: Callable[[ChoiceRequest], Sequence[float]] | None = None, concurrent: bool = False) -> None:
        self.identity = identity
        self.concurrent = concurrent
        self._similarity = similarity or (lambda query, text: float(len(text)))
        self._choices = choices or (lambda r: [0.0] + [-20.0] * (len(r.choices) - 1))
        self.requests: list[ChoiceRequest] = []

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        return [float(self._similarity(query, t)) for t in texts]

    def iter_choice_logprobs(self, requests: Sequence[ChoiceRequest]) -> Iterator[tuple[int, ChoiceResult]]:
        for i, request in enumerate(requests):
            self.requests.append(request)
            yield i, ChoiceResult(tuple(float(x) for x in self._choices(request)), 1, 1)


def cached(backend: Backend, store: object = None, ledger: object = None) -> object:
    """A backend seen through the judgment store, as a judge sees it (CachedModel), for tests of one
    judge: held as the runtime holds a given backend, charging `ledger` (a fresh one by default)."""
    from judgerank.core.costs import Ledger
    from judgerank.runtime import HeldModel
    from judgerank.store.cached import CachedModel

    held = HeldModel(None, backend, one_at_a_time=True)
    return CachedModel(lambda: held, store, ledger or Ledger())  # type: ignore[arg-type]


def restore_sigint() -> None:
    """Run in a child process before exec (Popen's preexec_fn): SIGINT back to its default. A test
    suite started in the background by a shell inherits SIGINT ignored, and so would every child
    it starts, which then never hears the Ctrl-C a test sends."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupted(args: Sequence[str], ready: Callable[[], bool], wait: float = 120.0) -> tuple[int, str, float]:
    """Start a command, press Ctrl-C once `ready()` says its work is under way, and wait for it to
    end: (exit status, stderr, seconds from Ctrl-C to exit). Fails if it ended before Ctrl-C."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=restore_sigint)
    deadline = time.time() + wait
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.05)
    assert proc.poll() is None, "the job finished before it could be interrupted"
    started = time.perf_counter()
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=wait)
    return proc.returncode, stderr, time.perf_counter() - started
