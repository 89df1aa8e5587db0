"""LLM-as-a-judge: rank the responses to a prompt, or decide labelled pairs, and say how far the
judge can be trusted.

A ResponseJudge loads its model once. `rank` orders the responses to one prompt by a pointwise
rubric or by pairwise verdicts (all pairs, a Swiss tournament or a top-k sort), rates every
response as well so that score-vs-pair conflicts can be measured, and returns diagnostics with
the ranking. `judge_pairs` decides (prompt, response 1, response 2) pairs, in batches, for
agreement with gold labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from judgerank.accounting import Ledger
from judgerank.backends.base import ChoiceBackend
from judgerank.backends.models import resolve_gguf
from judgerank.cache import CachedChoices, JudgmentCache, open_cache
from judgerank.engine import check_request
from judgerank.errors import BudgetExhausted, JudgerankError
from judgerank.evaluate.consistency import (
    Diagnostics,
    diagnose,
    naive_verdict,
    probability_verdict,
    score_verdict,
)
from judgerank.judges.rubric import RubricJudge
from judgerank.judges.verdict import VerdictJudge
from judgerank.strategies.allpairs import AllPairs
from judgerank.strategies.base import Strategy
from judgerank.strategies.pointwise import PointwiseSort
from judgerank.strategies.sorting import HeapTopK, QuickTopK
from judgerank.strategies.swiss import SwissRank
from judgerank.types import Budget, Item, Preference, Query, Ranking, Request, Verdict

JUDGE_METHODS = {
    "allpairs": "every pair in both orders; score = summed win probability (small N)",
    "swiss": "Swiss tournament, log2(N)+2 rounds, Bradley-Terry on the results (larger N)",
    "pairwise-heap": "heap sort of the top k, pairwise",
    "pairwise-quick": "quickselect of the top k, pairwise",
    "pointwise": "rubric rating per response; score = expected rating",
}


@dataclass
class RankedResponses:
    """The ranking of one prompt's responses, the evidence behind it, and its diagnostics."""

    ranking: Ranking
    ratings: dict[str, np.ndarray]  # P(rating = level) per response id
    levels: np.ndarray
    preferences: list[Preference]
    diagnostics: Diagnostics
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> str:
        return self.ranking.ids[0]

    def as_dict(self) -> dict:
        out = self.ranking.as_dict()
        out["prompt_id"] = out.pop("query_id")
        out["best"] = self.best
        out["ratings"] = {
            rid: {"expected": float(dist @ self.levels), "distribution": [round(float(x), 6) for x in dist]}
            for rid, dist in self.ratings.items()
        }
        out["pairs"] = [_pair_dict(p) for p in self.preferences]
        out["diagnostics"] = self.diagnostics.as_dict()
        out["notes"] = self.notes
        return out


@dataclass
class PairTask:
    """Two responses to one prompt, with an optional gold label ('a', 'b' or 'tie')."""

    id: str
    query: Query
    a: Item
    b: Item
    gold: Verdict | None = None


@dataclass
class PairJudgment:
    task: PairTask
    preference: Preference
    rating_a: np.ndarray
    rating_b: np.ndarray
    levels: np.ndarray

    @property
    def naive(self) -> Verdict:
        """(a) the most likely answer with response a shown first: one call, one order."""
        return naive_verdict(self.preference)

    @property
    def probability(self) -> Verdict:
        """(b) P(a better), both orders, ties counted half: above or below 1/2."""
        return probability_verdict(self.preference)

    @property
    def pointwise(self) -> Verdict:
        """(c) the higher expected rating."""
        return score_verdict(float(self.rating_a @ self.levels), float(self.rating_b @ self.levels))

    @property
    def pointwise_argmax(self) -> Verdict:
        """The higher most likely rating: the discrete scores a decoding judge would give."""
        return score_verdict(float(self.levels[self.rating_a.argmax()]), float(self.levels[self.rating_b.argmax()]))

    def as_dict(self) -> dict:
        return {
            "id": self.task.id,
            "gold": self.task.gold,
            "naive": self.naive,
            "probability": self.probability,
            "pointwise": self.pointwise,
            **_pair_dict(self.preference),
            "rating_a": float(self.rating_a @ self.levels),
            "rating_b": float(self.rating_b @ self.levels),
        }


def _pair_dict(p: Preference) -> dict:
    first, second = p.order_verdicts
    return {
        "a": p.a,
        "b": p.b,
        "p_a": round(p.prob, 6),
        "p_tie": round(p.p_tie, 6),
        "p_a_shown_first": round(p.p_a_first, 6),
        "p_a_shown_second": round(p.p_b_first, 6),
        "verdict_a_first": first,
        "verdict_b_first": second,
    }


class _Recorder:
    """A Comparer that keeps every Preference its judge returns, for the diagnostics."""

    def __init__(self, judge: VerdictJudge) -> None:
        self.judge = judge
        self.seen: list[Preference] = []

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> list[Preference]:
        prefs = self.judge.compare(query, pairs)
        self.seen += prefs
        return prefs


