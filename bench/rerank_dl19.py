"""Rerank TREC DL19 (43 queries, BM25 top-100) and print nDCG@10 and costs per method.

    python bench/rerank_dl19.py --method pointwise --model smollm2-135m --depth 20
    python bench/rerank_dl19.py --method bm25          # the input order, no model

Each run uses a fresh judgment cache (so calls and tokens are the true cost) unless --cache is
given; --rerun ranks everything a second time to show that it is served from the cache.
Results are also appended as JSON lines to --log. Each query's ranking, with its costs, is written
to --save as it finishes; --resume keeps the queries already there (their costs as measured then)
and ranks only the rest, so a long run can be spread over several sittings with each query timed
once, uncached.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, reopen_kept, require  # noqa: E402

from judgerank import Reranker  # noqa: E402
from judgerank.core.costs import Costs  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.rerank.evaluate import evaluate  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402
from judgerank.runtime import Runtime  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", required=True, help="a judgerank method, or bm25 for the input order")
    ap.add_argument("--model", default=None)
    ap.add_argument("--depth", type=int, default=None, help="rerank only the BM25 top N")
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--prior", default="input", help="active: input or pointwise")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    ap.add_argument("--then", default="pointwise")
    ap.add_argument("--cascade-depth", type=int, default=20)
    ap.add_argument("--fuse", action="store_true", help="cascade: rank fusion of both stages")
    ap.add_argument("--insert-scores", action="store_true", help="listwise, first: show BM25 scores (InsertRank)")
    ap.add_argument("--window", type=int, default=20, help="listwise, first: window")
    ap.add_argument("--context", type=int, default=None, help="longest prompt of a local model, in tokens")
    ap.add_argument("--queries", type=int, default=None, help="only the first N queries (file order)")
    ap.add_argument("--cache", default=None, help="judgment cache to use (default: a fresh temporary one)")
    ap.add_argument("--rerun", action="store_true", help="rank a second time, from the cache")
    ap.add_argument("--log", default="bench/out/rerank_dl19.jsonl")
    ap.add_argument("--save", default="bench/out/runs", help="folder for each run's rankings as JSON lines")
    ap.add_argument("--resume", action="store_true",
                    help="keep the queries already in this run's --save file and rank only the rest")
    args = ap.parse_args()

    requests = read_requests(require(DL19 / "bm25_top100_dl19.json"))[: args.queries]
    qrels = read_qrels(DL19 / "qrels.dl19-passage.txt")
    cache = args.cache or str(Path(tempfile.mkdtemp()) / "judgments.sqlite")
    label = args.method if args.method != "cascade" else (
        f"cascade(embedding>{args.then}@{args.cascade_depth}{',fused' if args.fuse else ''})")
    label += "+insertrank" if args.insert_scores else ""

    needs: frozenset[str] = frozenset()
    if args.method == "bm25":
        run = {r.query.id: {i.id: float(len(r.items) - n) for n, i in enumerate(r.items)} for r in requests}
        passes = [("first", run, Costs(), 0.0)]
    else:
        t0 = time.perf_counter()
        reranker = Reranker(
            args.method, args.model, top_k=args.top_k, depth=args.depth, then=args.then,
            cascade_depth=args.cascade_depth, fuse=args.fuse, prior=args.prior, insert_scores=args.insert_scores,
            window=args.window, runtime=Runtime(store=cache, threads=args.threads, context=args.context),
        )
        # the models load before the clock starts: s/query is ranking time, load_s the loading
        needs = reranker.method.requirements(reranker.options, reranker.runtime.model_label(args.model))
        if needs & {"choices", "generate"}:
            reranker.runtime.model(args.model)
        if "attention" in needs:
            reranker.runtime.attention(args.model)
        if "embedding" in needs:
            reranker.runtime.embedding()
        load_s = time.perf_counter() - t0
        passes = []
        save = Path(args.save) / f"{label}-{args.model or 'default'}-d{args.depth or 100}-k{args.top_k}.jsonl"
        save.parent.mkdir(parents=True, exist_ok=True)
        kept = {}
        if args.resume and save.exists():
            for line in save.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # the line a stopped run was writing
                    continue
                kept[row["query_id"]] = row
            print(f"resuming: {len(kept)} of {len(requests)} queries kept from {save}", file=sys.stderr)
        for name in ("first", "rerun") if args.rerun else ("first",):
            run, total = {}, Costs()
            saved = reopen_kept(save, [kept[r.query.id] for r in requests if r.query.id in kept]) if name == "first" else None
            for n, request in enumerate(requests, 1):
                if name == "first" and request.query.id in kept:
                    row = kept[request.query.id]
                    total.add(Costs(**row["costs"]))
                    ids = [r["id"] for r in row["ranking"]]
                    run[request.query.id] = {d: float(len(ids) - k) for k, d in enumerate(ids)}
                    continue
                ranking = reranker.rank(request.query, request.items)
                total.add(ranking.costs)
                if saved:
                    saved.write(json.dumps(ranking.as_dict()) + "\n")
                    saved.flush()  # a stopped run keeps every finished query for --resume
                run[request.query.id] = {d: float(len(ranking.ids) - k) for k, d in enumerate(ranking.ids)}
                print(f"  [{name}] {n}/{len(requests)} q{request.query.id}: {ranking.costs.calls} calls, "
                      f"{ranking.costs.seconds:.1f} s", file=sys.stderr, flush=True)
            if saved:
                saved.close()
            passes.append((name, run, total, load_s))

    rows = []
    for name, run, total, load_s in passes:
        ev = evaluate(run, qrels, ["ndcg@10"])
        nq = len(requests)
        rows.append({
            "method": label, "model": args.model or ("-" if args.method in ("bm25", "embedding") else "smollm2-135m"),
            "depth": args.depth or 100, "pass": name, "queries": nq, "ndcg@10": f"{ev.mean['ndcg@10']:.4f}",
            "calls": total.calls, "passes": total.calls * (2 if "attention" in needs else 1),
            "rounds": total.rounds, "implied": total.implied,
            "prompt_tokens": total.prompt_tokens, "evaluated_tokens": total.evaluated_tokens,
            "PFLOPs/query": f"{total.flops / nq / 1e15:.4f}",
            "cache_hits": total.cache_hits, "embedded": total.embedded_texts,
            "s/query": f"{total.seconds / nq:.2f}", "load_s": f"{load_s:.1f}",
            "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        })
    print_table(rows, list(rows[0]))
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    with open(args.log, "a") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
