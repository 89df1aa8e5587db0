"""A method's score column follows its order: rank 6 never shows a higher score than rank 5
(issue 37: the default's fused order showed its cosine, pairwise sorts their mean win rates)."""

from __future__ import annotations

import random

import pytest
from helpers import Stub, graded_request, simulated

from judgerank.rerank import Reranker
from judgerank.strategies.base import follow_order
from judgerank.strategies.registry import METHODS

GRADES = [random.Random(1).choice([0, 1, 2, 3]) for _ in range(12)]


def test_follow_order_by_hand() -> None:
    assert follow_order([0.9, 0.5, 0.1]) == [0.9, 0.5, 0.1]  # already in order: unchanged
    assert follow_order([0.3, 0.5]) == [pytest.approx(0.4), pytest.approx(0.4)]  # a contradiction: the mean
    # None stays where it is and the rest are fitted around it: (0.2 + 0.6) / 2 = 0.4
    assert follow_order([0.8, None, 0.2, 0.6, None]) == [0.8, None, pytest.approx(0.4), pytest.approx(0.4), None]
    assert follow_order([0.1, 0.2, 0.9]) == [pytest.approx(0.4)] * 3
    assert follow_order([]) == [] and follow_order([None, 0.5]) == [None, 0.5]


@pytest.mark.parametrize("method", [m for m, spec in METHODS.items() if "rerank" in spec.jobs])
def test_every_rerank_methods_scores_follow_its_order(method: str) -> None:
    request = graded_request(GRADES)
    backend = simulated(request, GRADES, noise=1.0, seed=3)
    with Reranker(method, backend=backend, similarity_backend=backend, store=None, top_k=3) as reranker:
        ranking = reranker.rank(request.query, request.items)
        relevance = reranker.relevance(ranking)
    scores = [s for s in ranking.scores if s is not None]
    assert scores == sorted(scores, reverse=True)
    assert relevance == sorted(relevance, reverse=True) and all(0 <= r <= 1 for r in relevance)


def test_the_embedded_defaults_scores_follow_its_fused_order() -> None:
    """The cascade on the embedded model fuses the input order with the cosine: a passage the
    input put first and the cosine last showed its low cosine above higher ones."""
    request = graded_request([0.0] * 6)
    cosine = {i.text: c for i, c in zip(request.items, [-0.2, 0.9, 0.1, 0.8, 0.5, 0.3])}
    embedding = Stub("minilm", similarity=lambda query, text: cosine[text])
    with Reranker("cascade", backend=Stub("smollm2-135m"), similarity_backend=embedding, store=None,
                  feedback=0) as reranker:
        ranking = reranker.rank(request.query, request.items)
        assert reranker.relevance_scale() == "similarity"
        relevance = reranker.relevance(ranking)
    assert ranking.scores == sorted(ranking.scores, reverse=True)  # type: ignore[type-var]
    assert relevance == [round(max(0.0, min(1.0, s)), 6) for s in ranking.scores]  # type: ignore[type-var]
