"""Strategies against a simulated judge whose right answer is known."""

from __future__ import annotations

import itertools

import pytest
from helpers import cached, graded_request, simulated

from judgerank import Budget, Reranker
from judgerank.judges.pairwise import PairwiseJudge

# 12 items, distinct grades, input order deliberately not the right order
GRADES = [3.0, 0.5, 2.5, 0.0, 2.0, 1.0, 1.5, 0.25, 2.75, 0.75, 1.25, 1.75]
BEST_FIRST = [f"d{i}" for i in sorted(range(len(GRADES)), key=lambda i: -GRADES[i])]


def rank(method, grades=GRADES, budget=None, **kwargs):
    request = graded_request(grades)
    backend_kwargs = {k: kwargs.pop(k) for k in ("noise", "position_bias", "intransitivity", "seed") if k in kwargs}
    backend = simulated(request, grades, **backend_kwargs)
    # the simulated world's embedding knows the grades too: the guard's support check agrees with the judge
    reranker = Reranker(method, store=None, backend=backend, similarity_backend=backend, budget=budget, **kwargs)
    return reranker.rank(request.query, request.items), backend


@pytest.mark.parametrize("method", ["pointwise", "pointwise-graded", "allpairs"])
def test_full_rankings_are_exact_without_noise(method):
    ranking, _ = rank(method)
    assert ranking.ids == BEST_FIRST
    assert ranking.complete


@pytest.mark.parametrize("method", ["pairwise-heap", "pairwise-quick", "pairwise-bubble"])
def test_topk_sorts_find_the_exact_top_k(method):
    ranking, backend = rank(method, top_k=4)
    assert ranking.ids[:4] == BEST_FIRST[:4]
    assert sorted(ranking.ids) == sorted(BEST_FIRST)
    n = len(GRADES)
    assert ranking.costs.calls == backend.calls < n * (n - 1)  # fewer than all pairs in both orders


@pytest.mark.parametrize("method", ["pairwise-heap", "pairwise-quick", "pairwise-bubble", "allpairs"])
def test_both_orders_cancel_a_strong_position_bias(method):
    ranking, _ = rank(method, top_k=4, position_bias=5.0)
    assert ranking.ids[:4] == BEST_FIRST[:4]


def test_top_k_leaves_the_rest_in_input_order():
    ranking, _ = rank("pairwise-heap", top_k=3)
    rest = [d for d in (f"d{i}" for i in range(len(GRADES))) if d not in BEST_FIRST[:3]]
    assert ranking.ids[3:] == rest


def test_heap_batches_independent_comparisons():
    request = graded_request(GRADES * 2)
    backend = simulated(request, GRADES * 2)
    batches = []

    class CountingJudge(PairwiseJudge):
        def compare(self, query, pairs):
            batches.append(len(pairs))
            return super().compare(query, pairs)

    from judgerank.strategies.sorting import HeapTopK

    judge = CountingJudge(cached(backend))
    HeapTopK(judge, k=5).rank(request.query, request.items)
    assert max(batches) >= 4  # a whole heap level at once
    assert len(batches) < sum(batches)


def test_pairwise_conflict_is_a_tie_not_a_coin_flip():
    request = graded_request([1.0, 1.0])
    backend = simulated(request, [1.0, 1.0], position_bias=2.0)
    judge = PairwiseJudge(cached(backend))
    (pref,) = judge.compare(request.query, [(request.items[0], request.items[1])]).values
    assert pref.p_a_first > 0.5 and pref.p_a_second < 0.5  # each order prefers whoever is first
    assert pref.verdict == "tie"
    assert pref.prob == pytest.approx(0.5)


def test_noisy_judge_is_deterministic_for_a_seed():
    first, _ = rank("pairwise-heap", noise=1.0, intransitivity=0.5, seed=3)
    again, _ = rank("pairwise-heap", noise=1.0, intransitivity=0.5, seed=3)
    other, _ = rank("pairwise-heap", noise=1.0, intransitivity=0.5, seed=4)
    assert first.ids == again.ids
    assert first.ids != other.ids


@pytest.mark.parametrize("method", ["pointwise", "allpairs", "pairwise-heap", "pairwise-quick", "pairwise-bubble"])
def test_budget_stops_early_with_a_partial_ranking(method):
    ranking, backend = rank(method, budget=Budget(max_calls=6), top_k=4)
    assert not ranking.complete
    assert backend.calls == ranking.costs.calls <= 6
    assert sorted(ranking.ids) == sorted(BEST_FIRST)


def test_token_budget_stops_early():
    ranking, backend = rank("pointwise", budget=Budget(max_tokens=1))
    assert not ranking.complete and 0 < backend.calls < len(GRADES)


def test_depth_reranks_only_the_head():
    ranking, backend = rank("pointwise", depth=5)
    head = sorted(range(5), key=lambda i: -GRADES[i])
    assert ranking.ids == [f"d{i}" for i in head] + [f"d{i}" for i in range(5, len(GRADES))]
    assert backend.calls == 5


