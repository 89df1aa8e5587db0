"""Pairwise judge: P(a beats b), asked with a first and with b first, combined.

Small models prefer whichever passage comes first; averaging the two orders cancels a constant
bias, and a disagreement between the orders is reported as a tie.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from judgerank.backends.base import ChoiceResult
from judgerank.cache import CachedModel
from judgerank.judges.base import ask, in_groups
from judgerank.judges.templates import load_template
from judgerank.types import Item, Preference, Query


class PairwiseJudge:
    def __init__(self, backend: CachedModel, template: str = "pairwise-prp", max_words: int = 200) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.max_words = max_words

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> list[Preference]:
        if not pairs:
            return []
        q = self.backend.clip(query.text, self.max_words)
        requests = []
        for a, b in pairs:
            ta, tb = self.backend.clip(a.text, self.max_words), self.backend.clip(b.text, self.max_words)
            requests.append(self.template.request(query=q, a=ta, b=tb))
            requests.append(self.template.request(query=q, a=tb, b=ta))

        def preferences(results: Sequence[ChoiceResult | None]) -> list[Preference | None]:
            return [
                None if g is None else Preference(a.id, b.id, _first_wins(g[0]), 1.0 - _first_wins(g[1]))
                for (a, b), g in zip(pairs, in_groups(results, 2))
            ]

        return ask(self.backend.choice_logprobs, requests, preferences)


def _first_wins(result: ChoiceResult) -> float:
    """P(the passage shown first wins), normalised over the two answers {A, B}."""
    first, second = result.logprobs[:2]
    return 0.5 * (1.0 + math.tanh(0.5 * (first - second)))  # the logistic function, safe for any gap
