"""judgerank's rerankers side by side with the peer implementations a user would pick instead, on the same
model, server and candidates: TREC DL19, BM25 candidates, one llama_cpp.server, every implementation
talking to it through one counting proxy (bench/usage_proxy.py), so calls and tokens are counted alike.

    bash bench/peers/setup.sh                       # once: rank-llm and llm-rankers in bench/.peers
    python bench/rerank_peers.py --queries 6 --depth 20
    python bench/rerank_peers.py --methods first,rank-llm --queries 2 --depth 40

Peers: rank-llm 0.25.7 RankGPT (SafeOpenai: multi-turn prompt, generated permutation, sliding windows of
--window with --stride) and llm-rankers 0.0.2 setwise and pairwise (OpenAI rankers, heap sort of the top
--top-k, setwise over 3 children plus the parent). Ours run with a fresh judgment cache each, one request
at a time (the server runs one at a time anyway). Seconds are wall time per query, model load excluded.
Rows are also appended to --log; each method's rankings go to bench/out/peers/.

With --resume, every method runs one query at a time (a peer's runner starts once per query; its start
is not counted) and each finished query is kept in bench/kept/peers/ with its seconds, calls and
tokens; a later run with --resume ranks only the queries missing there, so a table too long for one
sitting is measured once per query. bench/kept/ is committed, unlike bench/out/: a fresh checkout
loses ignored files, and a table measured over several sittings must outlive them. --shard I/N
runs every Nth query from the Ith (0-based) and keeps them in a file of its own, so N processes
can share a method's queries; --report and later runs read every shard's file. --report runs
nothing and prints the table of what is kept, over the queries every listed method has finished.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, free_port, llama_server, print_table, reopen_kept, require  # noqa: E402
from usage_proxy import UsageProxy  # noqa: E402

from judgerank import Reranker  # noqa: E402
from judgerank.backends.models import resolve_gguf  # noqa: E402
from judgerank.backends.openai_compat import OpenAICompatBackend  # noqa: E402
from judgerank.core.costs import Budget  # noqa: E402
from judgerank.core.types import Request  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.rerank.evaluate import evaluate  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / ".peers"

# name: Reranker keyword arguments (ours), or the peer runner and its job fields
OURS = {
    "pointwise": {"method": "pointwise"},
    "pairwise-heap": {"method": "pairwise-heap"},
    "listwise": {"method": "listwise"},
    "first": {"method": "first"},
    "first-psc": {"method": "first-psc"},
    "setwise-heap": {"method": "setwise-heap"},
    "active": {"method": "active"},
    "realm": {"method": "realm"},
    "jointrank": {"method": "jointrank"},
    "embedding": {"method": "embedding"},  # all-MiniLM-L6-v2 alone: no LLM
    "cascade": {"method": "cascade"},  # the default: embedding, then pointwise on the top 20, fused
    "cascade-first": {"method": "cascade", "then": "first"},
}
PEER = {
    "rank-llm": ("rank-llm", "run_rank_llm.py", {}),
    "llm-rankers-setwise": ("llm-rankers", "run_llm_rankers.py", {"peer_method": "setwise", "num_child": 3}),
    "llm-rankers-pairwise": ("llm-rankers", "run_llm_rankers.py", {"peer_method": "pairwise"}),
}
DEFAULT = "bm25,pointwise,first,listwise,jointrank,setwise-heap,rank-llm,llm-rankers-setwise"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=DEFAULT, help=f"comma-separated, from bm25, {', '.join([*OURS, *PEER])}")
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--queries", type=int, default=None, help="only the first N queries (file order)")
    ap.add_argument("--depth", type=int, default=100, help="rerank the BM25 top N")
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--window", type=int, default=20)
    ap.add_argument("--stride", type=int, default=10)
    ap.add_argument("--replicas", type=int, default=3, help="JointRank: blocks each item appears in")
    ap.add_argument("--block", type=int, default=None, help="JointRank block size (default: --window)")
    ap.add_argument("--cascade-depth", type=int, default=20)
    ap.add_argument("--max-calls", type=int, default=None,
                    help="a budget of LLM calls a query for our methods (anytime ones return their best order "
                         "so far); the peers have none")
    ap.add_argument("--n-ctx", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="the server's llama.cpp threads (its own default is half the cores); kept per query")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per LLM request, for every implementation")
    ap.add_argument("--log", default="bench/out/rerank_peers.jsonl")
    ap.add_argument("--resume", action="store_true",
                    help="keep each query already measured in bench/kept/peers/ and measure only the rest")
    ap.add_argument("--shard", default=None, metavar="I/N",
                    help="with --resume: only every Nth query from the Ith (0-based), kept in the shard's own file")
    ap.add_argument("--report", action="store_true",
                    help="run nothing: the table of what --resume runs kept, over the queries every method finished; "
                         "--methods may name runs by their kept labels (cascade@5, active@50calls)")
    args = ap.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m.split("@")[0] not in ("bm25", *OURS, *PEER)]
    if unknown:
        raise SystemExit(f"unknown methods: {', '.join(unknown)}")
    shard = parse_shard(args.shard) if args.shard else None
    if shard and not args.resume:
        raise SystemExit("--shard needs --resume: shards share a method's queries through its kept files")
    labels = [m for m in methods if "@" in m]
    if labels and not args.report:
        raise SystemExit(f"{labels[0]} names a kept run, which only --report reads: set --cascade-depth or --max-calls")
    for m in methods:
        if m in PEER and not (PEERS / PEER[m][0] / "bin" / "python").exists():
            raise SystemExit(f"{m} is not installed: run bash bench/peers/setup.sh")

    dl19 = read_requests(require(DL19 / "bm25_top100_dl19.json"))[: args.queries]
    requests = [Request(r.query, r.items[: args.depth]) for r in dl19]
    qrels = read_qrels(DL19 / "qrels.dl19-passage.txt")
    out_dir = BENCH / "out" / "peers"
    kept_dir = BENCH / "kept" / "peers"  # committed: see the module's note on --resume
    if args.report:
        report(methods, args, requests, qrels, kept_dir)
        return
    gguf = resolve_gguf(args.model)
    (kept_dir if args.resume else out_dir).mkdir(parents=True, exist_ok=True)
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with llama_server(gguf, args.model, args.threads, args.n_ctx) as port, \
            UsageProxy(f"http://127.0.0.1:{port}", free_port(), args.timeout) as proxy:
        for name in methods:
            label = labelled(name, args)
            save = kept_file(kept_dir if args.resume else out_dir, label, args)
            if args.resume:
                rankings, seconds, usage = run_resumable(name, args, requests, proxy, gguf, save, shard)
            else:
                rankings, seconds = run_method(name, args, requests, proxy.url + "/v1", gguf)
                usage = proxy.reset()
                save.write_text("".join(json.dumps({"qid": q, "ranking": r}) + "\n" for q, r in rankings.items()))
            rows.append(table_row(name, label, args, rankings, seconds, usage, qrels, requests))
            print(f"{label}: nDCG@10 {rows[-1]['ndcg@10']}, {rows[-1]['tokens/q']} tokens/q, {rows[-1]['s/q']} s/q",
                  file=sys.stderr, flush=True)
            with open(args.log, "a") as fh:  # row by row: a later method's failure keeps the earlier rows
                fh.write(json.dumps({**rows[-1], "model": args.model}) + "\n")
    if not rows:
        return
    print(f"DL19, first {len(requests)} queries, BM25 top {args.depth}, {args.model} on llama_cpp.server")
    print_table(rows, list(rows[0]))


def table_row(name: str, label: str, args, rankings: dict[str, list[str]], seconds: float, usage: dict,
              qrels: dict, requests: list[Request]) -> dict:
    """One method's row: nDCG@10 of its rankings, how far they moved from BM25's order (mean Kendall
    tau, 1 = BM25's order kept), and its costs a query."""
    run = {q: {d: float(len(r) - k) for k, d in enumerate(r)} for q, r in rankings.items()}
    ndcg = evaluate(run, qrels, ["ndcg@10"]).mean["ndcg@10"]
    first_stage = {r.query.id: [i.id for i in r.items] for r in requests}
    tau = float(np.mean([tau_with(first_stage[q], r) for q, r in rankings.items()]))
    nq = len(rankings)
    tokens = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "method": label, "impl": "-" if name == "bm25" else ("peer" if name in PEER else "judgerank"),
        "queries": nq, "depth": args.depth, "ndcg@10": f"{ndcg:.4f}", "tau_bm25": f"{tau:.3f}",
        "calls/q": f"{usage['calls'] / nq:.1f}", "prompt_tok/q": round(usage["prompt_tokens"] / nq),
        "completion_tok/q": round(usage["completion_tokens"] / nq), "tokens/q": round(tokens / nq),
        "s/q": f"{seconds / nq:.1f}", "threads": args.threads,
    }


