"""The HTTP service under a real uvicorn on loopback, with a simulated judge whose answers are known."""

from __future__ import annotations

import math
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi", reason="the HTTP service needs the [server] extra")
uvicorn = pytest.importorskip("uvicorn", reason="the HTTP service needs the [server] extra")

from helpers import Stub  # noqa: E402

from judgerank.backends.simulated import SimulatedBackend  # noqa: E402
from judgerank.server.app import ServerConfig, create_app  # noqa: E402
from judgerank.server.model_threads import MODEL_NICENESS  # noqa: E402

DOCS = [
    "fleas live for two to three months",  # 0: grade 1
    "the flea life cycle takes about a month: egg, larva, pupa, adult",  # 1: grade 3
    "the eiffel tower is in paris",  # 2: grade 0
    "adult fleas can live up to a year without a host",  # 3: grade 2
]
GRADES = {DOCS[0]: 1.0, DOCS[1]: 3.0, DOCS[2]: 0.0, DOCS[3]: 2.0}
BEST_FIRST = [1, 3, 0, 2]


def Lexical() -> Stub:  # noqa: N802 (a backend, made like one)
    """A similarity backend for the embedding methods: shared words with the query."""
    return Stub("lexical", similarity=lambda query, text: len(set(query.lower().split()) & set(text.lower().split())))


class LiveServer:
    def __init__(self, config: ServerConfig, **options) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=self.port,
                                                    log_level="warning", **options))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def config(tmp_path, **kwargs) -> ServerConfig:
    backend = kwargs.pop("backend", None) or SimulatedBackend(GRADES)
    base = dict(method="pointwise", store=tmp_path / "cache.sqlite", backends={None: backend}, similarity_backend=Lexical())
    return ServerConfig(**(base | kwargs))


@pytest.fixture
def live(tmp_path) -> Iterator[LiveServer]:
    with LiveServer(config(tmp_path)) as server:
        yield server


