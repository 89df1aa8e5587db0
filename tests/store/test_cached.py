"""The judgment cache: re-runs are free, keys separate models and templates, budgets ignore hits."""

from __future__ import annotations

import pytest
from helpers import graded_request, simulated

from judgerank import Budget, Reranker
from judgerank.store import SQLiteStore

GRADES = [0.0, 3.0, 1.0, 2.0]


def test_rerun_makes_no_backend_calls(tmp_path):
    request = graded_request(GRADES)
    backend = simulated(request, GRADES)
    first = Reranker("pointwise", store=tmp_path / "c.sqlite", backend=backend).rank(request.query, request.items)
    # a new Reranker and a new connection: the judgments persist on disk
    again = Reranker("pointwise", store=tmp_path / "c.sqlite", backend=backend).rank(request.query, request.items)
    assert first.costs.calls == 4 and first.costs.cache_hits == 0
    assert again.costs.calls == 0 and again.costs.cache_hits == 4 and again.costs.prompt_tokens == 0
    assert again.ids == first.ids and again.scores == pytest.approx(first.scores)
    assert backend.calls == 4


def test_cache_keys_separate_models_and_templates(tmp_path):
    request = graded_request(GRADES)
    path = tmp_path / "c.sqlite"
    Reranker("pointwise", store=path, backend=simulated(request, GRADES)).rank(request.query, request.items)
    other_model = simulated(request, GRADES, noise=0.1)  # a different identity
    assert Reranker("pointwise", store=path, backend=other_model).rank(request.query, request.items).costs.calls == 4
    graded = Reranker("pointwise-graded", store=path, backend=simulated(request, GRADES)).rank(request.query, request.items)
    assert graded.costs.calls == 4
    # 12 judgments, and the embedding's vectors of the 4 passages and the query (the guard's
    # support check), shared by all three: the embedding is one model whatever the judge
    assert len(SQLiteStore(path)) == 12 + 5


def test_cache_hits_do_not_spend_the_budget(tmp_path):
    request = graded_request(GRADES)
    path = tmp_path / "c.sqlite"
    Reranker("pointwise", store=path, backend=simulated(request, GRADES)).rank(request.query, request.items)
    ranking = Reranker("pointwise", store=path, backend=simulated(request, GRADES), budget=Budget(max_calls=0)).rank(
        request.query, request.items
    )
    assert ranking.complete and ranking.costs.cache_hits == 4


def test_unwritable_cache_is_a_clear_error(tmp_path):
    from judgerank.core.errors import JudgerankError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JudgerankError, match="cache"):
        SQLiteStore(blocker / "c.sqlite")
