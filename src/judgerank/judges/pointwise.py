"""Pointwise judges: one relevance score per (query, item), from an LLM or an embedding model.

A binary template scores P(yes) among {yes, no}: a probability of relevance that reads the same
across queries; a graded template scores the expected grade under the model's distribution over
grade tokens, not the most likely grade.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from judgerank.backends.base import ChoiceResult
from judgerank.cache import CachedModel
from judgerank.guard.spotlight import spotlit
from judgerank.judges.base import ask
from judgerank.judges.templates import load_template
from judgerank.types import Item, Query


class PointwiseJudge:
    """Relevance of each item from one prompt per item."""

    def __init__(
        self, backend: CachedModel, template: str = "relevance-yes-no", max_words: int = 200, spotlight: str = "off"
    ) -> None:
        self.backend = backend
        self.spotlight = spotlight  # judgerank.guard.spotlight: the passage marked as data, with its own template
        self.template = load_template(template if spotlight == "off" else f"{template}-{spotlight}")
        self.max_words = max_words

    def scores(self, query: Query, items: Sequence[Item]) -> list[float]:
        t = self.template
        q = self.backend.clip(query.text, self.max_words)
        requests = [
            t.request(query=q, passage=spotlit(self.backend.clip(i.text, self.max_words), self.spotlight)) for i in items
        ]
        return ask(self.backend.choice_logprobs, requests, self._scores)

    def _scores(self, results: Sequence[ChoiceResult | None]) -> list[Any]:
        return [None if r is None else self._score(np.array(r.logprobs, dtype=np.float64)) for r in results]

    def _score(self, lp: np.ndarray) -> float:
        if self.template.kind == "binary":
            return 0.5 * (1.0 + float(np.tanh(0.5 * (lp[0] - lp[1]))))  # logistic of the log-odds
        grades = np.array([float(c) for c in self.template.choices])
        p = np.exp(lp - lp.max())
        return float(p @ grades / p.sum())


class SimilarityJudge:
    """Relevance as the similarity a bi-encoder gives (query, item): cheap, no LLM call. With
    feedback > 0, the query's embedding first moves toward its `feedback` nearest items (Rocchio
    pseudo-relevance feedback, by `weight`)."""

    def __init__(self, backend: CachedModel, feedback: int = 0, weight: float = 1.0) -> None:
        self.backend = backend
        self.feedback = feedback
        self.weight = weight

    def scores(self, query: Query, items: Sequence[Item]) -> list[float]:
        return self.backend.feedback_similarities(query.text, [i.text for i in items], self.feedback, self.weight)
