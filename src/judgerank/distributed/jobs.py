"""A job that can travel: what a worker needs to rebuild the Reranker, Judge or Assessor of the
driver, and the JSON-ready result of one task.

Nothing here holds a model or a connection: a JobSpec is plain data, pickled to each worker, and
`Worker(spec)` builds the worker's own Runtime (its model, with its threads, and its own
connection to the store named by URL or path), so every worker judges exactly as one process
would, and shares judgments through the store.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from judgerank.assess import Assessor
from judgerank.core.costs import Budget
from judgerank.core.types import Item, Query, Request
from judgerank.judge import Judge
from judgerank.rerank import Reranker
from judgerank.runtime import Runtime

Task = Request | tuple[Query, tuple[Item, ...]]


@dataclass(frozen=True)
class JobSpec:
    kind: Literal["rerank", "judge", "assess"]
    method: str
    model: str | None = None
    base_url: str | None = None
    store: str | None = "default"  # a SQLite path, a postgresql:// URL, "default", or None
    threads: int | None = None  # llama.cpp threads per worker
    context: int | None = None  # the longest prompt of a local model, in tokens (None: its default)
    concurrency: int = 8  # with base_url: requests in flight per worker
    max_calls: int | None = None
    max_tokens: int | None = None
    options: dict[str, Any] = field(default_factory=dict)  # method options (rerank) or top_k, ratings (judge)


class Worker:
    """One worker's runtime and job; `run` turns a task into its JSON-ready result."""

    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.runtime = Runtime(store=spec.store, base_url=spec.base_url, threads=spec.threads, context=spec.context,
                               concurrency=spec.concurrency)
        budget = Budget(spec.max_calls, spec.max_tokens)
        self.job: Reranker | Judge | Assessor
        if spec.kind == "assess":
            self.job = Assessor(spec.model, budget=budget, runtime=self.runtime, **spec.options)
        elif spec.kind == "rerank":
            self.job = Reranker(spec.method, spec.model, budget=budget, runtime=self.runtime, **spec.options)
        else:
            self.job = Judge(spec.method, spec.model, budget=budget, runtime=self.runtime, **spec.options)

    def run(self, task: Task) -> dict[str, Any]:
        """{"result": the ranking (or judged responses) as_dict, "worker", "seconds"}."""
        start = time.perf_counter()
        query, items = (task.query, task.items) if isinstance(task, Request) else task
        job = self.job
        result = (job.assess(query, items) if isinstance(job, Assessor) else job.rank(query, items)).as_dict()
        return {"result": result, "worker": self.name, "seconds": time.perf_counter() - start}
