"""The attention judge: ICR's relevance of every candidate from one prompt, with no generation.

All candidates go into one prompt as "[i] text", the instruction and query after them; the
backend reads how much attention the query's part of the prompt pays to each passage, calibrated
by the same part with a content-free query ("N/A"), as "Attention in Large Language Models
Yields Efficient Zero-Shot Re-Rankers" (Chen et al., 2025) does. The scores order the list; they
are not probabilities and do not compare across queries.
"""

from __future__ import annotations

from collections.abc import Sequence

from judgerank.backends.base import AttentionRequest
from judgerank.core.types import Answers, Item, Query
from judgerank.judges.base import prepared
from judgerank.judges.templates import load_template
from judgerank.store.cached import CachedModel

CONTENT_FREE = "N/A"  # the calibration query, as in the paper
SEPARATOR = "\n\n"


class AttentionJudge:
    """Scores a whole list in one call (two forward passes: the query's and the calibration's)."""

    def __init__(self, model: CachedModel, template: str = "icr", max_words: int = 100) -> None:
        self.model = model
        self.template = load_template(template)
        self.max_words = max_words
        head, found, probe = self.template.user.partition("{passages}")
        assert found, f"template {template} has no {{passages}}"
        self.head, self.probe = head.rstrip("\n"), probe.lstrip("\n")

    def request(self, query: Query, items: Sequence[Item]) -> AttentionRequest:
        m = self.model
        segments = tuple(f"[{n}] {prepared(m, i.text, self.max_words)}" for n, i in enumerate(items, 1))
        q = prepared(m, query.text, self.max_words)
        return AttentionRequest(
            self.template.system, self.head, segments, SEPARATOR, self.probe.format(query=q),
            self.probe.format(query=CONTENT_FREE), self.template.key,
        )

    def scores(self, query: Query, items: Sequence[Item]) -> Answers[float]:
        (result,) = self.model.attention([self.request(query, items)]).values
        if result is None:  # the Budget stopped its one call
            return Answers([None] * len(items), False)
        return Answers.whole(result.scores)
