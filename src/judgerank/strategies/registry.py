"""Strategies by name. A new strategy is a new module plus one line here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from judgerank.errors import JudgerankError
from judgerank.strategies.allpairs import AllPairs
from judgerank.strategies.base import Comparer, Scorer, Strategy
from judgerank.strategies.cascade import Cascade
from judgerank.strategies.listwise import (
    AGGREGATORS,
    JointRank,
    SetwiseTopK,
    ShuffledWindows,
    SlidingWindow,
    WindowRanker,
)
from judgerank.strategies.pointwise import PointwiseSort
from judgerank.strategies.sorting import BubbleTopK, HeapTopK, QuickTopK
from judgerank.strategies.swiss import SwissRank
from judgerank.types import Item, Query


class LabelRanker(WindowRanker, Protocol):
    """Ranks windows and picks the best of sets (LabelJudge)."""

    def best_of(self, query: Query, sets: Sequence[Sequence[Item]]) -> list[int]: ...


class Judges(Protocol):
    """The judges of one ranking job, sharing its cache and cost account."""

    def pointwise(self, template: str) -> Scorer: ...
    def pairwise(self) -> Comparer: ...
    def similarity(self) -> Scorer: ...
    def permutation(self) -> WindowRanker: ...
    def labels(self, template: str) -> LabelRanker: ...


@dataclass(frozen=True)
class Options:
    top_k: int = 10  # how many items the top-k sorts put in order
    then: str = "pointwise"  # the cascade's second stage
    cascade_depth: int = 20  # how many first-stage items the cascade's second stage sees
    fuse: bool = True  # the cascade orders its top by rank fusion of both stages
    window: int = 20  # listwise window (and JointRank block) size
    stride: int = 10  # sliding-window step
    passes: int = 1  # sliding-window passes
    shuffles: int = 3  # permutation self-consistency: orders of each window
    set_size: int = 4  # setwise: items shown per prompt
    replicas: int = 3  # JointRank: blocks each item appears in
    aggregator: str = "bradley-terry"  # JointRank: bradley-terry, pagerank or win-rate


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
    "listwise": (
        lambda j, o: SlidingWindow(j.permutation(), o.window, o.stride, o.passes),
        "generated permutations over a sliding --window/--stride (RankGPT)",
    ),
    "listwise-psc": (
        lambda j, o: SlidingWindow(ShuffledWindows(j.permutation(), o.shuffles), o.window, o.stride, o.passes),
        "listwise with each window ranked in --shuffles orders, merged by Kemeny (self-consistency)",
    ),
    "first": (
        lambda j, o: SlidingWindow(j.labels("listwise-first"), o.window, o.stride, o.passes),
        "sliding windows ordered by first-token label probabilities, one forward pass each (FIRST)",
    ),
    "first-psc": (
        lambda j, o: SlidingWindow(ShuffledWindows(j.labels("listwise-first"), o.shuffles), o.window, o.stride, o.passes),
        "FIRST with each window in --shuffles orders, merged by Kemeny",
    ),
    "setwise-heap": (
        lambda j, o: SetwiseTopK(j.labels("setwise-best"), o.top_k, o.set_size),
        "heap sort of the top k over sets of --set-size, best by label probability (setwise)",
    ),
    "jointrank": (
        lambda j, o: JointRank(j.labels("listwise-first"), o.window, o.replicas, o.aggregator),
        "overlapping blocks (--window, --replicas) ranked by FIRST in batches, wins aggregated (--aggregator)",
    ),
    "jointrank-listwise": (
        lambda j, o: JointRank(j.permutation(), o.window, o.replicas, o.aggregator),
        "overlapping blocks ranked by generated permutations, wins aggregated",
    ),
    "cascade": (
        lambda j, o: Cascade(PointwiseSort(j.similarity()), build_strategy(o.then, j, o), o.cascade_depth, o.fuse),
        "embedding over all, then --then over the top --cascade-depth, fused by rank (--no-fuse: --then alone)",
    ),
}


def build_strategy(method: str, judges: Judges, options: Options) -> Strategy:
    if min(options.window, options.stride, options.passes, options.shuffles, options.replicas) < 1 or options.set_size < 2:
        raise JudgerankError("window, stride, passes, shuffles and replicas must be positive, set_size at least 2")
    if method not in STRATEGIES:
        raise JudgerankError(f"unknown method {method!r}: use one of {', '.join(STRATEGIES)}")
    if options.aggregator not in AGGREGATORS:
        raise JudgerankError(f"unknown aggregator {options.aggregator!r}: use one of {', '.join(AGGREGATORS)}")
    if method == "cascade" and options.then == "cascade":
        raise JudgerankError("a cascade's second stage cannot be another cascade")
    return STRATEGIES[method][0](judges, options)