def tau_with(first_stage: list[str], ranking: list[str]) -> float:
    """Kendall tau between a ranking and the first stage's order of the same candidates."""
    place = {d: k for k, d in enumerate(first_stage)}
    return float(kendalltau(range(len(ranking)), [place[d] for d in ranking]).statistic)


def report(methods: list[str], args, requests: list[Request], qrels: dict, out_dir: Path) -> None:
    """The table of the queries every method has kept (a --resume run still under way, or
    stopped), so methods that finished different numbers of queries are compared on the same ones."""
    kept, labels = {}, {}
    for name in methods:
        # a label as kept (cascade@5, active@50calls) names its own settings
        label = labels[name] = name if "@" in name else labelled(name, args)
        if name == "bm25":
            kept[name] = {r.query.id: {"ranking": [i.id for i in r.items], "seconds": 0.0, "calls": 0,
                                       "prompt_tokens": 0, "completion_tokens": 0} for r in requests}
        else:
            kept[name] = read_kept(kept_file(out_dir, label, args))
        print(f"{label}: {len(kept[name])} of {len(requests)} queries kept", file=sys.stderr)
    common = [r.query.id for r in requests if all(r.query.id in rows for rows in kept.values())]
    if not common:
        raise SystemExit("no query is kept for every method: run them with --resume first")
    rows = []
    for name in methods:
        mine = [kept[name][q] for q in common]
        usage = {key: sum(row[key] for row in mine) for key in ("calls", "prompt_tokens", "completion_tokens")}
        rankings = {q: row["ranking"] for q, row in zip(common, mine)}
        rows.append(table_row(name.split("@")[0], labels[name], args, rankings,
                              sum(row["seconds"] for row in mine), usage, qrels, requests))
    print(f"DL19, the {len(common)} of the first {len(requests)} queries every method finished, "
          f"BM25 top {args.depth}, {args.model} on llama_cpp.server")
    print_table(rows, list(rows[0]))


