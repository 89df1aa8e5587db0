"""Pairwise-style methods on all 43 DL19 queries (BM25 top 100 -> top 10) against a simulated
judge that answers like a measured model, and the calibration of active's certificate.

    python bench/judge_noise.py --model qwen2.5-coder-0.5b        # measure the judge first
    python bench/active_simulation.py --noise-file bench/out/judge-noise-qwen2.5-coder-0.5b.json

Part 1: nDCG@10, LLM calls, dependent rounds and implied comparisons per method (each run to its
end), and anytime curves (nDCG@10 under --max-calls budgets, one of them half of pairwise-heap's
calls: the goal's point) for active, realm and pairwise-heap; --seeds N averages every figure
over N simulated judges (one judge's draw moves nDCG@10 by about 0.01). The simulated judge's
strengths are the NIST grades (0-3, unjudged 0) times the measured scale, with the measured
position bias and noise.
Part 2: --calibration N simulated queries of --cal-n candidates with continuous strengths
(N(0, SPREAD^2) log-odds, the input order those strengths plus N(0, 1) noise) and the same
judge: when active stops claiming its top 10 at --confidence, how often is the claimed top 10
right, members and order, up to --tolerance (no candidate beats one placed above it in the top
10 by more than the tolerance)? The exact order's rate is reported too.

Prints tables, writes bench/out/active_simulation.json, two PNG plots and an HTML report.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, require  # noqa: E402

from judgerank import Budget, Reranker  # noqa: E402
from judgerank.core.types import Item, Query  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.rerank.evaluate import evaluate  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402
from judgerank.rerank.plan import SPREAD  # noqa: E402
from judgerank.runtime import simulated_judge  # noqa: E402

METHODS = ["pairwise-heap", "pairwise-quick", "pairwise-bubble", "allpairs", "swiss", "setwise-heap", "active",
           "realm"]
ANYTIME = ["active", "realm", "pairwise-heap"]
BUDGETS = [20, 40, 60, 80, 100, 150, 200, 300, 400]


def rank_all(method, requests, judges, qrels, budget=None, **options):
    """nDCG@10 and mean calls, rounds and implied comparisons a query, averaged over the judge
    seeds (judges: one {query id: backend} per seed), and every certificate's level."""
    ndcgs, calls, rounds, implied, certs = [], [], [], [], []
    for seeded in judges:
        run = {}
        for r in requests:
            ranking = Reranker(method, store=None, backend=seeded[r.query.id], top_k=10, budget=budget,
                               guard="off", **options).rank(r.query, r.items)
            run[r.query.id] = {d: float(len(ranking.ids) - k) for k, d in enumerate(ranking.ids)}
            calls.append(ranking.costs.calls)
            rounds.append(ranking.costs.rounds)
            implied.append(ranking.costs.implied)
            if ranking.certificate is not None:
                certs.append(ranking.certificate)
        ndcgs.append(evaluate(run, qrels, ["ndcg@10"]).mean["ndcg@10"])
    return float(np.mean(ndcgs)), float(np.mean(calls)), float(np.mean(rounds)), float(np.mean(implied)), certs


def tolerably_right(ids: list[str], strengths: dict[str, float], k: int, tolerance: float) -> bool:
    """No candidate beats one placed above it in the top k by more than the tolerance."""
    return all(strengths[ids[c]] <= strengths[ids[r]] + tolerance for r in range(k) for c in range(r + 1, len(ids)))


