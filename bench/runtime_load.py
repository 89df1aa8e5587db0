"""Runtime figures: the server under 8 concurrent clients against a slow OpenAI-compatible model,
this tree beside another (by default the last landed main, checked out in a temporary worktree);
and the judgment store's write rate under 1, 2 and 4 processes and 8 threads.

    python bench/runtime_load.py                       # both parts, before = 32dc9bb (main before the runtime)
    python bench/runtime_load.py --before 32dc9bb --clients 8 --requests 6 --docs 10 --delay 0.2

The model is a stand-in server (tests/standin_openai.py) that answers every completion after
--delay seconds, so the figures measure judgerank's own concurrency, not a model's speed. Both
servers get the same upstream concurrency (--concurrency) and a fresh judgment store.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from common import free_port, print_table, wait_until_up  # noqa: E402
from helpers.standin_openai import StandinOpenAI  # noqa: E402

from judgerank.backends.base import Backend  # noqa: E402

DOCS = [f"passage {n} about fleas, their eggs, larvae and the time an adult lives" for n in range(50)]

SERVE = r"""
import dataclasses, sys, uvicorn
from judgerank.server.app import ServerConfig, create_app
url, port, cache, concurrency = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
names = {f.name for f in dataclasses.fields(ServerConfig)}
if "base_url" in names:  # the runtime builds the backend from the spec
    config = ServerConfig(model="standin", base_url=url, concurrency=concurrency, method="pointwise", store=cache)
else:  # before the runtime: the caller built the backend
    from judgerank.backends.openai_compat import OpenAICompatBackend
    config = ServerConfig(model="standin", backend=OpenAICompatBackend(url, "standin", concurrency=concurrency),
                          method="pointwise", store=cache)
uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning")
"""


def load(url: str, clients: int, requests: int, docs: int, tag: str) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(c: int) -> None:
        nonlocal errors
        with httpx.Client(timeout=300) as http:
            for r in range(requests):
                body = {"query": f"{tag} client {c} request {r}", "documents": DOCS[:docs]}
                start = time.perf_counter()
                status = http.post(f"{url}/v1/rerank", json=body).status_code
                with lock:
                    latencies.append(time.perf_counter() - start)
                    errors += status != 200

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "errors": errors, "seconds": round(wall, 2),
            "requests/s": round(len(latencies) / wall, 2), "p50 s": round(statistics.median(latencies), 3),
            "p99 s": round(q[98], 3)}


def serve_and_load(src: Path, label: str, upstream: StandinOpenAI, args: argparse.Namespace) -> dict:
    port = free_port()
    cache = Path(tempfile.mkdtemp()) / "judgments.sqlite"
    env = os.environ | {"PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", SERVE, upstream.url, str(port), str(cache), str(args.concurrency)],
                            env=env)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", proc)
        return {"server": label} | load(f"http://127.0.0.1:{port}", args.clients, args.requests, args.docs, label)
    finally:
        proc.terminate()
        proc.wait(10)


def server_part(args: argparse.Namespace) -> None:
    worktree = Path(tempfile.mkdtemp()) / "before"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(worktree), args.before], check=True)
    try:
        with StandinOpenAI(delay=args.delay) as upstream:
            rows = [serve_and_load(worktree / "src", f"before ({args.before})", upstream, args),
                    serve_and_load(ROOT / "src", "after (this tree)", upstream, args)]
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=False)
    print(f"server: {args.clients} clients x {args.requests} requests, {args.docs} documents each, method pointwise, "
          f"model answers after {args.delay:g} s, upstream concurrency {args.concurrency}")
    print_table(rows, ["server", "requests", "errors", "seconds", "requests/s", "p50 s", "p99 s"])
    print(f"throughput after/before: {rows[1]['requests/s'] / rows[0]['requests/s']:.1f}x")


# --- the store ----------------------------------------------------------------------------------

class Echo(Backend):
    identity = "echo"
    concurrent = True

    def iter_choice_logprobs(self, requests):
        from judgerank.backends.base import ChoiceResult

        for i, r in enumerate(requests):
            yield i, ChoiceResult((-float(len(r.messages[0][1])), -1.0), 1, 1)


def write_judgments(path: str, worker: int, n: int, ready: Any, go: Any, batch: int = 25) -> tuple[int, int, float]:
    """Open a runtime on the store, wait for every writer to be ready, then judge n distinct
    requests into it; (calls, errors, seconds spent writing)."""
    from judgerank import Runtime
    from judgerank.backends.base import ChoiceRequest
    from judgerank.core.costs import Ledger
    from judgerank.store.cached import CachedModel

    errors = 0
    with Runtime(store=path, backends={None: Echo()}) as runtime:
        cached = CachedModel(runtime.model, runtime.store, Ledger())
        requests = [ChoiceRequest((("user", f"w{worker} j{k}"),), ("a", "b"), "t") for k in range(n)]
        ready.release()
        go.wait()
        start = time.perf_counter()
        for first in range(0, n, batch):
            try:
                cached.choice_logprobs(requests[first : first + batch])
            except Exception:  # noqa: BLE001 - counted: the figure is "0 errors"
                errors += 1
        return cached.ledger.costs.calls, errors, time.perf_counter() - start


def _process(path: str, worker: int, n: int, ready: Any, go: Any, out: multiprocessing.Queue) -> None:
    out.put(write_judgments(path, worker, n, ready, go))


def _thread(path: str, worker: int, n: int, ready: Any, go: Any, results: list[tuple[int, int, float]]) -> None:
    results.append(write_judgments(path, worker, n, ready, go))


def store_part(args: argparse.Namespace) -> None:
    from judgerank.store import SQLiteStore

    rows = []
    for label, workers, kind in (("1 process", 1, "process"), ("2 processes", 2, "process"),
                                 ("4 processes", 4, "process"), ("8 threads", 8, "thread")):
        path = str(Path(tempfile.mkdtemp()) / "judgments.sqlite")
        if kind == "process":
            ctx = multiprocessing.get_context("spawn")
            ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
            procs = [ctx.Process(target=_process, args=(path, w, args.judgments, ready, go, out)) for w in range(workers)]
            for p in procs:
                p.start()
            for _ in procs:
                ready.acquire()
            go.set()
            results = [out.get() for _ in procs]
            for p in procs:
                p.join()
        else:
            tready, tgo = threading.Semaphore(0), threading.Event()
            results = []
            threads = [threading.Thread(target=_thread, args=(path, w, args.judgments, tready, tgo, results))
                       for w in range(workers)]
            for t in threads:
                t.start()
            for _ in threads:
                tready.acquire()
            tgo.set()
            for t in threads:
                t.join()
        wall = max(r[2] for r in results)  # from the common start to the last writer's finish
        with SQLiteStore(path) as store:
            stored = len(store)
        calls = sum(r[0] for r in results)
        rows.append({"writers": label, "judgments": calls, "stored": stored, "errors": sum(r[1] for r in results),
                     "seconds": round(wall, 2), "judgments/s": round(calls / wall)})
    print(f"store: each writer judges {args.judgments} distinct judgments in batches of 25, one commit per judgment;"
          " seconds from a common start, after every writer has opened the store")
    print_table(rows, ["writers", "judgments", "stored", "errors", "seconds", "judgments/s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="32dc9bb",
                        help="git revision to compare the server against (default: the last main before the runtime)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=6, help="requests per client")
    parser.add_argument("--docs", type=int, default=10, help="documents per request")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the stand-in model takes per completion")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight to the model server")
    parser.add_argument("--judgments", type=int, default=2000, help="store: judgments per writer")
    parser.add_argument("--part", choices=["server", "store", "both"], default="both")
    args = parser.parse_args()
    if args.part in ("server", "both"):
        server_part(args)
    if args.part in ("store", "both"):
        store_part(args)


if __name__ == "__main__":
    main()
