"""The cost model's predictions against measured counts: `judgerank plan` for every rerank method
against the same method run on all 43 DL19 queries (BM25 top --n) with the simulated judge.

    python bench/plan_accuracy.py --n 20 --noise-file bench/out/judge-noise-qwen2.5-coder-1.5b.json

The simulated judge answers from the NIST grades (times the measured scale, with the measured
noise and position bias); the plan's runs use random strengths with the same noise and bias,
passages of the DL19 candidates' mean length in words, tokens counted as words (as the
simulated judge counts them), and strengths spread as the judge sees the graded candidates
(its scale per grade times the grades' spread). Methods with a closed form must match exactly; the others are
compared with the plan's range.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DL19, print_table, require  # noqa: E402

from judgerank import Reranker  # noqa: E402
from judgerank.backends.base import Backend  # noqa: E402
from judgerank.io.trec import read_qrels  # noqa: E402
from judgerank.rerank.files import read_requests  # noqa: E402
from judgerank.rerank.plan import predict  # noqa: E402
from judgerank.runtime import simulated_judge  # noqa: E402
from judgerank.strategies.registry import Options, names_for  # noqa: E402


class Similarity(Backend):
    """An embedding stand-in for the cascade's first stage: the passage's length."""

    identity = "length"

    def similarities(self, query, texts):
        return [float(len(t)) for t in texts]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--noise-file", default="bench/out/judge-noise-qwen2.5-coder-0.5b.json")
    ap.add_argument("--trials", type=int, default=20)
    args = ap.parse_args()
    judge = json.loads(Path(args.noise_file).read_text())
    requests = [r for r in read_requests(require(DL19 / "bm25_top100_dl19.json"))]
    qrels = read_qrels(DL19 / "qrels.dl19-passage.txt")
    words = int(round(np.mean([len(i.text.split()) for r in requests for i in r.items[: args.n]])))
    grades = [qrels.get(r.query.id, {}).get(i.id, 0) for r in requests for i in r.items[: args.n]]
    spread = judge["scale"] * float(np.std(grades))  # how far apart the judge sees the candidates
    query_words = int(round(np.mean([len(r.query.text.split()) for r in requests])))
    options = Options(top_k=10)
    rows = []
    for method in names_for("rerank"):
        p = predict(method, args.n, options, trials=args.trials, passage_tokens=words, query_tokens=query_words,
                    noise=judge["noise"], position_bias=judge["bias"], spread=spread)
        calls, rounds, tokens = [], [], []
        for r in requests:
            backend = simulated_judge({i.text: judge["scale"] * qrels.get(r.query.id, {}).get(i.id, 0) for i in r.items},
                                      noise=judge["noise"], position_bias=judge["bias"])
            costs = Reranker(method, store=None, backend=backend, similarity_backend=Similarity(), depth=args.n,
                             top_k=10, guard="off").rank(r.query, r.items).costs
            calls.append(costs.calls)
            rounds.append(costs.rounds)
            tokens.append(costs.prompt_tokens)

        def span(r) -> str:
            return f"{r.mean:.0f}" if r.low == r.high else f"{r.mean:.0f} ({r.low:.0f}-{r.high:.0f})"

        rows.append({"method": method, "how": "exact" if p.formula else "simulated",
                     "calls predicted": span(p.calls), "calls measured": f"{np.mean(calls):.0f} ({min(calls)}-{max(calls)})",
                     "rounds predicted": span(p.rounds),
                     "rounds measured": f"{np.mean(rounds):.1f} ({min(rounds)}-{max(rounds)})",
                     "tokens predicted": f"{p.prompt_tokens.mean:.0f}", "tokens measured": f"{np.mean(tokens):.0f}"})
        print(f"{method} done", file=sys.stderr, flush=True)
    print(f"DL19, 43 queries, depth {args.n}, simulated {judge['model']}; passages of {words} words on average; "
          f"the plan's judge: spread {spread:.3f}, noise {judge['noise']:.3f}, position bias {judge['bias']:.3f}")
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
