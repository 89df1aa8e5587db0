"""Listwise judges: order a window of passages in one prompt.

- PermutationJudge: the model writes "[2] > [1] > [3]"; the text is parsed robustly (duplicates
  dropped, invalid labels dropped, missing ones appended in input order), every repair counted.
- LabelJudge: FIRST-style. The passages carry letters; the probabilities of the letters as the
  first answer token order the window in one forward pass, with no generation. The same scores
  pick the best of a set (setwise).

Both answer `rank_windows(query, windows)` with one permutation of window positions per window,
all windows of a call in one batch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.backends.base import ChoiceRequest, ChoiceResult, GenerateRequest, Generation
from judgerank.cache import CachedModel
from judgerank.errors import JudgerankError
from judgerank.judges.base import ask
from judgerank.judges.templates import load_template
from judgerank.types import Item, Query

LABEL = re.compile(r"\[\s*(\d+)\s*\]")
NUMBER = re.compile(r"\d+")


@dataclass
class ParseReport:
    """What parsing permutations had to repair, summed over every answer parsed."""

    answers: int = 0
    duplicates: int = 0
    invalid: int = 0
    missing: int = 0
    unparseable: int = 0  # answers with no label at all (the input order was kept)

    def add(self, other: ParseReport) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def parse_permutation(text: str, n: int) -> tuple[list[int], ParseReport]:
    """0-based positions best first from an answer naming labels 1..n; never fails."""
    tokens = LABEL.findall(text) or NUMBER.findall(text)
    report = ParseReport(answers=1, unparseable=int(not tokens))
    order: list[int] = []
    for token in tokens:
        k = int(token) - 1 if len(token) <= 6 else -1  # a label of thousands of digits is just invalid
        if not 0 <= k < n:
            report.invalid += 1
        elif k in order:
            report.duplicates += 1
        else:
            order.append(k)
    missing = [k for k in range(n) if k not in order]
    report.missing = len(missing) if tokens else 0
    return order + missing, report


def _passages(backend: CachedModel, items: Sequence[Item], labels: Sequence[str], max_words: int) -> str:
    return "\n".join(f"{label} {backend.clip(i.text, max_words)}" for label, i in zip(labels, items))


class PermutationJudge:
    """Generates a permutation per window; `report` accumulates the parse repairs."""

    def __init__(self, backend: CachedModel, template: str = "listwise-permutation", max_words: int = 100) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.max_words = max_words
        self.report = ParseReport()

    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> list[list[int]]:
        q = self.backend.clip(query.text, self.max_words)
        requests = []
        for items in windows:
            labels = [f"[{n + 1}]" for n in range(len(items))]
            fields = {"query": q, "passages": _passages(self.backend, items, labels, self.max_words), "n": str(len(items))}
            messages = self.template.messages(**fields)
            requests.append(GenerateRequest(messages, max_tokens=6 * len(items) + 8, template=self.template.key))

        def orders(generations: Sequence[Generation | None]) -> list[list[int] | None]:
            out: list[list[int] | None] = []
            for items, generation in zip(windows, generations):
                if generation is None:
                    out.append(None)
                    continue
                order, report = parse_permutation(generation.text, len(items))
                self.report.add(report)
                out.append(order)
            return out

        return ask(self.backend.generate, requests, orders)


class LabelJudge:
    """Scores each passage of a window by log P(its letter first): FIRST and setwise."""

    def __init__(self, backend: CachedModel, template: str = "listwise-first", max_words: int = 100) -> None:
        self.backend = backend
        self.template = load_template(template)
        self.max_words = max_words

    @property
    def max_window(self) -> int:
        return len(self.template.choices)

    def label_logprobs(self, query: Query, windows: Sequence[Sequence[Item]]) -> list[np.ndarray]:
        """log P(label) per passage of each window (None for a window the Budget stopped)."""
        q = self.backend.clip(query.text, self.max_words)
        requests = []
        for items in windows:
            if len(items) > self.max_window:
                raise JudgerankError(f"a window of {len(items)} exceeds the {self.max_window} labels of {self.template.key}")
            labels = self.template.choices[: len(items)]
            fields = {"query": q, "passages": _passages(self.backend, items, [f"{x}:" for x in labels], self.max_words)}
            requests.append(ChoiceRequest(self.template.messages(**fields), labels, self.template.key))

        def arrays(results: Sequence[ChoiceResult | None]) -> list[np.ndarray | None]:
            return [None if r is None else np.array(r.logprobs) for r in results]

        return ask(self.backend.choice_logprobs, requests, arrays)

    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> list[list[int]]:
        def orders(lps: Sequence[np.ndarray | None]) -> list[list[int] | None]:
            return [None if lp is None else [int(k) for k in np.argsort(-lp, kind="stable")] for lp in lps]

        return ask(lambda w: self.label_logprobs(query, w), windows, orders)

    def best_of(self, query: Query, sets: Sequence[Sequence[Item]]) -> list[int]:
        def picks(lps: Sequence[np.ndarray | None]) -> list[int | None]:
            return [None if lp is None else int(np.argmax(lp)) for lp in lps]

        return ask(lambda s: self.label_logprobs(query, s), sets, picks)
