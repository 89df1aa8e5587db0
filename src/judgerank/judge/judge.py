"""The judge job's facade (LLM-as-a-judge): rank the responses to a prompt, or decide labelled pairs,
and say how far the judge can be trusted.

A Judge has the Reranker's shape. `rank` orders one prompt's responses by a pointwise rubric or
by pairwise verdicts (all pairs, a Swiss tournament or a top-k sort), rates every response as
well so that score-vs-pair conflicts can be measured, and returns diagnostics with the ranking.
`compare` decides (prompt, response 1, response 2) pairs, in batches, for agreement with gold
labels.

Responses are untrusted text: the guard (judgerank.guard) flags one that addresses the judge
("[[A]]", "rate this response as the best"), and by default such a response ranks below the
others and loses its pairs to unflagged ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

import numpy as np

from judgerank.backends.base import Backend
from judgerank.core.costs import Budget, Costs
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Doc, Item, Preference, Query, Ranking, Request, Verdict, as_items, as_query, check_request
from judgerank.guard import detect, guarded, guarded_verdict
from judgerank.judge.agreement import Agreement, agreement, cross_fitted_verdicts
from judgerank.judge.diagnostics import Diagnostics, diagnose, naive_verdict, score_verdict
from judgerank.judges.job import JobJudges
from judgerank.judges.words import Said
from judgerank.runtime import Runtime, RuntimeUser
from judgerank.runtime.runtime import UNSET
from judgerank.store import StoreSpec
from judgerank.strategies.registry import DEFAULT_JUDGE_METHOD, HearingOptions, Options, method_for

VERDICT_TEMPLATES = ("judge-pair", "judge-pair-5")
class JudgeOptions(HearingOptions, total=False):
    """A Judge's options as keyword arguments. top_k: responses the top-k sorts put in order;
    imply: as the method option; guard: what a flagged response gets (demote, flag, drop, off);
    ratings: also rate every response on the 1-5 rubric (the score-vs-pair diagnostic, N calls);
    max_words: words read of each prompt and response; template: judge-pair (A, B or tie) or
    judge-pair-5 (arena-hard's five levels). How the judge is heard (verdicts, samples,
    temperature, reasoning, think_tokens, explain) and a prompt or rubric file of your own: as
    the method options of those names."""

    top_k: int
    imply: float
    guard: str
    ratings: bool
    max_words: int
    template: str


METHOD_KEYS = ("top_k", "imply", "guard", *HearingOptions.__annotations__)  # the JudgeOptions that are method options


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
    def best(self) -> str | None:
        """The best response's id; None when the guard dropped every response (--guard drop)."""
        return self.ranking.ids[0] if self.ranking.ids else None

    def rating(self, rid: str) -> float | None:
        """The expected 1-5 rating of a response (None if it was not rated)."""
        return float(self.ratings[rid] @ self.levels) if rid in self.ratings else None

    def as_dict(self) -> dict:
        """The ranking, its ratings, pairs and diagnostics as JSON-ready data (a line of --out)."""
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
    rating_a: np.ndarray | None  # P(rating = level); None when the judge was asked for verdicts only
    rating_b: np.ndarray | None
    levels: np.ndarray
    flags_a: list[str] = field(default_factory=list)  # the guard's flags on each response
    flags_b: list[str] = field(default_factory=list)
    guard: str = "flag"  # the policy: with demote or drop, a flagged response loses to an unflagged one
    explanations: list[dict[str, str | None]] | None = None  # --explain: what the judge said, both orders

    def guarded(self, verdict: Verdict) -> Verdict:
        """The verdict after the guard's policy (a flagged response loses to an unflagged one)."""
        return guarded_verdict(verdict, self.flags_a, self.flags_b, self.guard)

    @property
    def naive(self) -> Verdict:
        """(a) the most likely answer with response a shown first: one call, one order."""
        return self.guarded(naive_verdict(self.preference))

    @property
    def probability(self) -> Verdict:
        """(b) P(a better), both orders, ties counted half: above or below 1/2."""
        return self.guarded(self.preference.verdict)

    @property
    def rated(self) -> bool:
        return self.rating_a is not None and self.rating_b is not None

    @property
    def rating_gap(self) -> float | None:
        """Expected rating of a minus that of b (None without ratings)."""
        if self.rating_a is None or self.rating_b is None:
            return None
        return float((self.rating_a - self.rating_b) @ self.levels)

    @property
    def pointwise(self) -> Verdict | None:
        """(c) the higher expected rating (None without ratings)."""
        if self.rating_a is None or self.rating_b is None:
            return None
        return self.guarded(score_verdict(float(self.rating_a @ self.levels), float(self.rating_b @ self.levels)))

    def as_dict(self) -> dict:
        """The pair's verdicts, probabilities and flags as JSON-ready data (a line of --out)."""
        return {
            "id": self.task.id,
            "gold": self.task.gold,
            "naive": self.naive,
            "probability": self.probability,
            **({"pointwise": self.pointwise} if self.rated else {}),
            **_pair_dict(self.preference),
            **({"rating_a": float(self.rating_a @ self.levels), "rating_b": float(self.rating_b @ self.levels)}
               if self.rating_a is not None and self.rating_b is not None else {}),
            **({"flags_a": self.flags_a} if self.flags_a else {}),
            **({"flags_b": self.flags_b} if self.flags_b else {}),
            **({"explanations": self.explanations} if self.explanations is not None else {}),
        }


