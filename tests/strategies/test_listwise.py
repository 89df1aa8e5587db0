"""Listwise, FIRST, setwise and JointRank strategies against a simulated judge with known answers."""

from __future__ import annotations

import pytest
from helpers import graded_request, simulated

from judgerank import Budget, Reranker
from judgerank.core.errors import JudgerankError
from judgerank.judges.listwise import parse_permutation

GRADES = [3.0, 0.5, 2.5, 0.0, 2.0, 1.0, 1.5, 0.25, 2.75, 0.75, 1.25, 1.75]
BEST_FIRST = [f"d{i}" for i in sorted(range(len(GRADES)), key=lambda i: -GRADES[i])]
# 40 items: the best ones deliberately at the bottom of the input order
WIDE = [float(g) / 10 for g in range(40)]
WIDE_BEST = [f"d{i}" for i in sorted(range(40), key=lambda i: -WIDE[i])]


def rank(method, grades=GRADES, budget=None, backend_kwargs=None, **options):
    request = graded_request(grades)
    backend = simulated(request, grades, **(backend_kwargs or {}))
    # the simulated world's embedding knows the grades too: the guard's support check agrees with the judge
    return Reranker(method, store=None, backend=backend, similarity_backend=backend, budget=budget,
                    **options).rank(request.query, request.items), backend


@pytest.mark.parametrize(
    "text, n, order, counts",
    [
        ("[2] > [1] > [3]", 3, [1, 0, 2], (0, 0, 0, 0)),
        ("[2] > [2] > [1]", 3, [1, 0, 2], (1, 0, 1, 0)),  # a duplicate dropped, [3] appended
        ("[4] > [9] > [1]", 4, [3, 0, 1, 2], (0, 1, 2, 0)),  # [9] invalid; 2 and 3 missing
        ("2, 3, 1", 3, [1, 2, 0], (0, 0, 0, 0)),  # bare numbers when there are no brackets
        ("I cannot rank these.", 3, [0, 1, 2], (0, 0, 0, 1)),  # nothing: input order kept
        ("[1] > [2] > [3] and passage 7", 3, [0, 1, 2], (0, 0, 0, 0)),  # bracketed labels win
    ],
)
def test_parse_permutation_repairs_and_counts(text, n, order, counts):
    parsed, report = parse_permutation(text, n)
    assert parsed == order
    assert (report.duplicates, report.invalid, report.missing, report.unparseable) == counts


@pytest.mark.parametrize("method", ["listwise", "first", "listwise-psc", "first-psc"])
def test_one_window_ranks_exactly(method):
    ranking, backend = rank(method)
    assert ranking.ids == BEST_FIRST
    assert ranking.complete


def test_sliding_windows_bubble_the_best_to_the_top():
    ranking, backend = rank("first", grades=WIDE, window=10, stride=5)
    assert ranking.ids[:5] == WIDE_BEST[:5]  # a window of 10 moving by 5 carries the top 5 up
    assert ranking.costs.calls == backend.calls == 7  # starts 30, 25, ..., 0


def test_listwise_reports_what_it_repaired():
    ranking, _ = rank("listwise", backend_kwargs={"garble": True})
    assert ranking.parse["answers"] == 1
    assert ranking.parse["duplicates"] == 1 and ranking.parse["invalid"] == 1 and ranking.parse["missing"] == 1
    assert sorted(ranking.ids) == sorted(BEST_FIRST)  # nothing lost
    assert ranking.as_dict()["parse"]["invalid"] == 1


def test_self_consistency_cancels_position_bias():
    kwargs = {"position_bias": 2.0}
    single, _ = rank("first", backend_kwargs=kwargs)
    psc, backend = rank("first-psc", backend_kwargs=kwargs, shuffles=5)
    assert single.ids[0] == "d0"  # bias puts the first shown on top (d0 is also best)...
    biased, _ = rank("first", grades=list(reversed(GRADES)), backend_kwargs=kwargs)
    assert biased.ids[0] != f"d{len(GRADES) - 1}"  # ...and the first shown wins when it is not
    fixed, _ = rank("first-psc", grades=list(reversed(GRADES)), backend_kwargs=kwargs, shuffles=7)
    assert fixed.ids[0] == f"d{len(GRADES) - 1}"
    assert psc.costs.calls == backend.calls == 5  # the shuffles of one window


