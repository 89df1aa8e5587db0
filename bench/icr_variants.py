"""ICR's choices, measured: which layers, and which calibration, on one model.

    python bench/icr_variants.py --model qwen2.5-coder-0.5b --scifact 30 --depth 20

The paper sums the attention over every layer and head and calibrates with a content-free query,
leaving out tokens far below a passage's mean ("masked"). A small model may not spread its
retrieval over all layers, so each variant is computed from the same two forward passes per
query: chosen on SciFact's first --scifact queries, then checked on all 43 DL19 queries.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, require  # noqa: E402
from fusion_calibration import SCIFACT, scifact_requests  # noqa: E402

from judgerank.evaluate.ir import evaluate  # noqa: E402
from judgerank.io.requests import read_requests  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.judges.attention import AttentionJudge  # noqa: E402
from judgerank.runtime import Runtime  # noqa: E402


def span_scores(asked, content_free, spans, masked: bool, calibrated: bool) -> list[float]:
    scores = []
    for start, end in spans:
        diff = asked[start:end] - (content_free[start:end] if calibrated else 0.0)
        if masked and end - start > 1:
            diff = diff * (diff > diff.mean() - 2 * diff.std())
        scores.append(float(diff.sum()))
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--scifact", type=int, default=30, help="SciFact queries to choose on")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sets = {
        "scifact": (scifact_requests()[: args.scifact], read_qrels(SCIFACT / "anserini_qrels.beir-v1.0.0-scifact.test.txt")),
        "dl19": (read_requests(require(DL19 / "bm25_top100_dl19.json")), read_qrels(DL19 / "qrels.dl19-passage.txt")),
    }
    with Runtime(store=None, threads=args.threads) as rt:
        held = rt.attention(args.model)
        backend, judge = held.backend, AttentionJudge(rt.job("rerank", args.model).cached(held))
        n_layers = backend.model.config.num_hidden_layers
        half, third = n_layers // 2, n_layers // 3
        variants = {
            "all layers, masked N/A (paper)": (slice(0, n_layers), True, True),
            "all layers, N/A unmasked": (slice(0, n_layers), False, True),
            "all layers, uncalibrated": (slice(0, n_layers), False, False),
            "first half, masked N/A": (slice(0, half), True, True),
            "second half, masked N/A": (slice(half, n_layers), True, True),
            "middle third, masked N/A": (slice(third, 2 * third), True, True),
        }
        rows = []
        for name, (requests, qrels) in sets.items():
            runs: dict[str, dict[str, dict[str, float]]] = {v: {} for v in variants}
            for n, request in enumerate(requests, 1):
                items = request.items[: args.depth]
                prefix, spans, probe, calibration = backend.layout(judge.request(request.query, items))
                asked, content_free = backend.probe_attention(prefix, [probe, calibration])
                for v, (layers, masked, calibrated) in variants.items():
                    scores = span_scores(asked[layers].sum(dim=0), content_free[layers].sum(dim=0), spans, masked,
                                         calibrated)
                    order = sorted(range(len(items)), key=lambda i: -scores[i])
                    ranked = [items[i].id for i in order] + [i.id for i in request.items[args.depth:]]
                    runs[v][request.query.id] = {d: float(len(ranked) - k) for k, d in enumerate(ranked)}
                print(f"  {name} {n}/{len(requests)}", file=sys.stderr, flush=True)
            bm25 = {r.query.id: {i.id: float(len(r.items) - k) for k, i in enumerate(r.items)} for r in requests}
            row = {"set": f"{name} ({len(requests)} q)", "BM25": f"{evaluate(bm25, qrels, ['ndcg@10']).mean['ndcg@10']:.4f}"}
            for v in variants:
                row[v] = f"{evaluate(runs[v], qrels, ['ndcg@10']).mean['ndcg@10']:.4f}"
            rows.append(row)
        print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
