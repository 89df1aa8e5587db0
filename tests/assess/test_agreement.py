"""Agreement between an assessor's qrels and people's: kappa and tau against scikit-learn and
scipy, tau_AP on hand-worked orders, and a simulated assessor of known noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, norm
from sklearn.metrics import cohen_kappa_score

from judgerank.assess.agreement import condensed, kendall_tau, label_agreement, system_agreement, tau_ap
from judgerank.core.errors import JudgerankError


def test_kappa_matches_scikit_learn_on_hand_made_and_random_labels():
    people = {"q1": {"a": 3, "b": 2, "c": 0, "d": 1}, "q2": {"a": 0, "e": 2, "f": 3}}
    mine = {"q1": {"a": 3, "b": 1, "c": 0, "d": 1, "z": 2}, "q2": {"a": 1, "e": 2, "f": 3}}
    got = label_agreement(mine, people, level=2)
    said = [3, 1, 0, 1, 1, 2, 3]  # q1 a b c d, q2 a e f (sorted docids)
    truth = [3, 2, 0, 1, 0, 2, 3]
    assert got.shared == 7 and got.only_assessor == 1 and got.only_people == 0
    assert got.kappa == pytest.approx(cohen_kappa_score(truth, said))
    assert got.kappa_binary == pytest.approx(cohen_kappa_score([t >= 2 for t in truth], [s >= 2 for s in said]))
    # rows people's grade, columns the assessor's
    assert got.confusion == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 2]]
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    b[:300] = a[:300]
    random = label_agreement({"q": {str(n): int(x) for n, x in enumerate(a)}},
                             {"q": {str(n): int(x) for n, x in enumerate(b)}})
    assert random.kappa == pytest.approx(cohen_kappa_score(b, a))


def test_kappa_per_topic_is_undefined_where_one_grade_is_all_there_is():
    got = label_agreement({"q1": {"a": 0, "b": 0}, "q2": {"a": 1, "b": 0}},
                          {"q1": {"a": 0, "b": 0}, "q2": {"a": 1, "b": 1}})
    assert got.per_topic_kappa == {"q1": None, "q2": pytest.approx(cohen_kappa_score([1, 1], [1, 0]))}


def test_kendall_tau_is_scipys_tau_b():
    a, b = [0.5, 0.4, 0.4, 0.1, 0.3], [0.6, 0.2, 0.5, 0.1, 0.4]
    assert kendall_tau(a, b) == pytest.approx(kendalltau(a, b).statistic)
    assert kendall_tau([1, 2, 3], [1, 2, 3]) == 1.0 and kendall_tau([1, 2, 3], [3, 2, 1]) == -1.0


def test_tau_ap_weighs_an_error_at_the_top_more_than_one_at_the_bottom():
    """Yilmaz, Aslam and Robertson (2008)'s point, worked by hand on five systems (truth 5 > 4 > 3
    > 2 > 1). Swapping the top two: at the estimate's rank 2, 0 of the 1 system above is right,
    every later rank all right: 2/4 * (0 + 1 + 1 + 1) - 1 = 0.5. Swapping the bottom two: ranks
    2..4 all right, rank 5 has 3 of 4 right: 2/4 * (1 + 1 + 1 + 3/4) - 1 = 0.875. Kendall's tau
    is 0.8 for both."""
    truth = [5, 4, 3, 2, 1]
    top = [4, 5, 3, 2, 1]
    bottom = [5, 4, 3, 1, 2]
    assert tau_ap(top, truth) == pytest.approx(0.5)
    assert tau_ap(bottom, truth) == pytest.approx(0.875)
    assert kendall_tau(top, truth) == pytest.approx(0.8) == kendall_tau(bottom, truth)
    assert tau_ap(truth, truth) == 1.0 and tau_ap(truth[::-1], truth) == -1.0
    # three systems, estimate b > a > c against truth a > b > c: rank 2 (a) has 0 of 1 right,
    # rank 3 (c) 2 of 2: 2/2 * (0 + 1) - 1 = 0
    assert tau_ap([2, 3, 1], [3, 2, 1]) == pytest.approx(0.0)
    # ties never help: an assessor that scores every system alike gets the worst order, not the best
    assert tau_ap([1, 1, 1, 1], [4, 3, 2, 1]) == -1.0
    assert tau_ap([2, 1, 1], [3, 2, 1]) == pytest.approx(2 / 2 * (1 + 1 / 2) - 1)  # c above b: rank 3 half right
    with pytest.raises(JudgerankError):
        tau_ap([1], [1])


def _runs(n_runs: int, topics: list[str], docs: int, rng: np.random.Generator) -> dict[str, dict[str, dict[str, float]]]:
    return {f"r{r}": {q: {f"d{d}": float(rng.random()) for d in range(docs)} for q in topics} for r in range(n_runs)}


def test_identical_qrels_order_the_systems_alike_in_every_resample():
    rng = np.random.default_rng(0)
    topics = [f"q{n}" for n in range(8)]
    qrels = {q: {f"d{d}": int(rng.integers(0, 4)) for d in range(20)} for q in topics}
    runs = _runs(5, topics, 20, rng)
    got = system_agreement(runs, qrels, qrels, "ndcg@10", samples=200)
    assert got.assessor == got.people
    assert (got.tau.value, got.tau.low, got.tau.high) == pytest.approx((1.0, 1.0, 1.0))
    assert (got.tau_ap.value, got.tau_ap.low, got.tau_ap.high) == pytest.approx((1.0, 1.0, 1.0))
    assert got.judged_at_10 == {name: (1.0, 1.0) for name in runs}


def test_holes_condensed_leave_out_what_the_qrels_do_not_grade():
    run = {"q": {"a": 3.0, "b": 2.0, "c": 1.0}}
    assert condensed(run, {"q": {"a": 1, "c": 0}}) == {"q": {"a": 3.0, "c": 1.0}}
    # people graded only c, relevant; the assessor graded a and c, both relevant. Counted as
    # irrelevant, b's hole lowers this run under people's qrels; condensed, c rises to rank 1
    runs = {"x": run, "y": {"q": {"c": 3.0, "a": 2.0, "b": 1.0}}}
    people, mine = {"q": {"c": 2}}, {"q": {"a": 2, "c": 2}}
    counted = system_agreement(runs, mine, people, "ndcg@10", samples=20, holes="count")
    condense = system_agreement(runs, mine, people, "ndcg@10", samples=20, holes="condense")
    assert counted.people["x"] == pytest.approx(1 / np.log2(4)) and counted.people["y"] == 1.0
    assert condense.people == {"x": 1.0, "y": 1.0}
    assert counted.judged_at_10["x"] == (pytest.approx(2 / 3), pytest.approx(1 / 3))


def test_a_simulated_assessor_of_known_noise_recovers_the_expected_kappa():
    """The assessor reads each passage's grade through Gaussian noise and rounds it to the scale
    (what the simulated judge's most likely grade is): the confusion it must have follows from
    the normal CDF, and so does its kappa."""
    rng = np.random.default_rng(7)
    sigma, n = 0.6, 20000
    truth = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    said = np.clip(np.rint(truth + sigma * rng.standard_normal(n)), 0, 3).astype(int)
    got = label_agreement({"q": {str(i): int(s) for i, s in enumerate(said)}},
                          {"q": {str(i): int(t) for i, t in enumerate(truth)}})
    edges = np.array([-np.inf, 0.5, 1.5, 2.5, np.inf])
    expected = np.zeros((4, 4))
    for g, share in enumerate([0.4, 0.3, 0.2, 0.1]):
        expected[g] = share * np.diff(norm.cdf((edges - g) / sigma))
    p_o, p_e = np.trace(expected), expected.sum(axis=1) @ expected.sum(axis=0)
    assert got.kappa == pytest.approx((p_o - p_e) / (1 - p_e), abs=0.015)
