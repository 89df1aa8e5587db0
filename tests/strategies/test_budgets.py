"""Budgets spend exactly what they allow: a batch larger than what is left is cut, the part that
fits is judged and used, and the ranking comes back whole, marked incomplete."""

from __future__ import annotations

import pytest
from helpers import Stub, graded_request, simulated

from judgerank import Budget, Reranker
from judgerank.strategies.registry import METHODS, names_for

GRADES = [3.0, 0.5, 2.5, 0.0, 2.0, 1.0, 1.5, 0.25, 2.75, 0.75, 1.25, 1.75]
WIDE = GRADES * 3  # 36 items: several windows and blocks
LLM_METHODS = [m for m in names_for("rerank") if METHODS[m].needs & {"choices", "generate"}]
# swiss re-ranks its partial tournament by simulated continuations at every cut: the slowest by far
CASES = [pytest.param(m, marks=pytest.mark.slow) if m == "swiss" else m for m in LLM_METHODS]
OPTIONS = {"window": 8, "stride": 4, "top_k": 4}


def run(method, grades, budget=None, **kwargs):
    request = graded_request(grades)
    backend = simulated(request, grades, noise=0.3, seed=1)
    reranker = Reranker(method, store=None, backend=backend, similarity_backend=Stub("lexical"), budget=budget,
                        **(OPTIONS | kwargs))
    return reranker.rank(request.query, request.items), backend, request


def full_cost(method, grades, **kwargs):
    ranking, backend, _ = run(method, grades, **kwargs)
    assert ranking.complete
    return ranking.costs.calls, ranking.costs.prompt_tokens + ranking.costs.completion_tokens


@pytest.mark.parametrize("method", [*CASES, "cascade"])
def test_a_call_budget_is_spent_exactly(method):
    grades = WIDE if method not in ("allpairs",) else GRADES
    full, _ = full_cost(method, grades)
    for m in sorted({1, 2, 3, 5, full // 2, full - 1, full, full + 3}):
        if m < 1:
            continue
        ranking, backend, request = run(method, grades, Budget(max_calls=m))
        assert ranking.costs.calls == backend.calls == min(m, full), (m, full)
        assert sorted(ranking.ids) == sorted(i.id for i in request.items)  # every item ranked
        assert ranking.complete == (m >= full)


@pytest.mark.parametrize("method", CASES)
def test_a_token_budget_stops_at_the_first_judgment_that_reaches_it(method):
    grades = WIDE if method not in ("allpairs",) else GRADES
    calls, tokens = full_cost(method, grades)
    for fraction in (0.1, 0.5, 0.9):
        limit = max(1, int(tokens * fraction))
        ranking, backend, request = run(method, grades, Budget(max_tokens=limit))
        spent = ranking.costs.prompt_tokens + ranking.costs.completion_tokens
        assert spent >= limit
        assert backend.calls == ranking.costs.calls <= calls
        assert ranking.complete == (ranking.costs.calls == calls)  # complete only if the last judgment reached it
        # one judgment fewer would not have reached the limit: it stopped at the first that did
        assert spent - backend.last_tokens < limit
        assert sorted(ranking.ids) == sorted(i.id for i in request.items)


def test_a_cut_batch_is_used_in_the_partial_ranking():
    # pointwise with 6 calls of 12: the six judged items come first, by their scores
    ranking, _, request = run("pointwise", GRADES, Budget(max_calls=6))
    judged = [f"d{i}" for i in range(6)]
    assert sorted(ranking.ids[:6]) == sorted(judged)
    assert ranking.ids[:6] == sorted(judged, key=lambda d: -GRADES[int(d[1:])])
    assert ranking.ids[6:] == [f"d{i}" for i in range(6, 12)]  # the rest in input order
    assert ranking.scores[6:] == [None] * 6


def test_a_resumed_job_pays_only_for_what_is_new(tmp_path):
    request = graded_request(GRADES)
    backend = simulated(request, GRADES)
    path = tmp_path / "c.sqlite"
    first = Reranker("allpairs", store=path, backend=backend, budget=Budget(max_calls=7)).rank(request.query, request.items)
    rest = Reranker("allpairs", store=path, backend=backend).rank(request.query, request.items)
    assert first.costs.calls == 7 and not first.complete
    assert rest.complete and rest.costs.cache_hits == 7 and rest.costs.calls == 12 * 11 - 7


def test_allpairs_builds_no_prompt_past_a_spent_budget(monkeypatch):
    """Issue 39: allpairs built the prompts of every pair before the budget could cut them (1,000
    items: a million prompts, gigabytes, for a budget of 2,000 calls); it now asks a chunk at a
    time and stops asking when the budget is spent."""
    from judgerank.judges.pairwise import PairwiseJudge
    from judgerank.strategies.allpairs import CHUNK

    asked: list[int] = []
    compare = PairwiseJudge.compare

    def counting(self, query, pairs):
        asked.append(len(pairs))
        return compare(self, query, pairs)

    monkeypatch.setattr(PairwiseJudge, "compare", counting)
    grades = [float(n % 4) for n in range(120)]  # 7,140 pairs
    ranking, _, request = run("allpairs", grades, budget=Budget(max_calls=10))
    assert not ranking.complete and ranking.costs.calls == 10
    assert sum(asked) == CHUNK  # one chunk's prompts built, then the spent budget stopped the asking
    assert sorted(ranking.ids) == sorted(i.id for i in request.items)
    asked.clear()
    ranking, _, _ = run("allpairs", grades[:50])  # without a budget: every pair, chunk by chunk
    assert ranking.complete and asked == [CHUNK, 50 * 49 // 2 - CHUNK]
