"""What every judge shares: untrusted text made ready for a prompt, and results read in groups.

A judge turns one batch of backend results (Answers, None where the Budget stopped a request)
into signals with `Answers.map`, so a cut batch still yields every finished signal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import islice
from typing import TypeVar

from judgerank.guard.neutral import neutralise
from judgerank.store.cached import CachedModel

T = TypeVar("T")
_WORD = re.compile(r"\S+")


def clip(text: str, max_words: int) -> str:
    """The text up to the end of its max_words-th whitespace-separated word, so that any prompt
    fits the context. Whitespace is kept as written (code, lists and paragraphs survive), and a
    text within the limit is returned unchanged; leading and trailing whitespace is dropped."""
    text = text.strip()
    last = next(islice(_WORD.finditer(text), max_words - 1, None), None)
    return text if last is None else text[: last.end()]


def prepared(model: CachedModel, text: str, max_words: int) -> str:
    """Untrusted text made ready for a prompt: chat-template markers made inert (whatever the
    backend does with control tokens), then at most max_words words so that any prompt fits the
    context; the job's costs count each text clipped."""
    if len(text.split()) > max_words:
        model.ledger.clipped(text)
    return clip(neutralise(text) if model.neutralise else text, max_words)


def in_groups(results: Sequence[T | None], size: int) -> list[tuple[T, ...] | None]:
    """Consecutive groups of `size` results (both orders of a pair, say); None if any is missing."""
    groups = [tuple(results[i : i + size]) for i in range(0, len(results), size)]
    return [None if any(r is None for r in g) else g for g in groups]  # type: ignore[misc]
