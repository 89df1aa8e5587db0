"""Pairwise judge: P(a beats b), asked with a first and with b first, combined.

Small models prefer whichever passage comes first; averaging the two orders cancels a constant
bias, and a disagreement between the orders is reported as a tie.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from judgerank.cache import CachedChoices
from judgerank.judges.templates import load_template
from judgerank.judges.text import clip
from judgerank.types import Item, Preference, Query


class PairwiseJudge:
    def __init__(self, backend: CachedChoices, template: str = "pairwise-prp", max_words: int = 200) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.max_words = max_words

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> list[Preference]:
        if not pairs:
            return []
        q = clip(query.text, self.max_words)
        requests = []
        for a, b in pairs:
            ta, tb = clip(a.text, self.max_words), clip(b.text, self.max_words)
            requests.append(self.template.request(query=q, a=ta, b=tb))
            requests.append(self.template.request(query=q, a=tb, b=ta))
        lp = np.array([r.logprobs for r in self.backend.choice_logprobs(requests)], dtype=np.float64)
        p_first = 1.0 / (1.0 + np.exp(lp[:, 1] - lp[:, 0]))  # P(first shown) normalised over {A, B}
        return [
            Preference(a.id, b.id, float(p_first[2 * n]), float(1.0 - p_first[2 * n + 1]))
            for n, (a, b) in enumerate(pairs)
        ]
