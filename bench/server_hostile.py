"""`judgerank serve` (embedded SmolLM2, pointwise) under hostile clients, on loopback, in bounded loops.

    python bench/server_hostile.py                  # every case
    python bench/server_hostile.py --flood 45       # clients that wait for the model

Cases, each reported as what a well-behaved client then sees:
- flood: --flood clients each send an uncached 20-passage request (and give up after
  --patience s); meanwhile /healthz, /metrics and a request whose judgments are all cached are
  timed;
- disconnect: a client sends a 100-passage request and gives up after 1 s; the next small
  uncached request is timed (it waits for whatever the server still does for the gone client),
  against the same size of request on an idle server;
- big body: 1,000 documents x 20,000 characters (20 MB) with the default limits;
- lone surrogate: a query holding "\\ud800";
- key + no-break space: the right API key followed by U+00A0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import DL19, free_port, print_table, require, wait_until_up

KEY = "bench-key"


def passages(n: int) -> list[str]:
    data = json.loads(require(DL19 / "bm25_top100_dl19.json").read_text())
    return [h["content"] for q in data for h in q["hits"]][:n]


def timed(call) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        status = call().status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return time.perf_counter() - start, status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flood", type=int, default=45, help="clients waiting for the model at once")
    ap.add_argument("--patience", type=float, default=20.0, help="seconds a flooding client waits")
    args = ap.parse_args()
    texts = passages(2000)
    auth = {"Authorization": f"Bearer {KEY}"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(os.environ, JUDGERANK_HOME=tmp, JUDGERANK_API_KEYS=KEY)
        server = subprocess.Popen(
            [sys.executable, "-m", "judgerank", "serve", "--port", str(port), "--method", "pointwise",
             "--cache", str(Path(tmp) / "cache.sqlite")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(f"{url}/healthz", server)
            cached = {"query": "how long does a flea live", "documents": texts[:20]}
            httpx.post(f"{url}/v1/rerank", json=cached, headers=auth, timeout=300)

            # flood
            def wait_for_model(n: int) -> None:
                body = {"query": f"flood query {n}", "documents": texts[20 * n + 20 : 20 * n + 40]}
                try:
                    httpx.post(f"{url}/v1/rerank", json=body, headers=auth, timeout=args.patience)
                except httpx.HTTPError:
                    pass

            flood = [threading.Thread(target=wait_for_model, args=(n,)) for n in range(args.flood)]
            for t in flood:
                t.start()
            time.sleep(3)
            for name, call in (
                ("healthz", lambda: httpx.get(f"{url}/healthz", timeout=120)),
                ("metrics", lambda: httpx.get(f"{url}/metrics", headers=auth, timeout=120)),
                ("cached request", lambda: httpx.post(f"{url}/v1/rerank", json=cached, headers=auth, timeout=300)),
            ):
                seconds, status = timed(call)
                rows.append({"case": f"flood of {args.flood}: {name}", "status": status, "seconds": f"{seconds:.3f}"})
            for t in flood:
                t.join()
            time.sleep(2)  # the flood's clients are gone: their work should be too

            # disconnect: first the same size of request on a server with nothing else to do
            idle = {"query": "what do fleas eat", "documents": texts[1300:1304]}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=idle, headers=auth, timeout=300))
            rows.append({"case": "4 uncached passages, idle server", "status": status, "seconds": f"{seconds:.3f}"})
            big = {"query": "what is the life cycle of a flea", "documents": texts[1000:1100]}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=big, headers=auth, timeout=1))
            rows.append({"case": "client gives up on 100 passages", "status": status, "seconds": f"{seconds:.3f}"})
            small = {"query": "what is a flea", "documents": texts[1200:1204]}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=small, headers=auth, timeout=300))
            rows.append({"case": "next request (4 uncached passages)", "status": status, "seconds": f"{seconds:.3f}"})

            # big body, lone surrogate, key with a no-break space
            huge = {"query": "q", "documents": ["x" * 20_000] * 1000}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=huge, headers=auth, timeout=300))
            rows.append({"case": "20 MB body", "status": status, "seconds": f"{seconds:.3f}"})
            raw = b'{"query": "fleas \\ud800", "documents": ["a", "b"]}'
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", content=raw, timeout=60,
                                                       headers={**auth, "content-type": "application/json"}))
            rows.append({"case": "lone surrogate in the query", "status": status, "seconds": f"{seconds:.3f}"})
            nbsp = {b"Authorization": f"Bearer {KEY}".encode() + b"\xc2\xa0"}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=small, headers=nbsp, timeout=60))
            rows.append({"case": "API key + no-break space", "status": status, "seconds": f"{seconds:.3f}"})
        finally:
            server.terminate()
            server.wait(30)
    print_table(rows, ["case", "status", "seconds"])


if __name__ == "__main__":
    main()
