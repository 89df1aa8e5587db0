"""The cost model against measured counts on the simulated judge, and FLOPs by hand."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import Stub, graded_request, simulated

from judgerank import Reranker
from judgerank.core.flops import ModelShape
from judgerank.rerank.plan import SPREAD, closed_form, predict
from judgerank.strategies.registry import METHODS, Options

GRADES = [3.0, 0.5, 2.5, 0.0, 2.0, 1.0, 1.5, 0.25, 2.75, 0.75, 1.25, 1.75] * 3  # 36 items
OPTIONS = {"top_k": 5, "window": 8, "stride": 3, "cascade_depth": 10, "replicas": 2, "set_size": 3, "llm_weight": 1.0}
# graded_request's passages are 10 words, its query 2: the plan's synthetic ones are made the same
SHAPE = ModelShape(1000, 2, 10)


SIMILARITY = Stub("similarity-by-length", similarity=lambda query, text: len(text) % 7)


def measured(method: str, n: int, grades=GRADES):
    request = graded_request(grades[:n])
    backend = simulated(request, grades[:n], noise=0.3, position_bias=0.5, shape=SHAPE)
    with Reranker(method, store=None, backend=backend, similarity_backend=SIMILARITY, **OPTIONS) as reranker:
        return reranker.rank(request.query, request.items).costs


@pytest.mark.parametrize("n", [6, 36])
@pytest.mark.parametrize("method", [m for m in METHODS if closed_form(m, 36, Options(**OPTIONS)) is not None])
def test_closed_forms_are_exact(method, n):
    p = predict(method, n, Options(**OPTIONS), passage_tokens=10, query_tokens=2, shape=SHAPE)
    costs = measured(method, n)
    assert p.formula is not None
    assert (p.calls.mean, p.rounds.mean) == (costs.calls, costs.rounds)
    assert p.prompt_tokens.mean == costs.prompt_tokens
    assert p.flops.mean == pytest.approx(costs.flops)


@pytest.mark.parametrize("method", [m for m in METHODS if closed_form(m, 36, Options(**OPTIONS)) is None])
def test_simulated_predictions_bound_the_measured_counts(method):
    # a list the plan did not draw (its own seed), with strengths spread as the plan assumes
    strengths = np.random.default_rng(1234).normal(0.0, SPREAD, 36).tolist()
    p = predict(method, 36, Options(**OPTIONS), trials=30, passage_tokens=10, query_tokens=2, noise=0.3,
                position_bias=0.5)
    costs = measured(method, 36, strengths)
    assert p.formula is None and p.trials == 30
    slack = 0.25  # the stated bound: within a quarter beyond the simulated range
    assert p.calls.low * (1 - slack) <= costs.calls <= p.calls.high * (1 + slack)
    assert p.rounds.low * (1 - slack) <= costs.rounds <= p.rounds.high * (1 + slack)


def test_closed_forms_by_hand():
    o = Options(window=20, stride=10, shuffles=3, replicas=3)
    assert closed_form("pointwise", 100, o)[:2] == (100, 1)
    assert closed_form("allpairs", 10, o)[:2] == (90, 1)
    assert closed_form("allpairs", 50, o)[:2] == (2450, 2)  # 1,225 pairs: two chunks
    assert closed_form("first", 100, o)[:2] == (9, 9)  # windows start at 80, 70, ..., 10, 0
    assert closed_form("listwise-psc", 100, o)[:2] == (27, 9)
    assert closed_form("jointrank", 100, o)[:2] == (15, 1)
    assert closed_form("first", 20, o)[:2] == (1, 1)
    assert closed_form("pairwise-heap", 100, o) is None


def test_a_cached_share_removes_calls_but_not_rounds():
    o = Options()
    cold, warm = predict("pointwise", 40, o), predict("pointwise", 40, o, cached=0.5)
    assert warm.calls.mean == cold.calls.mean / 2 and warm.rounds == cold.rounds
    assert predict("pointwise", 40, o, cached=1.0).rounds.mean == 0


def test_flops_by_hand():
    # N = 100, 2 layers of width 10: a prompt of 3 tokens costs 2*100*3 + 20*3*4 = 840, and two
    # generated tokens after it 2*100*2 + 2*20*(2*3 + 3) = 760
    assert ModelShape(100, 2, 10).flops(3, 2) == 1600
    assert ModelShape(100, 2, 10).flops(3) == 840


def test_the_embedded_models_shape_is_what_llama_cpp_reads():
    pytest.importorskip("llama_cpp")
    from judgerank.backends.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(None)
    assert backend.shape is not None and backend.shape.params > 100_000_000
    request = graded_request([1.0])
    ranking = Reranker("pointwise", store=None, backend=backend).rank(request.query, request.items)
    assert ranking.costs.flops == pytest.approx(backend.shape.flops(ranking.costs.prompt_tokens))
    backend.close()


@pytest.mark.parametrize("method", ["pointwise", "allpairs", "first", "listwise", "cascade"])
def test_closed_forms_count_each_sample_in_words(method):
    options = {**OPTIONS, "verdicts": "text", "samples": 3, "temperature": 1.0}
    p = predict(method, 6, Options(**options), passage_tokens=10, query_tokens=2)
    request = graded_request(GRADES[:6])
    backend = simulated(request, GRADES[:6])
    with Reranker(method, store=None, backend=backend, similarity_backend=SIMILARITY, **options) as reranker:
        costs = reranker.rank(request.query, request.items).costs
    assert (p.calls.mean, p.rounds.mean) == (costs.calls, costs.rounds), p.formula


def test_the_default_cascade_on_the_embedded_model_is_planned_at_no_call():
    # its LLM stage has no weight for smollm2-135m (calibrated), so the cascade asks no LLM
    embedded = predict("cascade", 100, Options(), passage_tokens=10, query_tokens=2, model="smollm2-135m")
    assert (embedded.calls.mean, embedded.rounds.mean) == (0, 0) and "no weight for smollm2-135m" in embedded.formula
    other = predict("cascade", 100, Options(), passage_tokens=10, query_tokens=2, model="qwen2.5-coder-0.5b")
    assert other.calls.mean == 20  # pointwise over the top cascade_depth
