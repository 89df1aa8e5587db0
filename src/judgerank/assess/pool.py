"""Pooling, as TREC builds the pool its assessors judge: each topic's top `depth` passages of
every run, deduplicated.

A run's order within a topic is trec_eval's (score descending, ties by docid descending), so the
pool holds exactly the passages the evaluation at that depth reads. The pool lists each topic's
passages by their best rank over the runs (ties by run order), so a budget that stops an
assessment early has graded the passages that the most runs put highest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from judgerank.core.errors import JudgerankError
from judgerank.core.types import Item, Query, Request
from judgerank.io.trec import read_run_with_tag
from judgerank.rerank.corpus import read_corpus, read_topics

Run = Mapping[str, Mapping[str, float]]  # {qid: {docid: score}}


def ranked(scores: Mapping[str, float]) -> list[str]:
    """A topic's docids in trec_eval's order: score descending, ties by docid descending."""
    return sorted(scores, key=lambda d: (scores[d], d), reverse=True)


def pool(runs: Sequence[Run], depth: int) -> dict[str, list[str]]:
    """{qid: pooled docids}: the union of every run's top `depth` per topic, best rank first;
    topics in order of first appearance over the runs."""
    if depth < 1:
        raise JudgerankError(f"--depth {depth}: pool at least the first passage of each run")
    tops: dict[str, list[list[str]]] = {}
    for run in runs:
        for qid, scores in run.items():
            tops.setdefault(qid, []).append(ranked(scores)[:depth])
    pooled: dict[str, list[str]] = {}
    for qid, lists in tops.items():
        seen: dict[str, None] = {}
        for rank in range(depth):
            for top in lists:
                if rank < len(top):
                    seen.setdefault(top[rank], None)
        pooled[qid] = list(seen)
    return pooled


def read_runs(paths: Sequence[str | Path]) -> dict[str, Run]:
    """{run tag: run} for run files; a tag that two files share is told apart by the file name."""
    if not paths:
        raise JudgerankError("no run to pool: give one or more TREC run files")
    runs: dict[str, Run] = {}
    for path in paths:
        run, tag = read_run_with_tag(path)
        name = tag if tag and tag not in runs else Path(path).name
        if name in runs:
            raise JudgerankError(f"{path}: given twice (or two runs share its name): give each run once")
        runs[name] = run
    return runs


def pool_requests(pooled: Mapping[str, Sequence[str]], topics: str | Path, corpus: str | Path) -> list[Request]:
    """One request per pooled topic: its query from `topics`, its passages from `corpus`."""
    queries = read_topics(topics)
    missing = [qid for qid in pooled if qid not in queries]
    if missing:
        raise JudgerankError(f"{topics}: no query {missing[0]!r} of the runs ({len(missing)} of their {len(pooled)} "
                             "topics are missing): give the topics the runs were made with")
    texts = read_corpus(corpus, {d for docs in pooled.values() for d in docs})
    return [Request(Query(qid, queries[qid]), tuple(Item(d, texts[d]) for d in docs)) for qid, docs in pooled.items()]
