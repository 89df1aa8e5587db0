"""Calibrate the default cascade's fusion weights on one dataset and check them on the other.

The default ranks by weighted reciprocal-rank fusion of three orders: the candidates' input order
(the first-stage retriever's), the embedding's, and the LLM's over the top --depth. This script
collects each stage's scores once (cached in --cache), then grid-searches the weights on the
tuning set and reports nDCG@10 of every variant on both sets:

    python bench/fusion_calibration.py --model smollm2-135m --scifact-queries 100
    python bench/fusion_calibration.py --tune dl19 --check scifact

SciFact candidates are the BM25 top-100 of the corpus (title + abstract); DL19 the BM25 top-100.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, DL19, print_table, require  # noqa: E402

from judgerank import Runtime  # noqa: E402
from judgerank.evaluate.ir import evaluate  # noqa: E402
from judgerank.io.requests import read_requests  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.types import Item, Query, Request  # noqa: E402

SCIFACT = DATA / "scifact"
RRF_K = 60.0  # reciprocal-rank fusion's constant, as in the cascade


def scifact_requests(limit: int | None) -> list[Request]:
    corpus = {}
    with require(SCIFACT / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            corpus[d["_id"]] = f"{d['title']} {d['text']}".strip()
    topics = dict(line.rstrip("\n").split("\t", 1) for line in (SCIFACT / "anserini_topics.beir-v1.0.0-scifact.test.tsv")
                  .read_text(encoding="utf-8").splitlines() if line.strip())
    run: dict[str, list[str]] = {}
    for line in (SCIFACT / "bm25_rank_bm25_top100.trec").read_text().splitlines():
        qid, _, docid, rank, _, _ = line.split()
        run.setdefault(qid, []).append(docid)
    qids = list(run)[:limit]
    return [Request(Query(q, topics[q]), tuple(Item(d, corpus[d]) for d in run[q])) for q in qids]


def ranks(values: dict[str, float]) -> dict[str, int]:
    return {d: n for n, d in enumerate(sorted(values, key=lambda d: -values[d]))}


def first_stage(ids: list[str], emb: list[float], w_input: float) -> tuple[list[str], dict[str, float]]:
    """The cascade's first stage: weighted RRF of the input order (weight w_input) and the embedding's (1)."""
    emb_rank = ranks(dict(zip(ids, emb)))
    score = {d: w_input / (RRF_K + n + 1) + 1.0 / (RRF_K + emb_rank[d] + 1) for n, d in enumerate(ids)}
    return sorted(ids, key=lambda d: -score[d]), score


def embeddings(runtime: Runtime, requests: list[Request]) -> dict[str, dict]:
    job = runtime.job("rerank")
    similarity = job.similarity()
    start = time.perf_counter()
    out = {}
    for n, r in enumerate(requests, 1):
        out[r.query.id] = {"ids": [i.id for i in r.items], "emb": similarity.scores(r.query, r.items), "request": r}
        if n % 20 == 0:
            print(f"  embedded {n}/{len(requests)} queries, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out


def llm_scores(runtime: Runtime, model: str, stages: dict[str, dict], w_input: float, depth: int) -> None:
    """The LLM's yes/no log-odds over the first stage's top `depth` (what the default judges)."""
    job = runtime.job("rerank", model)
    scorer = job.scorer()
    start = time.perf_counter()
    for n, s in enumerate(stages.values(), 1):
        order, _ = first_stage(s["ids"], s["emb"], w_input)
        items = {i.id: i for i in s["request"].items}
        top = [items[d] for d in order[:depth]]
        s["llm"] = dict(zip(order[:depth], scorer.scores(s["request"].query, top)))
        print(f"  LLM {n}/{len(stages)}: {job.ledger.costs.calls} calls, {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)


def fused_run(stages: dict[str, dict], w_input: float, w_llm: float, depth: int) -> dict:
    run = {}
    for qid, s in stages.items():
        order, score = first_stage(s["ids"], s["emb"], w_input)
        head, tail = order[:depth], order[depth:]
        if w_llm:
            llm_rank = ranks(s["llm"])
            head = sorted(head, key=lambda d: -(score[d] + w_llm / (RRF_K + llm_rank[d] + 1)))
        run[qid] = {d: float(len(order) - k) for k, d in enumerate(head + tail)}
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--scifact-queries", type=int, default=None, help="first N SciFact queries (all 300 by default)")
    ap.add_argument("--tune", choices=["scifact", "dl19"], default="scifact")
    ap.add_argument("--cache", default="bench/out/calibration.sqlite")
    ap.add_argument("--no-llm", action="store_true", help="first stage only (input order and embedding)")
    ap.add_argument("--out", default="bench/out/calibration.json")
    args = ap.parse_args()

    sets = {
        "dl19": (read_requests(require(DL19 / "bm25_top100_dl19.json")), read_qrels(DL19 / "qrels.dl19-passage.txt")),
        "scifact": (scifact_requests(args.scifact_queries),
                    read_qrels(SCIFACT / "anserini_qrels.beir-v1.0.0-scifact.test.txt")),
    }
    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    qrels = {name: rel for name, (_, rel) in sets.items()}
    with Runtime(store=args.cache) as runtime:
        stages = {name: embeddings(runtime, reqs) for name, (reqs, _) in sets.items()}

        def score(name: str, w_input: float, w_llm: float) -> float:
            run = fused_run(stages[name], w_input, w_llm, args.depth)
            return evaluate(run, {q: v for q, v in qrels[name].items() if q in run}, ["ndcg@10"]).mean["ndcg@10"]

        bm25 = {name: score(name, 1e9, 0) for name in sets}
        emb = {name: score(name, 0, 0) for name in sets}
        inputs = [0, 0.25, 0.5, 0.75, 1.0, 1.5]
        w_input = max(inputs, key=lambda w: score(args.tune, w, 0))
        rows = [{"stages": "input order (BM25)", "w_input": "-", "w_llm": "-", **{n: bm25[n] for n in sets}},
                {"stages": "embedding", "w_input": 0, "w_llm": 0, **{n: emb[n] for n in sets}}]
        rows += [{"stages": "input + embedding", "w_input": w, "w_llm": 0, **{n: score(n, w, 0) for n in sets}}
                 for w in inputs[1:]]
        if not args.no_llm:
            for name in sets:
                llm_scores(runtime, args.model, stages[name], w_input, args.depth)
            llms = [0.1, 0.25, 0.5, 1.0, 2.0]
            w_llm = max([0.0, *llms], key=lambda w: score(args.tune, w_input, w))
            rows += [{"stages": "input + embedding + LLM", "w_input": w_input, "w_llm": w,
                      **{n: score(n, w_input, w) for n in sets}} for w in llms]
            rows += [{"stages": "embedding + LLM (the old default)", "w_input": 0, "w_llm": 1.0,
                      **{n: score(n, 0, 1.0) for n in sets}}] if w_input == 0 else []
        else:
            w_llm = 0.0
    for r in rows:
        for n in sets:
            r[n] = f"{r[n]:.4f}"
    print(f"nDCG@10; model {args.model}, LLM over the top {args.depth}; tuned on {args.tune}: "
          f"w_input {w_input}, w_llm {w_llm}; queries: " + ", ".join(f"{n} {len(stages[n])}" for n in sets))
    print_table(rows, ["stages", "w_input", "w_llm", *sets])
    Path(args.out).write_text(json.dumps({"model": args.model, "tuned_on": args.tune, "w_input": w_input,
                                          "w_llm": w_llm, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
