"""The job's comparison graph: a pair judged once is not asked again, and confident chains imply
orders without a call, unless a cycle says they do not."""

from __future__ import annotations

import pytest
from helpers import graded_request, simulated

from judgerank.core.costs import Ledger
from judgerank.core.types import Answers, Item, Preference, Query
from judgerank.judges.graph import ComparisonGraph
from judgerank.runtime import Runtime


def test_a_pair_judged_once_is_not_asked_again_in_the_job():
    request = graded_request([3.0, 0.0, 1.5])
    backend = simulated(request, [3.0, 0.0, 1.5], position_bias=0.5)
    job = Runtime(store=None, backends={None: backend}).job("rerank")
    a, b, _ = request.items
    (first,) = job.comparer().compare(request.query, [(a, b)]).values
    flipped, same = job.comparer(0.9).compare(request.query, [(b, a), (a, b)]).values
    assert backend.calls == 2  # one pair, both orders, once
    assert same == first
    assert (flipped.a, flipped.b) == ("d1", "d0")
    assert flipped.prob == pytest.approx(1.0 - first.prob)
    assert flipped.p_a_first == pytest.approx(1.0 - first.p_a_second)  # b shown first is a's second order


def test_a_confident_chain_answers_without_a_call():
    grades = [6.0, 3.0, 0.0]  # P(a > b) = P(b > c) = logistic(3) = 0.95 in both orders
    request = graded_request(grades)
    backend = simulated(request, grades)
    job = Runtime(store=None, backends={None: backend}).job("rerank")
    a, b, c = request.items
    job.comparer(0.9).compare(request.query, [(a, b), (b, c)])
    assert backend.calls == 4
    (implied,) = job.comparer(0.9).compare(request.query, [(c, a)]).values
    assert backend.calls == 4
    assert (implied.a, implied.b) == ("d2", "d0")
    assert implied.prob == pytest.approx(1.0 - 0.9525741, abs=1e-6)  # the chain's weakest link
    assert job.ledger.costs.implied == 1
    (asked,) = job.comparer(0.96).compare(request.query, [(a, c)]).values  # links below 0.96 imply nothing
    assert backend.calls == 6 and asked.prob > 0.99
    assert job.ledger.costs.implied == 1


class Scripted:
    """A judge whose answers are written down: P(a beats b) for each pair, both orders alike."""

    def __init__(self, probs: dict[tuple[str, str], float]) -> None:
        self.probs = probs
        self.asked: list[tuple[str, str]] = []

    def compare(self, query: Query, pairs):
        out = []
        for a, b in pairs:
            self.asked.append((a.id, b.id))
            p = self.probs[(a.id, b.id)] if (a.id, b.id) in self.probs else 1.0 - self.probs[(b.id, a.id)]
            out.append(Preference(a.id, b.id, p, p))
        return Answers.whole(out)


def test_a_cycle_implies_nothing_but_a_chain_out_of_it_does():
    items = {x: Item(x, x) for x in "abcde"}
    # a > b > c > d > a is a cycle of confident answers; d > e leads out of it
    judge = Scripted({("a", "b"): 0.95, ("b", "c"): 0.95, ("c", "d"): 0.95, ("d", "a"): 0.95, ("d", "e"): 0.95,
                      ("a", "c"): 0.3, ("a", "e"): 0.8})
    ledger = Ledger()
    graph = ComparisonGraph(judge, ledger)
    q = Query("q", "q")
    graph.compare(q, [(items[x], items[y]) for x, y in ("ab", "bc", "cd", "da", "de")], 0.9)
    (ac,) = graph.compare(q, [(items["a"], items["c"])], 0.9).values
    assert judge.asked[-1] == ("a", "c") and ac.prob == 0.3  # inside the cycle: asked
    (ae,) = graph.compare(q, [(items["a"], items["e"])], 0.9).values
    assert judge.asked[-1] == ("a", "c") and ae.prob == 0.95  # a reaches e through d; e reaches nothing
    assert ledger.costs.implied == 1


def test_heap_asks_fewer_calls_with_implied_orders_and_finds_the_same_top():
    from judgerank import Reranker

    grades = [5.0 * g for g in (9.0, 0.0, 6.0, 1.0, 3.0, 7.5, 4.5, 1.5, 8.0, 2.0, 5.0, 0.5)]  # confident answers
    request = graded_request(grades)
    runs = {}
    for imply in (1.0, 0.9):
        backend = simulated(request, grades)
        runs[imply] = Reranker("pairwise-heap", store=None, backend=backend, similarity_backend=backend, top_k=5,
                               imply=imply).rank(
            request.query, request.items)
    assert runs[0.9].ids[:5] == runs[1.0].ids[:5] == ["d0", "d8", "d5", "d2", "d10"]
    assert runs[0.9].costs.implied > 0
    assert runs[0.9].costs.calls + 2 * runs[0.9].costs.implied == runs[1.0].costs.calls
