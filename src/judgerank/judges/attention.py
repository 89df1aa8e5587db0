"""The attention judge: ICR's relevance of every candidate from one prompt, with no generation.

All candidates go into one prompt as "[i] text", the instruction and query after them; the
backend reads how much attention the query's part of the prompt pays to each passage, calibrated
by the same part with a content-free query ("N/A"), as "Attention in Large Language Models
Yields Efficient Zero-Shot Re-Rankers" (Chen et al., 2025) does. The scores order the list; they
are not probabilities and do not compare across queries.
"""

from __future__ import annotations

from collections.abc import Sequence

from judgerank.backends.base import AttentionRequest, AttentionResult
from judgerank.cache import CachedModel
from judgerank.judges.base import ask
from judgerank.judges.templates import load_template
from judgerank.types import Item, Query

CONTENT_FREE = "N/A"  # the calibration query, as in the paper
SEPARATOR = "\n\n"


class AttentionJudge:
    """Scores a whole list in one call (two forward passes: the query's and the calibration's)."""

    def __init__(self, backend: CachedModel, template: str = "icr", max_words: int = 100) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.max_words = max_words
        head, found, probe = self.template.user.partition("{passages}")
        assert found, f"template {template} has no {{passages}}"
        self.head, self.probe = head.rstrip("\n"), probe.lstrip("\n")

    def request(self, query: Query, items: Sequence[Item]) -> AttentionRequest:
        segments = tuple(f"[{n}] {self.backend.clip(i.text, self.max_words)}" for n, i in enumerate(items, 1))
        q = self.backend.clip(query.text, self.max_words)
        return AttentionRequest(
            self.template.system, self.head, segments, SEPARATOR, self.probe.format(query=q),
            self.probe.format(query=CONTENT_FREE), self.template.key,
        )

    def scores(self, query: Query, items: Sequence[Item]) -> list[float]:
        def per_item(results: Sequence[AttentionResult | None]) -> list[float | None]:
            (result,) = results
            return [None] * len(items) if result is None else list(result.scores)

        return ask(self.backend.attention, [self.request(query, items)], per_item)
