"""LLM relevance assessment on TREC DL19 against the NIST qrels (judgerank assess / assess-eval).

Three steps, each resumable:

    python bench/assess_dl19.py runs      # the systems: reruns of DL19's BM25 top 100, kept in bench/kept/assess/runs
    python bench/assess_dl19.py assess    # pool them to depth 10 and grade the pool with each assessor model
    python bench/assess_dl19.py report    # label agreement, system-order agreement and cost, from the kept labels

The runs are made with `judgerank rerank` itself (BM25 is the shared run, read by path). The
assessors are the embedded SmolLM2-135M, Qwen2.5-Coder-0.5B and Qwen2.5-Coder-1.5B, in process
(llama.cpp, 2 threads), log-probability verdicts on the assess-graded prompt; every judgment goes
to bench/out/assess-store.sqlite, each topic's labels to bench/kept/assess/labels/MODEL.jsonl as
it finishes, with its costs as first asked.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import DL19, print_table, reopen_kept, require

from judgerank.assess import Assessor, pool, pool_requests, read_runs
from judgerank.assess.agreement import label_agreement, system_agreement
from judgerank.io.trec import read_qrels
from judgerank.runtime import Runtime

BENCH = Path(__file__).resolve().parent
KEPT = BENCH / "kept" / "assess"
BM25 = DL19 / "bm25_top100_dl19.run"
TOPICS = DL19 / "topics.dl19-passage.txt"
QRELS = DL19 / "qrels.dl19-passage.txt"
CORPUS = BENCH / "out" / "dl19-corpus.tsv"  # the BM25 top 100's passages, written from the shared JSON
STORE = BENCH / "out" / "assess-store.sqlite"
DEPTH = 10
# name: the rerank command's arguments over BM25's top 100 (a depth cuts the candidates reranked)
RUNS: dict[str, list[str]] = {
    "embedding": ["--method", "embedding"],
    "embedding-prf": ["--method", "embedding-prf"],
    "cascade": ["--method", "cascade"],
    "pointwise-smollm": ["--method", "pointwise", "--model", "smollm2-135m", "--depth", "30"],
    "first-smollm": ["--method", "first", "--model", "smollm2-135m", "--depth", "20"],
    "pointwise-qwen0.5b": ["--method", "pointwise", "--model", "qwen2.5-coder-0.5b", "--depth", "10"],
    "first-qwen0.5b": ["--method", "first", "--model", "qwen2.5-coder-0.5b", "--depth", "10"],
}
ASSESSORS = ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("runs", "assess", "report"))
    parser.add_argument("--models", default=",".join(ASSESSORS), help="assessor models, comma-separated")
    parser.add_argument("--samples", type=int, default=1000, help="bootstrap resamples of the topics")
    args = parser.parse_args()
    require(DL19)
    if args.step == "runs":
        make_runs()
    elif args.step == "assess":
        for model in args.models.split(","):
            assess(model)
    else:
        report(args.models.split(","), args.samples)


def corpus() -> Path:
    if not CORPUS.exists():
        CORPUS.parent.mkdir(exist_ok=True)
        passages = {hit["docid"]: hit["content"] for q in json.loads((DL19 / "bm25_top100_dl19.json").read_text())
                    for hit in q["hits"]}
        CORPUS.write_text("".join(f"{d}\t{' '.join(t.split())}\n" for d, t in passages.items()))
    return CORPUS


def run_paths() -> list[Path]:
    return [BM25, *(KEPT / "runs" / f"{name}.trec" for name in RUNS)]


def make_runs() -> None:
    (KEPT / "runs").mkdir(parents=True, exist_ok=True)
    for name, arguments in RUNS.items():
        out = KEPT / "runs" / f"{name}.trec"
        if out.exists():
            continue
        started = time.time()
        command = [sys.executable, "-m", "judgerank", "rerank", "--run", str(BM25), "--topics", str(TOPICS),
                   "--corpus", str(corpus()), "--store", str(STORE), "--threads", "2", "--out", str(out), *arguments]
        print(" ".join(command[2:]), flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        # the run's tag is its method; the pool and the report name it by its file
        lines = out.read_text().splitlines()
        out.write_text("".join(" ".join([*line.split()[:5], name]) + "\n" for line in lines))
        print(f"{name}: {time.time() - started:.0f} s", flush=True)


def assess(model: str) -> None:
    requests = pool_requests(pool(list(read_runs(run_paths()).values()), DEPTH), TOPICS, corpus())
    path = KEPT / "labels" / f"{model}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    rows = [r for r in rows if "query_id" in r]
    done = {r["query_id"] for r in rows}
    passages = sum(len(r.items) for r in requests)
    print(f"{model}: {len(requests)} topics, {passages} pooled passages, {len(done)} topics kept", flush=True)
    with Runtime(store=str(STORE), threads=2) as runtime, reopen_kept(path, rows) as fh, \
            Assessor(model, runtime=runtime) as assessor:
        for request in requests:
            if request.query.id in done:
                continue
            assessment = assessor.assess(request.query, request.items)
            fh.write(json.dumps(assessment.as_dict()) + "\n")
            fh.flush()
            print(f"{model} {request.query.id}: {len(request.items)} passages, {assessment.costs.seconds:.0f} s",
                  flush=True)


def labels_of(model: str, rule: str) -> tuple[dict[str, dict[str, int]], list[dict]]:
    """The model's qrels by a label rule (likely or expected) from its kept distributions, and its rows."""
    rows = [json.loads(line) for line in (KEPT / "labels" / f"{model}.jsonl").read_text().splitlines()]
    qrels: dict[str, dict[str, int]] = {}
    for row in rows:
        for label in row["labels"]:
            if label["probabilities"] is None:
                continue
            p = np.array(label["probabilities"])
            grade = int(p.argmax()) if rule == "likely" else int(round(label["expected"]))
            qrels.setdefault(row["query_id"], {})[label["docid"]] = grade
    return qrels, rows


