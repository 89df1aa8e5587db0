"""The two losses a student learns by, on the scores (logits) of one query's passages.

pointwise: binary cross-entropy of each passage's sigmoid(score) against its soft label, so the
student's sigmoid is the teacher's probability of relevance (the cross-encoder backend reads a
one-logit head as exactly that). pairwise: RankNet, the binary cross-entropy of sigmoid(s_i -
s_j) against P(i above j), for the pairs a lesson implies (judgerank.distil.lessons).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

LOSSES = ("pointwise", "pairwise")


def pointwise_loss(scores: torch.Tensor, labels: Sequence[float]) -> torch.Tensor:
    """Mean binary cross-entropy of sigmoid(scores) against the labels in [0, 1]."""
    import torch
    from torch.nn.functional import binary_cross_entropy_with_logits

    return binary_cross_entropy_with_logits(scores, torch.tensor(labels, dtype=scores.dtype))


def pairwise_loss(scores: torch.Tensor, pairs: Sequence[tuple[int, int, float]]) -> torch.Tensor:
    """Mean RankNet loss over (i, j, P(i above j)) pairs: BCE(sigmoid(s_i - s_j), P)."""
    import torch
    from torch.nn.functional import binary_cross_entropy_with_logits

    first = torch.tensor([i for i, _, _ in pairs], dtype=torch.long)
    second = torch.tensor([j for _, j, _ in pairs], dtype=torch.long)
    target = torch.tensor([p for _, _, p in pairs], dtype=scores.dtype)
    return binary_cross_entropy_with_logits(scores[first] - scores[second], target)
