"""Queries where there are none: the query read from a model's reply, and the requests made from
generated queries (each one's candidates the corpus's nearest passages by the embedding)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from judgerank.backends.base import Backend, GenerateRequest, Generation
from judgerank.core.errors import JudgerankError
from judgerank.distil.queries import generated_requests
from judgerank.judges.queries import query_of
from judgerank.runtime import Runtime

CORPUS = {
    "p1": "fleas lay eggs that hatch into larvae within days",
    "p2": "the flea life cycle runs from egg to larva to pupa to adult",
    "p3": "paris is the capital of france and its largest city",
    "p4": "bread is baked from flour water yeast and salt",
    "p5": "the seine flows through paris to the sea",
    "p6": "sourdough bread rises with wild yeast",
}


@pytest.mark.parametrize(("reply", "query"), [
    ('Query: "how long do fleas live"\nPassage: ...', "how long do fleas live"),
    ("\n\n  - capital of   france\n", "capital of france"),
    ("search query: bread recipe", "bread recipe"),
    ('""', None),
    ("   \n", None),
])
def test_the_query_in_a_reply(reply, query):
    assert query_of(reply) == query


class Writer(Backend):
    """Writes the first three words of the passage shown as its query (`same` for the ones named)."""

    def __init__(self, same: Sequence[str] = ()) -> None:
        self.identity = f"writer:{','.join(same)}"
        self.same = same
        self.calls = 0

    def iter_generate(self, requests: Sequence[GenerateRequest]) -> Iterator[tuple[int, Generation]]:
        for n, request in enumerate(requests):
            self.calls += 1
            shown = request.messages[-1][1].rsplit("Passage:", 1)[1].split("Query:")[0].strip()
            source = next(d for d, t in CORPUS.items() if t == shown)
            text = "boilerplate query" if source in self.same else " ".join(shown.split()[:3])
            yield n, Generation(f"Query: {text}\n", 50, 4)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"_id": d, "text": t}) + "\n" for d, t in CORPUS.items()))
    return path


def test_each_written_query_gets_the_embeddings_nearest_passages(corpus, tmp_path):
    store = tmp_path / "store.sqlite"
    writer = Writer()
    with Runtime(store=store, backends={"writer": writer}) as runtime:
        made = generated_requests(runtime, "writer", corpus, 4, depth=3, seed=0)
        vectors = runtime.embedding().backend.vectors(list(CORPUS.values()))
    assert len(made.requests) == 4 and made.unreadable == 0 and made.costs.calls == 4 and writer.calls == 4
    ids = list(CORPUS)
    for request in made.requests:
        source = request.query.id.removeprefix("generated-for-")
        assert request.query.text == " ".join(CORPUS[source].split()[:3])
        with Runtime(store=store) as again:
            q = again.embedding().backend.vectors([request.query.text])[0]
        nearest = [ids[k] for k in np.argsort(-(vectors @ q), kind="stable")[:3]]
        assert [i.id for i in request.items] == nearest
        assert source in nearest  # the passage a query was written for is among its candidates
    # the same sample (the seed), and every generation from the store: nothing paid twice
    rerun = Writer()
    with Runtime(store=store, backends={"writer": rerun}) as runtime:
        same = generated_requests(runtime, "writer", corpus, 4, depth=3, seed=0)
    assert [r.query for r in same.requests] == [r.query for r in made.requests] and rerun.calls == 0


def test_a_query_written_twice_is_left_out(corpus):
    with Runtime(store=None, backends={"writer": Writer(same=list(CORPUS))}) as runtime:
        made = generated_requests(runtime, "writer", corpus, 6, depth=2, seed=1)
    assert len(made.requests) == 1 and made.unreadable == 5


def test_a_corpus_of_one_passage_is_one_line(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"_id": "a", "text": "alone"}) + "\n")
    with Runtime(store=None, backends={"writer": Writer()}) as runtime, pytest.raises(JudgerankError, match="two or more"):
        generated_requests(runtime, "writer", path, 3, depth=2, seed=0)
