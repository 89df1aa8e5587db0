"""ICR (in-context reranking from attention) on the embedded SmolLM2 GGUF loaded by transformers:
the scores against a reference computed a second, independent way, the method through the
runtime, the cache and the budgets, and the errors for models that cannot give attention."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import Stub, cached, graded_request, simulated

from judgerank import Reranker
from judgerank.core.costs import Budget
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Item, Query, Request
from judgerank.judges.attention import AttentionJudge
from judgerank.runtime import Runtime

pytestmark = pytest.mark.llm
pytest.importorskip("gguf", reason="icr needs the [attention] extra")

QUERY = "how long is the life cycle of a flea"
PASSAGES = [
    "The stock market closed higher on Monday as technology shares rallied.",
    "The flea life cycle has four stages: egg, larva, pupa and adult, and takes two to three months.",
    "Paris is the capital of France and its largest city.",
    "A flea lives up to a year; from egg to adult takes weeks to months, depending on warmth.",
]
REQUEST = Request(Query("flea", QUERY), tuple(Item(f"p{n}", t) for n, t in enumerate(PASSAGES)))


@pytest.fixture(scope="module")
def runtime():
    with Runtime(store=None, threads=2) as rt:
        yield rt


@pytest.fixture(scope="module")
def backend(runtime):
    return runtime.attention(None).backend


def reference_scores(backend, request) -> list[float]:
    """ICR's masked N/A-calibrated scores from two full forward passes with eager attention over
    the whole prompt (no KV cache, no fast kernel), reduced with numpy: the paper's recipe."""
    import torch

    prefix, spans, probe, calibration = backend.layout(request)
    backend.model.set_attn_implementation("eager")
    try:
        rows = []
        for tail in (probe, calibration):
            with torch.no_grad():
                out = backend.model(input_ids=torch.tensor([prefix + tail]), output_attentions=True)
            # per layer (heads, tail rows, all columns): mean over the tail's rows, sum over heads and layers
            rows.append(sum(a[0, :, len(prefix):, :].float().numpy().mean(axis=1).sum(axis=0) for a in out.attentions))
    finally:
        backend.model.set_attn_implementation("sdpa")
    scores = []
    for start, end in spans:
        diff = rows[0][start:end] - rows[1][start:end]
        keep = diff > diff.mean() - 2 * diff.std(ddof=1)
        scores.append(float((diff * keep).sum()))
    return scores


def test_scores_equal_the_full_eager_reference(runtime, backend):
    judge = AttentionJudge(cached(runtime.attention(None).backend))
    request = judge.request(REQUEST.query, REQUEST.items)
    (_, result), = list(backend.iter_attention([request]))
    expected = reference_scores(backend, request)
    # bfloat16 weights: the cached prefix and the fast kernel round differently from the full pass
    assert result.scores == pytest.approx(expected, rel=0.05, abs=0.02)
    assert list(np.argsort(result.scores)) == list(np.argsort(expected))
    prefix, spans, probe, calibration = backend.layout(request)
    assert result.prompt_tokens == len(prefix) + len(probe)
    assert result.evaluated_tokens == result.prompt_tokens + len(calibration)
    assert len(spans) == len(PASSAGES) and all(end > start for start, end in spans)


def test_icr_ranks_the_flea_passages_first(runtime):
    with Reranker("icr", runtime=runtime) as reranker:
        ranking = reranker.rank(REQUEST.query, REQUEST.items)
    assert set(ranking.ids[:2]) == {"p1", "p3"}
    assert ranking.complete and ranking.costs.calls == 1 and ranking.costs.rounds == 1
    assert ranking.costs.flops > 0 and ranking.costs.evaluated_tokens > ranking.costs.prompt_tokens


def test_icr_is_served_from_the_store_the_second_time(tmp_path, backend):
    with Runtime(store=tmp_path / "s.sqlite", backends={None: backend}) as rt, Reranker("icr", runtime=rt) as reranker:
        first = reranker.rank(REQUEST.query, REQUEST.items)
        again = reranker.rank(REQUEST.query, REQUEST.items)
    assert again.ids == first.ids and again.scores == first.scores
    assert (again.costs.calls, again.costs.cache_hits) == (0, 1)


def test_a_list_longer_than_the_context_is_refused_before_any_work(runtime, backend, monkeypatch):
    with Runtime(store=None, context=64) as rt:  # what --context gives the backend it builds
        assert rt.spec(None).attention().context == 64
    monkeypatch.setattr(backend, "max_tokens", 64)
    with Reranker("icr", runtime=runtime) as reranker:
        with pytest.raises(JudgerankError, match="exceeds the model context of 64"):
            reranker.rank(REQUEST.query, REQUEST.items)


def test_icr_on_the_simulated_judge_orders_by_grade():
    grades = [0.0, 3.0, 1.0, 2.0]
    request = graded_request(grades)
    with Reranker("icr", store=None, backend=simulated(request, grades)) as reranker:
        ranking = reranker.rank(request.query, request.items)
    assert ranking.ids == ["d1", "d3", "d2", "d0"]


def test_a_budget_of_no_calls_keeps_the_input_order():
    grades = [0.0, 3.0, 1.0]
    request = graded_request(grades)
    with Reranker("icr", store=None, backend=simulated(request, grades), budget=Budget(max_calls=0)) as reranker:
        ranking = reranker.rank(request.query, request.items)
    assert ranking.ids == ["d0", "d1", "d2"] and not ranking.complete


def test_models_without_attention_are_refused_by_name():
    with pytest.raises(JudgerankError, match="OpenAI-compatible server does not give"):
        Reranker("icr", "served-model", store=None, base_url="http://127.0.0.1:9/v1")

    choices_only = Stub("choices-only")

    with pytest.raises(JudgerankError, match="cannot give attention weights"):
        Reranker("icr", store=None, backend=choices_only)