def calibration(queries: int, n: int, confidence: float, judge: dict, tolerance: float, seed: int = 0) -> dict:
    claims, right, exact, levels, stalled, stalled_right, calls = 0, 0, 0, [], 0, 0, []
    for q in range(queries):
        rng = np.random.default_rng(seed + q)
        strengths = rng.normal(0.0, SPREAD, n)
        order = np.argsort(-(strengths + rng.normal(0.0, 1.0, n)), kind="stable")
        texts = [f"candidate {q:04d}-{i:03d} " + "w " * 20 for i in range(n)]
        items = tuple(Item(f"d{i}", texts[i]) for i in order)
        truth = [f"d{i}" for i in np.argsort(-strengths, kind="stable")[:10]]
        backend = simulated_judge({texts[i]: float(strengths[i]) for i in range(n)}, noise=judge["noise"],
                                  position_bias=judge["bias"], seed=q)
        ranking = Reranker("active", store=None, backend=backend, top_k=10, confidence=confidence,
                           tolerance=tolerance, guard="off").rank(Query(f"s{q}", "query"), items)
        calls.append(ranking.costs.calls)
        ok = tolerably_right(ranking.ids, {f"d{i}": float(s) for i, s in enumerate(strengths)}, 10, tolerance)
        if ranking.certificate is not None and ranking.certificate >= confidence:
            claims += 1
            right += ok
            exact += ranking.ids[:10] == truth
            levels.append(ranking.certificate)
        else:
            stalled += 1
            stalled_right += ok
    return {"queries": queries, "n": n, "confidence": confidence, "tolerance": tolerance, "claims": claims,
            "claimed_level": float(np.mean(levels)) if levels else None,
            "observed": right / claims if claims else None, "exact_order": exact / claims if claims else None, "stalled": stalled,
            "stalled_right": stalled_right / stalled if stalled else None, "calls_per_query": float(np.mean(calls))}


