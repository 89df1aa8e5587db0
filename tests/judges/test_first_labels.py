"""FIRST past 26 passages and InsertRank: one-token labels checked against the model's own
tokenizer, scores shown in the prompt, and the errors that come before any call."""

from __future__ import annotations

import pytest
from helpers import graded_request, simulated

from judgerank import Reranker
from judgerank.backends.base import Backend, ChoiceRequest
from judgerank.core.errors import JudgerankError
from judgerank.core.types import Item, Query, Request
from judgerank.judges.listwise import single_token_labels

LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_labels_go_on_with_two_letters_that_are_one_token():
    one_token = {"AA", "AC", "AD", "BA"}  # a toy vocabulary: AB and the rest are two tokens
    labels = single_token_labels(29, LETTERS, lambda t: len(t) == 1 or t in one_token, "toy")
    assert labels == [*LETTERS, "AA", "AC", "AD"]
    with pytest.raises(JudgerankError, match="a window of 31 needs 31 one-token labels, and model toy has 30"):
        single_token_labels(31, LETTERS, lambda t: len(t) == 1 or t in one_token, "toy")
    with pytest.raises(JudgerankError, match="label 'C' is not a single token for model toy"):
        single_token_labels(5, LETTERS, lambda t: t != "C", "toy")


@pytest.mark.llm
def test_a_hundred_labels_are_single_distinct_tokens_of_the_embedded_model():
    from judgerank.backends.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(n_ctx=256)
    labels = single_token_labels(100, LETTERS, backend.is_single_token, "smollm2")
    ids = backend.choice_token_ids(tuple(labels))
    assert len(set(ids)) == 100 and all(len(backend._tokenize(x, special=False)) == 1 for x in labels)
    assert not backend.is_single_token("10")  # why numbers are not the labels: digits split


@pytest.mark.llm
def test_first_full_refuses_a_list_longer_than_the_context():
    grades = [1.0] * 40
    request = graded_request(grades)
    long = Request(request.query, tuple(Item(i.id, i.text * 20) for i in request.items))
    from judgerank.runtime import Runtime

    with Runtime(store=None, context=512) as rt, Reranker("first-full", runtime=rt) as reranker:
        with pytest.raises(JudgerankError, match="exceeds the model context of 512"):
            reranker.rank(long.query, long.items)


class Recorder(Backend):
    """The simulated judge, keeping every prompt it is shown."""

    def __init__(self, inner):
        self.inner, self.identity, self.prompts = inner, inner.identity, []

    def iter_choice_logprobs(self, requests: list[ChoiceRequest]):
        self.prompts += [r.messages[-1][1] for r in requests]
        return self.inner.iter_choice_logprobs(requests)


def scored_request(scores):
    grades = [0.0, 2.0, 1.0]
    request = graded_request(grades)
    items = tuple(Item(i.id, i.text, s) for i, s in zip(request.items, scores))
    return Request(Query("q1", "query q1"), items), grades


def test_insert_scores_shows_each_first_stage_score_in_its_own_template():
    request, grades = scored_request([15.7806, 12.5, 9.0])
    backend = Recorder(simulated(request, grades))
    with Reranker("first", store=None, backend=backend, insert_scores=True) as reranker:
        ranking = reranker.rank(request.query, request.items)
    (prompt,) = backend.prompts
    assert "A: (retriever score 15.78) passage number 0" in prompt
    assert "C: (retriever score 9) passage number 2" in prompt
    assert "score a keyword retriever gave it" in prompt
    assert ranking.ids == ["d1", "d2", "d0"]
    with Reranker("first", store=None, backend=backend) as plain:
        plain.rank(request.query, request.items)
    assert "retriever score" not in backend.prompts[-1]


def test_insert_scores_needs_a_score_for_every_candidate():
    request, grades = scored_request([3.0, None, 1.0])
    with Reranker("first", store=None, backend=simulated(request, grades), insert_scores=True) as reranker:
        with pytest.raises(JudgerankError, match="candidate 'd1' has none: give a 'score'"):
            reranker.rank(request.query, request.items)


@pytest.mark.parametrize("method, extra", [("first", {"window": 4, "stride": 2}),
                                           ("cascade", {"then": "first", "cascade_depth": 8})])
def test_a_missing_score_is_found_before_any_window_is_judged(method, extra):
    # sliding windows judge the bottom of the list first: the unscored top candidate would be met
    # only after the windows below it had been judged
    grades = [float(g) for g in range(8)]
    request = graded_request(grades)
    items = tuple(Item(i.id, i.text, None if n == 0 else 10.0 - n) for n, i in enumerate(request.items))
    backend = simulated(request, grades)
    with Reranker(method, store=None, backend=backend, similarity_backend=backend, insert_scores=True,
                  **extra) as reranker:
        with pytest.raises(JudgerankError, match="candidate 'd0' has none") as error:
            reranker.rank(request.query, items)
    assert backend.calls == 0
    assert str(error.value).startswith("query 'q1': --insert-scores")
