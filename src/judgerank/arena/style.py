"""Style covariates of a battle, as LMArena's style control computes them.

Each response is counted for length (tokens) and markdown: headers, list items, bold spans, with
fenced code left out of the markdown counts. A battle's covariate for each element is the
normalised difference (a - b) / (a + b + 1), then every covariate is standardised over the
battles (mean 0, standard deviation 1) before the fit, as arena-rank does.

Tokens are counted as words and punctuation marks (regex \\w+ and single non-space symbols):
LMArena counts tiktoken tokens, which need a download; the ratio of two lengths, which is what
enters the fit, moves little between the two.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from judgerank.core.errors import JudgerankError

STYLE_FEATURES = ("length", "headers", "lists", "bold")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_CODE = re.compile(r"```[^`]*```")
_HEADER = re.compile(r"^#{1,6}\s", re.MULTILINE)
_ORDERED = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")


def style_counts(text: str) -> np.ndarray:
    """[tokens, headers, list items, bold spans] of one response."""
    prose = _CODE.sub("", text)
    return np.array(
        [
            len(_TOKEN.findall(text)),
            len(_HEADER.findall(prose)),
            len(_ORDERED.findall(prose)) + len(_UNORDERED.findall(prose)),
            len(_BOLD.findall(prose)),
        ],
        dtype=float,
    )


def style_differences(texts_a: Sequence[str], texts_b: Sequence[str]) -> np.ndarray:
    """battles x 4: (a - b) / (a + b + 1) for each element, before standardising."""
    a = np.array([style_counts(t) for t in texts_a]).reshape(-1, len(STYLE_FEATURES))
    b = np.array([style_counts(t) for t in texts_b]).reshape(-1, len(STYLE_FEATURES))
    return (a - b) / (a + b + 1.0)


def standardise(x: np.ndarray, names: Sequence[str], source: str = "battles") -> np.ndarray:
    """Each column to mean 0 and standard deviation 1; NaN, infinite or constant columns are an error."""
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = map(int, np.argwhere(bad)[0])
        raise JudgerankError(f"{source}: feature {names[col]!r} is not a finite number in battle {row + 1}")
    std = x.std(axis=0)
    constant = [names[j] for j in np.flatnonzero(std == 0)]
    if constant:
        raise JudgerankError(
            f"{source}: feature(s) {', '.join(constant)} take one value in every battle, so they cannot be "
            "told apart from the ratings; leave them out"
        )
    return (x - x.mean(axis=0)) / std