def test_rerank_has_the_cohere_shape(live):
    body = {"query": "how long do fleas live", "documents": DOCS, "top_n": 3, "return_documents": True}
    reply = httpx.post(f"{live.url}/v1/rerank", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert [r["index"] for r in data["results"]] == BEST_FIRST[:3]
    scores = [r["relevance_score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True) and all(0.0 < s <= 1.0 for s in scores)
    assert data["results"][0]["document"] == {"text": DOCS[1]}
    assert data["meta"]["judgerank"]["costs"]["calls"] == 4
    assert data["usage"]["total_tokens"] > 0
    bare = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": DOCS}, timeout=30).json()
    assert len(bare["results"]) == 4 and "document" not in bare["results"][0]


def test_rerank_answers_on_every_path_clients_use(live):
    body = {"query": "how long do fleas live", "documents": DOCS}
    for path in ("/v1/rerank", "/v2/rerank", "/rerank"):
        reply = httpx.post(f"{live.url}{path}", json=body, timeout=30)
        assert reply.status_code == 200, (path, reply.text)
        assert [r["index"] for r in reply.json()["results"]] == BEST_FIRST, path


def test_arena_endpoint_gives_the_leaderboard(live):
    battles = [{"model_a": "x", "model_b": "y", "winner": "model_a"}, {"model_a": "x", "model_b": "y", "winner": "tie"},
               {"model_a": "y", "model_b": "z", "winner": "model_a"}, {"model_a": "z", "model_b": "x", "winner": "b"}]
    reply = httpx.post(f"{live.url}/v1/arena", json={"battles": battles, "method": "win-rate"}, timeout=30)
    assert reply.status_code == 200, reply.text
    board = reply.json()["leaderboard"]
    assert [row["player"] for row in board] == ["x", "y", "z"]
    assert board[0]["wins"] == 2 and board[0]["ties"] == 1
    bad = httpx.post(f"{live.url}/v1/arena", json={"battles": [{"model_a": "x", "model_b": "y", "winner": "?"}]})
    assert bad.status_code == 422 and "battle 0: unknown outcome" in bad.text
    pinned = httpx.post(f"{live.url}/v1/arena", json={"battles": battles, "sandwich": True, "anchor": "y"}, timeout=30)
    assert pinned.status_code == 200, pinned.text
    rows = {r["player"]: r for r in pinned.json()["leaderboard"]}
    assert rows["y"]["rating"] == rows["y"]["lower"] == 1000.0 and rows["y"]["vs_anchor"] == 0.5
    assert rows["x"]["lower"] < rows["x"]["rating"] < rows["x"]["upper"]
    absent = httpx.post(f"{live.url}/v1/arena", json={"battles": battles, "anchor": "w"}, timeout=30)
    assert absent.status_code in (400, 422) and "anchor 'w' is not a player" in absent.text


def test_documents_as_objects_come_back_whole(live):
    docs = [{"text": d, "title": f"t{n}"} for n, d in enumerate(DOCS)]
    data = httpx.post(f"{live.url}/v1/rerank", json={"query": "fleas", "documents": docs, "return_documents": True}).json()
    assert data["results"][0]["document"] == {"text": DOCS[1], "title": "t1"}


def test_an_unchanged_cohere_client_works(live):
    cohere = pytest.importorskip("cohere")
    v1 = cohere.Client(api_key="unused", base_url=live.url).rerank(
        model="default", query="how long do fleas live", documents=DOCS, top_n=2
    )
    assert [r.index for r in v1.results] == BEST_FIRST[:2]
    v2 = cohere.ClientV2(api_key="unused", base_url=live.url).rerank(
        model="default", query="how long do fleas live", documents=DOCS, top_n=4
    )
    assert [r.index for r in v2.results] == BEST_FIRST


def test_the_cache_is_shared_across_requests(live):
    body = {"query": "shared", "documents": DOCS}
    first = httpx.post(f"{live.url}/v1/rerank", json=body).json()["meta"]["judgerank"]["costs"]
    second = httpx.post(f"{live.url}/v1/rerank", json=body).json()["meta"]["judgerank"]["costs"]
    assert first["calls"] == 4 and first["cache_hits"] == 0
    # from the store: the 4 judgments and the 4 similarities of the guard's support check
    assert second["calls"] == 0 and second["cache_hits"] == 8


def test_methods_and_budgets_per_request(live):
    body = {"query": "fleas", "documents": DOCS, "method": "allpairs", "budget": {"max_calls": 2}}
    data = httpx.post(f"{live.url}/v1/rerank", json=body).json()
    assert data["meta"]["judgerank"]["complete"] is False and data["meta"]["judgerank"]["costs"]["calls"] <= 2
    body = {"query": "fleas", "documents": DOCS, "method": "cascade"}
    assert httpx.post(f"{live.url}/v1/rerank", json=body).status_code == 200
    for bad, message in (({"method": "bogus"}, "'cascade', 'pointwise'"), ({"model": "gpt-9"}, "unknown model 'gpt-9'")):
        reply = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": DOCS} | bad)
        assert reply.status_code == 422 and message in str(reply.json()["detail"])


def test_a_blank_query_or_prompt_is_a_422(live):
    """White space alone passed min_length and was ranked for (the embedding of nothing)."""
    for path, body in (("/v1/rerank", {"query": " \n", "documents": DOCS}),
                       ("/v1/judge", {"prompt": "\t", "responses": ["a", "b"]}),
                       ("/v1/assess", {"query": "  ", "documents": DOCS})):
        reply = httpx.post(f"{live.url}{path}", json=body)
        assert reply.status_code == 422 and "blank" in reply.text, (path, reply.text)


def test_judge_ranks_responses_with_diagnostics(live):
    body = {"prompt": "how long do fleas live", "responses": [{"id": f"r{n}", "text": d} for n, d in enumerate(DOCS)]}
    data = httpx.post(f"{live.url}/v1/judge", json=body, timeout=30).json()
    assert data["best"] == "r1"
    assert [r["index"] for r in data["ranking"]] == BEST_FIRST
    assert data["diagnostics"]["pairs"] == 6 and data["diagnostics"]["position_consistency"] == 1.0
    assert data["costs"]["calls"] == 12 + 4


def test_assess_grades_each_document_with_its_distribution(live):
    body = {"query": "how long do fleas live", "documents": [{"id": f"d{n}", "text": d} for n, d in enumerate(DOCS)]}
    data = httpx.post(f"{live.url}/v1/assess", json=body, timeout=30).json()
    assert data["grades"] == [0, 1, 2, 3] and data["complete"]
    assert [(x["id"], x["grade"]) for x in data["labels"]] == [("d0", 1), ("d1", 3), ("d2", 0), ("d3", 2)]
    assert all(abs(sum(x["probabilities"]) - 1) < 1e-5 for x in data["labels"])
    assert data["costs"]["calls"] == 4
    again = httpx.post(f"{live.url}/v1/assess", json=body | {"budget": {"max_calls": 0}}, timeout=30).json()
    assert again["costs"]["cache_hits"] == 4 and [x["grade"] for x in again["labels"]] == [1, 3, 0, 2]
    cut = httpx.post(f"{live.url}/v1/assess", json={"query": "other", "documents": DOCS[:2],
                                                    "budget": {"max_calls": 1}}, timeout=30).json()
    assert not cut["complete"] and [x["grade"] is None for x in cut["labels"]] == [False, True]
    same = httpx.post(f"{live.url}/v1/assess", json={"query": "q", "documents": [{"id": "a", "text": "x"},
                                                                                   {"id": "a", "text": "y"}]})
    assert same.status_code == 422 and "duplicate candidate id 'a'" in same.text


def test_health_and_metrics(live):
    assert httpx.get(f"{live.url}/healthz").json()["status"] == "ok"
    httpx.post(f"{live.url}/v1/rerank", json={"query": "metrics", "documents": DOCS})
    httpx.post(f"{live.url}/v1/rerank", json={"query": "metrics", "documents": DOCS})
    httpx.post(f"{live.url}/v1/rerank", json={"query": "", "documents": DOCS})
    text = httpx.get(f"{live.url}/metrics").text
    assert 'judgerank_requests_total{endpoint="/v1/rerank",status="200"} 2.0' in text
    assert 'judgerank_requests_total{endpoint="/v1/rerank",status="422"} 1.0' in text
    assert "judgerank_llm_calls_total 4.0" in text
    assert "judgerank_cache_hits_total 8.0" in text  # 4 judgments, 4 similarities (the guard's support check)
    assert 'judgerank_request_seconds_count{endpoint="/v1/rerank"} 3.0' in text


def test_api_keys(tmp_path):
    with LiveServer(config(tmp_path, api_keys=frozenset({"secret-1", "secret-2"}))) as live:
        body = {"query": "q", "documents": DOCS}
        assert httpx.post(f"{live.url}/v1/rerank", json=body).status_code == 401
        wrong = httpx.post(f"{live.url}/v1/rerank", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "API key" in wrong.json()["detail"]
        assert httpx.get(f"{live.url}/metrics").status_code == 401
        ok = httpx.post(f"{live.url}/v1/rerank", json=body, headers={"Authorization": "Bearer secret-2"})
        assert ok.status_code == 200
        assert httpx.get(f"{live.url}/healthz").status_code == 200


def test_limits_name_the_limit(tmp_path):
    with LiveServer(config(tmp_path, max_documents=3, max_document_chars=50)) as live:
        reply = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": DOCS})
        assert reply.status_code == 413 and "max_documents 3" in reply.json()["detail"]
        reply = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": ["short", "x" * 51]})
        assert reply.status_code == 413 and "document 1 has 51 characters > max_document_chars 50" in reply.json()["detail"]
        reply = httpx.post(f"{live.url}/v1/judge", json={"prompt": "p", "responses": ["a", "b", "c", "d"]})
        assert reply.status_code == 413 and "max_documents" in reply.json()["detail"]
        assert httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": []}).status_code == 422


def test_concurrency_limit_turns_away_the_excess(tmp_path):
    class Slow(SimulatedBackend):
        def iter_choice_logprobs(self, requests):
            time.sleep(0.5)
            return super().iter_choice_logprobs(requests)

    with LiveServer(config(tmp_path, backend=Slow(GRADES), max_in_flight=2, store=None)) as live:
        results = []

        def call(n):
            results.append(
                httpx.post(f"{live.url}/v1/rerank", json={"query": f"q{n}", "documents": DOCS}, timeout=30).status_code
            )

        threads = [threading.Thread(target=call, args=(n,)) for n in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results).count(200) >= 2 and 429 in results and set(results) <= {200, 429}


# --- hostile clients ------------------------------------------------------------------------------


def test_with_the_slots_full_a_request_the_store_holds_is_still_served(tmp_path):
    """Issue 39: 64 slow requests locked everyone out, fully cached ones too (429 for the whole flood)."""
    class Slow(SimulatedBackend):
        def iter_choice_logprobs(self, requests):
            time.sleep(1.5)
            return super().iter_choice_logprobs(requests)

    with LiveServer(config(tmp_path, backend=Slow(GRADES), max_in_flight=2)) as live:
        cached = {"query": "how long do fleas live", "documents": DOCS}
        first = httpx.post(f"{live.url}/v1/rerank", json=cached, timeout=30).json()
        judged = {"prompt": "how long do fleas live", "responses": DOCS[:2]}
        assert httpx.post(f"{live.url}/v1/judge", json=judged, timeout=30).status_code == 200
        flood = [threading.Thread(target=httpx.post, args=(f"{live.url}/v1/rerank",),
                                  kwargs={"json": {"query": f"new {n}", "documents": DOCS}, "timeout": 30})
                 for n in range(2)]
        for t in flood:
            t.start()
        time.sleep(0.5)  # both slots now wait on the slow model
        start = time.perf_counter()
        again = httpx.post(f"{live.url}/v1/rerank", json=cached, timeout=30)
        took = time.perf_counter() - start
        assert again.status_code == 200 and took < 1.0, (again.status_code, took)
        assert [r["index"] for r in again.json()["results"]] == [r["index"] for r in first["results"]]
        assert again.json()["meta"]["judgerank"]["costs"]["cache_hits"] == 8  # judgments and similarities
        assert httpx.post(f"{live.url}/v1/judge", json=judged, timeout=30).status_code == 200
        refused = httpx.post(f"{live.url}/v1/rerank", json={"query": "never asked", "documents": DOCS}, timeout=30)
        assert refused.status_code == 429 and "2 requests in flight" in refused.json()["detail"]
        for t in flood:
            t.join()


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread priority is Linux's setpriority")
def test_model_work_runs_below_the_priority_of_the_rest(tmp_path):
    """Issue 39: under one key's flood the model's threads took the CPU from requests the store
    answers (p99 118 ms on 2 cores): model work runs niced, the serving threads are not."""
    seen = []

    class Watched(SimulatedBackend):
        def iter_choice_logprobs(self, requests):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().iter_choice_logprobs(requests)

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with LiveServer(config(tmp_path, backend=Watched(GRADES))) as live:
        ranked = httpx.post(f"{live.url}/v1/rerank", json={"query": "how long do fleas live", "documents": DOCS},
                            timeout=30)
        assert ranked.status_code == 200
        assert [r["index"] for r in ranked.json()["results"]] == BEST_FIRST
    assert seen and set(seen) == {min(19, base + MODEL_NICENESS)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # this thread is untouched


def _read_until_closed(sock: socket.socket, within: float) -> bytes:
    sock.settimeout(within)
    got = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return got
        got += chunk


def test_stalled_heads_and_bodies_are_let_go(tmp_path):
    """Issue 39: 300 connections with unfinished headers stayed open, and 50 stalled bodies held
    195 MB for as long as their clients liked."""
    from judgerank.server.connections import uvicorn_options

    cfg = config(tmp_path, body_timeout=0.5, header_timeout=0.5)
    with LiveServer(cfg, **uvicorn_options(cfg.header_timeout, cfg.max_connections)) as live:
        head = socket.create_connection(("127.0.0.1", live.port))
        head.sendall(b"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        start = time.perf_counter()
        assert _read_until_closed(head, 5.0) == b""  # closed, unanswered
        assert time.perf_counter() - start < 2.0
        body = socket.create_connection(("127.0.0.1", live.port))
        body.sendall(b"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"query\": \"q\", ")
        start = time.perf_counter()
        answer = _read_until_closed(body, 5.0)
        assert answer.startswith(b"HTTP/1.1 408") and b"body_timeout" in answer
        assert time.perf_counter() - start < 2.0
        # a kept-alive connection that starts a second request and stalls is let go too
        alive = socket.create_connection(("127.0.0.1", live.port))
        alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        alive.settimeout(5.0)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += alive.recv(4096)
        head_part, _, rest = reply.partition(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head_part.lower())[1])
        while len(rest) < length:
            rest += alive.recv(4096)
        assert head_part.startswith(b"HTTP/1.1 200")
        alive.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert _read_until_closed(alive, 5.0) == b""
        assert httpx.get(f"{live.url}/healthz").status_code == 200  # others are served all along


def test_a_body_over_the_limit_is_refused_before_it_is_read(tmp_path):
    with LiveServer(config(tmp_path, max_body_bytes=5_000)) as live:
        big = {"query": "q", "documents": ["x" * 3_000, "y" * 3_000]}
        reply = httpx.post(f"{live.url}/v1/rerank", json=big)
        assert reply.status_code == 413 and "max_body_bytes 5000" in reply.json()["detail"]

        def chunks():  # no Content-Length: counted as it arrives
            yield b'{"query": "q", "documents": ["'
            for _ in range(10):
                yield b"z" * 1_000
            yield b'"]}'

        assert httpx.post(f"{live.url}/v1/rerank", content=chunks()).status_code == 413
        assert httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": DOCS}).status_code == 200
    assert ServerConfig().max_calls == 2000 and ServerConfig().max_body_bytes == 4_000_000  # on by default


def test_a_lone_surrogate_is_a_422_not_a_500(live):
    for path, body in (("/v1/rerank", b'{"query": "fleas \\ud800", "documents": ["a", "b"]}'),
                       ("/v1/rerank", b'{"query": "fleas", "documents": ["a", {"text": "\\udfff"}]}'),
                       ("/v1/judge", b'{"prompt": "p", "responses": ["a", "\\ud800b"]}'),
                       ("/v1/arena", b'{"battles": [{"model_a": "\\ud800", "model_b": "y", "winner": "model_a"}]}')):
        reply = httpx.post(f"{live.url}{path}", content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 422 and "lone surrogate" in reply.text, (path, reply.text)
    paired = b'{"query": "fleas \\ud83d\\ude00", "documents": ["a", "b"]}'  # an emoji, escaped: fine
    assert httpx.post(f"{live.url}/v1/rerank", content=paired, headers={"content-type": "application/json"}).status_code == 200


def test_api_keys_are_compared_exactly(tmp_path):
    with LiveServer(config(tmp_path, api_keys=frozenset({"k1"}))) as live:
        body = {"query": "q", "documents": DOCS}
        for header, status in ((b"Bearer k1", 200), (b"Bearer k1\xc2\xa0", 401),
                               (b"Bearer k1\xa0", 401), (b"Bearer \xe2\x80\x8bk1", 401), (b"Bearer K1", 401)):
            reply = httpx.post(f"{live.url}/v1/rerank", json=body, headers={b"Authorization": header})
            assert reply.status_code == status, header


@pytest.mark.slow
def test_health_metrics_and_cache_hits_do_not_queue_behind_model_work(tmp_path):
    backend = SimulatedBackend(GRADES, delay=0.3)
    with LiveServer(config(tmp_path, backend=backend)) as live:
        cached = {"query": "cached query", "documents": DOCS}
        assert httpx.post(f"{live.url}/v1/rerank", json=cached, timeout=30).status_code == 200

        def wait_for_the_model(n):  # 50 uncached requests: ~60 s of model work, more than the thread pool
            try:
                httpx.post(f"{live.url}/v1/rerank", json={"query": f"busy {n}", "documents": DOCS}, timeout=6)
            except httpx.TimeoutException:
                pass

        threads = [threading.Thread(target=wait_for_the_model, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        for path in ("/healthz", "/metrics"):
            assert httpx.get(f"{live.url}{path}", timeout=5).status_code == 200
        reply = httpx.post(f"{live.url}/v1/rerank", json=cached, timeout=5)
        assert reply.status_code == 200 and reply.json()["meta"]["judgerank"]["costs"]["calls"] == 0
        # answered while the model still had most of the 50 requests' work ahead of it: they did
        # not wait behind it (bench/server_load.py measures how long they take under such a flood)
        assert backend.calls < 4 * 50 / 2
        for t in threads:
            t.join()


@pytest.mark.slow
def test_a_client_that_disconnects_stops_its_model_calls(tmp_path):
    docs = [f"passage number {n} about fleas" for n in range(40)]
    backend = SimulatedBackend(GRADES, delay=0.1)  # 40 calls: 4 s of model work
    with LiveServer(config(tmp_path, backend=backend)) as live:
        with pytest.raises(httpx.TimeoutException):
            httpx.post(f"{live.url}/v1/rerank", json={"query": "fleas", "documents": docs}, timeout=0.8)
        time.sleep(0.8)
        stopped = backend.calls
        time.sleep(0.8)
        assert backend.calls == stopped < 30  # no call after the stop
        reply = httpx.post(f"{live.url}/v1/rerank", json={"query": "fleas", "documents": docs}, timeout=30)
        costs = reply.json()["meta"]["judgerank"]["costs"]
        assert costs["cache_hits"] == stopped and costs["calls"] == 40 - stopped  # finished judgments were kept


# --- fuzzing from the OpenAPI schema: whatever a client sends, never a 500 -------------------------

@pytest.fixture
def fuzz_server(tmp_path) -> Iterator[LiveServer]:
    # every endpoint, with bodies near (and over) each size limit
    with LiveServer(config(tmp_path, max_documents=8, max_document_chars=300, max_body_bytes=2500)) as server:
        yield server


@pytest.mark.slow
def test_fuzzed_requests_never_get_a_server_error(fuzz_server):
    schemathesis = pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis (the test extra)")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/rerank", "/v2/rerank", "/v1/judge", "/v1/assess", "/healthz",
                                             "/metrics"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            case.call_and_validate(base_url=fuzz_server.url, checks=[not_a_server_error])

        fuzz()


# --- serving in parallel ---------------------------------------------------------------------------


def timed_posts(url: str, bodies: list[dict], path: str = "/v1/rerank") -> tuple[float, list[int]]:
    statuses: list[int] = []

    def post(body: dict) -> None:
        statuses.append(httpx.post(f"{url}{path}", json=body, timeout=60).status_code)

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, statuses


def test_requests_to_an_http_model_run_at_the_same_time(tmp_path):
    from helpers.standin_openai import StandinOpenAI

    delay = 0.2
    with StandinOpenAI(delay=delay) as upstream:
        cfg = ServerConfig(model="standin", base_url=upstream.url, method="pointwise", store=None, concurrency=32)
        with LiveServer(cfg) as live:
            one, statuses = timed_posts(live.url, [{"query": "warm up", "documents": DOCS}])
            assert statuses == [200]
            eight, statuses = timed_posts(live.url, [{"query": f"q{n}", "documents": DOCS} for n in range(8)])
            assert statuses == [200] * 8
            assert upstream.max_in_flight >= 16  # requests overlapped at the model server
            # one after another, eight requests would take at least 8 x the upstream's delay (each asks
            # its passages in one batch, which takes one delay at best); a bound on the upstream's
            # delay, not on a measured single request, holds on a loaded machine too
            assert eight < 0.75 * 8 * delay, (eight, one)


def test_two_in_process_models_serve_two_requests_at_once(tmp_path):
    slow = {None: SimulatedBackend(GRADES, delay=0.15), "other": SimulatedBackend(GRADES, delay=0.15)}
    cfg = config(tmp_path, store=None, models=("other",))
    cfg.backends = slow
    with LiveServer(cfg) as live:
        one, _ = timed_posts(live.url, [{"query": "solo", "documents": DOCS}])
        pair, statuses = timed_posts(
            live.url, [{"query": "a", "documents": DOCS}, {"query": "b", "documents": DOCS, "model": "other"}]
        )
        same, _ = timed_posts(live.url, [{"query": "c", "documents": DOCS}, {"query": "d", "documents": DOCS}])
        assert statuses == [200, 200]
        assert pair < 1.5 * one, (pair, one)  # different models side by side
        assert same > 1.7 * one, (same, one)  # one in-process model takes one batch at a time


@pytest.mark.slow
def test_backend_failures_are_gateway_errors_naming_the_endpoint(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    cfg = ServerConfig(model="m", base_url=f"http://127.0.0.1:{dead}/v1", method="pointwise", store=None)
    with LiveServer(cfg) as live:
        reply = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": DOCS}, timeout=120)
        assert reply.status_code == 503
        assert f"127.0.0.1:{dead}/v1/chat/completions" in reply.json()["detail"]


def test_a_store_failure_is_a_500_without_path_or_trace(tmp_path):
    cfg = config(tmp_path, store=tmp_path / "c.sqlite")
    with LiveServer(cfg) as live:
        live.server.config.app.state.runtime.store.close()  # every later read fails inside the store
        reply = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": DOCS})
        assert reply.status_code == 500
        assert str(tmp_path) not in reply.text and "Traceback" not in reply.text


def test_relevance_scores_are_probabilities_that_can_be_thresholded(live):
    body = {"query": "how long do fleas live", "documents": DOCS}
    data = httpx.post(f"{live.url}/v1/rerank", json=body).json()
    scores = {r["index"]: r["relevance_score"] for r in data["results"]}
    assert data["meta"]["judgerank"]["relevance"] == "probability"
    # the simulated judge's yes-vs-no log-odds are grade - 1.5: relevant (grade >= 2) above one half
    assert scores[1] > 0.5 and scores[3] > 0.5 and scores[0] < 0.5 and scores[2] < 0.5
    assert scores[1] == pytest.approx(1 / (1 + math.exp(-1.5)), abs=1e-6)
    again = httpx.post(f"{live.url}/v1/rerank", json=body | {"documents": DOCS[::-1]}).json()
    assert {DOCS[::-1][r["index"]]: r["relevance_score"] for r in again["results"]} == {
        DOCS[i]: s for i, s in scores.items()}  # the same document gets the same score in any company
    ranked = httpx.post(f"{live.url}/v1/rerank", json=body | {"relevance": "rank"}).json()
    assert [r["relevance_score"] for r in ranked["results"]] == [1.0, 0.75, 0.5, 0.25]


def test_costs_have_one_type_on_every_endpoint(live):
    rerank = httpx.post(f"{live.url}/v1/rerank", json={"query": "types", "documents": DOCS}).json()
    judge = httpx.post(f"{live.url}/v1/judge", json={"prompt": "types", "responses": DOCS}).json()
    for costs in (rerank["meta"]["judgerank"]["costs"], judge["costs"]):
        assert isinstance(costs["calls"], int) and isinstance(costs["prompt_tokens"], int)
        assert isinstance(costs["seconds"], float)


def test_api_docs_render_offline_from_local_assets(tmp_path, chromium):
    import subprocess

    with LiveServer(config(tmp_path)) as live:
        page = httpx.get(f"{live.url}/docs").text
        assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
        assert httpx.get(f"{live.url}/docs-assets/swagger-ui-bundle.js").status_code == 200
        assert "cdn" not in httpx.get(f"{live.url}/redoc").text.lower()
        assert httpx.get(f"{live.url}/docs-assets/..%2Fcore.py").status_code == 404
        dom = subprocess.run([*chromium, "--virtual-time-budget=10000", "--dump-dom", f"{live.url}/docs"],
                             capture_output=True, text=True,
                             timeout=120).stdout
        assert "/v1/rerank" in dom and "/v1/judge" in dom  # Swagger UI rendered the operations


def test_docs_and_schema_need_the_key_when_keys_are_set(tmp_path):
    with LiveServer(config(tmp_path, api_keys=frozenset({"k1"}))) as live:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui.css"):
            assert httpx.get(f"{live.url}{path}").status_code == 401, path
        ok = httpx.get(f"{live.url}/openapi.json", headers={"Authorization": "Bearer k1"})
        assert ok.status_code == 200 and "/v1/rerank" in ok.json()["paths"]


def test_the_service_keeps_one_facade_per_method_model_and_guard(tmp_path):
    """Requests reuse the Reranker and Judge made for their settings: nothing is rebuilt per request."""
    from judgerank.server.models import JudgeIn, RerankIn
    from judgerank.server.service import Service

    service = Service(config(tmp_path))
    try:
        for query in ("fleas", "tower", "fleas"):
            service.rerank(RerankIn(query=query, documents=DOCS))
        service.rerank(RerankIn(query="fleas", documents=DOCS, guard="flag"))
        for prompt in ("which?", "which one?"):
            service.judge(JudgeIn(prompt=prompt, responses=DOCS[:2]))
        assert service.reranker("pointwise", None, "demote") is service.reranker("pointwise", None, "demote")
        assert len(service._facades) == 3  # pointwise with demote, with flag; the judge's allpairs
    finally:
        service.close()


def test_verdicts_in_words_and_what_the_judge_said(live):
    body = {"query": "how long do fleas live", "documents": DOCS, "method": "allpairs",
            "hearing": {"verdicts": "text", "samples": 3, "temperature": 1.0, "explain": True}}
    reply = httpx.post(f"{live.url}/v1/rerank", json=body, timeout=60)
    assert reply.status_code == 200, reply.text
    meta = reply.json()["meta"]["judgerank"]
    assert [r["index"] for r in reply.json()["results"]] == BEST_FIRST
    assert meta["costs"]["calls"] == 3 * 12 and len(meta["explanations"]) == 12  # 6 pairs, both orders, 3 samples each
    bad = httpx.post(f"{live.url}/v1/rerank", json=body | {"hearing": {"samples": 500}}, timeout=30)
    assert bad.status_code == 422 and "samples" in bad.text
    judged = httpx.post(f"{live.url}/v1/judge", json={"prompt": "how long do fleas live", "responses": DOCS[:2],
                                                      "method": "allpairs", "hearing": {"verdicts": "text"}}, timeout=60)
    assert judged.status_code == 200 and judged.json()["best"] == "1" and judged.json()["explanations"] is None


@pytest.mark.embed
def test_the_server_loads_its_models_before_it_answers(tmp_path):
    with LiveServer(ServerConfig(method="embedding", store=tmp_path / "s.sqlite")) as server:
        health = httpx.get(f"{server.url}/healthz", timeout=10).json()
        runtime = server.server.config.app.app.state.runtime  # BodyLimit around the FastAPI app
        assert health["ready"] is True and health["loaded"] == ["embedding:all-MiniLM-L6-v2"]
        assert runtime.embedding().backend._runner is not None  # the ONNX session, built before serving


def test_a_negative_seed_is_the_callers_fault(live):
    body = {"battles": [{"model_a": "x", "model_b": "y", "winner": "model_a"}], "bootstrap": 10, "seed": -1}
    reply = httpx.post(f"{live.url}/v1/arena", json=body, timeout=30)
    assert reply.status_code == 422 and "seed" in reply.text


def test_the_key_is_checked_before_the_body_and_only_one_is_taken(tmp_path):
    with LiveServer(config(tmp_path, api_keys=frozenset({"k1"}))) as live:
        malformed = httpx.post(f"{live.url}/v1/rerank", content=b'{"query": ', headers={"content-type": "application/json"})
        assert malformed.status_code == 401 and "API key" in malformed.json()["detail"]  # no parse details
        assert malformed.headers["www-authenticate"] == "Bearer"
        two = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": DOCS},
                         headers=[("Authorization", "Bearer k1"), ("Authorization", "Bearer nope")])
        assert two.status_code == 400 and "one Authorization header" in two.json()["detail"]
        with socket.create_connection(("127.0.0.1", live.port), timeout=10) as raw:  # a body promised, never sent
            raw.sendall(b"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Length: 3900000\r\n\r\n" + b"x" * 1000)
            assert raw.recv(200).startswith(b"HTTP/1.1 401")  # answered at once, the body never read


def test_a_document_nested_past_the_limit_is_the_callers_fault(live):
    nested: object = "x"
    for _ in range(300):
        nested = {"a": nested}
    body = {"query": "q", "documents": [{"text": DOCS[0], "meta": nested}, DOCS[1]], "return_documents": True}
    reply = httpx.post(f"{live.url}/v1/rerank", json=body, timeout=30)
    assert reply.status_code == 422 and "nests deeper than 32 levels" in reply.text  # a 500 once
    ok = httpx.post(f"{live.url}/v1/rerank", timeout=30, json={**body, "documents": [
        {"text": DOCS[0], "meta": {"source": {"page": 3}}}, DOCS[1]]})
    assert ok.status_code == 200 and {"source": {"page": 3}} in [r["document"].get("meta") for r in ok.json()["results"]]


def test_the_defaults_relevance_is_its_cosine_and_never_rises_down_the_results(tmp_path):
    """The embedding-scored default (a cascade whose LLM has no weight) answered its relevance by
    rank (1.0, 0.75, ...), which a client thresholding relevance_score misreads; it is the cosine
    clipped to [0, 1], made to follow the fused order."""
    similarity = Stub("cosine", similarity=lambda query, text: {DOCS[0]: 0.5, DOCS[1]: 0.2, DOCS[2]: -0.3,
                                                               DOCS[3]: 0.4}[text])
    embedded = Stub("smollm2-135m")  # the embedded model's calibration: its LLM stage has no weight, is never asked
    with LiveServer(config(tmp_path, method="cascade", backend=embedded, similarity_backend=similarity)) as live:
        data = httpx.post(f"{live.url}/v1/rerank", json={"query": "fleas", "documents": DOCS}).json()
    assert data["meta"]["judgerank"]["relevance"] == "similarity"
    relevance = [r["relevance_score"] for r in data["results"]]
    assert relevance == sorted(relevance, reverse=True) and relevance[-1] == 0.0
    assert 0.4 < relevance[0] < 1.0 and relevance != [1.0, 0.75, 0.5, 0.25] and not embedded.requests


def test_a_body_that_is_not_utf8_json_is_a_422_and_the_api_declares_its_key(tmp_path):
    """Issue 37: invalid UTF-8 was a 400 'There was an error parsing the body' (the README promises
    422 for bad input), and the OpenAPI document declared no security scheme (no Authorize button)."""
    with LiveServer(config(tmp_path, api_keys=frozenset({"k"}))) as live:
        headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}
        bad = httpx.post(f"{live.url}/v1/rerank", content=b'{"query": "\xff\xfe", "documents": ["a"]}', headers=headers)
        assert bad.status_code == 422 and "not valid JSON in UTF-8" in bad.json()["detail"]
        document = httpx.get(f"{live.url}/openapi.json", headers=headers).json()
        assert document["components"]["securitySchemes"] == {"HTTPBearer": {
            "type": "http", "scheme": "bearer", "description": "An API key of the server's --api-keys file"}}
        assert {"HTTPBearer": []} in document["paths"]["/v1/rerank"]["post"]["security"]
        missing = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": ["a"]})
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"


def test_a_request_whose_method_plans_more_calls_than_the_limit_is_refused_before_any_work(tmp_path):
    """Issue 39: /v1/judge with 1,000 short responses (allpairs: 999,000 planned calls) grew the
    server by over a gigabyte building prompts before the 2,000-call budget could stop it."""
    stub = Stub("stub")
    with LiveServer(config(tmp_path, backend=stub, max_calls=2000)) as live:
        many = [f"response {n}" for n in range(1000)]
        judged = httpx.post(f"{live.url}/v1/judge", json={"prompt": "p", "responses": many}, timeout=30)
        assert judged.status_code == 422
        assert "allpairs over 1000 responses plans 999,000 LLM calls" in judged.json()["detail"]
        assert "limit of 2,000 calls a request (max_calls)" in judged.json()["detail"]
        ranked = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": many[:100], "method": "allpairs"},
                            timeout=30)
        assert ranked.status_code == 422 and "9,900 LLM calls" in ranked.json()["detail"]
        fine = httpx.post(f"{live.url}/v1/rerank", json={"query": "q", "documents": many, "method": "pointwise"},
                          timeout=60)
        assert fine.status_code == 200  # 1,000 planned calls: under the limit
    assert len(stub.requests) == 1000  # the refused requests asked nothing


def test_one_api_key_cannot_hold_every_slot(tmp_path):
    """Issue 39: 64 slow requests from one client locked everyone else out (429 for the whole
    flood). With API keys, one key holds at most its share of the slots."""

    class Slow(SimulatedBackend):
        def iter_choice_logprobs(self, requests):
            time.sleep(2.0)
            return super().iter_choice_logprobs(requests)

    settings = dict(backend=Slow(GRADES), max_in_flight=4, store=None, api_keys=frozenset({"flood", "other"}))
    with LiveServer(config(tmp_path, **settings)) as live:
        flood: list[int] = []

        def call(n: int) -> None:
            flood.append(httpx.post(f"{live.url}/v1/rerank", json={"query": f"q{n}", "documents": DOCS},
                                    headers={"Authorization": "Bearer flood"}, timeout=30).status_code)

        threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.4)  # the flood holds its share (2 of the 4 slots); the rest of it is turned away
        other = httpx.post(f"{live.url}/v1/rerank", json={"query": "mine", "documents": DOCS},
                           headers={"Authorization": "Bearer other"}, timeout=30)
        for t in threads:
            t.join()
    assert other.status_code == 200
    assert flood.count(200) == 2 and flood.count(429) == 4


def _stall(port: int, key: str, length: int) -> socket.socket:
    """A client that sends the head and part of a body of `length` bytes, then waits."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json"
              f"\r\nContent-Length: {length}\r\n\r\n".encode() + b'{"query": "q", ')
    return s


def test_stalled_bodies_hold_at_most_the_body_buffer(tmp_path):
    """Issue 39: 50 clients with a key that sent 3.9 MB of a 4 MB body and stalled held 188 MB
    until the body timeout. Bodies together hold at most max_body_buffer bytes, one key at most half:
    past it 503 with Retry-After, at once; what a request held is given back when it ends."""
    cfg = config(tmp_path, max_body_bytes=10_000, max_body_buffer=30_000, api_keys=frozenset({"k1", "k2"}))
    small = {"query": "how long do fleas live", "documents": DOCS}
    with LiveServer(cfg) as live:
        first = [_stall(live.port, "k1", 7_000) for _ in range(2)]  # 14,000 of k1's 15,000
        time.sleep(0.3)
        third = _stall(live.port, "k1", 7_000)
        answer = _read_until_closed(third, 5.0)
        assert answer.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in answer.lower()
        assert b"share of the request-body buffer" in answer
        k2 = {"Authorization": "Bearer k2"}
        assert httpx.post(f"{live.url}/v1/rerank", json=small, headers=k2).status_code == 200  # the other key is served
        more = [_stall(live.port, "k2", 7_000) for _ in range(2)]  # 28,000 held in all
        time.sleep(0.3)
        full = httpx.post(f"{live.url}/v1/rerank", content=b" " * 2_500, headers=k2)  # 30,500 > 30,000
        assert full.status_code == 503 and "max_body_buffer" in full.json()["detail"]
        for s in first + more:
            s.close()
        time.sleep(0.5)  # the disconnects reach the server: what they held is given back
        k1 = {"Authorization": "Bearer k1"}
        assert httpx.post(f"{live.url}/v1/rerank", json=small, headers=k1).status_code == 200
        deadline = time.time() + 2  # a request gives its bytes back just after its answer is sent
        while live.server.config.app.held != {"": 0} and time.time() < deadline:
            time.sleep(0.02)
        assert live.server.config.app.held == {"": 0}


def test_models_loaded_at_warm_up_start_their_threads_niced(tmp_path):
    """ONNX Runtime starts its pool of threads when the embedding loads, at the priority of the
    thread that loads it: loaded by the warm-up in the main thread, a flood's embedding runs took
    the CPU from stored requests. The warm-up loads in a lowered thread."""
    from judgerank.server.service import Service

    def nice_of_threads() -> dict[int, int]:
        return {int(t.name): os.getpriority(os.PRIO_PROCESS, int(t.name)) for t in Path("/proc/self/task").iterdir()}

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    before = nice_of_threads()
    service = Service(config(tmp_path, backend=SimulatedBackend(GRADES), method="pointwise", warm_up=True,
                             similarity_backend=None))
    try:
        started = {t: n for t, n in nice_of_threads().items() if t not in before}
        assert started and set(started.values()) == {min(19, base + MODEL_NICENESS)}
    finally:
        service.close()
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