def test_cascade_reorders_only_the_first_stage_top(stub):
    request = graded_request(GRADES)
    llm = simulated(request, GRADES)
    # a first stage that scores by the reverse of the truth, so the head it passes on is the worst
    first = {i.text: -g for i, g in zip(request.items, GRADES)}

    similarity = stub("reverse", similarity=lambda query, text: first[text])

    # guard="flag": the cascade's arithmetic is tested here, not the demotion of what it flags
    reranker = Reranker("cascade", store=None, backend=llm, similarity_backend=similarity, cascade_depth=4, fuse=False,
                        feedback=0, input_weight=0, guard="flag")
    ranking = reranker.rank(request.query, request.items)
    worst4 = list(reversed(BEST_FIRST))[:4]
    assert ranking.ids[:4] == sorted(worst4, key=lambda d: -GRADES[int(d[1:])])
    assert ranking.ids[4:] == list(reversed(BEST_FIRST))[4:]
    assert ranking.costs.calls == 4 and ranking.costs.embedded_texts == len(GRADES)


def test_allpairs_judges_every_pair_once_in_both_orders():
    ranking, backend = rank("allpairs")
    n = len(GRADES)
    assert backend.calls == 2 * len(list(itertools.combinations(range(n), 2)))


def test_fused_cascade_keeps_what_both_stages_agree_on(stub):
    request = graded_request(GRADES)
    # the first stage is right except that it swaps the best two; the LLM is right
    first_order = BEST_FIRST[:]
    first_order[0], first_order[1] = first_order[1], first_order[0]
    first = {i.text: -first_order.index(i.id) for i in request.items}

    similarity = stub("almost", similarity=lambda query, text: first[text])

    llm = simulated(request, GRADES)
    ranking = Reranker("cascade", store=None, backend=llm, similarity_backend=similarity, cascade_depth=4, fuse=True,
                       feedback=0, input_weight=0, llm_weight=1.0, guard="flag").rank(request.query, request.items)
    # the best two tie on fused rank (1+2 each way); the first stage breaks the tie
    assert ranking.ids[:4] == [first_order[0], first_order[1], *BEST_FIRST[2:4]]
    assert ranking.ids[4:] == first_order[4:]


def test_rocchio_feedback_is_the_moved_query_cosine(stub):
    import numpy as np

    from judgerank.store.cached import rocchio

    rng = np.random.default_rng(0)
    unit = {t: v / np.linalg.norm(v) for t, v in zip(["q", *[f"t{i}" for i in range(12)]], rng.standard_normal((13, 6)))}

    similarities = stub(similarity=lambda query, text: float(unit[text] @ unit[query]))

    class Vectors(type(similarities)):  # a bi-encoder that gives its vectors too
        def vectors(self, texts):
            return np.array([unit[t] for t in texts])

    texts = [f"t{i}" for i in range(12)]
    v = np.array([unit[t] for t in texts])
    top = np.argsort(-(v @ unit["q"]))[:3]
    moved = unit["q"] + 0.7 * v[top].mean(axis=0)
    expected = v @ (moved / np.linalg.norm(moved))
    assert np.allclose(rocchio(Vectors(), "q", texts, 3, 0.7), expected)
    assert np.allclose(rocchio(similarities, "q", texts, 3, 0.7), expected)  # from similarities alone


def test_cascade_weighs_the_input_order_and_the_llm_as_told(stub):
    request = graded_request(GRADES)
    n = len(GRADES)
    # the embedding says the reverse of the input order; the input order is right for the top two
    first = {i.text: float(k) for k, i in enumerate(request.items)}

    similarity = stub("reverse-input", similarity=lambda query, text: first[text])

    def cascade(**weights):
        return Reranker("cascade", store=None, backend=simulated(request, GRADES), similarity_backend=similarity,
                        cascade_depth=n, feedback=0, **weights).rank(request.query, request.items)

    # no LLM say and no input say: the embedding's order, which is the input reversed
    assert cascade(input_weight=0, llm_weight=0).ids == [f"d{k}" for k in reversed(range(n))]
    # an input weight above the embedding's turns it back to the input order
    assert cascade(input_weight=2.0, llm_weight=0).ids == [f"d{k}" for k in range(n)]
    # a dominant LLM weight gives the LLM's order (the truth), whatever the first stage said
    assert cascade(input_weight=1.0, llm_weight=100.0).ids == BEST_FIRST


def test_the_embedded_models_calibrated_weight_asks_it_nothing(stub):
    """SmolLM2 measured too weak to add to the first stage (docs/benchmarks/rerank.md): weight 0, no calls."""
    from judgerank.strategies.registry import calibrated_llm_weight

    request = graded_request(GRADES)
    first = {i.text: g for i, g in zip(request.items, GRADES)}

    similarity = stub("truth", similarity=lambda query, text: first[text])

    assert calibrated_llm_weight("smollm2-135m") == 0.0
    with Reranker("cascade", store=None, similarity_backend=similarity, feedback=0, input_weight=0) as reranker:
        ranking = reranker.rank(request.query, request.items)  # the default model, never loaded
        assert reranker.runtime.loaded == []  # nothing built: the given similarity backend is all it used
    assert ranking.costs.calls == 0 and ranking.ids == BEST_FIRST
    assert ranking.scores == sorted(GRADES, reverse=True)  # the first stage's similarity
