"""Past one machine: reranking on Ray workers against one process, and the PostgreSQL judgment
store against SQLite.

    python bench/distributed.py --part ray      # DL19, pointwise --depth 20, SmolLM2 (about 30 minutes)
    python bench/distributed.py --part store    # judgments/s written and read, 1 and 4 writers

ray: the 43 DL19 queries, BM25 top-20, pointwise with the embedded SmolLM2-135M, each run on a
fresh, empty store: one process (1 thread, and every core), then Ray on a local cluster with 1
and 2 workers of 1 thread each; then a warm re-run with 2 workers, every judgment from the store,
for Ray's own overhead per query. Seconds include loading the model (and starting the workers).

store: a real PostgreSQL server started in a temporary folder (tests/postgres.py; needs Debian's
postgresql package) and a SQLite file; each writer process commits its judgments one at a time
(as a job does) and then reads them back in batches of 25.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, require  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def rerank(args: argparse.Namespace, store: str, extra: list[str]) -> dict[str, Any]:
    """One `judgerank rerank` run; its wall seconds and LLM calls."""
    out = Path(tempfile.mkdtemp()) / "run.trec"
    command = [sys.executable, "-m", "judgerank", "rerank", "--input", str(require(DL19 / "bm25_top100_dl19.json")),
               "--method", "pointwise", "--depth", str(args.depth), "--store", store, "--out", str(out), *extra]
    if args.limit:
        command += ["--limit", str(args.limit)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    # the totals line ("43 queries: 860 LLM calls, ... 0 cache hits"), not a worker's line
    totals = re.search(r"^\d+ quer(?:y|ies): (\d+) LLM calls.*?(\d+) cache hits", done.stderr, re.M)
    if totals is None:
        raise SystemExit(f"no totals line in:\n{done.stderr}")
    calls, hits = int(totals.group(1)), int(totals.group(2))
    return {"seconds": seconds, "calls": calls, "hits": hits, "run": out.read_text()}


def ray_part(args: argparse.Namespace) -> None:
    rows, runs = [], {}
    queries = args.limit or 43
    for label, extra in (("one process, 1 thread", ["--threads", "1"]),
                         ("one process, 2 threads", ["--threads", "2"]),
                         ("Ray, 1 worker x 1 thread", ["--ray", "local", "--workers", "1", "--threads", "1"]),
                         ("Ray, 2 workers x 1 thread", ["--ray", "local", "--workers", "2", "--threads", "1"])):
        store = str(Path(tempfile.mkdtemp()) / "judgments.sqlite")
        r = rerank(args, store, extra)
        runs[label] = "\n".join(sorted(r["run"].splitlines()))  # Ray writes queries as they finish
        rows.append({"run": label, "seconds": round(r["seconds"], 1), "LLM calls": r["calls"],
                     "judgments/s": round(r["calls"] / r["seconds"], 2)})
        print(rows[-1], file=sys.stderr, flush=True)
        if label.startswith("Ray, 2"):
            warm = rerank(args, store, extra)
            rows.append({"run": "Ray, 2 workers, warm re-run", "seconds": round(warm["seconds"], 1),
                         "LLM calls": warm["calls"], "judgments/s": "-",
                         "ms/query": round(1000 * warm["seconds"] / queries)})
            here = rerank(args, store, ["--threads", "1"])
            rows.append({"run": "one process, warm re-run", "seconds": round(here["seconds"], 1),
                         "LLM calls": here["calls"], "judgments/s": "-", "ms/query": round(1000 * here["seconds"] / queries)})
    base = rows[0]["seconds"]
    for row in rows:
        if row["judgments/s"] != "-":  # the cold runs
            row["vs one process, 1 thread"] = f"{base / row['seconds']:.2f}x"
    same = len(set(runs.values())) == 1
    print(f"DL19 {queries} queries, pointwise --depth {args.depth}, SmolLM2-135M, 2 cores; seconds include model "
          f"loading and worker start; every run gave the same TREC run (lines sorted): {same}")
    print_table(rows, ["run", "seconds", "LLM calls", "judgments/s", "vs one process, 1 thread", "ms/query"])


def _writer(url: str, worker: int, n: int, ready: Any, go: Any, out: Any) -> None:
    from judgerank.store import open_store

    store = open_store(url)
    keys = [f"w{worker}-{k}" for k in range(n)]
    ready.release()
    go.wait()
    start = time.perf_counter()
    for k in keys:
        store.put_many([(k, {"logprobs": [-0.1, -2.3], "tokens": 120})])  # one commit per judgment, as a job does
    wrote = time.perf_counter() - start
    start = time.perf_counter()
    found = sum(len(store.get_many(keys[i : i + 25])) for i in range(0, n, 25))
    read = time.perf_counter() - start
    store.close()
    out.put((wrote, read, found))


def store_rates(url: str, writers: int, n: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, w, n, ready, go, out)) for w in range(writers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    go.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    total = writers * n
    assert sum(r[2] for r in results) == total
    return {"written/s": round(total / max(r[0] for r in results)), "read/s": round(total / max(r[1] for r in results))}


def store_part(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.postgres import PostgresServer

    server = PostgresServer()
    url = server.start()
    rows = []
    try:
        import psycopg

        for writers in (1, 4):
            with psycopg.connect(server.url("postgres"), autocommit=True) as db:
                db.execute(f"DROP DATABASE IF EXISTS bench{writers}")
                db.execute(f"CREATE DATABASE bench{writers}")
            pg = store_rates(server.url(f"bench{writers}"), writers, args.judgments)
            lite = store_rates(str(Path(tempfile.mkdtemp()) / "judgments.sqlite"), writers, args.judgments)
            rows.append({"writers": writers, "store": "PostgreSQL", **pg})
            rows.append({"writers": writers, "store": "SQLite", **lite})
    finally:
        server.stop()
    print(f"each writer process commits {args.judgments} judgments one at a time, then reads them back 25 a query; "
          f"PostgreSQL 15 on loopback (fsync off in this test server; {url.split('@')[1]}), SQLite in WAL mode")
    print_table(rows, ["writers", "store", "written/s", "read/s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["ray", "store"], required=True)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--limit", type=int, default=None, help="the first N queries (default: all 43)")
    ap.add_argument("--judgments", type=int, default=2000, help="store: judgments per writer")
    args = ap.parse_args()
    ray_part(args) if args.part == "ray" else store_part(args)


if __name__ == "__main__":
    main()
