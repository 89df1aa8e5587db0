"""Rubric judge: a rating distribution per response, scored by its expectation.

The model's probabilities over the rating digits (1-5) are kept whole: the score is the expected
rating, which separates two responses that the most likely rating would call equal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from judgerank.cache import CachedChoices
from judgerank.judges.templates import load_template
from judgerank.judges.text import clip
from judgerank.types import Item, Query


class RubricJudge:
    """A Scorer over responses; `distributions` batches responses from many prompts."""

    def __init__(self, backend: CachedChoices, template: str = "rubric-1-5", max_words: int = 400) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.with_reference = load_template(f"{template}-ref")
        self.levels = np.array([float(c) for c in self.template.choices])
        self.max_words = max_words
        self._seen: dict[tuple[str, str | None, str], np.ndarray] = {}

    def scores(self, query: Query, items: Sequence[Item]) -> list[float]:
        return [float(x) for x in self.distributions([(query, i) for i in items]) @ self.levels]

    def distributions(self, rated: Sequence[tuple[Query, Item]]) -> np.ndarray:
        """P(rating = level) for each (prompt, response): rows sum to 1, columns follow `levels`.
        A response already rated by this judge (one job) is not asked again."""
        keys = [(q.text, q.reference, i.text) for q, i in rated]
        todo = list({k: (q, i) for k, (q, i) in zip(keys, rated) if k not in self._seen}.items())
        if todo:
            requests = []
            for _, (query, item) in todo:
                fields = {"question": clip(query.text, self.max_words), "answer": clip(item.text, self.max_words)}
                template = self.template
                if query.reference:
                    template = self.with_reference
                    fields["reference"] = clip(query.reference, self.max_words)
                requests.append(template.request(**fields))
            lp = np.array([r.logprobs for r in self.backend.choice_logprobs(requests)], dtype=np.float64)
            p = np.exp(lp - lp.max(axis=1, keepdims=True))
            self._seen.update(zip((k for k, _ in todo), p / p.sum(axis=1, keepdims=True)))
        return np.array([self._seen[k] for k in keys]).reshape(len(keys), len(self.levels))
