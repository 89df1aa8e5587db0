"""Queries where there are none (InPars, Promptagator): sample passages of a corpus, have the
teacher's LLM write the query each one answers, and give each query the corpus's passages the
embedding finds nearest to it, so the teacher can judge them and a student learn from them.

The generations go through the judgment store like any judgment (a rerun pays nothing), and the
corpus is embedded once (its vectors are stored too). The whole corpus is held in memory with
one 384-float vector a passage: fine for corpora of up to a few hundred thousand passages.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from judgerank.core.costs import Costs
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Item, Query, Request
from judgerank.rerank.corpus import iter_corpus
from judgerank.runtime import Runtime

BATCH = 8  # passages written for together: a progress step, and a stop loses at most these


@dataclass
class Generated:
    """The requests made from generated queries, what writing them cost, and how many passages
    got no readable query or one already written for another passage (both left out)."""

    requests: list[Request] = field(default_factory=list)
    costs: Costs = field(default_factory=Costs)
    unreadable: int = 0


def generated_requests(runtime: Runtime, model: str | None, corpus: str | Path, count: int, depth: int, seed: int,
                       progress: Callable[[int, int], None] | None = None) -> Generated:
    """`count` passages of the corpus sampled with `seed`, a query written for each, and each
    query's `depth` nearest passages (by the embedding) as its candidates. A query's id names
    the passage it was written for."""
    runtime.check(model, frozenset({"generate", "embedding"}))
    passages = dict(iter_corpus(corpus))
    if len(passages) < 2:
        raise JudgerankError(f"{corpus}: {len(passages)} passages; generating queries needs a corpus of two or more")
    ids = sorted(passages)
    chosen = random.Random(seed).sample(ids, min(count, len(ids)))
    out = Generated()
    job = runtime.job("rerank", model)
    writer, embedding = job.query_writer(), job.similarity().model
    vectors = embedding.vectors([passages[d] for d in ids])
    seen: set[str] = set()
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start : start + BATCH]
        written = writer.write([Item(d, passages[d]) for d in batch]).values
        queries = []
        for d, q in zip(batch, written):
            if q and q.lower() not in seen:  # a query written twice (a weak model's boilerplate) teaches nothing new
                seen.add(q.lower())
                queries.append((d, q))
        out.unreadable += len(batch) - len(queries)
        if queries:
            near = vectors @ embedding.vectors([q for _, q in queries]).T
            for column, (source, text) in enumerate(queries):
                top = np.argsort(-near[:, column], kind="stable")[:depth]
                items = tuple(Item(ids[k], passages[ids[k]]) for k in top)
                out.requests.append(Request(Query(f"generated-for-{source}", text), items))
        if progress is not None:
            progress(min(start + BATCH, len(chosen)), len(chosen))
    out.costs = job.close()
    return out
