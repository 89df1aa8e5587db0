"""Listwise judges: order a window of passages in one prompt.

- PermutationJudge: the model writes "[2] > [1] > [3]"; the text is parsed robustly (duplicates
  dropped, invalid labels dropped, missing ones appended in input order), every repair counted.
- LabelJudge: FIRST-style. The passages carry letters; the probabilities of the letters as the
  first answer token order the window in one forward pass, with no generation. The same scores
  pick the best of a set (setwise). Past the template's 26 letters, labels go on with the
  two-letter labels (AA, AB, ...) that the model reads as one token, so one pass can rank 100
  candidates; a window that needs more labels than the model has is refused before any call.

With insert_scores (InsertRank), each passage shows its first-stage score beside its label, in
a template of its own (name + "-scores"), so the store keeps those judgments apart.

Both answer `rank_windows(query, windows)` with one permutation of window positions per window,
all windows of a call in one batch.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.backends.base import ChoiceRequest, ChoiceResult, GenerateRequest, Generation
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Answers, Item, Query
from judgerank.judges.base import prepared
from judgerank.judges.templates import PromptTemplate, load_template, template_of
from judgerank.judges.words import choose
from judgerank.store.cached import CachedModel

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


def require_scores(items: Sequence[Item], where: str = "") -> None:
    """--insert-scores shows each candidate's first-stage score: a one-line error (prefixed by
    `where`) naming the first candidate without one."""
    missing = next((i.id for i in items if i.score is None), None)
    if missing is not None:
        raise JudgerankError(f"{where}--insert-scores shows each candidate's first-stage score, and candidate "
                             f"{missing!r} has none: give a 'score' for every candidate in the input")


def _passages(model: CachedModel, items: Sequence[Item], labels: Sequence[str], max_words: int,
              insert_scores: bool = False) -> str:
    if not insert_scores:
        return "\n".join(f"{label} {prepared(model, i.text, max_words)}" for label, i in zip(labels, items))
    require_scores(items)
    return "\n".join(f"{label} (retriever score {i.score:.4g}) {prepared(model, i.text, max_words)}"
                     for label, i in zip(labels, items))


def single_token_labels(n: int, base: Sequence[str], is_single: Callable[[str], bool], model: str) -> list[str]:
    """n labels, each one token for the model: the template's own, then the two-letter labels
    AA, AB, ... that are one token. A one-line error when a template label is not a single
    token, or the model has fewer than n such labels."""
    for label in base[:n]:
        if not is_single(label):
            raise JudgerankError(f"label {label!r} is not a single token for model {model}: "
                                 "first-token label methods need one-token labels")
    labels = list(base[:n])
    for pair in (a + b for a in string.ascii_uppercase for b in string.ascii_uppercase):
        if len(labels) >= n:
            break
        if pair not in labels and is_single(pair):
            labels.append(pair)
    if len(labels) < n:
        raise JudgerankError(f"a window of {n} needs {n} one-token labels, and model {model} has {len(labels)}: "
                             "use a smaller --window or --depth")
    return labels


class PermutationJudge:
    """Generates a permutation per window; `report` accumulates the parse repairs."""

    def __init__(self, model: CachedModel, template: str = "listwise-permutation", max_words: int = 100,
                 insert_scores: bool = False) -> None:
        self.model = model
        self.template = load_template(f"{template}-scores" if insert_scores else template)
        self.max_words = max_words
        self.insert_scores = insert_scores
        self.report = ParseReport()

    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> Answers[list[int]]:
        m = self.model
        q = prepared(m, query.text, self.max_words)
        requests = []
        for items in windows:
            labels = [f"[{n + 1}]" for n in range(len(items))]
            passages = _passages(m, items, labels, self.max_words, self.insert_scores)
            messages = self.template.messages(query=q, passages=passages, n=str(len(items)))
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

        return m.generate(requests).map(orders)


class LabelJudge:
    """Scores each passage of a window by log P(its letter first): FIRST and setwise."""

    def __init__(self, model: CachedModel, template: str | PromptTemplate = "listwise-first", max_words: int = 100,
                 insert_scores: bool = False) -> None:
        self.model = model
        if isinstance(template, str):
            template = f"{template}-scores" if insert_scores else template
        self.template = template_of(template)
        self.max_words = max_words
        self.insert_scores = insert_scores
        self._labels: dict[int, tuple[str, ...]] = {}

    def labels(self, n: int) -> tuple[str, ...]:
        """The labels of a window of n, each one token for this model."""
        if n not in self._labels:
            self._labels[n] = tuple(single_token_labels(n, self.template.choices, self.model.is_single_token,
                                                        self.model.identity))
        return self._labels[n]

    def label_logprobs(self, query: Query, windows: Sequence[Sequence[Item]]) -> Answers[np.ndarray]:
        """log P(label) per passage of each window (None for a window the Budget stopped)."""
        m = self.model
        q = prepared(m, query.text, self.max_words)
        t = self.template
        requests = []
        for items in windows:
            labels = self.labels(len(items))
            passages = _passages(m, items, [f"{x}:" for x in labels], self.max_words, self.insert_scores)
            requests.append((t, ChoiceRequest(t.messages(query=q, passages=passages), labels, t.key)))

        def arrays(results: Sequence[ChoiceResult | None]) -> list[np.ndarray | None]:
            return [None if r is None else np.array(r.logprobs) for r in results]

        about = [f"{query.id}: {', '.join(i.id for i in items)}" for items in windows]
        return choose(m, requests, about).map(arrays)

    def rank_windows(self, query: Query, windows: Sequence[Sequence[Item]]) -> Answers[list[int]]:
        return self.label_logprobs(query, windows).map(
            lambda lps: [None if lp is None else [int(k) for k in np.argsort(-lp, kind="stable")] for lp in lps])

    def best_of(self, query: Query, sets: Sequence[Sequence[Item]]) -> Answers[int]:
        return self.label_logprobs(query, sets).map(
            lambda lps: [None if lp is None else int(np.argmax(lp)) for lp in lps])
