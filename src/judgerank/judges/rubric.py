"""Rubric judge: a rating distribution per response, scored by its expectation.

The model's probabilities over the rating digits (1-5) are kept whole: the score is the expected
rating, which separates two responses that the most likely rating would call equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from judgerank.backends.base import ChoiceResult
from judgerank.cache import CachedModel
from judgerank.judges.base import ask
from judgerank.judges.templates import load_template
from judgerank.types import Item, Query


class RubricJudge:
    """A Scorer over responses; `distributions` batches responses from many prompts."""

    def __init__(self, backend: CachedModel, template: str = "rubric-1-5", max_words: int = 400) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.with_reference = load_template(f"{template}-ref")
        self.levels = np.array([float(c) for c in self.template.choices])
        self.max_words = max_words
        self._seen: dict[tuple[str, str | None, str], np.ndarray] = {}

    def scores(self, query: Query, items: Sequence[Item]) -> list[float]:
        def expected(dists: Sequence[np.ndarray | None]) -> list[Any]:
            return [None if d is None else float(d @ self.levels) for d in dists]

        return ask(self.distributions, [(query, i) for i in items], expected)

    def distributions(self, rated: Sequence[tuple[Query, Item]]) -> list[np.ndarray]:
        """P(rating = level) for each (prompt, response), in the order of `levels`. A response
        already rated by this judge (one job) is not asked again."""
        keys = [(q.text, q.reference, i.text) for q, i in rated]
        todo = list({k: (q, i) for k, (q, i) in zip(keys, rated) if k not in self._seen}.items())
        requests = []
        for _, (query, item) in todo:
            fields = {
                "question": self.backend.clip(query.text, self.max_words),
                "answer": self.backend.clip(item.text, self.max_words),
            }
            template = self.template
            if query.reference:
                template = self.with_reference
                fields["reference"] = self.backend.clip(query.reference, self.max_words)
            requests.append(template.request(**fields))

        def remember(results: Sequence[ChoiceResult | None]) -> list[Any]:
            for (key, _), r in zip(todo, results):
                if r is not None:
                    lp = np.array(r.logprobs, dtype=np.float64)
                    p = np.exp(lp - lp.max())
                    self._seen[key] = p / p.sum()
            return [self._seen.get(k) for k in keys]

        if not todo:
            return remember([])
        return ask(self.backend.choice_logprobs, requests, remember)
