"""The judgment store under threads and processes, and on files that are not a cache."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading

import pytest
from helpers import Stub, graded_request, simulated

from judgerank import Reranker, Runtime
from judgerank.backends.base import ChoiceRequest
from judgerank.core.costs import Ledger
from judgerank.core.errors import StoreError
from judgerank.store import SQLiteStore
from judgerank.store.cached import CachedModel

PER_WORKER = 500


def Echo() -> Stub:  # noqa: N802 (a backend, made like one)
    """A backend whose answer is a function of the prompt, so every stored value can be checked;
    concurrent, so the threads race into the store rather than queue at the model."""
    return Stub("echo", choices=lambda r: (-float(r.messages[0][1]), -1.0), concurrent=True)


def requests_for(worker: int) -> list[ChoiceRequest]:
    return [ChoiceRequest((("user", str(worker * PER_WORKER + k)),), ("a", "b"), "t") for k in range(PER_WORKER)]


def judge_all(runtime: Runtime, worker: int, batch: int = 25) -> int:
    ledger = Ledger()
    model = CachedModel(runtime.model, runtime.store, ledger)
    requests = requests_for(worker)
    for start in range(0, PER_WORKER, batch):
        results = model.choice_logprobs(requests[start : start + batch]).got()
        assert [r.logprobs[0] for r in results] == [-float(r.messages[0][1]) for r in requests[start : start + batch]]
    return ledger.costs.calls


def check_store(path, workers: int) -> None:
    with SQLiteStore(path) as store:
        assert len(store) == workers * PER_WORKER
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(DISTINCT key) FROM judgments").fetchone()[0] == workers * PER_WORKER
    db.close()


def test_eight_threads_share_one_store(tmp_path):
    path = tmp_path / "c.sqlite"
    errors: list[BaseException] = []
    calls: list[int] = []
    with Runtime(store=path, backends={None: Echo()}) as runtime:

        def work(worker: int) -> None:
            try:
                calls.append(judge_all(runtime, worker))
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and sum(calls) == 8 * PER_WORKER
        assert sum(judge_all(runtime, w) for w in range(8)) == 0  # a re-run makes no calls
    check_store(path, 8)


def _process(path: str, worker: int, start: multiprocessing.synchronize.Event, out: multiprocessing.Queue) -> None:
    start.wait()  # every process opens the fresh file at the same instant
    try:
        with Runtime(store=path, backends={None: Echo()}) as runtime:
            out.put((worker, judge_all(runtime, worker), None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        out.put((worker, 0, repr(exc)))


def test_four_processes_open_a_fresh_file_at_once(tmp_path):
    path = str(tmp_path / "fresh.sqlite")
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process, args=(path, w, start, out)) for w in range(4)]
    for p in procs:
        p.start()
    start.set()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert [r[2] for r in results] == [None] * 4
    assert sum(r[1] for r in results) == 4 * PER_WORKER
    check_store(path, 4)
    with Runtime(store=path, backends={None: Echo()}) as runtime:
        assert sum(judge_all(runtime, w) for w in range(4)) == 0


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"my precious notes\n" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"notes\.txt: not a judgerank store \(not an SQLite file"):
        SQLiteStore(path)
    assert path.read_bytes() == before


def test_another_programs_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a judgerank store"):
        SQLiteStore(path)
    assert path.read_bytes() == before


def test_a_corrupt_cache_is_a_clear_error_and_untouched(tmp_path):
    path = tmp_path / "c.sqlite"
    with SQLiteStore(path) as store:
        store.put_many((f"k{n}", {"v": "x" * 200}) for n in range(2000))
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page : 6 * page] = b"\xde\xad\xbe\xef" * (3 * page // 4)  # smash b-tree pages
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message and "another path" in message
    assert path.read_bytes() == bytes(data)


def test_errors_name_the_file_and_the_cli_prints_one_line(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database")
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "a", "text": "x"}\n')
    result = subprocess.run(
        [sys.executable, "-m", "judgerank", "rerank", "--query", "q", "--docs", str(docs), "--store", str(bad),
         "--method", "pointwise"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "bad.sqlite: not a judgerank store" in result.stderr


def test_a_read_only_cache_serves_what_it_holds(tmp_path):
    request = graded_request([1.0, 2.0, 0.0])
    path = tmp_path / "c.sqlite"
    with Reranker("pointwise", store=path, backend=simulated(request, [1.0, 2.0, 0.0])) as reranker:
        first = reranker.rank(request.query, request.items)
    with SQLiteStore(path, readonly=True) as store:
        again = Reranker("pointwise", store=store, backend=simulated(request, [1.0, 2.0, 0.0])).rank(request.query, request.items)
        assert again.costs.calls == 0 and again.ids == first.ids
        store.put_many([("new", 1)])  # kept nowhere, and no error
        assert store.get_many(["new"]) == {}


PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:  # an exclusive lock on SQLite's SHARED byte range: refused while any connection holds SHARED
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002, 0)
    print("free")
except OSError:
    print("held")
"""


def test_a_second_store_on_the_same_file_keeps_the_first_ones_locks(tmp_path):
    """Opening the file outside SQLite (to read its header) and closing it drops every POSIX lock
    the process holds on it; without its shared lock a store's WAL can be checkpointed and
    deleted by another process under it (this corrupted a bench cache)."""
    import subprocess
    import sys

    path = tmp_path / "c.sqlite"
    first = SQLiteStore(path)
    first.put_many([("k", 1)])

    def probe() -> str:
        return subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True).stdout.strip()

    assert probe() == "held"
    second = SQLiteStore(path)  # the same process, the same file
    assert probe() == "held"
    assert second.get_many(["k"]) == {"k": 1}
    first.close()
    second.close()


def test_a_thread_that_ends_leaves_no_connection_open(tmp_path):
    """Found by bench/fuzz_endpoints.py: each thread that used the store kept its connection (two
    file descriptors) open after it ended; a server whose worker threads come and go ran out of
    file descriptors and answered every request 500."""
    import os

    path = tmp_path / "s.sqlite"

    def open_files() -> int:
        return sum(os.path.realpath(f"/proc/self/fd/{fd}").startswith(str(path))
                   for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}"))

    with SQLiteStore(path) as store:
        store.put_many([("k", {"v": 1})])
        before = open_files()
        for n in range(30):
            worker = threading.Thread(target=lambda n=n: store.put_many([(f"k{n}", {"v": n})]))
            worker.start()
            worker.join()
        del worker  # the thread object gone: what it held goes with it
        # each worker's connection closed with its thread; SQLite keeps one closed descriptor of a
        # file another connection locks, to reuse (closing it would drop that connection's locks)
        assert open_files() <= before + 1
        assert len(store.get_many([f"k{n}" for n in range(30)])) == 30
    assert open_files() == 0
