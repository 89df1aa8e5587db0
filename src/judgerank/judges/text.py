"""Preparing untrusted item text for a prompt."""

import re
from itertools import islice

_WORD = re.compile(r"\S+")


def clip(text: str, max_words: int) -> str:
    """The text up to the end of its max_words-th whitespace-separated word, so that any prompt
    fits the context. Whitespace is kept as written (code, lists and paragraphs survive), and a
    text within the limit is returned unchanged; leading and trailing whitespace is dropped."""
    text = text.strip()
    last = next(islice(_WORD.finditer(text), max_words - 1, None), None)
    return text if last is None else text[: last.end()]