def png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--noise-file", default="bench/out/judge-noise-qwen2.5-coder-0.5b.json")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--queries", type=int, default=None, help="only the first N DL19 queries")
    ap.add_argument("--seeds", type=int, default=1,
                    help="judge seeds: every figure of part 1 is the mean over this many simulated judges")
    ap.add_argument("--calibration", type=int, default=1000, help="simulated queries for part 2 (0: skip)")
    ap.add_argument("--cal-n", type=int, default=30, help="candidates per calibration query")
    ap.add_argument("--confidence", type=float, default=0.9)
    ap.add_argument("--tolerance", type=float, default=0.5, help="active's tolerance (log-odds), for part 2")
    ap.add_argument("--out", default="bench/out/active_simulation")
    args = ap.parse_args()

    judge = json.loads(Path(args.noise_file).read_text())
    print(f"simulated judge from {args.noise_file}: scale {judge['scale']:.3f}/grade, position bias "
          f"{judge['bias']:.3f}, noise {judge['noise']:.3f} (log-odds)", file=sys.stderr)
    requests = read_requests(require(DL19 / "bm25_top100_dl19.json"))[: args.queries]
    qrels = read_qrels(DL19 / "qrels.dl19-passage.txt")

    def judges():
        return [{r.query.id: simulated_judge(
            {i.text: judge["scale"] * qrels.get(r.query.id, {}).get(i.id, 0) for i in r.items},
            noise=judge["noise"], position_bias=judge["bias"], seed=seed) for r in requests}
            for seed in range(args.seeds)]

    rows, results = [], {"judge": judge, "methods": {}, "anytime": {}}
    for method in args.methods.split(","):
        t0 = time.perf_counter()
        ndcg, calls, rounds, implied, certs = rank_all(method, requests, judges(), qrels)
        results["methods"][method] = {"ndcg@10": ndcg, "calls": calls, "rounds": rounds, "implied": implied}
        rows.append({"method": method, "nDCG@10": f"{ndcg:.4f}", "calls/query": f"{calls:.1f}",
                     "rounds/query": f"{rounds:.1f}", "implied/query": f"{implied:.1f}",
                     "certified": f"{np.mean([c >= args.confidence for c in certs]):.2f}" if certs else "-",
                     "bench s": f"{time.perf_counter() - t0:.1f}"})
        print(f"{method} done", file=sys.stderr, flush=True)
    print(f"\nDL19, {len(requests)} queries, BM25 top 100 -> top 10, simulated judge"
          + (f", mean of {args.seeds} judge seeds" if args.seeds > 1 else ""))
    print_table(rows, list(rows[0]))

    heap = results["methods"].get("pairwise-heap")
    # the goal's own point: half of heap's calls
    budgets = sorted({*BUDGETS, *([int(heap["calls"] // 2)] if heap is not None else [])})
    curve_rows = []
    for method in ANYTIME:
        points = []
        for budget in budgets:
            ndcg, calls, rounds, _, _ = rank_all(method, requests, judges(), qrels, Budget(max_calls=budget))
            points.append({"budget": budget, "ndcg@10": ndcg, "calls": calls, "rounds": rounds})
            curve_rows.append({"method": method, "max calls": budget, "calls/query": f"{calls:.1f}",
                               "rounds/query": f"{rounds:.1f}", "nDCG@10": f"{ndcg:.4f}"})
        results["anytime"][method] = points
    print("\nanytime: the same under a budget of calls per query")
    print_table(curve_rows, list(curve_rows[0]))
    if heap is not None:
        half = next(p for p in results["anytime"]["active"] if p["budget"] == int(heap["calls"] // 2))
        print(f"active at half of heap's calls ({half['budget']}): nDCG@10 {half['ndcg@10']:.4f}")
        reach = [p for p in results["anytime"]["active"] if p["ndcg@10"] >= heap["ndcg@10"]]
        first = min(reach, key=lambda p: p["calls"]) if reach else None
        print(f"\npairwise-heap: nDCG@10 {heap['ndcg@10']:.4f} with {heap['calls']:.1f} calls/query; active reaches it "
              + (f"with {first['calls']:.1f} calls/query ({first['calls'] / heap['calls']:.0%} of heap's)" if first
                 else "within none of the budgets tried"))

    if args.calibration:
        t0 = time.perf_counter()
        cal = calibration(args.calibration, args.cal_n, args.confidence, judge, args.tolerance)
        results["calibration"] = cal
        print(f"\ncalibration ({time.perf_counter() - t0:.0f} s): {json.dumps(cal)}")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.json").write_text(json.dumps(results, indent=1))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = []
    colour = {m: f"C{i}" for i, m in enumerate(results["methods"])}
    for axis, label in (("calls", "LLM calls per query"), ("rounds", "dependent rounds per query")):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for method, m in results["methods"].items():
            ax.plot(m[axis], m["ndcg@10"], "o", ms=6, color=colour[method])
            ax.annotate(method, (m[axis], m["ndcg@10"]), fontsize=7, xytext=(4, 3), textcoords="offset points")
        for method, points in results["anytime"].items():
            ax.plot([p[axis] for p in points], [p["ndcg@10"] for p in points], "-", alpha=0.6,
                    color=colour.get(method), label=f"{method} under a budget")
        ax.set_xscale("log")
        ax.set_xlabel(label + " (log)")
        ax.set_ylabel("nDCG@10")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title(f"DL19, {len(requests)} queries, top 100 -> top 10, simulated {judge['model']}")
        data = png(fig)
        plt.close(fig)
        Path(f"{out}-{axis}.png").write_bytes(data)
        images.append(base64.b64encode(data).decode())

    def table(rows_: list[dict]) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows_[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows_)
        return f"<table><tr>{head}</tr>{body}</table>"

    cal_html = f"<h2>Certificate calibration</h2><pre>{html.escape(json.dumps(results.get('calibration'), indent=1))}</pre>"
    Path(f"{out}.html").write_text(
        "<!doctype html><meta charset=utf-8><title>judgerank: pairwise methods, simulated</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:2px 8px;text-align:right}"
        "</style><h1>Pairwise-style methods on DL19 (simulated judge)</h1>"
        f"<p>Judge: {html.escape(json.dumps(judge))}</p>{table(rows)}"
        + "".join(f'<img alt="plot" src="data:image/png;base64,{i}">' for i in images)
        + f"<h2>Anytime</h2>{table(curve_rows)}{cal_html}")
    print(f"wrote {out}.json, {out}-calls.png, {out}-rounds.png, {out}.html", file=sys.stderr)


if __name__ == "__main__":
    main()
