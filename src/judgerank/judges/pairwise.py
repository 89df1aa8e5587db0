"""Pairwise judge: P(a beats b), asked with a first and with b first, combined.

Small models prefer whichever passage comes first; averaging the two orders cancels a constant
bias, and a disagreement between the orders is reported as a tie.
"""

from __future__ import annotations

from collections.abc import Sequence

from scipy.special import expit

from judgerank.backends.base import ChoiceResult
from judgerank.core.types import Answers, Item, Preference, Query
from judgerank.judges.base import in_groups, prepared
from judgerank.judges.templates import PromptTemplate, template_of
from judgerank.judges.words import choose
from judgerank.store.cached import CachedModel


class PairwiseJudge:
    def __init__(self, model: CachedModel, template: str | PromptTemplate = "pairwise-prp", max_words: int = 200) -> None:
        self.model = model
        self.template = template_of(template)
        self.max_words = max_words

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> Answers[Preference]:
        if not pairs:
            return Answers.whole([])
        m = self.model
        q = prepared(m, query.text, self.max_words)
        t = self.template
        requests, about = [], []
        for a, b in pairs:
            ta, tb = prepared(m, a.text, self.max_words), prepared(m, b.text, self.max_words)
            requests += [(t, t.request(query=q, a=ta, b=tb)), (t, t.request(query=q, a=tb, b=ta))]
            about += [f"{query.id}: {a.id} (shown first) vs {b.id}", f"{query.id}: {b.id} (shown first) vs {a.id}"]

        def preferences(results: Sequence[ChoiceResult | None]) -> list[Preference | None]:
            return [
                None if g is None else Preference(a.id, b.id, _first_wins(g[0]), 1.0 - _first_wins(g[1]))
                for (a, b), g in zip(pairs, in_groups(results, 2))
            ]

        return choose(m, requests, about).map(preferences)


def _first_wins(result: ChoiceResult) -> float:
    """P(the passage shown first wins), normalised over the two answers {A, B}."""
    first, second = result.logprobs[:2]
    return float(expit(first - second))
