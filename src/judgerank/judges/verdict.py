"""Response judge: which of two responses to a prompt is better, or a tie, asked in both orders.

Each order gives P(A), P(B) and P(tie) from the probabilities of the three answer letters. The
two orders are mapped back onto (a, b) and kept apart in the Preference, so that the verdict of
each order, the combined probability and P(tie) are all available to diagnostics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from judgerank.cache import CachedChoices
from judgerank.judges.templates import load_template
from judgerank.judges.text import clip
from judgerank.types import Item, Preference, Query

Matchup = tuple[Query, Item, Item]


class VerdictJudge:
    """A Comparer over responses; `compare_many` batches pairs from many prompts into one call."""

    def __init__(self, backend: CachedChoices, template: str = "judge-pair", max_words: int = 400) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.with_reference = load_template(f"{template}-ref")
        self.max_words = max_words

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> list[Preference]:
        return self.compare_many([(query, a, b) for a, b in pairs])

    def compare_many(self, matchups: Sequence[Matchup]) -> list[Preference]:
        if not matchups:
            return []
        requests = []
        for query, a, b in matchups:
            ta, tb = clip(a.text, self.max_words), clip(b.text, self.max_words)
            fields = {"question": clip(query.text, self.max_words)}
            template = self.template
            if query.reference:
                template = self.with_reference
                fields["reference"] = clip(query.reference, self.max_words)
            requests.append(template.request(**fields, a=ta, b=tb))
            requests.append(template.request(**fields, a=tb, b=ta))
        lp = np.array([r.logprobs for r in self.backend.choice_logprobs(requests)], dtype=np.float64)
        p = np.exp(lp - lp.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)  # columns: first shown wins, second shown wins, tie
        first, second = p[0::2], p[1::2]
        return [
            Preference(
                a.id,
                b.id,
                p_a_first=float(first[n, 0] + 0.5 * first[n, 2]),
                p_b_first=float(second[n, 1] + 0.5 * second[n, 2]),
                tie_a_first=float(first[n, 2]),
                tie_b_first=float(second[n, 2]),
            )
            for n, (_, a, b) in enumerate(matchups)
        ]
