"""Preparing untrusted item text for a prompt."""


def clip(text: str, max_words: int) -> str:
    """At most max_words whitespace-separated words, so that any prompt fits the context."""
    words = text.split()
    return " ".join(words[:max_words])
