"""Measure how a model judges DL19 passage pairs, in the terms of the simulated judge: the scale
of its log-odds per relevance grade, its position bias and its noise.

    python bench/judge_noise.py --model qwen2.5-coder-0.5b --pairs 300

For pairs drawn from every query's BM25 top 20 (stratified so that every grade gap appears), it
asks the pairwise prompt in both orders and fits, by least squares,
    logit P(first shown wins) = scale * (grade_first - grade_second) + bias + e,
e with spread `residual`. The simulated judge (SimulatedBackend) adds N(0, noise^2) to each of
its two choices' logits, so its settings are grades * scale, position_bias = bias and
noise = residual / sqrt(2). Writes them to --out for bench/active_simulation.py.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, require  # noqa: E402

from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402
from judgerank.runtime import Runtime  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--cache", default="bench/out/judge-cache.sqlite")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=None, help="default: bench/out/judge-noise-MODEL.json")
    args = ap.parse_args()

    requests = read_requests(require(DL19 / "bm25_top100_dl19.json"))
    qrels = read_qrels(DL19 / "qrels.dl19-passage.txt")
    rng = random.Random(0)
    by_gap: dict[int, list] = {}
    for r in requests:
        items = r.items[: args.depth]
        grade = {i.id: qrels.get(r.query.id, {}).get(i.id, 0) for i in items}
        for x in range(len(items)):
            for y in range(x + 1, len(items)):
                a, b = items[x], items[y]
                by_gap.setdefault(abs(grade[a.id] - grade[b.id]), []).append((r.query, a, b, grade[a.id] - grade[b.id]))
    per_gap = args.pairs // len(by_gap)
    chosen = [p for gap in sorted(by_gap) for p in rng.sample(by_gap[gap], min(per_gap, len(by_gap[gap])))]
    print(f"{len(chosen)} pairs, {per_gap} per grade gap {sorted(by_gap)}", file=sys.stderr)

    x_rows, y_rows = [], []
    with Runtime(store=args.cache, threads=args.threads) as runtime:
        for n, (query, a, b, gap) in enumerate(chosen):
            (pref,) = runtime.job("rerank", args.model).comparer().compare(query, [(a, b)])
            for first_wins, g in ((pref.p_a_first, gap), (1.0 - pref.p_a_second, -gap)):
                p = min(max(first_wins, 1e-4), 1 - 1e-4)
                x_rows.append(g)
                y_rows.append(math.log(p / (1 - p)))
            if (n + 1) % 25 == 0:
                print(f"{n + 1}/{len(chosen)}", file=sys.stderr)
    x, y = np.array(x_rows, float), np.array(y_rows, float)
    design = np.column_stack([x, np.ones_like(x)])
    (scale, bias), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = float(np.std(y - design @ [scale, bias], ddof=2))
    result = {"model": args.model, "pairs": len(chosen), "scale": float(scale), "bias": float(bias),
              "residual": residual, "noise": residual / math.sqrt(2)}
    print(json.dumps(result, indent=1))
    out = Path(args.out or f"bench/out/judge-noise-{args.model}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
