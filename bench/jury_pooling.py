"""How far a jury's pooled verdict can be trusted to beat its best juror: a bootstrap over pairs.

    python bench/jury_pooling.py --judges smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b

Judges LLMBar Natural and the 200 MT-Bench human pairs with every juror through the judgment
cache (`--cache`; with the cards' cache every verdict is already there and no model runs), then
for each pooled verdict (mean P, majority, spectral weights) prints its accuracy, its gain over
the juror that is best on the whole set, and over `--resamples` bootstrap resamples of the pairs
(the spectral weights re-fitted on each) the mean gain, a 95% interval and the share of resamples
where the gain is at least 3 points.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, print_table, require  # noqa: E402

from judgerank.judge.files import read_judge_input  # noqa: E402
from judgerank.judge.judge import gold_agreement  # noqa: E402
from judgerank.judge.jury import Jury, JuryResult, parse_jurors, pool_verdicts, pooled_agreement  # noqa: E402
from judgerank.runtime import Runtime  # noqa: E402

SETS = {"LLMBar Natural": "LLMBar_Natural.json", "MT-Bench (200)": "Processed_MT-Bench.json"}


def accuracies(result: JuryResult) -> dict[str, float]:
    """Each juror's verdict (b) and each pooled verdict against gold, 2-way, as the report card counts them."""
    pool_verdicts(result)
    out = {name: gold_agreement(result.judgments_of(name))["probability"].accuracy_2way for name in result.jurors}
    out.update({f"jury: {rule}": a.accuracy_2way for rule, a in pooled_agreement(result).items()})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--judges", default="smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    ap.add_argument("--cache", default="bench/out/judge-cache.sqlite")
    ap.add_argument("--max-words", type=int, default=300)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    rows = []
    for name, file in SETS.items():
        tasks = read_judge_input(require(DATA / "llmbar" / file), "label")
        runtime = Runtime(store=args.cache, threads=args.threads)
        result = Jury(parse_jurors(args.judges), runtime=runtime, ratings=False, max_words=args.max_words).compare(tasks)
        full = accuracies(result)
        best = max(result.jurors, key=lambda j: full[j])
        rng = np.random.default_rng(0)
        gains: dict[str, list[float]] = {r: [] for r in full if r.startswith("jury")}
        pairs = result.pairs
        for _ in range(args.resamples):
            result.pairs = [pairs[i] for i in rng.integers(0, len(pairs), len(pairs))]
            resampled = accuracies(result)
            for rule in gains:
                gains[rule].append(resampled[rule] - resampled[best])
        result.pairs = pairs
        for rule, g in gains.items():
            lo, hi = np.percentile(g, [2.5, 97.5]) * 100
            rows.append({"set": name, "pooled": rule, "accuracy": f"{full[rule] * 100:.1f}",
                         "best juror": f"{best} {full[best] * 100:.1f}", "gain": f"{(full[rule] - full[best]) * 100:+.1f}",
                         "bootstrap mean gain": f"{np.mean(g) * 100:+.1f}", "95% interval": f"{lo:+.1f} .. {hi:+.1f}",
                         "share >= +3": f"{np.mean(np.array(g) >= 0.03 - 1e-9):.2f}"})
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