def test_setwise_heap_finds_the_top_k_with_few_calls():
    ranking, backend = rank("setwise-heap", grades=WIDE, top_k=5, set_size=4)
    assert ranking.ids[:5] == WIDE_BEST[:5]
    assert sorted(ranking.ids) == sorted(WIDE_BEST)
    assert backend.calls < 40


@pytest.mark.parametrize("aggregator", ["bradley-terry", "pagerank", "win-rate"])
def test_jointrank_blocks_aggregate_to_the_right_top(aggregator):
    ranking, backend = rank("jointrank", grades=WIDE, window=10, replicas=3, aggregator=aggregator)
    assert ranking.ids[0] == WIDE_BEST[0] and set(ranking.ids[:3]) == set(WIDE_BEST[:3])
    if aggregator != "win-rate":  # win rates depend on the strength of each item's blockmates
        assert ranking.ids[:3] == WIDE_BEST[:3]
    assert backend.calls == 12  # 3 replicas x 4 blocks of 10


def test_jointrank_design_puts_every_item_in_each_replica():
    from judgerank.strategies.listwise import JointRank

    request = graded_request(WIDE)
    blocks = JointRank(ranker=None, window=10, replicas=3, aggregator="bradley-terry").blocks(request.items)  # type: ignore[arg-type]
    assert len(blocks) == 12 and all(len(b) == 10 for b in blocks)
    for r in range(3):
        assert sorted(i for b in blocks[4 * r : 4 * r + 4] for i in b) == list(range(40))
    assert blocks[:4] == [list(range(10 * k, 10 * k + 10)) for k in range(4)]


@pytest.mark.parametrize("method", ["listwise", "first", "setwise-heap", "jointrank"])
def test_budgets_give_partial_rankings(method):
    ranking, _ = rank(method, grades=WIDE, budget=Budget(max_calls=2), window=10, stride=5)
    assert not ranking.complete and ranking.costs.calls <= 2
    assert sorted(ranking.ids) == sorted(WIDE_BEST)


def test_listwise_uses_the_cache(tmp_path):
    request = graded_request(GRADES)
    backend = simulated(request, GRADES)
    first = Reranker("listwise-psc", store=tmp_path / "c.sqlite", backend=backend).rank(request.query, request.items)
    again = Reranker("listwise-psc", store=tmp_path / "c.sqlite", backend=backend).rank(request.query, request.items)
    assert first.costs.calls == 3 and again.costs.calls == 0 and again.costs.cache_hits == 3
    assert again.ids == first.ids


def test_bad_options_fail_before_any_call():
    with pytest.raises(JudgerankError, match="--aggregator must be one of bradley-terry, pagerank, win-rate, not .median."):
        Reranker("jointrank", store=None, aggregator="median", backend=object())
    with pytest.raises(JudgerankError, match="--set-size must be at least 2, not 1"):
        Reranker("setwise-heap", store=None, set_size=1, backend=object())
    with pytest.raises(JudgerankError, match="--window must be at least 2, not 1"):
        rank("first", grades=WIDE, window=1)


def test_first_full_ranks_forty_in_one_call():
    ranking, backend = rank("first-full", grades=WIDE)
    assert ranking.ids == WIDE_BEST  # 40 labels: A-Z, then AA, AB, ...
    assert ranking.costs.calls == backend.calls == 1 and ranking.costs.rounds == 1


def test_windows_past_twenty_six_labels():
    ranking, backend = rank("first", grades=WIDE, window=30, stride=10)
    assert ranking.ids[:10] == WIDE_BEST[:10]
    assert backend.calls == 2
