"""nDCG@10 of judgerank methods on TREC DL19 and BEIR SciFact (BM25 top-100 candidates each), with
their costs: the figures behind the default's choice (docs/benchmarks/rerank.md).

    python bench/rerank_default.py                          # cascade (the default) and embedding
    python bench/rerank_default.py --methods cascade --model qwen2.5-coder-0.5b --sets dl19

One process and one judgment store (--cache): the embedding model keeps passage vectors in
memory, so the second method does not encode the corpus again.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, require  # noqa: E402
from fusion_calibration import SCIFACT, scifact_requests  # noqa: E402

from judgerank import Reranker, Runtime  # noqa: E402
from judgerank.core.costs import Costs  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.rerank.evaluate import evaluate  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default="cascade,embedding")
    ap.add_argument("--model", default=None, help="the LLM (default: the embedded SmolLM2-135M)")
    ap.add_argument("--sets", default="dl19,scifact")
    ap.add_argument("--cache", default="bench/out/default.sqlite")
    args = ap.parse_args()
    loaders = {
        "dl19": lambda: (read_requests(require(DL19 / "bm25_top100_dl19.json")), read_qrels(DL19 / "qrels.dl19-passage.txt")),
        "scifact": lambda: (scifact_requests(), read_qrels(SCIFACT / "anserini_qrels.beir-v1.0.0-scifact.test.txt")),
    }
    rows = []
    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    with Runtime(store=args.cache) as runtime:
        for name in args.sets.split(","):
            requests, qrels = loaders[name]()
            requests = [r for r in requests if r.query.id in qrels]
            bm25 = {r.query.id: {i.id: float(len(r.items) - k) for k, i in enumerate(r.items)} for r in requests}
            bm25_ndcg = evaluate(bm25, qrels, ["ndcg@10"]).mean["ndcg@10"]
            rows.append({"set": name, "method": "BM25 (input order)", "ndcg@10": bm25_ndcg})
            for method in args.methods.split(","):
                reranker = Reranker(method, args.model, runtime=runtime)
                run, total, start = {}, Costs(), time.perf_counter()
                for n, r in enumerate(requests, 1):
                    ranking = reranker.rank(r.query, r.items)
                    total.add(ranking.costs)
                    run[r.query.id] = {d: float(len(ranking.ids) - k) for k, d in enumerate(ranking.ids)}
                    if n % 50 == 0:
                        print(f"  {name} {method}: {n}/{len(requests)}, {time.perf_counter() - start:.0f} s", file=sys.stderr)
                rows.append({"set": name, "method": method, "ndcg@10": evaluate(run, qrels, ["ndcg@10"]).mean["ndcg@10"],
                             "queries": len(requests), "LLM calls": total.calls, "embedded": total.embedded_texts,
                             "s/query": f"{(time.perf_counter() - start) / len(requests):.2f}"})
    for r in rows:
        r["ndcg@10"] = f"{r['ndcg@10']:.4f}"
    print(f"model {args.model or 'smollm2-135m (embedded)'}")
    print_table(rows, ["set", "method", "ndcg@10", "queries", "LLM calls", "embedded", "s/query"])


if __name__ == "__main__":
    main()
