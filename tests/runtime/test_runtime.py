"""The runtime: backends from specs, held once, cache keys that follow what changes a result."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from helpers import Stub
from helpers.standin_openai import StandinOpenAI

from judgerank import Reranker, Runtime
from judgerank.backends.openai_compat import OpenAICompatBackend
from judgerank.core.cancel import run_cancellable
from judgerank.core.errors import Cancelled, JudgerankError
from judgerank.core.types import Item, Query, Request
from judgerank.runtime import ModelSpec
from judgerank.runtime.runtime import HeldModel

REQUEST = Request(Query("q", "how long do fleas live"), (Item("a", "a flea lives a year"), Item("b", "paris")))


def test_specs_from_what_users_type(tmp_path):
    assert ModelSpec.parse(None) == ModelSpec("gguf", None)
    assert ModelSpec.parse("qwen2.5-coder-0.5b").kind == "gguf"
    spec = ModelSpec.parse("llama3", "http://host:9/v1/", top_logprobs=5)
    assert (spec.kind, spec.name, spec.base_url, spec.top_logprobs) == ("openai", "llama3", "http://host:9/v1", 5)
    assert ModelSpec.parse("simulated:g.json").kind == "simulated"
    with pytest.raises(JudgerankError, match="--base-url needs --model"):
        ModelSpec.parse(None, "http://host:9/v1")
    with pytest.raises(JudgerankError, match="unknown model 'nope'"):
        Runtime(store=None).check("nope")


def test_every_name_on_an_http_server_is_an_http_backend():
    with Runtime(store=None, base_url="http://127.0.0.1:9/v1") as runtime:
        held = [runtime.model(name) for name in ("a", "b")]
        assert all(isinstance(h.backend, OpenAICompatBackend) for h in held)
        assert [h.backend.model for h in held] == ["a", "b"]
        assert runtime.model("a") is held[0]  # held once


def test_a_model_is_loaded_once_under_concurrent_first_use(tmp_path):
    grades = tmp_path / "grades.json"
    grades.write_text('{"a flea lives a year": 3, "paris": 0}')
    with Runtime(store=None) as runtime:
        got: list[object] = []
        threads = [threading.Thread(target=lambda: got.append(runtime.model(f"simulated:{grades}"))) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({id(h) for h in got}) == 1
        with Reranker("pointwise", f"simulated:{grades}", runtime=runtime) as reranker:
            assert reranker.rank(REQUEST.query, REQUEST.items).ids == ["a", "b"]


def test_cache_keys_follow_the_served_model_not_the_url(tmp_path):
    path = tmp_path / "c.sqlite"

    def calls(url: str, **openai: object) -> int:
        with Runtime(store=path, base_url=url, **openai) as runtime:  # type: ignore[arg-type]
            with Reranker("pointwise", "served-model", runtime=runtime) as reranker:
                return reranker.rank(REQUEST.query, REQUEST.items).costs.calls

    with StandinOpenAI(delay=0.0) as one, StandinOpenAI(delay=0.0) as two:
        assert calls(one.url) == 2
        assert calls(two.url) == 0  # the same model at another address: every judgment is shared
        assert calls(two.url, top_logprobs=5) == 2  # a setting that changes the scores: new judgments
        assert calls(two.url, namespace="staging") == 2  # kept apart on request
        assert calls(one.url, namespace="staging") == 0


def test_nothing_but_the_runtime_constructs_a_backend():
    src = Path(__file__).resolve().parents[1] / "src" / "judgerank"
    pattern = re.compile(r"\b(LlamaCppBackend|OpenAICompatBackend|EmbeddingBackend|SimulatedBackend)\(")
    offenders = [
        f"{p.relative_to(src)}:{n}"
        for p in src.rglob("*.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("class ") and p.name != "runtime.py"
    ]
    assert offenders == []


def test_close_releases_and_is_idempotent(tmp_path):
    runtime = Runtime(store=tmp_path / "c.sqlite", base_url="http://127.0.0.1:9/v1")
    backend = runtime.model("m").backend
    runtime.close()
    runtime.close()
    assert backend._loop.is_closed()
    with pytest.raises(JudgerankError, match="used after close"):
        runtime.store.get_many(["k"])  # type: ignore[union-attr]


def test_work_waiting_for_a_busy_model_leaves_when_its_caller_stops_waiting():
    """Issue 39: after a flood's clients gave up, their requests still queued for the model's slot
    one after another, holding the service's slots; now they leave as soon as they are cancelled."""
    model = HeldModel(None, Stub("busy"), one_at_a_time=True)
    busy = model.slot()
    busy.__enter__()  # another request holds the model
    gone, outcome = threading.Event(), []

    def wait_for_the_model() -> None:
        try:
            with model.slot():
                outcome.append("ran")
        except Cancelled:
            outcome.append("left")

    waiting = threading.Thread(target=run_cancellable, args=(gone, wait_for_the_model))
    waiting.start()
    time.sleep(0.2)
    start = time.perf_counter()
    gone.set()
    waiting.join(2.0)
    assert outcome == ["left"] and time.perf_counter() - start < 0.5
    busy.__exit__(None, None, None)
    with model.slot():  # the slot is free again for whoever comes next
        pass
