"""Agreement: a judge's labels against gold labels (accuracy, Cohen's kappa), and among several
judges rating the same items (Fleiss' kappa)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np


def accuracy(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> float:
    _check(predicted, gold)
    return float(np.mean([p == g for p, g in zip(predicted, gold)]))


def cohen_kappa(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> float:
    """(p_o - p_e) / (1 - p_e) over the union of both label sets; a judge that answers 'tie'
    where gold has no ties simply disagrees. 0.0 when chance agreement is total."""
    _check(predicted, gold)
    labels = sorted(set(predicted) | set(gold), key=repr)
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for p, g in zip(predicted, gold):
        table[index[p], index[g]] += 1
    table /= table.sum()
    observed = np.trace(table)
    expected = float(table.sum(axis=1) @ table.sum(axis=0))
    return 0.0 if expected == 1.0 else float((observed - expected) / (1.0 - expected))


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an items x categories table of how many raters chose each category
    (every item rated by the same number of raters, at least two). 0.0 when chance agreement is total."""
    counts = np.asarray(counts, dtype=float)
    raters = counts.sum(axis=1)
    if len(counts) == 0 or raters.min() != raters.max() or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs items rated by the same number (>= 2) of raters")
    n = raters[0]
    shares = counts.sum(axis=0) / counts.sum()
    per_item = ((counts * (counts - 1)).sum(axis=1)) / (n * (n - 1))
    observed, expected = per_item.mean(), float(shares @ shares)
    return 0.0 if expected == 1.0 else float((observed - expected) / (1.0 - expected))


def _check(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> None:
    if len(predicted) != len(gold) or not gold:
        raise ValueError(f"need equally many predicted and gold labels, at least one ({len(predicted)} vs {len(gold)})")