class ResponseJudge:
    """Judges responses with one model. cache: a SQLite path, "default", or None.

    Budgets apply per prompt in `rank` and per run in `judge_pairs`; `ratings=False` skips the
    rubric ratings that pairwise methods add for the score-vs-pair diagnostic (N calls).
    Prompts and responses are clipped to `max_words` words each.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        method: str = "allpairs",
        top_k: int = 10,
        ratings: bool = True,
        max_words: int = 400,
        budget: Budget | None = None,
        cache: str | Path | JudgmentCache | None = "default",
        backend: ChoiceBackend | None = None,
    ) -> None:
        if method not in JUDGE_METHODS:
            raise JudgerankError(f"unknown judge method {method!r}: use one of {', '.join(JUDGE_METHODS)}")
        if top_k < 1:
            raise JudgerankError("top_k must be positive")
        self.method = method
        self.top_k = top_k
        self.ratings = ratings
        self.max_words = max_words
        self.budget = budget or Budget()
        self.cache = open_cache(cache)
        self.model = model
        self._backend = backend
        if backend is None and model is not None:
            resolve_gguf(model)

    @property
    def backend(self) -> ChoiceBackend:
        if self._backend is None:
            from judgerank.backends.llamacpp import LlamaCppBackend

            self._backend = LlamaCppBackend(self.model)
        return self._backend

    def _judges(self, ledger: Ledger) -> tuple[VerdictJudge, RubricJudge]:
        choices = CachedChoices(self.backend, self.cache, ledger)
        return VerdictJudge(choices, max_words=self.max_words), RubricJudge(choices, max_words=self.max_words)

    def _strategy(self, verdicts: _Recorder, rubric: RubricJudge) -> Strategy:
        if self.method == "pointwise":
            return PointwiseSort(rubric)
        if self.method == "allpairs":
            return AllPairs(verdicts)
        if self.method == "swiss":
            return SwissRank(verdicts)
        return (HeapTopK if self.method == "pairwise-heap" else QuickTopK)(verdicts, self.top_k)

    def rank(self, query: Query, responses: Sequence[Item]) -> RankedResponses:
        check_request(Request(query, tuple(responses)))
        ledger = Ledger(self.budget)
        verdicts, rubric = self._judges(ledger)
        recorder = _Recorder(verdicts)
        ordering = self._strategy(recorder, rubric).rank(query, responses)
        notes = []
        ratings: dict[str, np.ndarray] = {}
        if self.method == "pointwise" or self.ratings:
            try:  # served from the cache when the pointwise strategy already rated them
                dists = rubric.distributions([(query, r) for r in responses])
                ratings = {r.id: d for r, d in zip(responses, dists)}
            except BudgetExhausted:
                notes.append("budget reached before every response was rated: no score-vs-pair diagnostic")
        levels = rubric.levels
        expected = {rid: float(d @ levels) for rid, d in ratings.items()}
        argmax = {rid: float(levels[d.argmax()]) for rid, d in ratings.items()}
        ranking = Ranking(query.id, ordering.ids, ordering.scores, self.method, ledger.close(), ordering.complete)
        return RankedResponses(ranking, ratings, levels, recorder.seen, diagnose(recorder.seen, expected, argmax), notes)

    def rank_all(self, tasks: Iterable[tuple[Query, Sequence[Item]]]) -> Iterator[RankedResponses]:
        for query, responses in tasks:
            yield self.rank(query, responses)

    def judge_pairs(
        self, tasks: Sequence[PairTask], ledger: Ledger | None = None, batch_size: int = 16
    ) -> Iterator[PairJudgment]:
        """Both orders and both ratings for each pair, `batch_size` pairs per backend batch.
        Costs go to `ledger` (give one to read them); its Budget covers the whole run."""
        ledger = ledger or Ledger(self.budget)
        verdicts, rubric = self._judges(ledger)
        for start in range(0, len(tasks), batch_size):
            batch = tasks[start : start + batch_size]
            prefs = verdicts.compare_many([(t.query, t.a, t.b) for t in batch])
            dists = rubric.distributions([(t.query, item) for t in batch for item in (t.a, t.b)])
            for n, (task, pref) in enumerate(zip(batch, prefs)):
                yield PairJudgment(task, pref, dists[2 * n], dists[2 * n + 1], rubric.levels)


def pair_diagnostics(judgments: Sequence[PairJudgment]) -> Diagnostics:
    """Diagnostics over labelled pairs (no triads: each pair is its own prompt)."""
    prefs, expected, argmax = [], {}, {}
    for j in judgments:
        a, b = f"{j.task.id}\x1fa", f"{j.task.id}\x1fb"
        p = j.preference
        prefs.append(Preference(a, b, p.p_a_first, p.p_b_first, p.tie_a_first, p.tie_b_first))
        for key, dist in ((a, j.rating_a), (b, j.rating_b)):
            expected[key] = float(dist @ j.levels)
            argmax[key] = float(j.levels[dist.argmax()])
    return diagnose(prefs, expected, argmax)


def merged_diagnostics(results: Sequence[RankedResponses]) -> Diagnostics:
    """Diagnostics over the judgments of many prompts at once (ids kept apart per prompt)."""
    prefs, expected, argmax = [], {}, {}
    for r in results:
        tag = r.ranking.query_id + "\x1f"
        prefs += [Preference(tag + p.a, tag + p.b, p.p_a_first, p.p_b_first, p.tie_a_first, p.tie_b_first)
                  for p in r.preferences]
        for rid, dist in r.ratings.items():
            expected[tag + rid] = float(dist @ r.levels)
            argmax[tag + rid] = float(r.levels[dist.argmax()])
    return diagnose(prefs, expected, argmax)
