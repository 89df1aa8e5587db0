"""Strategies by name. A new strategy is a new module plus one line here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from judgerank.errors import JudgerankError
from judgerank.strategies.allpairs import AllPairs
from judgerank.strategies.base import Comparer, Scorer, Strategy
from judgerank.strategies.cascade import Cascade
from judgerank.strategies.pointwise import PointwiseSort
from judgerank.strategies.sorting import BubbleTopK, HeapTopK, QuickTopK
from judgerank.strategies.swiss import SwissRank


class Judges(Protocol):
    """The judges of one ranking job, sharing its cache and cost account."""

    def pointwise(self, template: str) -> Scorer: ...
    def pairwise(self) -> Comparer: ...
    def similarity(self) -> Scorer: ...


@dataclass(frozen=True)
class Options:
    top_k: int = 10  # how many items the top-k sorts put in order
    then: str = "pointwise"  # the cascade's second stage
    cascade_depth: int = 20  # how many first-stage items the cascade's second stage sees
    fuse: bool = True  # the cascade orders its top by rank fusion of both stages


Builder = Callable[[Judges, Options], Strategy]

STRATEGIES: dict[str, tuple[Builder, str]] = {
    "embedding": (lambda j, o: PointwiseSort(j.similarity()), "cosine of all-MiniLM-L6-v2 embeddings (no LLM)"),
    "pointwise": (lambda j, o: PointwiseSort(j.pointwise("relevance-yes-no")), "LLM yes/no log-odds per item"),
    "pointwise-graded": (
        lambda j, o: PointwiseSort(j.pointwise("relevance-graded")),
        "LLM expected 0-3 grade per item",
    ),
    "allpairs": (lambda j, o: AllPairs(j.pairwise()), "every pair in both orders, summed win probability"),
    "pairwise-heap": (lambda j, o: HeapTopK(j.pairwise(), o.top_k), "heap sort of the top k, pairwise"),
    "pairwise-quick": (lambda j, o: QuickTopK(j.pairwise(), o.top_k), "quickselect of the top k, pairwise"),
    "pairwise-bubble": (lambda j, o: BubbleTopK(j.pairwise(), o.top_k), "k bubble passes (PRP-sliding-k)"),
    "swiss": (lambda j, o: SwissRank(j.pairwise()), "Swiss tournament, log2(n)+2 rounds, Bradley-Terry on the results"),
    "cascade": (
        lambda j, o: Cascade(PointwiseSort(j.similarity()), build_strategy(o.then, j, o), o.cascade_depth, o.fuse),
        "embedding over all, then --then over the top --cascade-depth, fused by rank (--no-fuse: --then alone)",
    ),
}


def build_strategy(method: str, judges: Judges, options: Options) -> Strategy:
    if method not in STRATEGIES:
        raise JudgerankError(f"unknown method {method!r}: use one of {', '.join(STRATEGIES)}")
    if method == "cascade" and options.then == "cascade":
        raise JudgerankError("a cascade's second stage cannot be another cascade")
    return STRATEGIES[method][0](judges, options)

