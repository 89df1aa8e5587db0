"""How the default cascade's weights were chosen: nDCG@10 of its first stage under a grid of
settings on DL19 and SciFact (each split into alternate-query halves), and of the LLM's weight
in the fusion over the chosen first stage.

    python bench/fusion_calibration.py --llm-queries 100

Everything runs through judgerank's own Reranker with one judgment store (--cache), so a re-run
asks nothing again. The first stage: the embedding's cosine after pseudo-relevance feedback
(--feedback k passages, Rocchio weight beta), fused by weighted reciprocal rank with the input
(BM25) order. The grid is judged on the "dev" halves (even query positions) by the smaller of the
two sets' gains over the embedding alone; the "test" halves and the full sets are reported beside
it. The LLM rows add --model over the top 20 with each weight (DL19: all queries; SciFact: the
first --llm-queries). SciFact candidates are the BM25 top-100 of the corpus (title and abstract).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, DL19, print_table, require  # noqa: E402

from judgerank import Reranker, Runtime  # noqa: E402
from judgerank.core.types import Item, Query, Request  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.rerank.evaluate import evaluate  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402

SCIFACT = DATA / "scifact"
GRID = [(0, 0.0, w) for w in (0.0, 0.25, 0.5)] + [
    (k, beta, w) for k in (3, 5, 10) for beta in (0.5, 1.0) for w in (0.0, 0.25, 0.5)
]


def scifact_requests() -> list[Request]:
    corpus = {}
    with require(SCIFACT / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            corpus[d["_id"]] = f"{d['title']} {d['text']}".strip()
    topics_file = SCIFACT / "anserini_topics.beir-v1.0.0-scifact.test.tsv"
    topics = dict(line.split("\t", 1) for line in topics_file.read_text(encoding="utf-8").splitlines() if line.strip())
    run: dict[str, list[str]] = {}
    for line in (SCIFACT / "bm25_rank_bm25_top100.trec").read_text().splitlines():
        qid, _, docid, *_ = line.split()
        run.setdefault(qid, []).append(docid)
    return [Request(Query(q, topics[q]), tuple(Item(d, corpus[d]) for d in docs)) for q, docs in run.items()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m", help="the LLM whose fusion weight is measured")
    ap.add_argument("--llm-queries", type=int, default=100, help="SciFact queries the LLM rows cover")
    ap.add_argument("--cache", default="bench/out/calibration.sqlite")
    args = ap.parse_args()

    data = {
        "dl19": (read_requests(require(DL19 / "bm25_top100_dl19.json")), read_qrels(DL19 / "qrels.dl19-passage.txt")),
        "scifact": (scifact_requests(), read_qrels(SCIFACT / "anserini_qrels.beir-v1.0.0-scifact.test.txt")),
    }
    data = {n: ([r for r in reqs if r.query.id in qrels], qrels) for n, (reqs, qrels) in data.items()}
    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    with Runtime(store=args.cache) as runtime:

        def runs(method: str, name: str, limit: int | None = None, **options: object) -> dict[str, dict[str, float]]:
            reranker = Reranker(method, args.model, runtime=runtime, **options)
            out, start = {}, time.perf_counter()
            for n, r in enumerate(data[name][0][:limit], 1):
                ranking = reranker.rank(r.query, r.items)
                out[r.query.id] = {d: float(len(ranking.ids) - k) for k, d in enumerate(ranking.ids)}
                if n % 50 == 0:
                    print(f"  {name} {method} {options}: {n} queries, {time.perf_counter() - start:.0f} s", file=sys.stderr)
            return out

        def ndcg(name: str, run: dict[str, dict[str, float]], part: str) -> float:
            qids = [r.query.id for r in data[name][0] if r.query.id in run]
            keep = set(qids[0::2] if part == "dev" else qids[1::2] if part == "test" else qids)
            qrels = {q: v for q, v in data[name][1].items() if q in keep}
            return evaluate({q: v for q, v in run.items() if q in keep}, qrels, ["ndcg@10"]).mean["ndcg@10"]

        parts = ("dev", "test", "all")
        bm25 = {n: {r.query.id: {i.id: float(100 - k) for k, i in enumerate(r.items)} for r in data[n][0]} for n in data}
        embedding = {n: runs("embedding", n) for n in data}
        base = {(n, p): ndcg(n, embedding[n], p) for n in data for p in parts}
        rows = [{"pipeline": "BM25 (the input order)", **{f"{n} {p}": ndcg(n, bm25[n], p) for n in data for p in parts}},
                {"pipeline": "embedding", **{f"{n} {p}": base[(n, p)] for n in data for p in parts}}]
        scored = []
        for k, beta, w in GRID:
            stage = {"feedback": k, "feedback_weight": beta or 1.0, "input_weight": w, "llm_weight": 0.0}
            values = {f"{n} {p}": ndcg(n, run, p) for n in data for run in [runs("cascade", n, **stage)] for p in parts}
            dev_gain = min(values[f"{n} dev"] - base[(n, "dev")] for n in data)
            scored.append((dev_gain, f"first stage: feedback {k}, beta {beta}, input {w}", values, stage))
        scored.sort(key=lambda s: -s[0])
        rows += [{"pipeline": label, "min dev gain": gain, **values} for gain, label, values, _ in scored]
        chosen = next(stage for *_, stage in scored if stage["feedback"] == 3 and stage["feedback_weight"] == 0.5
                      and stage["input_weight"] == 0.25)
        for weight in (0.1, 0.25, 0.5, 1.0):
            stage = chosen | {"llm_weight": weight}
            llm = {n: runs("cascade", n, args.llm_queries if n == "scifact" else None, **stage) for n in data}
            rows.append({"pipeline": f"chosen first stage + {args.model}, weight {weight}",
                         **{f"{n} {p}": ndcg(n, llm[n], p) for n in data for p in parts}})
    columns = ["pipeline", "min dev gain", *(f"{n} {p}" for n in data for p in parts)]
    for r in rows:
        for c in columns[1:]:
            r[c] = f"{r[c]:+.4f}" if c == "min dev gain" and c in r else (f"{r[c]:.4f}" if c in r else "")
    print(f"nDCG@10; dev/test: alternate queries; LLM rows on SciFact cover its first {args.llm_queries} queries")
    print_table(rows, columns)


if __name__ == "__main__":
    main()
