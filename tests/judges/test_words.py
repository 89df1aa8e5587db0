"""Verdicts in words: the parser against hand-written answers of every verdict form, fuzzed; the
probabilities made from answers; repairs and unparsed answers; sampling; cache keys.

Each table row is (what a judge replied, the choice it gives, None where it gives none that can
be read), written by hand from the forms the field's judges use (MT-Bench and Chatbot Arena
[[A]], Arena-Hard's five levels, Prometheus [RESULT], Rank1's true/false, RankGPT and FIRST
permutations)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import cached, graded_request, simulated
from hypothesis import given, settings
from hypothesis import strategies as st

from judgerank.backends.base import ChoiceRequest, GenerateRequest
from judgerank.core.costs import Ledger
from judgerank.core.judging import Asking
from judgerank.judges.pairwise import PairwiseJudge
from judgerank.judges.pointwise import PointwiseJudge
from judgerank.judges.templates import load_template
from judgerank.judges.words import choose, read_choice, read_ranking, split_reasoning
from judgerank.rerank import Reranker
from judgerank.store import SQLiteStore

YES, NO = 0, 1
BINARY = [
    ("[[Yes]]", YES), ("[[No]]", NO), ("[[yes]]", YES), ("[[ NO ]]", NO), ("Yes", YES), ("no", NO), ("Yes.", YES),
    ("No.", NO), ("yes, the passage answers it", YES), ("No, it is about something else.", NO), ("**Yes**", YES),
    ("`No`", NO), ("'yes'", YES), ('"no"', NO), ("Answer: yes", YES), ("Answer: No", NO), ("Verdict: [[Yes]]", YES),
    ("The passage is relevant.", YES), ("The passage is not relevant.", NO), ("It is irrelevant to the query.", NO),
    ("true", YES), ("false", NO), ("True.", YES), ("FALSE", NO), ("<answer>yes</answer>", YES),
    ("<answer> no </answer>", NO), ("<think>the passage talks about fleas</think>\nYes", YES),
    ("<think>maybe yes, maybe no</think> [[No]]", NO), ("Final answer: yes", YES),
    ("I first thought [[No]], but on reflection [[Yes]]", YES), ("Relevance: yes", YES), ("Yes - it gives the span", YES),
    ("[Yes]", YES), ("(no)", NO), ("Judgement: No", NO), ("The answer is yes.", YES),
    ("I cannot tell.", None), ("", None), ("Maybe.", None), ("yes and no", YES),  # the rule: a leading choice
    ("[[Perhaps]]", None),
    ("<think>it is relevant, yes</think>", None),  # all reasoning, no answer
    ("The passage mentions dogs.", None),
]
A, B, TIE = 0, 1, 2
VERDICT = [
    ("[[A]]", A), ("[[B]]", B), ("[[C]]", TIE), ("[[a]]", A), ("[[ b ]]", B), ("A", A), ("B", B), ("C", TIE), ("A.", A),
    ("B:", B), ("(A)", A), ("**[[B]]**", B), ("Verdict: [[A]]", A), ("Final verdict: B", B),
    ("My final verdict is tie: [[C]]", TIE),
    ("Assistant A is better.", A), ("I prefer Assistant B.", B), ("The better response is B", B), ("Tie", TIE), ("[[tie]]", TIE),
    ("[[A=B]]", TIE), ("Both equal: [[C]]", TIE), ("A is clearly better [[A]]", A),
    ("Assistant A is more detailed, but Assistant B is correct. [[B]]", B),
    ("[[A]] ... wait, [[B]]", B), ("<think>A is wrong</think>[[B]]", B),
    ("Explanation: both try.\n\nVerdict: [[A]]", A), ("After weighing both, my final verdict is [[A]].", A),
    ("The answer is B.", B), ("Winner: A", A), ("Decision: [[B]] because it is right", B),
    ("Answer: A, since it follows the instruction", A), ("<answer>C</answer>", TIE), ("[RESULT] B", B),
    ("B is better", None),  # a bare letter that may be a word: asked again
    ("Assistant A and Assistant B both fail.", None), ("I can't decide.", None), ("[[D]]", None), ("", None),
    ("A passage about fleas", None), ("A and B are equally good", None), ("Neither.", None),
]
FIVE = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]
VERDICT5 = [
    ("[[A>>B]]", 0), ("[[A>B]]", 1), ("[[A=B]]", 2), ("[[B>A]]", 3), ("[[B>>A]]", 4), ("[[A >> B]]", 0), ("[[B > A]]", 3),
    ("[[a>b]]", 1), ("[[A<<B]]", 4), ("[[A<B]]", 3), ("[[B<A]]", 1), ("[[B<<A]]", 0), ("[[B=A]]", 2), ("[[tie]]", 2),
    ("My final verdict is: [[A>>B]]", 0), ("My final verdict is Assistant B is slightly better: [[B>A]]", 3),
    ("My final verdict is tie: [[A=B]]", 2), ("Final verdict: [[B>>A]]", 4), ("**[[A>B]]**", 1), ("A>>B", 0),
    ("B>A", 3), ("Verdict: A>B", 1), ("<think>B is far better</think>\n[[B>>A]]", 4),
    ("Assistant A is significantly better: [[A>>B]]", 0), ("[[A>B]] no, on reflection [[A>>B]]", 0),
    ("[[A>>>B]]", 0), ("[[B>>>A]]", 4), ("[[1]]", 0), ("[[5]]", 4), ("[[3]]", 2), ("Answer: B>>A", 4),
    ("The verdict is A=B.", 2), ("<answer>A>B</answer>", 1), ("Verdict: [[ A > B ]]", 1), ("[[A>B]].", 1),
    ("[[A]]", None), ("A is better", None), ("[[A>C]]", None), ("", None), ("I cannot judge.", None),
    ("[[B>>]]", None), ("both are fine", None),
]
RATING = [
    ("[RESULT] 4", 3), ("[RESULT] 1", 0), ("[RESULT]5", 4), ("Feedback: good but short. [RESULT] 3", 2),
    ("The response is accurate and complete.\n[RESULT] 5", 4), ("[[4]]", 3), ("4", 3), ("2.", 1), ("Rating: 2", 1),
    ("Score: 5", 4), ("Rating: 4/5", 3), ("4 out of 5", 3), ("Score: 3 out of 5", 2), ("**[RESULT] 2**", 1),
    ("<think>mostly right</think>[RESULT] 4", 3), ("[RESULT] 3 ... actually [RESULT] 4", 3), ("Grade: 1", 0),
    ("Rating: 4.0", 3), ("[RESULT] 5.", 4), ("<answer>2</answer>", 1), ("Final answer: 3", 2),
    ("I would rate it a 4: [[4]]", 3), ("Result: 5", 4), ("Verdict: 1", 0), ("The score is 2.", 1),
    ("5 - excellent", 4), ("3, acceptable", 2), ("[RESULT] 4 (good)", 3), ("Score: [[3]]", 2), ("[[ 5 ]]", 4),
    ("Rating: 4.5", None), ("[RESULT] 7", None), ("[RESULT] 0", None), ("It is fine.", None), ("", None),
    ("Rating: excellent", None), ("[RESULT]", None), ("between 3 and 4", None), ("Score: N/A", None), ("[[6]]", None),
]
GRADED = [
    ("[[3]]", 3), ("[[0]]", 0), ("2", 2), ("Grade: 1", 1), ("Grade: 3", 3), ("[[2]]", 2), ("0.", 0),
    ("3 = perfectly", 3), ("Relevance: 2", 2), ("<think>partly</think>[[1]]", 1), ("The grade is 3.", 3),
    ("Answer: 0", 0), ("**2**", 2), ("[[1]] ... no, [[2]]", 2), ("Score: 3/3", 3), ("1 - related", 1),
    ("[[4]]", None), ("high", None), ("", None), ("Grade: two", None),
] * 2  # each answer read again (the parser holds no state between answers)
LABELS = ["A", "B", "C", "D"]
SETWISE = [
    ("[[C]]", 2), ("[[a]]", 0), ("D", 3), ("B.", 1), ("Passage C", 2), ("The best is passage D.", 3),
    ("Answer: B", 1), ("<think>C names the span</think>[[C]]", 2), ("**A**", 0), ("[[D]]", 3),
    ("Verdict: [[B]]", 1), ("Passage (A) answers best", 0), ("[[C]] hmm, [[A]]", 0), ("<answer>D</answer>", 3),
    ("Final answer: C", 2), ("(B)", 1), ("C:", 2), ("I pick passage B.", 1), ("A", 0), ("[[ D ]]", 3),
    ("I think C", None), ("[[E]]", None), ("none of them", None), ("", None), ("Passages A and C", None),
] * 2
RANKING = [
    ("[[C, A, B, D]]", [2, 0, 1, 3]), ("C, A, B, D", [2, 0, 1, 3]), ("C > A > B > D", [2, 0, 1, 3]),
    ("[C] > [A] > [B] > [D]", [2, 0, 1, 3]), ("[[B, D]]", [1, 3, 0, 2]), ("D", None),  # a lone label is no ranking line
    ("[[D, D, A]]", [3, 0, 1, 2]), ("[[A, E, B]]", [0, 1, 2, 3]), ("Ranking: B, A, D, C", [1, 0, 3, 2]),
    ("<think>D is best</think>\n[[D, C, B, A]]", [3, 2, 1, 0]), ("I think A is weak.\nD, B, C, A", [3, 1, 2, 0]),
    ("[[C, A]] then [[A, C]]", [0, 2, 1, 3]), ("**B > C > A > D**", [1, 2, 0, 3]), ("", None),
    ("I would not rank these.", None), ("[[E, F]]", None), ("Answer: [[D, C]]", [3, 2, 0, 1]),
    ("The order is C, D, A, B.", [2, 3, 0, 1]), ("A>B>C>D", [0, 1, 2, 3]), ("[[c, a, b, d]]", None),
] * 2


def _read(template: str, text: str, choices: tuple[str, ...] | None = None) -> int | None:
    t = load_template(template)
    return read_choice(text, choices or t.choices, t.words, numeric=t.kind in ("graded", "rating"))


@pytest.mark.parametrize(("text", "expected"), BINARY)
def test_binary_answers(text: str, expected: int | None) -> None:
    assert _read("relevance-yes-no", text) == expected


@pytest.mark.parametrize(("text", "expected"), VERDICT)
def test_verdict_answers(text: str, expected: int | None) -> None:
    assert _read("judge-pair", text) == expected


@pytest.mark.parametrize(("text", "expected"), VERDICT5)
def test_five_level_answers_in_both_positions(text: str, expected: int | None) -> None:
    assert _read("judge-pair-5", text) == expected


@pytest.mark.parametrize(("text", "expected"), RATING)
def test_prometheus_ratings(text: str, expected: int | None) -> None:
    assert _read("rubric-1-5", text) == expected


@pytest.mark.parametrize(("text", "expected"), GRADED)
def test_graded_relevance(text: str, expected: int | None) -> None:
    assert _read("relevance-graded", text) == expected


@pytest.mark.parametrize(("text", "expected"), SETWISE)
def test_setwise_best(text: str, expected: int | None) -> None:
    assert _read("setwise-best", text, tuple(LABELS)) == expected


@pytest.mark.parametrize(("text", "expected"), RANKING)
def test_permutations_with_missing_and_repeated_labels(text: str, expected: list[int] | None) -> None:
    assert read_ranking(text, LABELS, load_template("listwise-first").words) == expected


def test_each_table_has_forty_answers() -> None:
    for table in (BINARY, VERDICT, VERDICT5, RATING, GRADED, SETWISE, RANKING):
        assert len(table) >= 40


def test_the_reasoning_is_set_apart() -> None:
    assert split_reasoning("<think>step 1</think>[[A]]", "") == ("step 1", "[[A]]")
    assert split_reasoning("[[B]]", "channel thoughts") == ("channel thoughts", "[[B]]")
    assert split_reasoning("<think>never closed", "") == ("never closed", "")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["relevance-yes-no", "judge-pair", "judge-pair-5", "rubric-1-5",
                                                "relevance-graded", "pairwise-prp"]))
def test_any_text_reads_as_a_choice_or_none(text: str, template: str) -> None:
    found = _read(template, text)
    assert found is None or 0 <= found < len(load_template(template).choices)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ABCDE[]>,. \n*:abc")), max_size=60))
def test_any_text_reads_as_a_ranking_or_none(text: str) -> None:
    order = read_ranking(text, LABELS, load_template("listwise-first").words)
    assert order is None or sorted(order) == list(range(len(LABELS)))


# --- from answers to probabilities ---------------------------------------------------------------

GRADES = [0.0, 3.0, 1.0, 2.0]


def _judge(noise: float = 0.0, **asking: object) -> tuple[PointwiseJudge, object]:
    request = graded_request(GRADES)
    backend = simulated(request, GRADES, noise=noise, **{k: v for k, v in asking.items() if k in ("garble", "unreadable")})
    model = cached(backend)
    model.asking = Asking(**{k: v for k, v in asking.items() if k not in ("garble", "unreadable")})  # type: ignore[attr-defined]
    return PointwiseJudge(model, "relevance-yes-no"), request  # type: ignore[arg-type]


def test_one_answer_is_a_probability_by_the_stated_prior() -> None:
    judge, request = _judge(verdicts="text")
    scores = judge.scores(request.query, request.items)
    # yes for grades 2 and 3 (the simulated judge's log-odds are grade - 1.5): (1 + 1/2) / (1 + 2/2)
    assert scores.values == pytest.approx([0.25, 0.75, 0.25, 0.75])
    assert scores.complete


def test_sampled_vote_shares_converge_to_the_answer_probabilities() -> None:
    request = graded_request(GRADES)
    backend = simulated(request, GRADES, noise=0.0)
    t = load_template("relevance-graded")
    asked = [(t, t.request(query=request.query.text, passage=i.text)) for i in request.items]
    truth = np.exp([r.logprobs for _, r in backend.iter_choice_logprobs([r for _, r in asked])])  # type: ignore[misc]
    k = 400
    model = cached(backend)
    model.asking = Asking(verdicts="text", samples=k, temperature=1.0)  # type: ignore[attr-defined]
    got = np.exp([r.logprobs for r in choose(model, asked).values])  # type: ignore[arg-type, union-attr]
    shares = (got * (k + 0.5 * 4) - 0.5) / k  # the prior taken back out
    assert np.abs(shares - truth).max() < 0.08, (shares, truth)
    # the stated prior: with k answers, a choice never drawn keeps 1/2 an answer of 2 + k
    assert got.min() >= 0.5 / (k + 2) - 1e-12


def test_unreadable_answers_are_repaired_once_then_left_out() -> None:
    ledger = Ledger()
    request = graded_request(GRADES)
    model = cached(simulated(request, GRADES, garble=True), ledger=ledger)
    model.asking = Asking(verdicts="text")  # type: ignore[attr-defined]
    judge = PointwiseJudge(model, "relevance-yes-no")  # type: ignore[arg-type]
    assert judge.scores(request.query, request.items).values == pytest.approx([0.25, 0.75, 0.25, 0.75])
    assert (ledger.costs.repairs, ledger.costs.unparsed, ledger.costs.calls) == (4, 0, 8)

    ledger = Ledger()
    model = cached(simulated(request, GRADES, unreadable=1.0), ledger=ledger)
    model.asking = Asking(verdicts="text")  # type: ignore[attr-defined]
    scores = PointwiseJudge(model, "relevance-yes-no").scores(request.query, request.items)  # type: ignore[arg-type]
    assert scores.values == [None] * 4 and scores.complete  # left out, and not a Budget stop
    assert (ledger.costs.repairs, ledger.costs.unparsed) == (4, 4)


def test_a_ranking_with_unread_verdicts_still_orders_every_candidate() -> None:
    grades = [0, 3, 1, 2, 0, 3]
    request = graded_request(grades)
    ids = [i.id for i in request.items]
    for method in ("pointwise", "pointwise-graded", "allpairs", "pairwise-heap", "pairwise-quick", "pairwise-bubble",
                   "setwise-heap", "first", "active", "realm", "swiss", "jointrank"):
        for unreadable in (0.4, 1.0):
            backend = simulated(request, grades, unreadable=unreadable)
            with Reranker(method, backend=backend, store=None, verdicts="text", top_k=3, window=4) as reranker:
                ranking = reranker.rank(request.query, request.items)
            assert sorted(ranking.ids) == sorted(ids) and ranking.complete, (method, unreadable)
            if unreadable == 1.0:  # nothing read: every verdict left out, never a default one
                assert ranking.costs.unparsed == ranking.costs.repairs > 0, method
                assert ranking.ids == ids, method


def test_pairs_are_asked_in_both_orders_in_words() -> None:
    request = graded_request([0.0, 3.0])
    model = cached(simulated(request, [0.0, 3.0], position_bias=0.0))
    model.asking = Asking(verdicts="text")  # type: ignore[attr-defined]
    a, b = request.items
    pref = PairwiseJudge(model).compare(request.query, [(a, b)]).values[0]  # type: ignore[arg-type]
    assert pref is not None
    assert (pref.p_a_first, pref.p_a_second) == pytest.approx((0.25, 0.25))  # b wins in both orders: 1/2 of 2 answers' worth


# --- cache keys ------------------------------------------------------------------------------------


def test_text_and_logprob_judgments_never_share_a_key(tmp_path) -> None:
    request = graded_request(GRADES)
    store = SQLiteStore(tmp_path / "s.sqlite")
    backend = simulated(request, GRADES)
    for verdicts, expected_hits in (("logprobs", 0), ("text", 0), ("logprobs", 4), ("text", 4)):
        ledger = Ledger()
        model = cached(backend, store, ledger)
        model.asking = Asking(verdicts=verdicts)  # type: ignore[attr-defined, arg-type]
        PointwiseJudge(model, "relevance-yes-no").scores(request.query, request.items)  # type: ignore[arg-type]
        assert ledger.costs.cache_hits == expected_hits, verdicts


def test_templates_and_samples_have_keys_of_their_own(tmp_path) -> None:
    request = graded_request(GRADES)
    store = SQLiteStore(tmp_path / "s.sqlite")
    backend = simulated(request, GRADES)
    seen = []
    for template, samples in (("relevance-yes-no", 1), ("relevance-yes-no-delimit", 1), ("relevance-yes-no", 3),
                              ("relevance-yes-no", 3)):
        ledger = Ledger()
        model = cached(backend, store, ledger)
        model.asking = Asking(verdicts="text", samples=samples, temperature=0.5 if samples > 1 else None)  # type: ignore[attr-defined]
        PointwiseJudge(model, template).scores(request.query, request.items)  # type: ignore[arg-type]
        seen.append(ledger.costs.cache_hits)
    assert seen == [0, 0, 0, 12]  # three samples: the greedy answer is not among them (temperature 0.5, seeds 0-2)


def test_the_sampling_key_holds_temperature_and_seed(tmp_path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    request = graded_request(GRADES)
    messages = (("user", "hello"),)
    asked = [GenerateRequest(messages, 8, "t", answers=("A", "B"), written=("[[A]]", "[[B]]"))]
    asked += [GenerateRequest(messages, 8, "t", temperature=t, seed=s, answers=("A", "B"), written=("[[A]]", "[[B]]"))
              for t, s in ((0.7, 0), (0.7, 1), (1.0, 1))]
    for expected_hits in (0, 4):
        ledger = Ledger()
        cached(simulated(request, GRADES), store, ledger).generate(asked)  # type: ignore[attr-defined]
        assert ledger.costs.cache_hits == expected_hits


def test_auto_asks_in_words_once_the_model_gives_no_logprobs() -> None:
    request = graded_request(GRADES)
    backend = simulated(request, GRADES, logprobs=False)
    model = cached(backend)
    t = load_template("relevance-yes-no")
    with pytest.warns(RuntimeWarning, match="verdicts are asked in words from now on"):
        answers = choose(model, [(t, t.request(query="q", passage=i.text)) for i in request.items])  # type: ignore[arg-type]
    assert backend.gives_logprobs is False and len(answers.got()) == 4


def test_choice_requests_unchanged_for_logprob_verdicts() -> None:
    # the words live apart: a logprob request is the template's own messages, as it always was
    t = load_template("judge-pair")
    request = t.request(question="q", a="x", b="y")
    assert isinstance(request, ChoiceRequest) and "[[X]]" not in request.messages[-1][1]


def test_a_near_zero_temperature_samples_the_simulated_judge_without_error() -> None:
    """Found by bench/fuzz_endpoints.py: a temperature of 1e-5 (the API allows any in [0, 2]) left
    answers with probability 0, and the simulated judge's sampler raised ValueError (a 500)."""
    request = graded_request(GRADES)
    messages = (("user", "which is better?"),)
    asked = [GenerateRequest(messages, 8, "t", temperature=1e-5, seed=s, answers=("A", "B", "C"),
                             written=("[[A]]", "[[B]]", "[[C]]")) for s in range(3)]
    texts = [g.text for g in cached(simulated(request, GRADES)).generate(asked)]  # type: ignore[attr-defined]
    assert len(texts) == 3 and all(t in ("[[A]]", "[[B]]", "[[C]]") for t in texts)
