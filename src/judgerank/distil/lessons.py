"""What a teacher taught: each training query's passages with the teacher's verdict on them,
read through the judgment store.

The store keeps judgments by content key (model, template, prompt), not by passage, so the
lessons are asked again of the teacher, as a rerank job over the same queries and candidates:
every judgment the store holds is served free and the rest are asked under the budget (a budget
of 0 reads only what was paid for). Because the keys name the teacher's model and template, the
lessons of one teacher never take in another's judgments held in the same store.

A teacher that scores each passage (pointwise, pointwise-graded) teaches soft labels: its
probability of relevance (the expected grade over the top grade for a graded prompt). Any other
method (pairwise sorts, listwise windows, setwise, ...) teaches the order of its judged top: the
pairs it implies, the higher passage preferred. A passage left unjudged by the budget is not a
lesson; a ranking method's query the budget cut short is left out whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from judgerank.core.costs import Costs
from judgerank.core.types import Request
from judgerank.judges.templates import load_template
from judgerank.rerank import Reranker

SOFT_TEACHERS = ("pointwise", "pointwise-graded")  # methods whose every score is a probability of relevance
BUILT_IN = {"pointwise": "relevance-yes-no", "pointwise-graded": "relevance-graded"}  # their templates (judges.job)


@dataclass(frozen=True)
class Lesson:
    """One query's passages and what the teacher said of them: `labels` (soft labels in [0, 1],
    one a passage) or, where None, the passages in the teacher's order, best first."""

    query_id: str
    query: str
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    labels: tuple[float, ...] | None = None

    def pairs(self) -> list[tuple[int, int, float]]:
        """The pairs the lesson implies as (i, j, P(i above j)): for an order, every i before j,
        surely; for soft labels y, every pair whose labels differ, with the probability that i is
        the relevant one given that exactly one of the two is, y_i (1 - y_j) / (y_i (1 - y_j) +
        y_j (1 - y_i))."""
        n = len(self.ids)
        if self.labels is None:
            return [(i, j, 1.0) for i in range(n) for j in range(i + 1, n)]
        out = []
        for i in range(n):
            for j in range(i + 1, n):
                a, b = self.labels[i], self.labels[j]
                one = a * (1 - b) + b * (1 - a)
                if a != b and one > 0:
                    out.append((i, j, a * (1 - b) / one))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"query_id": self.query_id, "query": self.query, "ids": list(self.ids), "texts": list(self.texts),
                "labels": list(self.labels) if self.labels is not None else None}


@dataclass
class Teaching:
    """What the teacher gave: passages judged, passages the budget left unjudged, passages the
    guard flagged (left out of the lessons), queries left out (nothing to teach)."""

    judged: int = 0
    unjudged: int = 0
    flagged: int = 0
    left_out: int = 0


@dataclass(frozen=True)
class Taught:
    """One query's lesson (None: nothing to teach), what asking for it cost, whether it finished."""

    lesson: Lesson | None
    costs: Costs
    complete: bool


def teacher_of(reranker: Reranker) -> dict[str, Any]:
    """The teacher as the student's provenance names it."""
    prompt, _ = reranker.options.templates()
    method = reranker.method.name
    built_in = BUILT_IN.get(method)
    template = prompt.key if prompt is not None else load_template(built_in).key if built_in else "built in"
    return {"method": method, "model": reranker.runtime.model_label(reranker.model), "template": template,
            "labels": "soft" if method in SOFT_TEACHERS else "order"}


def teach(reranker: Reranker, requests: Sequence[Request], teaching: Teaching) -> Iterator[tuple[int, Taught]]:
    """Each request's lesson as the teacher gives it, in order, counted into `teaching`."""
    soft = reranker.method.name in SOFT_TEACHERS
    depth = reranker.options.depth
    for n, request in enumerate(requests):
        items = request.items[:depth] if depth else request.items
        ranking = reranker.rank(request.query, items)
        texts = {i.id: i.text for i in items}
        # a flagged candidate's score and place are the guard's (or an attack's), not the judge's
        # plain word: it is left out, and the rest keep the judge's order and scores
        flagged = set(ranking.flags)
        teaching.flagged += len(flagged)
        if soft:
            relevance = reranker.relevance(ranking)
            judged = [(d, r) for d, s, r in zip(ranking.ids, ranking.scores, relevance) if s is not None]
            teaching.judged += len(judged)
            teaching.unjudged += len(items) - len(judged)
            judged = [(d, r) for d, r in judged if d not in flagged]
            lesson = Lesson(request.query.id, request.query.text, tuple(d for d, _ in judged),
                            tuple(texts[d] for d, _ in judged), tuple(round(r, 6) for _, r in judged))
        elif ranking.complete:
            teaching.judged += len(items)
            kept = [d for d in ranking.ids if d not in flagged]
            lesson = Lesson(request.query.id, request.query.text, tuple(kept), tuple(texts[d] for d in kept))
        else:
            teaching.unjudged += len(items)
            lesson = None
        if lesson is None or len(lesson.ids) < (1 if soft else 2):
            teaching.left_out += 1
            lesson = None
        yield n, Taught(lesson, ranking.costs, ranking.complete)


def digest(lessons: Sequence[Lesson]) -> str:
    """A digest of the lessons (queries, passages, labels): a training resumes only on the same."""
    text = json.dumps([lesson.as_dict() for lesson in lessons], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
