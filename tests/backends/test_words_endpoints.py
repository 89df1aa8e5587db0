"""Endpoints that give no log-probabilities, and reasoning models, over HTTP.

A real llama_cpp.server (the embedded GGUF) behind a proxy that strips `logprobs` from its
replies, and behind one that answers 400 to any request that asks for them: every kind of
choice-reading judgment runs end to end in words, `auto` switches after the first reply, and the
verdicts equal those asked in words of the server directly. A stand-in reasoning model answers
with a reasoning channel or a <think> block, or ignores the form asked: read, repaired, counted.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from helpers.llamaserver import llama_server as serving
from helpers.rewriting import RewriteProxy, StandinReasoner

from judgerank.core.errors import JudgerankError
from judgerank.core.types import Item, Query
from judgerank.judge import Judge, PairTask
from judgerank.rerank import Reranker
from judgerank.runtime import Runtime

FLEA = Query("q", "how long does a flea live")
PASSAGES = ["Adult fleas live two to three months and need a host to feed.", "The Eiffel Tower is in Paris.",
            "Flea eggs hatch in two days to two weeks.", "Bananas are rich in potassium."]
ITEMS = [Item(f"d{n}", t) for n, t in enumerate(PASSAGES)]
RESPONSES = [Item("r1", "A flea lives two to three months."), Item("r2", "Fleas live for ten years.")]
# one method for each kind of template that reads choices: yes/no, grades, pairs, the best of a set,
# a window's order; and the judge's verdicts and ratings
RERANK = [("pointwise", {}), ("pointwise-graded", {}), ("allpairs", {}), ("setwise-heap", {"top_k": 2}),
          ("first", {})]


def rank(base_url: str, method: str, options: dict, **hearing: object) -> tuple[list[str], object]:
    notes: list[str] = []
    with Runtime(store=None, base_url=base_url, observer=lambda e, v: notes.append(v) if e == "note" else None) as rt:
        with Reranker(method, "smollm2", runtime=rt, guard="off", **options, **hearing) as reranker:  # type: ignore[arg-type]
            ranking = reranker.rank(FLEA, ITEMS)
    return ranking.ids, (ranking, notes)


@pytest.fixture(scope="module")
def llama_server() -> Iterator[int]:
    with serving() as port:
        yield port


@pytest.mark.llm
@pytest.mark.parametrize("mode", ["strip", "refuse"])
def test_every_choice_reading_method_runs_in_words_where_logprobs_are_missing(llama_server: int, mode: str) -> None:
    direct = f"http://127.0.0.1:{llama_server}/v1"
    for method, options in RERANK:
        with RewriteProxy(llama_server, mode) as proxy:
            ids, (ranking, notes) = rank(proxy.url, method, options)  # verdicts "auto"
            in_words, _ = rank(direct, method, options, verdicts="text")
            assert ids == in_words, method  # the same verdicts as asked in words of the server itself
            assert sorted(ids) == sorted(i.id for i in ITEMS) and ranking.complete, method  # type: ignore[attr-defined]
            asked = ["logprobs" in body for body in proxy.requests]
            first_words = asked.index(False)
            assert not any(asked[first_words:]), method  # after the first reply, only words
            assert len(notes) == 1 and "verdicts are asked in words" in notes[0], method


@pytest.mark.llm
def test_the_judge_runs_in_words_behind_both_proxies(llama_server: int) -> None:
    tasks = [PairTask("t", Query("p", "How long does a flea live?"), *RESPONSES)]
    for mode in ("strip", "refuse"):
        for template in ("judge-pair", "judge-pair-5"):
            with RewriteProxy(llama_server, mode) as proxy, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with Judge("allpairs", "smollm2", base_url=proxy.url, store=None, template=template) as judge:
                    ranked = judge.rank(tasks[0].query, RESPONSES)
                    pairs = judge.compare(tasks)
            assert sorted(ranked.ranking.ids) == ["r1", "r2"] and ranked.ratings.keys() <= {"r1", "r2"}
            assert ranked.ranking.costs.completion_tokens > 0  # words were written, not one token read
            assert len(pairs.judgments) + pairs.costs.unparsed > 0
            assert sum("verdicts are asked in words" in str(w.message) for w in caught) == 1  # said once per model


@pytest.mark.llm
def test_logprobs_asked_of_a_server_without_them_is_one_line(llama_server: int) -> None:
    with RewriteProxy(llama_server, "strip") as proxy:
        with pytest.raises(JudgerankError, match=r"ask for verdicts in words \(--verdicts text or auto\)") as caught:
            rank(proxy.url, "pointwise", {}, verdicts="logprobs")
    assert "\n" not in str(caught.value)


@pytest.mark.llm
def test_max_completion_tokens_where_the_server_wants_it(llama_server: int) -> None:
    with RewriteProxy(llama_server, "completion") as proxy:
        ids, (ranking, _) = rank(proxy.url, "pointwise", {}, verdicts="text")
    refused = [b for b in proxy.requests if "max_tokens" in b]
    assert len(refused) >= 1 and all("max_completion_tokens" in b for b in proxy.requests[len(refused) + 1 :])
    assert sorted(ids) == sorted(i.id for i in ITEMS)
    assert ranking.costs.calls == len(ITEMS) + ranking.costs.repairs  # type: ignore[attr-defined]


# --- a stand-in reasoning model ------------------------------------------------------------------


def judged(mode: str, **hearing: object) -> tuple[object, StandinReasoner]:
    tasks = [PairTask(f"t{n}", Query("p", "Is the sky blue?"), Item("1", a), Item("2", b))
             for n, (a, b) in enumerate([("Yes, that is correct.", "No."), ("It is green.", "Blue: correct.")])]
    with StandinReasoner(mode) as server, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with Judge("allpairs", "reasoner", base_url=server.url, store=None, ratings=False, **hearing) as judge:  # type: ignore[arg-type]
            return judge.compare(tasks), server


@pytest.mark.parametrize("mode", ["channel", "think"])
def test_a_reasoning_model_is_read_and_its_reasoning_kept(mode: str) -> None:
    done, server = judged(mode, reasoning=True, explain=True)
    assert [j.probability for j in done.judgments] == ["a", "b"]  # type: ignore[attr-defined]
    said = [e for j in done.judgments for e in j.explanations]  # type: ignore[attr-defined]
    assert len(said) == 4 and all(e["reasoning"] == "Comparing both against the question, step by step." for e in said)
    assert done.costs.completion_tokens == 12 * 4 and done.costs.repairs == 0  # type: ignore[attr-defined]
    asked = [b for b in server.requests if "logprobs" not in b]
    assert all("Begin with your reasoning" in b["messages"][-1]["content"] for b in asked)
    assert all(b["max_tokens"] == 512 + 24 for b in asked)


def test_a_model_that_ignores_the_form_is_asked_again_once() -> None:
    done, server = judged("ignore")
    assert [j.probability for j in done.judgments] == ["a", "b"]  # type: ignore[attr-defined]
    assert (done.costs.repairs, done.costs.unparsed) == (4, 0)  # type: ignore[attr-defined]
    repairs = [b for b in server.requests if b["messages"][-1]["content"].startswith("Your reply did not end")]
    assert len(repairs) == 4 and all(b["messages"][-2]["role"] == "assistant" for b in repairs)


def test_a_model_that_never_gives_a_verdict_is_counted_and_left_out() -> None:
    done, _ = judged("never")
    assert done.judgments == [] and done.complete  # type: ignore[attr-defined]
    assert (done.costs.repairs, done.costs.unparsed) == (4, 4)  # type: ignore[attr-defined]
