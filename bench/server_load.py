"""Load on `judgerank serve` over loopback: N concurrent clients on /v1/rerank, embedded model.

Starts the service (its own empty cache), sends --requests DL19 queries with their BM25 top
--docs passages from --clients concurrent clients, twice: a cold pass (every judgment computed)
and a warm pass (the same requests, served from the shared cache). Prints throughput, p50/p99
latency and errors for each, and the cold/warm latency ratio.

    python bench/server_load.py --clients 4 --requests 16 --docs 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from common import DL19, free_port, require, wait_until_up


async def one_pass(url: str, bodies: list[dict], clients: int, timeout: float) -> tuple[list[float], int, float, int]:
    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors = 0
    calls = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors, calls
        while not queue.empty():
            body = queue.get_nowait()
            start = time.perf_counter()
            try:
                reply = await http.post(f"{url}/v1/rerank", json=body)
                ok = reply.status_code == 200
                if ok:
                    calls += reply.json()["meta"]["judgerank"]["costs"]["calls"]
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok

    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=timeout) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies, errors, time.perf_counter() - start, calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--requests", type=int, default=16, help="distinct DL19 queries (at most 43)")
    ap.add_argument("--docs", type=int, default=20, help="BM25 top passages per request")
    ap.add_argument("--method", default="pointwise")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    topics = json.loads(require(DL19 / "bm25_top100_dl19.json").read_text())[: args.requests]
    bodies = [
        {"query": t["query"], "documents": [h["content"] for h in t["hits"][: args.docs]], "top_n": 10, "method": args.method}
        for t in topics
    ]
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, JUDGERANK_HOME=tmp)
        server = subprocess.Popen(
            [sys.executable, "-m", "judgerank", "serve", "--port", str(port), "--cache", str(Path(tmp) / "cache.sqlite")],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{url}/healthz", server)
            # load the model before timing: one request on other text
            httpx.post(f"{url}/v1/rerank", json={"query": "warm up", "documents": ["a", "b"], "method": args.method}, timeout=120)
            rows = {}
            for name in ("cold", "warm"):
                latencies, errors, seconds, calls = asyncio.run(one_pass(url, bodies, args.clients, args.timeout))
                rows[name] = latencies
                print(f"{name}: {len(bodies)} requests x {args.docs} docs, {args.clients} clients: "
                      f"{len(bodies) / seconds:.3f} req/s, p50 {np.percentile(latencies, 50):.3f} s, "
                      f"p99 {np.percentile(latencies, 99):.3f} s, errors {errors}, LLM calls {calls}, {seconds:.1f} s")
            ratio = np.median(rows["cold"]) / np.median(rows["warm"])
            print(f"cold/warm median latency ratio: {ratio:.0f}x (method {args.method}, embedded SmolLM2-135M)")
            metrics = httpx.get(f"{url}/metrics").text
            wanted = ("judgerank_llm_calls_total", "judgerank_cache_hits_total")
            print("\n".join(line for line in metrics.splitlines() if line.startswith(wanted)))
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
