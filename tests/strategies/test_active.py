"""Active top-k and REALM: the posterior they share, the certificate, and their runs against a
simulated judge whose right answer is known."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from helpers import graded_request, simulated

from judgerank import Budget, Reranker
from judgerank.aggregate.posterior import Posterior, order_noise, strength_posterior, top_k_certificate
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Answers, Item, Preference, Query
from judgerank.strategies.active import ActiveTopK, first_round


def test_the_posterior_is_the_hand_computed_gaussian():
    # two items, prior N(0, 1) each, one reading t0 - t1 = 2 with noise 1:
    # precision [[2, -1], [-1, 2]], right-hand side [2, -2]
    post = strength_posterior(np.zeros(2), 1.0, np.array([0]), np.array([1]), np.array([2.0]), 1.0)
    assert post.mean == pytest.approx([2 / 3, -2 / 3])
    assert post.cov == pytest.approx(np.array([[2, 1], [1, 2]]) / 3)
    # a pointwise reading of t0 = 3 with spread 1 as well: precision [[3, -1], [-1, 2]], rhs [5, -2]
    post = strength_posterior(np.zeros(2), 1.0, np.array([0]), np.array([1]), np.array([2.0]), 1.0,
                              (np.array([0]), np.array([3.0]), 1.0))
    assert post.mean == pytest.approx(np.linalg.solve([[3, -1], [-1, 2]], [5, -2]))


def test_order_noise_is_the_orders_half_disagreement_shrunk_toward_the_assumed_noise():
    def pref(first: float, second: float) -> Preference:
        s = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
        return Preference("a", "b", float(s(first)), float(s(second)))

    # half-differences 0.5 +- 1 (position bias 0.5, spread 1): variance 10/9 over 10 pairs, shrunk
    # toward 1.0^2 as 8 pairs' worth: (8 * 1 + 9 * 10/9) / (8 + 9)
    prefs = [pref(1.0 + 0.5 + d, 1.0 - 0.5 - d) for d in (1, -1) * 5]
    assert order_noise(prefs) == pytest.approx(np.sqrt(18 / 17))
    saturated = [pref(12.0, -12.0)] * 20  # clipped log-odds say nothing of the noise
    assert order_noise(prefs + saturated) == pytest.approx(np.sqrt(18 / 17))
    quiet = [pref(2.0 + 0.01 * d, 2.0 - 0.01 * d) for d in (1, -1) * 200]
    assert 0.1 <= order_noise(quiet) < 0.2  # many pairs outweigh the assumption
    assert order_noise(prefs[:1]) == 1.0  # one pair: the assumed spread


def test_the_certificate_is_sure_of_a_clear_top_and_unsure_of_a_coin_flip():
    rng = np.random.default_rng(0)
    clear = Posterior(np.array([3.0, 2.0, 1.0, 0.0]), np.eye(4) * 1e-4)
    cert = top_k_certificate(clear, 2, 2000, rng)
    assert cert.level == 1.0 and cert.top == [0, 1] and not cert.threat.any()
    flip = Posterior(np.array([1.0, 1.0, -5.0]), np.eye(3) * 0.25)
    cert = top_k_certificate(flip, 1, 4000, rng)
    assert cert.level == pytest.approx(0.5, abs=0.03)
    assert cert.threat[0, 1] + cert.threat[1, 0] == pytest.approx(1 - cert.level, abs=1e-9)  # only 0 v 1 threatens
    assert cert.threat[:, 2].sum() == 0 and cert.threat[2].sum() == 0
    tie = Posterior(np.array([1.0, 1.0, -5.0]), np.eye(3) * 0.01)  # a tie the judge cannot split
    assert top_k_certificate(tie, 2, 2000, rng).level < 0.6  # exact order: a coin flip
    assert top_k_certificate(tie, 2, 2000, rng, tolerance=0.5).level > 0.99  # either order will do


GRADES = [1.0, 6.0, 0.0, 3.0, 8.0, 0.5, 4.5, 2.0, 1.5, 2.5]  # distinct; the best three are d4, d1, d6


def test_active_certifies_the_top_k_and_stops_before_asking_everything():
    request = graded_request(GRADES)
    backend = simulated(request, GRADES, noise=0.2, position_bias=0.5)
    ranking = Reranker("active", store=None, backend=backend, top_k=3, confidence=0.9).rank(request.query, request.items)
    assert ranking.ids[:3] == ["d4", "d1", "d6"]
    assert ranking.complete and ranking.certificate >= 0.9
    assert ranking.costs.calls < len(GRADES) * (len(GRADES) - 1) / 2  # fewer than half of all pairs' calls
    assert ranking.costs.rounds >= 2 and ranking.costs.calls / ranking.costs.rounds > 2  # batched rounds
    assert ranking.as_dict()["certificate"] == ranking.certificate


def test_active_under_a_budget_is_anytime_with_its_certificates_level():
    request = graded_request(GRADES)
    full = Reranker("active", store=None, backend=simulated(request, GRADES, noise=0.2), top_k=3).rank(
        request.query, request.items)
    cut = Reranker("active", store=None, backend=simulated(request, GRADES, noise=0.2), top_k=3,
                   budget=Budget(max_calls=6)).rank(request.query, request.items)
    assert not cut.complete and cut.costs.calls == 6
    assert cut.certificate < full.certificate
    assert sorted(cut.ids) == sorted(full.ids)
    tiny = Reranker("active", store=None, backend=simulated(request, GRADES), top_k=3,
                    budget=Budget(max_calls=1)).rank(request.query, request.items)  # not even one pair: the prior's order
    assert not tiny.complete and tiny.ids == [f"d{i}" for i in range(len(GRADES))]


class _Recorder:
    """A comparer that answers from GRADES (a Bradley-Terry judge without noise) and keeps each
    batch it is asked."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, str]]] = []

    def compare(self, query: Query, pairs: Sequence[tuple[Item, Item]]) -> Answers[Preference]:
        self.batches.append([(a.id, b.id) for a, b in pairs])
        grade = lambda item: GRADES[int(item.id[1:])]  # noqa: E731
        return Answers.whole(Preference(a.id, b.id, *[1 / (1 + np.exp(grade(b) - grade(a)))] * 2) for a, b in pairs)