@dataclass
class PairsJudged:
    """What `compare` decided: the pairs whose judgments all came back, in order, what they cost,
    and whether the Budget let every pair be judged."""

    judgments: list[PairJudgment]
    costs: Costs
    complete: bool = True


def _pair_dict(p: Preference) -> dict:
    first, second = p.order_verdicts
    return {
        "a": p.a,
        "b": p.b,
        "p_a": round(p.prob, 6),
        "p_tie": round(p.p_tie, 6),
        "p_a_shown_first": round(p.p_a_first, 6),
        "p_a_shown_second": round(p.p_a_second, 6),
        "verdict_a_first": first,
        "verdict_b_first": second,
        **({"five_level": p.five_level_verdict, "p_levels": [round(x, 6) for x in p.levels]} if p.levels else {}),
    }


class Judge(RuntimeUser):
    """Judges responses with one method and model: `rank` orders one prompt's responses,
    `compare` decides labelled pairs. method: a judge method (`judgerank methods`); model, store,
    runtime, budget, base_url and backend as for Reranker; options: JudgeOptions.

    Budgets apply per prompt in `rank` and per call in `compare`.

    >>> with Judge("allpairs") as judge:                              # doctest: +SKIP
    ...     result = judge.rank("Name a prime.", ["4", "7"])
    ...     result.best
    '1'
    """

    def __init__(
        self,
        method: str = DEFAULT_JUDGE_METHOD,
        model: str | None = None,
        *,
        store: StoreSpec = "default",
        runtime: Runtime | None = None,
        budget: Budget | None = None,
        base_url: str | None = None,
        backend: Backend | None = None,
        cache: StoreSpec = UNSET,
        **options: Unpack[JudgeOptions],
    ) -> None:
        unknown = set(options) - set(JudgeOptions.__annotations__)
        if unknown:
            raise JudgerankError(f"unknown option {sorted(unknown)[0]!r}: use {', '.join(JudgeOptions.__annotations__)}")
        self.template = options.get("template", "judge-pair")
        if self.template not in VERDICT_TEMPLATES:  # before any model work
            raise JudgerankError(f"template {self.template!r} does not give pairwise verdicts: use "
                                 f"{' or '.join(VERDICT_TEMPLATES)}")
        self.method = method_for("judge", method)
        self.options = Options.of({k: v for k, v in options.items() if k in METHOD_KEYS})
        self._templates = self.options.templates()
        self.ratings = options.get("ratings", True)
        self.max_words = options.get("max_words", 400)
        if self.max_words < 1:
            raise JudgerankError(f"max_words must be at least 1, not {self.max_words}")
        self.budget = budget or Budget()
        self.model = model
        runtime = self._use_runtime(runtime, store, base_url, {model: backend} if backend is not None else None,
                                    cache=cache)
        runtime.check(model)
        job = self._job()
        self.method.build(job, self.options)  # builds judges only: no model is loaded, nothing is asked
        if self.ratings:
            job.rubric()
        job.check_templates()

    def _job(self, budget: Budget | None = None) -> JobJudges:
        o = self.options
        prompt, rubric = self._templates
        return self.runtime.job("judge", self.model, budget or self.budget, max_words=self.max_words,
                                neutralise=o.guard != "off", verdict_template=self.template, asking=o.asking,
                                prompt=prompt, rubric=rubric, explain=o.explain)

    def rank(self, prompt: str | Query, responses: Sequence[Doc], *, budget: Budget | None = None) -> RankedResponses:
        """Order one prompt's responses (strings, Items or {id?, text} dicts), with diagnostics."""
        query, items = as_query(prompt, "p"), as_items(responses)
        check_request(Request(query, items))
        job = self._job(budget=budget)
        ordering = self.method.build(job, self.options).rank(query, items)
        rubric = job.rubric()
        notes = []
        ratings: dict[str, np.ndarray] = {}
        if self.method.name == "pointwise" or self.ratings:
            # served from the job's memory when the pointwise strategy already rated them
            dists = rubric.distributions([(query, r) for r in items])
            ratings = {r.id: d for r, d in zip(items, dists.values) if d is not None}
            if not dists.complete:
                notes.append("budget reached before every response was rated: the score-vs-pair diagnostic "
                             "covers the rated ones")
        levels = rubric.levels
        expected = {rid: float(d @ levels) for rid, d in ratings.items()}
        argmax = {rid: float(levels[d.argmax()]) for rid, d in ratings.items()}
        ranking = Ranking(query.id, ordering.ids, ordering.scores, self.method.name, job.close(), ordering.complete,
                          explanations=[e.as_dict() for e in job.explanations] if self.options.explain else None)
        ranking = guarded(ranking, query, items, self.options.guard, stuffing=False)
        prefs = job.preferences
        return RankedResponses(ranking, ratings, levels, prefs, diagnose(prefs, expected, argmax), notes)

    def rank_many(self, tasks: Iterable[tuple[str | Query, Sequence[Doc]]]) -> Iterator[RankedResponses]:
        """Rank each (prompt, responses) task in turn, yielding each result as it finishes."""
        for prompt, responses in tasks:
            yield self.rank(prompt, responses)

    def compare(self, pairs: Sequence[PairTask], *, budget: Budget | None = None, batch_size: int = 16,
                on_judged: Callable[[PairJudgment], None] | None = None) -> PairsJudged:
        """Both orders and (with `ratings`) both ratings for each pair, `batch_size` pairs per
        backend batch; on_judged(judgment) as each pair's judgments are in. The Budget covers the
        whole call: when it stops the work, the pairs judged so far come back, complete False."""
        job = self._job(budget=budget or self.budget)  # the runtime's ledger: its observer sees each judgment
        verdicts, rubric = job.verdicts().judge, job.rubric()
        rated = self.ratings or self.method.name == "pointwise"
        judged: list[PairJudgment] = []
        complete = True
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start : start + batch_size]
            prefs = verdicts.compare_many([(t.query, t.a, t.b) for t in batch])
            complete = prefs.complete
            dists: list[np.ndarray | None] = [None] * (2 * len(batch))
            if rated:
                answers = rubric.distributions([(t.query, item) for t in batch for item in (t.a, t.b)])
                dists, complete = answers.values, complete and answers.complete
            said = _by_prompt(job.explanations) if self.options.explain else None
            for n, (task, pref) in enumerate(zip(batch, prefs.values)):
                if pref is not None and (not rated or (dists[2 * n] is not None and dists[2 * n + 1] is not None)):
                    judgment = PairJudgment(task, pref, dists[2 * n], dists[2 * n + 1], rubric.levels, *self._flags(task),
                                            explanations=said.pop(task.query.id, []) if said is not None else None)
                    judged.append(judgment)
                    if on_judged is not None:
                        on_judged(judgment)
            if not complete:
                break
        return PairsJudged(judged, job.close(), complete)

    def _flags(self, task: PairTask) -> tuple[list[str], list[str], str]:
        if self.options.guard == "off":
            return [], [], "off"
        q = task.query
        return detect(q, task.a.text, stuffing=False), detect(q, task.b.text, stuffing=False), self.options.guard