def kept_file(out_dir: Path, label: str, args) -> Path:
    """Where --resume keeps a method's finished queries: one file per model, depth and thread count."""
    return out_dir / f"{label}-{args.model}-d{args.depth}-t{args.threads}.jsonl"


def parse_shard(text: str) -> tuple[int, int]:
    """--shard I/N as (I, N), or a one-line usage error."""
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise SystemExit(f"--shard {text}: write it as I/N, e.g. 0/2") from None
    if not 0 <= i < n:
        raise SystemExit(f"--shard {text}: I must be at least 0 and below N")
    return i, n


def shard_file(save: Path, shard: tuple[int, int]) -> Path:
    """The file a shard keeps its queries in, beside the method's own."""
    return save.with_name(f"{save.stem}.{shard[0]}of{shard[1]}.jsonl")


def read_kept(save: Path) -> dict[str, dict]:
    """The finished queries of a --resume run, by query id, from its file and its shards' files."""
    kept = {}
    for path in [save, *sorted(save.parent.glob(f"{save.stem}.*of*.jsonl"))]:
        kept.update(read_kept_file(path))
    return kept


def read_kept_file(path: Path) -> dict[str, dict]:
    """The finished queries in one kept file, by query id."""
    kept = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # the line a stopped run was writing
                continue
            if "seconds" in row:  # rows of a run without --resume carry no costs
                kept[row["qid"]] = row
    return kept


