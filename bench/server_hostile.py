"""`judgerank serve` (embedded SmolLM2, pointwise, default limits) under hostile clients, on loopback.

    python bench/server_hostile.py                  # every case (a few minutes)
    python bench/server_hostile.py --flood 40       # slow requests one key sends at once

Each case is reported as what it did to the server (its resident memory before and after, from
/proc) and what a well-behaved client then sees:
- big plans: /v1/judge with 1,000 short responses (allpairs), three at once; /v1/rerank allpairs
  over 1,000 passages; both refused (422) before anything is built, so memory stays put;
- stalled bodies: 50 clients with the API key send 3.9 MB of a 4 MB body and stall (as many as
  fit the key's half of the body buffer, 16 x 4 MB, are held until --body-timeout, then 408; the
  rest get 503 at once), and 50 without a key (401 on the headers, nothing read); meanwhile a
  request with another key;
- stalled heads: 300 connections send half a request head and stall (closed at --header-timeout);
- flood: one key sends --flood uncached 20-passage requests (each gives up after --patience s);
  meanwhile /healthz and a request the store holds whole are timed 50 times each (p50, p99);
- disconnect: a client gives up on a 100-passage request after 1 s; the next small request;
- big body, lone surrogate, the key followed by a no-break space.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from common import DL19, free_port, print_table, require, wait_until_up

KEY = "bench-key"
OTHER = "other-key"  # a second client, served while the first misbehaves


def passages(n: int) -> list[str]:
    data = json.loads(require(DL19 / "bm25_top100_dl19.json").read_text())
    return [h["content"] for q in data for h in q["hits"]][:n]


def timed(call) -> tuple[float, int | str]:
    start = time.perf_counter()
    try:
        status: int | str = call().status_code
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return time.perf_counter() - start, status


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def still_open(sockets: list[socket.socket]) -> int:
    """How many of the sockets the server still holds open (it may have answered on them)."""
    count = 0
    for s in sockets:
        s.setblocking(False)
        try:
            while s.recv(65536):  # an answer (401, 408): read past it to see whether it closed
                pass
        except BlockingIOError:
            count += 1  # nothing more to read, and not closed
        except OSError:
            pass  # reset: closed
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flood", type=int, default=40, help="slow uncached requests one key sends at once")
    ap.add_argument("--patience", type=float, default=20.0, help="seconds a flooding client waits")
    args = ap.parse_args()
    texts = passages(2000)
    auth = {"Authorization": f"Bearer {KEY}"}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(os.environ, JUDGERANK_HOME=tmp, JUDGERANK_API_KEYS=f"{KEY},{OTHER}")
        server = subprocess.Popen(
            [sys.executable, "-m", "judgerank", "serve", "--port", str(port), "--method", "pointwise",
             "--store", str(Path(tmp) / "store.sqlite")], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        pid = server.pid

        def row(case: str, status: object, seconds: float | str, before: float | None = None) -> None:
            after = rss_mb(pid)
            grew = "" if before is None else f"{after - before:+.0f}"
            rows.append({"case": case, "status": status,
                         "seconds": seconds if isinstance(seconds, str) else f"{seconds:.3f}",
                         "RSS MB": f"{after:.0f}", "grew MB": grew})

        try:
            wait_until_up(f"{url}/healthz", server, timeout=300)
            cached = {"query": "how long does a flea live", "documents": texts[:20]}
            httpx.post(f"{url}/v1/rerank", json=cached, headers=auth, timeout=600)
            row("start, one request answered", 200, "-")

            # big plans, refused before anything is built
            start_rss = rss_mb(pid)
            short = [f"response {n}: fleas live {n % 7} weeks" for n in range(1000)]
            body = {"prompt": "how long do fleas live", "responses": short}
            results: list[tuple[float, int | str]] = []
            three = [threading.Thread(target=lambda: results.append(timed(lambda: httpx.post(
                f"{url}/v1/judge", json=body, headers=auth, timeout=600))))
                for _ in range(3)]
            for t in three:
                t.start()
            for t in three:
                t.join()
            row("judge: 1,000 responses, allpairs, 3 at once", sorted({str(s) for _, s in results}),
                max(s for s, _ in results), start_rss)
            before = rss_mb(pid)
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", headers=auth, timeout=600, json={
                "query": "flea", "documents": texts[:1000], "method": "allpairs"}))
            row("rerank: allpairs over 1,000 passages", status, seconds, before)

            # stalled bodies: with the key (held to --body-timeout), without (401 on the headers)
            before = rss_mb(pid)
            stalled, started = [], time.perf_counter()
            chunk = b"x" * 3_900_000
            for n in range(100):
                s = socket.create_connection(("127.0.0.1", port))
                key = f"Authorization: Bearer {KEY}\r\n".encode() if n < 50 else b""
                s.sendall(b"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + key
                          + b"Content-Length: 4000000\r\n\r\n")
                try:
                    s.sendall(chunk)
                except OSError:
                    pass  # refused on its headers: the server closed before reading the body
                stalled.append(s)
            time.sleep(2)
            row("100 stalled bodies (3.9 MB of 4 MB; 50 keyed, 50 not): held", f"{still_open(stalled)} open",
                time.perf_counter() - started, before)
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=cached, timeout=60,
                                                       headers={"Authorization": f"Bearer {OTHER}"}))
            row("meanwhile, another key's stored request", status, seconds, before)
            time.sleep(31)
            row("the same, after the 30 s body timeout", f"{still_open(stalled)} open",
                time.perf_counter() - started, before)
            for s in stalled:
                s.close()

            # stalled heads
            before = rss_mb(pid)
            heads, started = [], time.perf_counter()
            for _ in range(300):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"POST /v1/rerank HTTP/1.1\r\nHost: x\r\n")
                heads.append(s)
            seconds, status = timed(lambda: httpx.get(f"{url}/healthz", timeout=60))
            row("300 stalled heads: /healthz meanwhile", status, seconds, before)
            time.sleep(11)
            row("the same, after the 10 s header timeout", f"{still_open(heads)} open",
                time.perf_counter() - started, before)
            for s in heads:
                s.close()

            # a flood of slow requests from one key
            before = rss_mb(pid)

            def wait_for_model(n: int) -> None:
                body = {"query": f"flood query {n}", "documents": texts[20 * n + 40 : 20 * n + 60]}
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
                ("stored request, same key", lambda: httpx.post(f"{url}/v1/rerank", json=cached, headers=auth,
                                                                timeout=120)),
            ):
                samples = [timed(call) for _ in range(50)]
                seconds = np.array([s for s, _ in samples])
                statuses = sorted({str(s) for _, s in samples})
                row(f"flood of {args.flood} from one key: {name}, p50 / p99", statuses,
                    f"{np.percentile(seconds, 50):.3f} / {np.percentile(seconds, 99):.3f}", before)
            for t in flood:
                t.join()
            time.sleep(2)  # the flood's clients are gone: their work should be too
            row("flood over", "-", "-", before)

            # disconnect: first the same size of request on a server with nothing else to do
            idle = {"query": "what do fleas eat", "documents": texts[1300:1304]}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=idle, headers=auth, timeout=300))
            row("4 uncached passages, idle server", status, seconds)
            big = {"query": "what is the life cycle of a flea", "documents": texts[1000:1100]}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=big, headers=auth, timeout=1))
            row("client gives up on 100 passages", status, seconds)
            small = {"query": "what is a flea", "documents": texts[1200:1204]}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=small, headers=auth, timeout=300))
            row("next request (4 uncached passages)", status, seconds)

            # big body, lone surrogate, key with a no-break space
            huge = {"query": "q", "documents": ["x" * 20_000] * 1000}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=huge, headers=auth, timeout=300))
            row("20 MB body", status, seconds)
            raw = b'{"query": "fleas \\ud800", "documents": ["a", "b"]}'
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", content=raw, timeout=60,
                                                       headers={**auth, "content-type": "application/json"}))
            row("lone surrogate in the query", status, seconds)
            nbsp = {b"Authorization": f"Bearer {KEY}".encode() + b"\xc2\xa0"}
            seconds, status = timed(lambda: httpx.post(f"{url}/v1/rerank", json=small, headers=nbsp, timeout=60))
            row("API key + no-break space", status, seconds)
        finally:
            server.terminate()
            server.wait(30)
    print_table(rows, ["case", "status", "seconds", "RSS MB", "grew MB"])


if __name__ == "__main__":
    main()
