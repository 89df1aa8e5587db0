"""Rubric judge: a rating distribution per response, scored by its expectation.

The model's probabilities over the rating digits (1-5) are kept whole: the score is the expected
rating, which separates two responses that the most likely rating would call equal.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import softmax

from judgerank.backends.base import ChoiceResult
from judgerank.core.types import Answers, Item, Query
from judgerank.judges.base import prepared
from judgerank.judges.templates import PromptTemplate, load_template
from judgerank.judges.verdict import NO_REFERENCE
from judgerank.judges.words import choose
from judgerank.store.cached import CachedModel


class RubricJudge:
    """A Scorer over responses; `distributions` batches responses from many prompts."""

    def __init__(self, model: CachedModel, template: str | tuple[PromptTemplate, PromptTemplate] = "rubric-1-5",
                 max_words: int = 400) -> None:
        self.model = model
        if isinstance(template, str):  # a built-in rubric and its twin that shows a reference answer
            self.template, self.with_reference = load_template(template), load_template(f"{template}-ref")
        else:
            self.template, self.with_reference = template
        self.levels = self.template.levels
        self.max_words = max_words
        self._seen: dict[tuple[str, str | None, str], np.ndarray] = {}

    def scores(self, query: Query, items: Sequence[Item]) -> Answers[float]:
        return self.distributions([(query, i) for i in items]).map(
            lambda dists: [None if d is None else float(d @ self.levels) for d in dists])

    def distributions(self, rated: Sequence[tuple[Query, Item]]) -> Answers[np.ndarray]:
        """P(rating = level) for each (prompt, response), in the order of `levels`. A response
        already rated by this judge (one job) is not asked again."""
        keys = [(q.text, q.reference, i.text) for q, i in rated]
        todo = list({k: (q, i) for k, (q, i) in zip(keys, rated) if k not in self._seen}.items())
        if not todo:
            return Answers.whole(self._seen[k] for k in keys)
        m, words = self.model, self.max_words
        requests = []
        for _, (query, item) in todo:
            fields = {"question": prepared(m, query.text, words), "answer": prepared(m, item.text, words),
                      "reference": NO_REFERENCE}
            template = self.template
            if query.reference:
                template = self.with_reference
                fields["reference"] = prepared(m, query.reference, words)
            requests.append((template, template.request(**fields)))
        answers = choose(m, requests, [f"{q.id}: {i.id}" for _, (q, i) in todo])
        for (key, _), r in zip(todo, answers.values):
            if r is not None:
                self._seen[key] = _distribution(r)
        return Answers([self._seen.get(k) for k in keys], answers.complete)


def _distribution(result: ChoiceResult) -> np.ndarray:
    return softmax(np.array(result.logprobs, dtype=np.float64))
