"""Pointwise judges: one relevance score per (query, item), from an LLM or an embedding model.

A binary template scores P(yes) among {yes, no}: a probability of relevance that reads the same
across queries; a graded template scores the expected grade under the model's distribution over
grade tokens, not the most likely grade.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit, softmax

from judgerank.backends.base import ChoiceResult
from judgerank.core.types import Answers, Item, Query
from judgerank.guard.spotlight import spotlit
from judgerank.judges.base import prepared
from judgerank.judges.templates import PromptTemplate, template_of
from judgerank.judges.words import choose
from judgerank.store.cached import CachedModel


class PointwiseJudge:
    """Relevance of each item from one prompt per item."""

    def __init__(self, model: CachedModel, template: str | PromptTemplate, max_words: int = 200,
                 spotlight: str = "off") -> None:
        self.model = model
        self.spotlight = spotlight  # judgerank.guard.spotlight: the passage marked as data, with its own template
        if isinstance(template, str) and spotlight != "off":
            template = f"{template}-{spotlight}"
        self.template = template_of(template)
        self.max_words = max_words

    def scores(self, query: Query, items: Sequence[Item]) -> Answers[float]:
        return self._choices(query, items).map(self._scores)

    def distributions(self, query: Query, items: Sequence[Item]) -> Answers[np.ndarray]:
        """The probability of each of the template's choices, per item (a graded template: of
        each grade; the relevance assessor's labels)."""
        return self._choices(query, items).map(
            lambda results: [None if r is None else softmax(np.array(r.logprobs, dtype=np.float64)) for r in results])

    def _choices(self, query: Query, items: Sequence[Item]) -> Answers[ChoiceResult]:
        t, m = self.template, self.model
        q = prepared(m, query.text, self.max_words)
        requests = [(t, t.request(query=q, passage=spotlit(prepared(m, i.text, self.max_words), self.spotlight)))
                    for i in items]
        return choose(m, requests, [f"{query.id}: {i.id}" for i in items])

    def _scores(self, results: Sequence[ChoiceResult | None]) -> list[float | None]:
        return [None if r is None else self._score(np.array(r.logprobs, dtype=np.float64)) for r in results]

    def _score(self, lp: np.ndarray) -> float:
        if self.template.kind == "binary":
            return float(expit(lp[0] - lp[1]))  # P(yes) among {yes, no}
        return float(softmax(lp) @ self.template.levels)


class SimilarityJudge:
    """Relevance as the similarity a bi-encoder gives (query, item): cheap, no LLM call. With
    feedback > 0, the query's embedding first moves toward its `feedback` nearest items (Rocchio
    pseudo-relevance feedback, by `weight`)."""

    def __init__(self, model: CachedModel, feedback: int = 0, weight: float = 1.0) -> None:
        self.model = model
        self.feedback = feedback
        self.weight = weight

    def scores(self, query: Query, items: Sequence[Item]) -> Answers[float]:
        texts = [i.text for i in items]
        return Answers.whole(self.model.feedback_similarities(query.text, texts, self.feedback, self.weight))