def report(models: list[str], samples: int) -> None:
    people = read_qrels(QRELS)
    runs = read_runs(run_paths())
    runs = {("bm25" if name == "rank" else name): run for name, run in runs.items()}  # the shared run's tag is "rank"
    print(f"{len(runs)} systems: {', '.join(runs)}; pool depth {DEPTH}")
    for measure in ("ndcg@10", "map"):
        truth = system_agreement(runs, people, people, measure, 2, 10)
        print(f"{measure} under the NIST qrels: " + ", ".join(f"{n} {v:.4f}" for n, v in
                                                            sorted(truth.people.items(), key=lambda x: -x[1])))
    rows = []
    for model in models:
        if not (KEPT / "labels" / f"{model}.jsonl").exists():
            continue
        for rule in ("likely", "expected"):
            mine, kept = labels_of(model, rule)
            labels = label_agreement(mine, people, level=2)
            row = {"assessor": model, "label": rule, "topics": len(mine),
                   "passages": sum(len(r["labels"]) for r in kept), "kappa 0-3": f"{labels.kappa:.3f}",
                   "kappa >=2": f"{labels.kappa_binary:.3f}"}
            for measure in ("ndcg@10", "map"):
                for holes in ("count", "condense"):
                    s = system_agreement(runs, mine, people, measure, 2, samples, 0, holes)
                    tag = f"{measure}{'' if holes == 'count' else ' cond'}"
                    row[f"tau {tag}"] = f"{s.tau.value:.3f} [{s.tau.low:.2f}, {s.tau.high:.2f}]"
                    if measure == "ndcg@10" and holes == "count":
                        row["P(tau>=0.8)"] = f"{np.mean(np.array(s.tau_resampled) >= 0.8 - 1e-9):.2f}"
                    row[f"tau_ap {tag}"] = f"{s.tau_ap.value:.3f} [{s.tau_ap.low:.2f}, {s.tau_ap.high:.2f}]"
            seconds = sum(r["costs"]["seconds"] for r in kept)
            calls = sum(r["costs"]["calls"] for r in kept)
            tokens = sum(r["costs"]["prompt_tokens"] for r in kept)
            evaluated = sum(r["costs"]["evaluated_tokens"] for r in kept)
            n = row["passages"]
            row["calls/p"] = f"{calls / n:.2f}"
            row["tokens/p"] = f"{tokens / n:.0f} ({evaluated / n:.0f} evaluated)"
            row["s/p"] = f"{seconds / n:.2f}"
            rows.append(row)
            if rule == "likely":
                print(f"{model}: confusion (rows NIST grade 0-3, columns assessor's): {labels.confusion}; "
                      f"graded by the assessor only: {labels.only_assessor}")
                s = system_agreement(runs, mine, people, "ndcg@10", 2, 10)
                print(f"{model}: nDCG@10 under its qrels: " + ", ".join(
                    f"{name} {s.assessor[name]:.4f}" for name in sorted(s.people, key=lambda x: -s.people[x])))
    columns = list(rows[0]) if rows else []
    print_table(rows, columns)


if __name__ == "__main__":
    main()
