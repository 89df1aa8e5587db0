"""Judge accuracy and self-consistency on LLMBar Natural and MT-Bench human pairs.

For each model and dataset: accuracy and Cohen's kappa against the human/expert label for
(a) the naive verdict (one order, the most likely answer), (b) both orders combined by
probability, (c) pointwise expected rubric ratings; the position-consistency rate; the
score-comparison inconsistency (argmax ratings vs naive verdicts, expected ratings vs probability
verdicts); and on MT-Bench, where a question has several responses, the share of intransitive
triads over all pairs among the responses of each question.

    python bench/judge_agreement.py --models smollm2-135m,qwen2.5-coder-0.5b --limit 100

Judgments go to bench/out/judge-cache.sqlite, so a re-run or an interrupted run costs nothing
for what was finished; --fresh starts from an empty cache so the costs are the real ones.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import time
from pathlib import Path

from common import DATA, print_table, require

from judgerank.core.costs import Costs
from judgerank.core.types import Item, Query
from judgerank.judge.agreement import accuracy, cohen_kappa
from judgerank.judge.files import read_judge_input
from judgerank.judge.judge import Judge, merged_diagnostics, pair_diagnostics

DATASETS = {
    "llmbar": DATA / "llmbar" / "LLMBar_Natural.json",
    "mtbench": DATA / "llmbar" / "Processed_MT-Bench.json",
}
OUT = Path(__file__).resolve().parent / "out"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def groups_of(tasks) -> list[tuple[Query, list[Item]]]:
    """Every question's distinct responses (ids from their text), for all-pairs triads."""
    by_prompt: dict[str, dict[str, Item]] = collections.defaultdict(dict)
    for t in tasks:
        for item in (t.a, t.b):
            rid = hashlib.sha256(item.text.encode()).hexdigest()[:10]
            by_prompt[t.query.text][rid] = Item(rid, item.text)
    out = []
    for n, (prompt, items) in enumerate(by_prompt.items()):
        if len(items) >= 3:
            out.append((Query(f"g{n}", prompt), list(items.values())))
    return out


def run(model: str, dataset: str, limit: int | None, max_words: int, cache: Path) -> dict:
    tasks = read_judge_input(require(DATASETS[dataset]), gold="label")[:limit]
    judge = Judge("allpairs", model, max_words=max_words, store=cache)
    costs = Costs()
    start = time.perf_counter()
    triads = None
    if dataset == "mtbench":
        groups = groups_of(tasks)
        results = []
        for n, (query, items) in enumerate(groups, 1):
            results.append(judge.rank(query, items))
            costs.add(results[-1].ranking.costs)
            print(f"  {model} {dataset}: group {n}/{len(groups)} ({len(items)} responses)", flush=True)
        triads = merged_diagnostics(results)
    done: list = []

    def judged(j: object) -> None:
        done.append(j)
        if len(done) % 20 == 0:
            print(f"  {model} {dataset}: {len(done)}/{len(tasks)} pairs", flush=True)

    costs.add(judge.compare(tasks, on_judged=judged).costs)
    seconds = time.perf_counter() - start
    gold = [j.task.gold for j in done]
    diag = pair_diagnostics(done)
    row = {"model": model, "dataset": dataset, "pairs": len(done)}
    for name in ("naive", "probability", "pointwise"):
        predicted = [getattr(j, name) for j in done]
        row[f"acc_{name}"] = f"{100 * accuracy(predicted, gold):.1f}"
        row[f"kappa_{name}"] = f"{cohen_kappa(predicted, gold):.3f}"
    row["pos_consistency"] = pct(diag.position_consistency)
    row["score_incons_naive"] = pct(diag.naive_score_inconsistency)
    row["score_incons_prob"] = pct(diag.probability_score_inconsistency)
    row["triads"] = triads.triads if triads else 0
    row["intrans_naive"] = pct(triads.naive_intransitive_rate) if triads else "–"
    row["intrans_prob"] = pct(triads.probability_intransitive_rate) if triads else "–"
    row["calls"] = costs.calls
    row["tokens"] = costs.prompt_tokens
    row["seconds"] = f"{seconds:.0f}"
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    ap.add_argument("--datasets", default="llmbar,mtbench")
    ap.add_argument("--limit", type=int, default=None, help="first N pairs of each dataset")
    ap.add_argument("--max-words", type=int, default=300, help="words kept of each prompt and response")
    ap.add_argument("--fresh", action="store_true", help="start from an empty judgment cache")
    ap.add_argument("--json", type=Path, help="also append each row to this JSON-lines file")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    cache = OUT / "judge-cache.sqlite"
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cache}{suffix}").unlink(missing_ok=True)
    rows = []
    for model in args.models.split(","):
        for dataset in args.datasets.split(","):
            rows.append(run(model, dataset, args.limit, args.max_words, cache))
            print_table(rows[-1:], list(rows[-1]))
            if args.json:
                with args.json.open("a") as fh:
                    fh.write(json.dumps(rows[-1]) + "\n")
    print()
    print(f"max words per text: {args.max_words}; limit: {args.limit or 'all'} pairs per dataset")
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
