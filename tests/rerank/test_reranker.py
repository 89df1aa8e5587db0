"""The rerank facade builds a model only when a judgment is asked of it: the default on the
embedded model (whose LLM stage has no weight) never constructs llama.cpp, counted at the
constructor, not by calls."""

from __future__ import annotations

import json

import pytest
from helpers import EXAMPLES

from judgerank import Reranker
from judgerank.backends import llamacpp

FLEA = [json.loads(line) for line in (EXAMPLES / "flea.jsonl").read_text().splitlines()]
QUERY = "how long is the life cycle of a flea"


@pytest.fixture
def constructions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every LlamaCppBackend constructed while the test runs, by model."""
    built: list[str] = []
    real = llamacpp.LlamaCppBackend.__init__

    def counting(self, model=None, **kwargs):  # type: ignore[no-untyped-def]
        built.append(str(model))
        real(self, model, **kwargs)

    monkeypatch.setattr(llamacpp.LlamaCppBackend, "__init__", counting)
    return built


@pytest.mark.embed
def test_the_default_on_the_embedded_model_constructs_no_llama_cpp_backend(constructions):
    with Reranker(store=None) as reranker:
        ranking = reranker.rank(QUERY, FLEA)
        assert reranker.runtime.loaded == ["embedding:all-MiniLM-L6-v2"]
    assert constructions == [] and ranking.complete and ranking.costs.calls == 0
    assert ranking.ids[0] == "p2"  # the embedding stage's answer


@pytest.mark.llm
def test_a_model_is_built_at_the_first_judgment_not_with_the_reranker(constructions):
    with Reranker("pointwise", store=None) as reranker:
        assert constructions == [] and reranker.runtime.loaded == []
        reranker.rank(QUERY, FLEA[:2])
        reranker.rank(QUERY, FLEA[2:4])
    assert constructions == ["None"]  # the embedded default, once


def test_a_blank_query_is_refused_before_any_model():
    """A query of white space was ranked for (the embedding of nothing, or the LLM asked about nothing)."""
    from judgerank.backends.simulated import SimulatedBackend
    from judgerank.core.errors import JudgerankError

    with Reranker("pointwise", store=None, backend=SimulatedBackend({})) as reranker:
        with pytest.raises(JudgerankError, match="query 'q': the query is blank"):
            reranker.rank("\t ", FLEA)
        assert reranker.rank(QUERY, FLEA[:2]).complete