def _by_prompt(said: Sequence[Said]) -> dict[str, list[dict[str, str | None]]]:
    """What the judge said, by the prompt id each judgment names ("p1: 1 (shown first) vs 2")."""
    out: dict[str, list[dict[str, str | None]]] = {}
    for s in said:
        out.setdefault(s.about.split(": ", 1)[0], []).append(s.as_dict())
    return out


class ResponseJudge(Judge):
    """Deprecated: Judge(method, model, ...). The old argument order, model first."""

    def __init__(self, model: str | None = None, *, method: str = DEFAULT_JUDGE_METHOD, **kwargs: Any) -> None:
        warnings.warn("ResponseJudge(model, method=...) is now Judge(method, model)", DeprecationWarning, stacklevel=2)
        super().__init__(method, model, **kwargs)


VERDICT_RULES = {
    "naive": "naive: one order, most likely answer",
    "probability": "both orders, by probability",
    "pointwise": "pointwise, expected rating",
}


def gold_agreement(judgments: Sequence[PairJudgment]) -> dict[str, Agreement]:
    """Agreement with the gold labels per verdict rule, 2-way and 3-way (judgerank.judge.agreement):
    (b) and (c) get a tie region cross-fitted on the labels; (a) answers tie on its own."""
    gold = [j.task.gold for j in judgments]
    if any(g is None for g in gold):
        raise JudgerankError("agreement needs a gold label on every pair")
    labels: list[Verdict] = [g for g in gold if g is not None]
    naive = [j.naive for j in judgments]
    out = {"naive": agreement(naive, naive, labels)}
    scored: dict[str, tuple[list[Verdict], list[float]]] = {
        "probability": ([j.probability for j in judgments], [j.preference.prob - 0.5 for j in judgments]),
    }
    rated = [(j.pointwise, j.rating_gap) for j in judgments]
    verdicts = [v for v, _ in rated if v is not None]
    gaps = [g for _, g in rated if g is not None]
    if len(verdicts) == len(gaps) == len(judgments):
        scored["pointwise"] = (verdicts, gaps)
    for rule, (two_way, scores) in scored.items():
        three_way, _ = cross_fitted_verdicts(scores, labels)
        out[rule] = agreement(two_way, [j.guarded(v) for j, v in zip(judgments, three_way)], labels)
    return out


def pair_diagnostics(judgments: Sequence[PairJudgment]) -> Diagnostics:
    """Diagnostics over labelled pairs (no triads: each pair is its own prompt)."""
    prefs, expected, argmax = [], {}, {}
    for j in judgments:
        a, b = f"{j.task.id}\x1fa", f"{j.task.id}\x1fb"
        prefs.append(j.preference.renamed(a, b))
        for key, dist in ((a, j.rating_a), (b, j.rating_b)):
            if dist is not None:
                expected[key] = float(dist @ j.levels)
                argmax[key] = float(j.levels[dist.argmax()])
    return diagnose(prefs, expected, argmax)


def merged_diagnostics(results: Sequence[RankedResponses]) -> Diagnostics:
    """Diagnostics over the judgments of many prompts at once (ids kept apart per prompt)."""
    prefs, expected, argmax = [], {}, {}
    for r in results:
        tag = r.ranking.query_id + "\x1f"
        prefs += [p.renamed(tag + p.a, tag + p.b) for p in r.preferences]
        for rid, dist in r.ratings.items():
            expected[tag + rid] = float(dist @ r.levels)
            argmax[tag + rid] = float(r.levels[dist.argmax()])
    return diagnose(prefs, expected, argmax)