def test_active_first_compares_every_candidate_once_folded_along_the_prior():
    request = graded_request(GRADES)
    judge = _Recorder()
    ranking = ActiveTopK(judge, k=3, confidence=0.9, batch=4, prior=None, tolerance=0.5).rank(request.query,
                                                                                               request.items)
    # the input order's best against its worst, and so on inward
    assert judge.batches[0] == [("d0", "d9"), ("d1", "d8"), ("d2", "d7"), ("d3", "d6"), ("d4", "d5")]
    assert len(judge.batches) >= 2 and ranking.ids[:3] == ["d4", "d1", "d6"]
    # with a prior that orders them otherwise, the pairs follow that order
    prior = lambda order: [-order.index(i) for i in range(len(GRADES))]  # noqa: E731
    assert [(int(a), int(b)) for a, b in first_round(np.array(prior([4, 1, 6, 3, 9, 7, 8, 0, 5, 2])))] == [
        (4, 2), (1, 5), (6, 0), (3, 8), (9, 7)]
    assert first_round(np.zeros(3)) == [(0, 2)]  # an odd one out waits for the threat rule


def test_active_with_a_pointwise_prior_asks_one_prompt_per_item_first():
    request = graded_request(GRADES)
    backend = simulated(request, GRADES, noise=0.2)
    ranking = Reranker("active", store=None, backend=backend, top_k=3, prior="pointwise").rank(request.query, request.items)
    assert ranking.ids[:3] == ["d4", "d1", "d6"]
    assert ranking.costs.rounds >= 2 and ranking.costs.calls >= len(GRADES)


def test_realm_finds_the_top_k_from_a_pointwise_pass_and_pivots():
    request = graded_request(GRADES)
    backend = simulated(request, GRADES, noise=0.2, position_bias=0.5)
    ranking = Reranker("realm", store=None, backend=backend, top_k=3).rank(request.query, request.items)
    assert ranking.ids[:3] == ["d4", "d1", "d6"]
    assert ranking.complete
    n = len(GRADES)
    assert n < ranking.costs.calls < n + n * (n - 1)  # the pass plus some pairs, never all


@pytest.mark.parametrize("bad, message", [({"confidence": 1.0}, "--confidence"), ({"confidence": 0.0}, "--confidence"),
                                          ({"imply": 0.5}, "--imply"), ({"batch": 0}, "--batch")])
def test_bad_options_are_one_line_errors(bad, message):
    with pytest.raises(JudgerankError, match=message):
        Reranker("active", store=None, backend=object(), **bad)


@pytest.mark.parametrize("method", ["realm", "active", "pairwise-heap", "swiss", "setwise-heap", "allpairs"])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_a_list_of_none_one_or_two_candidates_ranks(method: str, n: int) -> None:
    grades = [1.0, 3.0][:n]
    request = graded_request(grades)
    with Reranker(method, backend=simulated(request, grades), store=None, top_k=3) as reranker:
        ranking = reranker.rank(request.query, request.items) if n else None
    if ranking is not None:
        assert sorted(ranking.ids) == [i.id for i in request.items] and ranking.complete
        assert n < 2 or ranking.ids[0] == "d1"