def labelled(name: str, args) -> str:
    """The method's name in the table and in its kept rankings: a cascade's with the depth of its
    LLM stage, and with the budget of calls when there is one, so runs of different settings
    never share a file."""
    label = f"{name}@{args.cascade_depth}" if name.startswith("cascade") else name
    return f"{label}@{args.max_calls}calls" if args.max_calls is not None and name in OURS else label


def run_resumable(name: str, args, requests, proxy, gguf: Path, save: Path,
                  shard: tuple[int, int] | None) -> tuple[dict[str, list[str]], float, dict]:
    """run_method one query at a time, each query's ranking, seconds and usage kept as it finishes, in
    `save` or the shard's own file; the queries already kept (by a stopped run or another shard) are
    not run again."""
    own = shard_file(save, shard) if shard else save
    if shard:
        requests = requests[shard[0]::shard[1]]
    kept = read_kept(save)
    wanted = {r.query.id for r in requests}
    print(f"{name}: {len(wanted & kept.keys())} of {len(requests)} queries kept from {save}", file=sys.stderr, flush=True)
    proxy.reset()
    # only this process's own file is rewritten: another shard may be appending to its own
    with reopen_kept(own, list(read_kept_file(own).values())) as fh:
        for request in requests:
            if request.query.id in kept:
                continue
            rankings, seconds = run_method(name, args, [request], proxy.url + "/v1", gguf)
            row = {"qid": request.query.id, "ranking": rankings[request.query.id], "seconds": seconds, **proxy.reset()}
            kept[request.query.id] = row
            fh.write(json.dumps(row) + "\n")
            fh.flush()
    rows = [kept[r.query.id] for r in requests]
    usage = {key: sum(row[key] for row in rows) for key in ("calls", "prompt_tokens", "completion_tokens")}
    return {row["qid"]: row["ranking"] for row in rows}, sum(row["seconds"] for row in rows), usage


def run_method(name: str, args, requests, base_url: str, gguf: Path) -> tuple[dict[str, list[str]], float]:
    """Each query's ranked ids, and the total wall seconds."""
    if name == "bm25":
        return {r.query.id: [i.id for i in r.items] for r in requests}, 0.0
    if name in PEER:
        return run_peer(name, args, requests, base_url, gguf)
    backend = OpenAICompatBackend(base_url, args.model, concurrency=1, timeout=args.timeout)
    window = args.block if name == "jointrank" and args.block else args.window  # --block sizes JointRank's blocks
    reranker = Reranker(
        **OURS[name], top_k=args.top_k, window=window, stride=args.stride, replicas=args.replicas,
        cascade_depth=args.cascade_depth, store=str(Path(tempfile.mkdtemp()) / "judgments.sqlite"), backend=backend,
        budget=Budget(max_calls=args.max_calls),
    )
    rankings, seconds = {}, 0.0
    try:
        for n, request in enumerate(requests, 1):
            t0 = time.perf_counter()
            ranking = reranker.rank(request.query, request.items)
            seconds += time.perf_counter() - t0
            rankings[request.query.id] = list(ranking.ids)
            print(f"  {name} {n}/{len(requests)} q{request.query.id}: {ranking.costs.calls} calls, "
                  f"{time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    finally:
        backend.close()
    return rankings, seconds


def run_peer(name: str, args, requests, base_url: str, gguf: Path) -> tuple[dict[str, list[str]], float]:
    env, script, fields = PEER[name]
    job = {
        "base_url": base_url, "model": args.model, "gguf": str(gguf), "timeout": args.timeout,
        "context": args.n_ctx, "window": args.window, "stride": args.stride, "top_k": args.top_k, **fields,
        "requests": [{"qid": r.query.id, "query": r.query.text, "docs": [[i.id, i.text] for i in r.items]}
                     for r in requests],
    }
    work = Path(tempfile.mkdtemp())
    (work / "job.json").write_text(json.dumps(job))
    subprocess.run([str(PEERS / env / "bin" / "python"), str(BENCH / "peers" / script), str(work / "job.json"),
                    str(work / "out.jsonl")], check=True)
    lines = [json.loads(line) for line in (work / "out.jsonl").read_text().splitlines()]
    return {x["qid"]: x["ranking"] for x in lines}, sum(x["seconds"] for x in lines)


if __name__ == "__main__":
    main()
