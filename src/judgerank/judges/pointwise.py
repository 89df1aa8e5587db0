"""Pointwise judges: one relevance score per (query, item), from an LLM or an embedding model.

A binary template scores log P(yes) - log P(no); a graded template scores the expected grade
under the model's distribution over grade tokens, not the most likely grade.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from judgerank.cache import CachedChoices, CachedSimilarities
from judgerank.judges.templates import load_template
from judgerank.judges.text import clip
from judgerank.types import Item, Query


class PointwiseJudge:
    """Relevance of each item from one prompt per item."""

    def __init__(self, backend: CachedChoices, template: str = "relevance-yes-no", max_words: int = 200) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.max_words = max_words

    def scores(self, query: Query, items: Sequence[Item]) -> list[float]:
        t = self.template
        requests = [t.request(query=clip(query.text, self.max_words), passage=clip(i.text, self.max_words)) for i in items]
        results = self.backend.choice_logprobs(requests)
        lp = np.array([r.logprobs for r in results], dtype=np.float64)
        if t.kind == "binary":
            return [float(x) for x in lp[:, 0] - lp[:, 1]]
        grades = np.array([float(c) for c in t.choices])
        p = np.exp(lp - lp.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return [float(x) for x in p @ grades]


class SimilarityJudge:
    """Relevance as the similarity a bi-encoder gives (query, item): cheap, no LLM call."""

    def __init__(self, backend: CachedSimilarities) -> None:
        self.backend = backend

    def scores(self, query: Query, items: Sequence[Item]) -> list[float]:
        return self.backend.similarities(query.text, [i.text for i in items])
