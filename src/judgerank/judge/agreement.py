"""Agreement of a judge's verdicts: with gold labels (accuracy, Cohen's kappa, 2-way and 3-way,
with a tie region for verdicts read from a score), and among several judges (Fleiss' kappa).

Verdicts read from a score (P(a preferred) - 1/2 from both orders, or the difference of expected
ratings) can only say tie when the score is exactly zero. A tie region says tie when |score| <=
margin. The margin is fitted on labelled pairs: the candidate (0, or a midpoint between two
observed |score| values) with the best 3-way accuracy, the smallest on a draw. To report an honest
3-way figure on the same pairs, the margins are cross-fitted: each of 5 folds gets the margin
fitted on the other four.

How gold ties are counted: 3-way agreement takes every pair, tie a class of its own (a verdict of
tie is right only on a gold tie); 2-way agreement takes the pairs whose gold label is decisive,
and the verdict as read without a tie region (a tie verdict there counts as wrong).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from judgerank.core.types import Verdict, verdict_of


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


FOLDS = 5


def verdicts_with_margin(scores: Sequence[float], margin: float) -> list[Verdict]:
    """'a' above +margin, 'b' below -margin, 'tie' within."""
    return [verdict_of(s, margin) for s in scores]


def fit_margin(scores: Sequence[float], gold: Sequence[Verdict]) -> float:
    """The tie margin with the best 3-way accuracy on these pairs (the smallest among equals)."""
    size = np.sort(np.abs(np.asarray(scores, dtype=float)))
    candidates = np.unique(np.r_[0.0, (size[1:] + size[:-1]) / 2.0])
    best, best_acc = 0.0, -1.0
    for m in candidates:
        acc = accuracy(verdicts_with_margin(scores, float(m)), gold)
        if acc > best_acc + 1e-12:
            best, best_acc = float(m), acc
    return best


def cross_fitted_verdicts(
    scores: Sequence[float], gold: Sequence[Verdict], folds: int = FOLDS, seed: int = 0
) -> tuple[list[Verdict], list[float]]:
    """Each pair's verdict with the margin fitted on the other folds; the folds' margins."""
    n = len(scores)
    order = np.random.default_rng(seed).permutation(n)
    fold_of = np.empty(n, dtype=int)
    fold_of[order] = np.arange(n) % max(1, min(folds, n))
    out: list[Verdict] = ["tie"] * n
    margins = []
    for f in range(int(fold_of.max()) + 1):
        train = np.flatnonzero(fold_of != f)
        m = fit_margin([scores[i] for i in train], [gold[i] for i in train]) if len(train) else 0.0
        margins.append(m)
        for i in np.flatnonzero(fold_of == f):
            out[i] = verdicts_with_margin([scores[i]], m)[0]
    return out, margins


@dataclass
class Agreement:
    """Accuracy and Cohen's kappa, 2-way (decisive gold) and 3-way (every pair, ties a class)."""

    pairs: int
    gold_ties: int
    accuracy_2way: float | None
    kappa_2way: float | None
    accuracy_3way: float
    kappa_3way: float

    def as_dict(self) -> dict:
        return dict(vars(self))


def agreement(two_way: Sequence[Verdict], three_way: Sequence[Verdict], gold: Sequence[Verdict]) -> Agreement:
    """two_way: the verdicts read without a tie region; three_way: with one (or a judge's own ties)."""
    decisive = [i for i, g in enumerate(gold) if g != "tie"]
    p2, g2 = [two_way[i] for i in decisive], [gold[i] for i in decisive]
    return Agreement(
        pairs=len(gold),
        gold_ties=len(gold) - len(decisive),
        accuracy_2way=accuracy(p2, g2) if decisive else None,
        kappa_2way=cohen_kappa(p2, g2) if decisive else None,
        accuracy_3way=accuracy(three_way, gold),
        kappa_3way=cohen_kappa(three_way, gold),
    )
