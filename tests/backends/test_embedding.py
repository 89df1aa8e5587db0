"""The bi-encoder backend (all-MiniLM-L6-v2 from its pip package, no hub)."""

from __future__ import annotations

import pytest

from judgerank import Reranker

pytestmark = pytest.mark.embed


def test_cosine_ranks_the_answer_first():
    pytest.importorskip("sentence_transformers")
    docs = ["Stocks rallied on Monday.", "An adult flea can live for up to a year.", "Bread needs flour and yeast."]
    with Reranker("embedding", store=None) as reranker:
        ranking = reranker.rank("how long does a flea live", docs)
    assert ranking.ids[0] == "1"
    assert ranking.costs.embedded_texts == 3 and ranking.costs.calls == 0
    assert all(s is not None and -1.0 <= s <= 1.0 for s in ranking.scores)
