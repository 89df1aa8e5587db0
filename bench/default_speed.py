"""How fast the default answers, before and after, side by side in one run on this machine.

"before" is a git revision checked out in a worktree (default: the commit before the embedding
moved to ONNX Runtime), "after" is this working tree; both run as whole processes on the same
Python environment, each with its own empty JUDGERANK_HOME. For each: wall seconds, CPU seconds
and peak memory (the process's max RSS), the median of --repeat runs:

- `python -c "import judgerank"` and `judgerank --version`;
- the README's first command (the default rerank of examples/flea.jsonl): first ever (an empty
  home: for "after" this builds the ONNX graph once), cold (an empty judgment store, models in
  place) and warm (every judgment and vector stored);
- the default on all 43 DL19 queries and on the 300 SciFact test queries (BM25 top 100): seconds a
  query and nDCG@10, cold and warm;
- `serve`: p50 and p99 latency of /v1/rerank with 100 DL19 passages, 4 concurrent clients, on
  queries whose passages the store has not seen (cold) and has (warm).

    python bench/default_speed.py                    # everything (about an hour on 2 cores)
    python bench/default_speed.py --skip scifact     # leave out a part
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import DL19, free_port, require
from fusion_calibration import SCIFACT, scifact_requests

from judgerank.io.trec import read_qrels, read_run_with_tag
from judgerank.rerank.evaluate import evaluate
from judgerank.rerank.files import read_requests

ROOT = Path(__file__).resolve().parents[1]
FLEA = ["rerank", "--query", "how long is the life cycle of a flea", "--docs", str(ROOT / "examples" / "flea.jsonl")]


class Version:
    """One version of judgerank: its source folder and its own home (store and models)."""

    def __init__(self, name: str, src: Path, scratch: Path) -> None:
        self.name, self.src = name, src
        self.home = scratch / name

    def command(self, args: list[str]) -> list[str]:
        boot = f"import sys; sys.path.insert(0, {str(self.src)!r}); sys.argv[0] = 'judgerank'; " \
               "from judgerank.cli import main; main()"
        return [sys.executable, "-c", boot, *args]

    def run(self, args: list[str], home: Path | None = None) -> dict[str, float]:
        """One whole process: wall and CPU seconds, peak memory (MiB); fails loudly."""
        env = {**os.environ, "JUDGERANK_HOME": str(home or self.home), "PYTHONPATH": str(self.src)}
        start = time.perf_counter()
        process = subprocess.Popen(self.command(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        assert process.stderr is not None
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"{self.name}: {' '.join(args[:3])} failed: {stderr.decode()[-500:]}")
        return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "mib": usage.ru_maxrss / 1024}

    def python(self, code: str) -> dict[str, float]:
        start = time.perf_counter()
        env = {**os.environ, "JUDGERANK_HOME": str(self.home), "PYTHONPATH": str(self.src)}
        process = subprocess.Popen([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(self.src)!r}); {code}"],
                                   env=env)
        _, status, usage = os.wait4(process.pid, 0)
        assert status == 0
        return {"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
                "mib": usage.ru_maxrss / 1024}


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def row(what: str, version: str, figures: dict[str, float], **more: object) -> dict[str, object]:
    return {"what": what, "version": version, "wall s": round(figures["wall"], 3), "cpu s": round(figures["cpu"], 3),
            "peak MiB": round(figures["mib"]), **more}


def processes(versions: list[Version], repeat: int) -> list[dict[str, object]]:
    rows = []
    for v in versions:
        rows.append(row("import judgerank", v.name, median([v.python("import judgerank") for _ in range(repeat)])))
        rows.append(row("judgerank --version", v.name, median([v.run(["--version"]) for _ in range(repeat)])))
        first = v.run(FLEA, home=v.home / "first")  # nothing in place: models built or assembled now
        rows.append(row("README's first command, first ever", v.name, first))
        v.run(FLEA)  # the models in place in v.home
        cold = []
        for n in range(repeat):
            fresh = v.home / f"cold{n}"
            fresh.mkdir(parents=True, exist_ok=True)
            for folder in ("models", "onnx"):  # assembled GGUFs, the built embedding graph
                if (v.home / folder).exists() and not (fresh / folder).exists():
                    (fresh / folder).symlink_to(v.home / folder)
            cold.append(v.run(FLEA, home=fresh))
        rows.append(row("README's first command, cold store", v.name, median(cold)))
        rows.append(row("README's first command, warm", v.name, median([v.run(FLEA) for _ in range(repeat)])))
    return rows


def collection(versions: list[Version], name: str, requests_file: Path, qrels: dict, queries: int,
               scratch: Path) -> list[dict[str, object]]:
    rows = []
    for v in versions:
        for state in ("cold", "warm"):
            out = scratch / f"{v.name}-{name}-{state}.trec"
            out.unlink(missing_ok=True)
            figures = v.run(["rerank", "-i", str(requests_file), "--out", str(out)], home=v.home / name)
            run, _ = read_run_with_tag(out)
            ndcg = evaluate(run, qrels, ["ndcg@10"]).mean["ndcg@10"]
            rows.append(row(f"default on {name} ({queries} queries), {state}", v.name, figures,
                            **{"s/query": round(figures["wall"] / queries, 3), "nDCG@10": round(ndcg, 4)}))
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _timed_post(url: str, body: dict) -> float:
    start = time.perf_counter()
    reply = httpx.post(url, json=body, timeout=600)
    assert reply.status_code == 200, reply.text
    return time.perf_counter() - start


def serving(versions: list[Version], scratch: Path, clients: int = 4, per_client: int = 10) -> list[dict[str, object]]:
    requests = read_requests(require(DL19 / "bm25_top100_dl19.json"))
    rows = []
    for v in versions:
        port = free_port()
        env = {**os.environ, "JUDGERANK_HOME": str(v.home / "serve"), "PYTHONPATH": str(v.src)}
        server = subprocess.Popen(v.command(["serve", "--port", str(port)]), env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            started = time.perf_counter()
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
                if server.poll() is not None or time.perf_counter() - started > 300:
                    raise SystemExit(f"{v.name}: serve did not start")
            ready = time.perf_counter() - started
            bodies = [{"query": r.query.text, "documents": [i.text for i in r.items[:100]]}
                      for r in requests[: clients * per_client]]
            url = f"http://127.0.0.1:{port}/v1/rerank"
            for state in ("cold", "warm"):
                with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                    latencies = sorted(pool.map(_timed_post, [url] * len(bodies), bodies))
                p50 = latencies[len(latencies) // 2]
                p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
                rows.append({"what": f"serve /v1/rerank, 100 passages, {clients} clients, {state}", "version": v.name,
                             "p50 s": round(p50, 3), "p99 s": round(p99, 3), "ready s": round(ready, 1)})
                print(rows[-1], file=sys.stderr, flush=True)
        finally:
            server.terminate()
            server.wait()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", default="1307974", help="the git revision measured as 'before' (main before the ONNX embedding)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip", default="", help="comma-separated: processes, dl19, scifact, serve")
    ap.add_argument("--out", default=str(ROOT / "bench" / "kept" / "default_speed.json"))
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    scratch = Path(tempfile.mkdtemp(prefix="judgerank-speed-"))
    worktree = scratch / "before-src"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), args.before], check=True,
                   capture_output=True)
    versions = [Version("before", worktree / "src", scratch), Version("after", ROOT / "src", scratch)]
    rows: list[dict[str, object]] = []
    try:
        if "processes" not in skip:
            rows += processes(versions, args.repeat)
        if "dl19" not in skip:
            dl19 = require(DL19 / "bm25_top100_dl19.json")
            rows += collection(versions, "DL19", dl19, read_qrels(DL19 / "qrels.dl19-passage.txt"), 43, scratch)
        if "scifact" not in skip:
            qrels = read_qrels(SCIFACT / "anserini_qrels.beir-v1.0.0-scifact.test.txt")
            found = [r for r in scifact_requests() if r.query.id in qrels]
            path = scratch / "scifact.jsonl"
            path.write_text("".join(json.dumps({"query_id": r.query.id, "query": r.query.text, "candidates": [
                {"id": i.id, "text": i.text} for i in r.items]}) + "\n" for r in found))
            rows += collection(versions, "SciFact", path, qrels, len(found), scratch)
        if "serve" not in skip:
            rows += serving(versions, scratch)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], capture_output=True)
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    for r in rows:
        print(json.dumps(r))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
