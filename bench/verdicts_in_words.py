"""Verdicts in words against verdicts from log-probabilities, on one model behind a real llama.cpp server.

Rows, side by side on the same model, server and inputs:
  logprobs   the probability of each answer token (one token, max_tokens 1)
  text       the verdict asked in words, in the template's fixed form, parsed (k = 1, greedy)
  text-k5    five answers in words at temperature 0.7, their vote shares with the prior
  reasoning  the judge thinks first (--think-tokens), then gives its verdict in words

Judge: LLMBar Natural (100 pairs), both orders, allpairs' verdict rule (P(a) over both orders);
accuracy and Cohen's kappa against the expert label, position consistency (the two orders agree).
Rerank: the first 20 DL19 queries, BM25 top 20, pointwise yes/no; nDCG@10.
For each row: the unparsed rate (answers still unreadable after the repair turn, over answers
asked), calls and tokens per judgment, and 95% bootstrap intervals (pairs or queries resampled,
1000 times), with the paired difference from the logprobs row.

    python bench/verdicts_in_words.py run --model qwen2.5-coder-1.5b      # hours on 2 cores; resumable
    python bench/verdicts_in_words.py report --model qwen2.5-coder-1.5b   # the table from the kept rows

Each pair chunk and each query is written to bench/kept/verdicts/MODEL/ as it finishes (with its
costs, counted when first asked), and every judgment goes to bench/out/verdicts-store.sqlite, so a
stopped run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import DATA, DL19, llama_server, reopen_kept, require

from judgerank.backends.models import resolve_gguf
from judgerank.core.types import Request
from judgerank.io.trec import read_qrels
from judgerank.judge import Judge
from judgerank.judge.agreement import cohen_kappa
from judgerank.judge.files import read_judge_input
from judgerank.rerank import Reranker
from judgerank.rerank.evaluate import evaluate
from judgerank.rerank.files import read_requests
from judgerank.runtime import Runtime

BENCH = Path(__file__).resolve().parent
ROWS: dict[str, dict[str, Any]] = {
    "logprobs": {"verdicts": "logprobs"},
    "text": {"verdicts": "text"},
    "text-k5": {"verdicts": "text", "samples": 5, "temperature": 0.7},
    "reasoning": {"verdicts": "text", "reasoning": True, "think_tokens": 256},
}
CHUNK = 10  # pairs judged (and written) together


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=("run", "report"))
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, from {', '.join(ROWS)}")
    ap.add_argument("--parts", default="judge,rerank", help="judge (LLMBar), rerank (DL19), or both")
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-ctx", type=int, default=4096)
    args = ap.parse_args()
    rows = [r for r in args.rows.split(",") if r]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        raise SystemExit(f"unknown row {unknown[0]!r}: use {', '.join(ROWS)}")
    parts = [p for p in args.parts.split(",") if p]
    kept = BENCH / "kept" / "verdicts" / args.model
    if args.action == "run":
        kept.mkdir(parents=True, exist_ok=True)
        run(args, rows, parts, kept)
    report(args, rows, parts, kept)


def pairs(limit: int) -> list[Any]:
    return read_judge_input(require(DATA / "llmbar" / "LLMBar_Natural.json"), gold="label")[:limit]


def queries(n: int, depth: int) -> list[Request]:
    found = read_requests(require(DL19 / "bm25_top100_dl19.json"))[:n]
    return [Request(r.query, r.items[:depth]) for r in found]


def run(args: argparse.Namespace, rows: list[str], parts: list[str], kept: Path) -> None:
    store = BENCH / "out" / "verdicts-store.sqlite"
    store.parent.mkdir(exist_ok=True)
    with llama_server(resolve_gguf(args.model), args.model, args.threads, args.n_ctx) as port, \
            Runtime(store=store, base_url=f"http://127.0.0.1:{port}/v1", concurrency=2) as runtime:
        for row in rows:
            if "judge" in parts:
                judge_row(args, row, runtime, kept / f"llmbar-{row}.jsonl")
            if "rerank" in parts:
                rerank_row(args, row, runtime, kept / f"dl19-{row}.jsonl")


def _resume(path: Path) -> tuple[list[dict], Any]:
    """The rows kept so far (a line a stopped run was writing is dropped), and the file reopened."""
    done = [d for d in _load(path) if d.get("complete", True)]
    return done, reopen_kept(path, done)


def judge_row(args: argparse.Namespace, row: str, runtime: Runtime, path: Path) -> None:
    tasks = pairs(args.pairs)
    done, out = _resume(path)
    seen = {d["chunk"] for d in done}
    judge = Judge("allpairs", args.model, runtime=runtime, ratings=False, **ROWS[row])
    with out:
        for start in range(0, len(tasks), CHUNK):
            if start in seen:
                continue
            begun = time.perf_counter()
            chunk = tasks[start : start + CHUNK]
            result = judge.compare(chunk)
            judged = {j.task.id: j for j in result.judgments}
            record = {
                "chunk": start, "complete": result.complete, "seconds": time.perf_counter() - begun,
                "costs": result.costs.as_dict(), "answers": 2 * len(chunk) * ROWS[row].get("samples", 1),
                "pairs": [{"id": t.id, "gold": t.gold,
                           **({"p_a": judged[t.id].preference.prob,
                               "orders": list(judged[t.id].preference.order_verdicts)} if t.id in judged else {})}
                          for t in chunk],
            }
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(f"{args.model} {row} llmbar: pairs {start + len(chunk)}/{len(tasks)} "
                  f"({record['seconds']:.0f} s, {result.costs.unparsed} unparsed)", file=sys.stderr, flush=True)


def rerank_row(args: argparse.Namespace, row: str, runtime: Runtime, path: Path) -> None:
    requests = queries(args.queries, args.depth)
    done, out = _resume(path)
    seen = {d["qid"] for d in done}
    reranker = Reranker("pointwise", args.model, runtime=runtime, guard="off", **ROWS[row])
    with out:
        for n, request in enumerate(requests, 1):
            if request.query.id in seen:
                continue
            begun = time.perf_counter()
            ranking = reranker.rank(request.query, request.items)
            record = {"qid": request.query.id, "complete": ranking.complete, "seconds": time.perf_counter() - begun,
                      "costs": ranking.costs.as_dict(),
                      "answers": len(request.items) * ROWS[row].get("samples", 1),
                      "judged": sum(s is not None for s in ranking.scores), "ranking": ranking.ids}
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(f"{args.model} {row} dl19: query {n}/{len(requests)} ({record['seconds']:.0f} s, "
                  f"{ranking.costs.unparsed} unparsed)", file=sys.stderr, flush=True)


# --- the report ----------------------------------------------------------------------------------


def _interval(stat: Any, n: int, rng: np.random.Generator, draws: int = 1000) -> tuple[float, float]:
    """The 95% percentile interval of stat(indices) over `draws` resamples of n units."""
    values = [stat(rng.integers(0, n, n)) for _ in range(draws)]
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def _mean_interval(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    return _interval(lambda ix: values[ix].mean(), len(values), rng)


def _side(p_a: float | None) -> str:
    """The verdict read from P(a) over both orders: a, b, a tie at exactly 1/2 (half right against
    LLMBar's labels, which have none: what a coin would score), none where the pair was left
    unparsed (wrong)."""
    if p_a is None:
        return "none"
    return "a" if p_a > 0.5 else "b" if p_a < 0.5 else "tie"


def _difference(values: np.ndarray, base: np.ndarray | None, rng: np.random.Generator, scale: float,
                spec: str) -> str:
    """The paired difference from the logprobs row, with its interval ('–' before that row is in)."""
    if base is None:
        return "–"
    d = values - base
    lo, hi = _mean_interval(d, rng)
    return f"{scale * d.mean():+{spec}} [{scale * lo:+{spec}}, {scale * hi:+{spec}}]"


def _kappa_interval(said: list[str], truth: list[Any], rng: np.random.Generator) -> tuple[float, float]:
    return _interval(lambda ix: cohen_kappa([said[i] for i in ix], [truth[i] for i in ix]), len(said), rng)


def _load(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            rows.append(json.loads(line))
        except ValueError:  # the line a stopped run was writing
            continue
    return rows


def _costs(records: list[dict], judgments: int) -> dict[str, str]:
    calls = sum(r["costs"]["calls"] for r in records)
    tokens = sum(r["costs"]["prompt_tokens"] + r["costs"]["completion_tokens"] for r in records)
    generated = sum(r["costs"]["completion_tokens"] for r in records)
    answers = sum(r["answers"] for r in records)
    unparsed = sum(r["costs"].get("unparsed", 0) for r in records)
    repairs = sum(r["costs"].get("repairs", 0) for r in records)
    return {"unparsed": f"{100 * unparsed / max(answers, 1):.2f}%", "repaired": f"{100 * repairs / max(answers, 1):.1f}%",
            "calls/j": f"{calls / max(judgments, 1):.2f}", "tokens/j": f"{tokens / max(judgments, 1):.0f}",
            "gen/j": f"{generated / max(judgments, 1):.1f}",
            "s/j": f"{sum(r['seconds'] for r in records) / max(judgments, 1):.2f}"}


def report(args: argparse.Namespace, rows: list[str], parts: list[str], kept: Path) -> None:
    rng = np.random.default_rng(0)
    if "judge" in parts:
        tasks = pairs(args.pairs)
        gold = {t.id: t.gold for t in tasks}
        base: np.ndarray | None = None
        print(f"LLMBar Natural, {len(tasks)} pairs, {args.model} on llama_cpp.server (allpairs verdict: P(a) over both "
              "orders; a pair at exactly 1/2 counts half, one left unparsed as wrong)")
        print("row        pairs  accuracy [95% CI]      kappa [95% CI]          vs logprobs [95% CI]  consistent  "
              "unparsed  repaired  calls/j  tokens/j  gen/j  s/j")
        for row in rows:
            wanted = {t.id for t in tasks}  # --pairs N reports the first N (whole chunks) of a longer run
            records = [r for r in _load(kept / f"llmbar-{row}.jsonl") if r["chunk"] < len(tasks)]
            judged = {p["id"]: p for r in records for p in r["pairs"] if p["id"] in wanted}
            if len(judged) < len(tasks):
                print(f"{row:<10} {len(judged)}/{len(tasks)} pairs so far")
                continue
            ids = [t.id for t in tasks]
            said = [_side(judged[i].get("p_a")) for i in ids]
            truth = [gold[i] for i in ids]
            right = np.array([1.0 if s == g else 0.5 if s == "tie" else 0.0 for s, g in zip(said, truth)])
            consistent = np.mean([p["orders"][0] == p["orders"][1] for p in judged.values() if "orders" in p])
            kappa = cohen_kappa(said, truth)
            lo, hi = _mean_interval(right, rng)
            klo, khi = _kappa_interval(said, truth, rng)
            if row == "logprobs":
                base = right
            diff = _difference(right, base, rng, 100, ".1f") if row != "logprobs" else "–"
            c = _costs(records, 2 * len(tasks))
            print(f"{row:<10} {len(tasks):>5}  {100 * right.mean():.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"
                  f"{'':6}{kappa:.3f} [{klo:.3f}, {khi:.3f}]{'':4}{diff:<22}{100 * consistent:.1f}%{'':6}"
                  f"{c['unparsed']:<10}{c['repaired']:<10}{c['calls/j']:<9}{c['tokens/j']:<10}{c['gen/j']:<7}{c['s/j']}")
    if "rerank" in parts:
        requests = queries(args.queries, args.depth)
        qrels = read_qrels(DL19 / "qrels.dl19-passage.txt")
        base_q: np.ndarray | None = None
        print(f"\nDL19, first {len(requests)} queries, BM25 top {args.depth}, pointwise yes/no, {args.model} on "
              "llama_cpp.server")
        print("row        queries  nDCG@10 [95% CI]        vs logprobs [95% CI]    unparsed  repaired  calls/j  "
              "tokens/j  gen/j  s/j")
        bm25 = {r.query.id: {i.id: float(len(r.items) - n) for n, i in enumerate(r.items)} for r in requests}
        first = evaluate(bm25, qrels, ["ndcg@10"]).per_query
        print(f"{'bm25':<10} {len(requests):>7}  {np.mean([first[q]['ndcg@10'] for q in first]):.4f}")
        for row in rows:
            asked = {r.query.id for r in requests}
            records = {r["qid"]: r for r in _load(kept / f"dl19-{row}.jsonl") if r["qid"] in asked}
            if len(records) < len(requests):
                print(f"{row:<10} {len(records)}/{len(requests)} queries so far")
                continue
            run_ = {q: {d: float(len(r["ranking"]) - n) for n, d in enumerate(r["ranking"])} for q, r in records.items()}
            per = evaluate(run_, qrels, ["ndcg@10"]).per_query
            values = np.array([per[r.query.id]["ndcg@10"] for r in requests])
            lo, hi = _mean_interval(values, rng)
            if row == "logprobs":
                base_q = values
            diff = _difference(values, base_q, rng, 1, ".4f") if row != "logprobs" else "–"
            c = _costs(list(records.values()), len(requests) * args.depth)
            print(f"{row:<10} {len(requests):>7}  {values.mean():.4f} [{lo:.4f}, {hi:.4f}]  {diff:<24}"
                  f"{c['unparsed']:<10}{c['repaired']:<10}{c['calls/j']:<9}{c['tokens/j']:<10}{c['gen/j']:<7}{c['s/j']}")


if __name__ == "__main__":
    main()
