"""ICR's choices, measured: which layers and heads, and which calibration, on one model.

    python bench/icr_variants.py --model qwen2.5-coder-0.5b --scifact 100 --depth 20

The paper sums the attention over every layer and head and calibrates with a content-free query,
leaving out tokens far below a passage's mean ("masked"). A small model may not spread its
retrieval over all layers, so each variant is computed from the same two forward passes per
query: chosen on SciFact's first --scifact queries, then checked on all 43 DL19 queries.

Head selection follows QRHead ("Query-Focused Retrieval Heads Improve Long-Context Reasoning and
Re-ranking", Zhang et al., 2025) in spirit: each head alone ranks the passages by its own masked,
calibrated attention; the heads whose rankings score the best nDCG@10 on SciFact are kept, and their
scores, standardised within the list, summed. The last row is a ceiling, not a method: the single
head that ranks DL19 best, chosen on DL19 itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, require  # noqa: E402
from fusion_calibration import SCIFACT, scifact_requests  # noqa: E402

from judgerank.core.costs import Ledger  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.judges.attention import AttentionJudge  # noqa: E402
from judgerank.rerank.evaluate import evaluate  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402
from judgerank.runtime import Runtime  # noqa: E402
from judgerank.store.cached import CachedModel  # noqa: E402


def span_scores(asked, content_free, spans, masked: bool, calibrated: bool) -> list[float]:
    scores = []
    for start, end in spans:
        diff = asked[start:end] - (content_free[start:end] if calibrated else 0.0)
        if masked and end - start > 1:
            diff = diff * (diff > diff.mean() - 2 * diff.std())
        scores.append(float(diff.sum()))
    return scores


def head_scores(asked, content_free, spans) -> np.ndarray:
    """Each head's masked, N/A-calibrated score of each span (layers x heads x spans)."""
    out = np.zeros((*asked.shape[:2], len(spans)))
    for s, (start, end) in enumerate(spans):
        diff = asked[:, :, start:end] - content_free[:, :, start:end]
        if end - start > 1:
            diff = diff * (diff > diff.mean(dim=-1, keepdim=True) - 2 * diff.std(dim=-1, keepdim=True))
        out[:, :, s] = diff.sum(dim=-1).numpy()
    return out


def ndcg(runs: dict[str, dict[str, float]], qrels) -> float:
    return evaluate(runs, qrels, ["ndcg@10"]).mean["ndcg@10"]


def as_run(request, depth: int, scores) -> dict[str, float]:
    items = request.items[:depth]
    order = sorted(range(len(items)), key=lambda i: -scores[i])
    ranked = [items[i].id for i in order] + [i.id for i in request.items[depth:]]
    return {d: float(len(ranked) - k) for k, d in enumerate(ranked)}


def standardised(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(axis=-1, keepdims=True)) / (scores.std(axis=-1, keepdims=True) + 1e-12)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--scifact", type=int, default=100, help="SciFact queries to choose on")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sets = {
        "scifact": (scifact_requests()[: args.scifact], read_qrels(SCIFACT / "anserini_qrels.beir-v1.0.0-scifact.test.txt")),
        "dl19": (read_requests(require(DL19 / "bm25_top100_dl19.json")), read_qrels(DL19 / "qrels.dl19-passage.txt")),
    }
    with Runtime(store=None, threads=args.threads) as rt:
        held = rt.attention(args.model)
        backend, judge = held.backend, AttentionJudge(CachedModel(lambda: held, rt.store, Ledger()))
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
        per_head: dict[str, dict[str, np.ndarray]] = {}  # set -> query id -> layers x heads x spans
        for name, (requests, qrels) in sets.items():
            runs: dict[str, dict[str, dict[str, float]]] = {v: {} for v in variants}
            per_head[name] = {}
            for n, request in enumerate(requests, 1):
                items = request.items[: args.depth]
                prefix, spans, probe, calibration = backend.layout(judge.request(request.query, items))
                asked, content_free = backend.probe_attention(prefix, [probe, calibration])
                for v, (layers, masked, calibrated) in variants.items():
                    scores = span_scores(asked[layers].sum(dim=(0, 1)), content_free[layers].sum(dim=(0, 1)), spans,
                                         masked, calibrated)
                    runs[v][request.query.id] = as_run(request, args.depth, scores)
                per_head[name][request.query.id] = head_scores(asked, content_free, spans)
                print(f"  {name} {n}/{len(requests)}", file=sys.stderr, flush=True)
            bm25 = {r.query.id: {i.id: float(len(r.items) - k) for k, i in enumerate(r.items)} for r in requests}
            row = {"set": f"{name} ({len(requests)} q)", "BM25": f"{ndcg(bm25, qrels):.4f}"}
            for v in variants:
                row[v] = f"{ndcg(runs[v], qrels):.4f}"
            rows.append(row)
        print_table(rows, list(rows[0]))

        # heads: each head's nDCG@10 alone, on each set; the best on SciFact kept
        quality = {}
        for name, (requests, qrels) in sets.items():
            shape = next(iter(per_head[name].values())).shape[:2]
            quality[name] = np.array([[ndcg({r.query.id: as_run(r, args.depth, per_head[name][r.query.id][layer, head])
                                             for r in requests}, qrels)
                                       for head in range(shape[1])] for layer in range(shape[0])])
        ranked_heads = np.argsort(-quality["scifact"], axis=None)
        head_rows = []
        for keep in (1, 4, 16, 64):
            chosen = [np.unravel_index(i, quality["scifact"].shape) for i in ranked_heads[:keep]]
            row = {"heads": f"best {keep} on SciFact"}
            for name, (requests, qrels) in sets.items():
                run = {r.query.id: as_run(r, args.depth, sum(standardised(per_head[name][r.query.id][c]) for c in chosen))
                       for r in requests}
                row[name] = f"{ndcg(run, qrels):.4f}"
            head_rows.append(row)
        layer, head = np.unravel_index(quality["dl19"].argmax(), quality["dl19"].shape)
        head_rows.append({"heads": f"ceiling: the one head best on DL19 itself (layer {layer}, head {head})",
                          "scifact": f"{quality['scifact'][layer, head]:.4f}", "dl19": f"{quality['dl19'][layer, head]:.4f}"})
        print(f"rank correlation of the heads' nDCG@10 on SciFact and on DL19: "
              f"{spearmanr(quality['scifact'].ravel(), quality['dl19'].ravel()).statistic:.3f}")
        print_table(head_rows, ["heads", *sets])


if __name__ == "__main__":
    main()
